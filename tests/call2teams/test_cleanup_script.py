"""The generated cleanup script: dependency order, a dry run by default (no -WhatIf), the header, quoting."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from m365move.call2teams.cleanup_script import STEPS, ScriptContext, render_cleanup_script
from m365move.call2teams.domain_checks import DomainRules
from m365move.call2teams.powershell_literal import ps_literal
from m365move.call2teams.residual_checks import MarkerMatcher, find_residuals
from m365move.call2teams.snapshot import VoiceRoutingPolicy
from m365move.call2teams.snapshot_loader import load_tenant_dir
from m365move.call2teams.tenant_check import CheckOptions, check_tenants
from tests.call2teams.helpers import CONTOSO, CONTOSO_ACCOUNT_DOMAINS, CONTOSO_ID, NORTHWIND, snapshot

WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)
CHANGE = re.compile(r"^(Grant|Set|Remove)-(Cs|Mg)\w+")
# The cmdlet that acts in each step, in the order the steps must run.
STEP_CMDLETS = [
    ("Grant-CsOnlineVoiceRoutingPolicy -Identity", "Unassign users"),
    ("Grant-CsTenantDialPlan -Identity", "Unassign users"),
    ("Remove-CsGroupPolicyAssignment", "Remove group policy assignments"),
    ("Grant-CsOnlineVoiceRoutingPolicy -Global", "Reset tenant defaults"),
    ("Grant-CsTenantDialPlan -Global", "Reset tenant defaults"),
    ("Remove-CsOnlineVoiceRoute", "Voice routes"),
    ("Set-CsOnlineVoiceRoute", "Voice routes"),
    ("Remove-CsOnlineVoiceRoutingPolicy", "Voice routing policies"),
    ("Set-CsOnlineVoiceRoutingPolicy", "Voice routing policies"),
    ("Set-CsOnlinePstnUsage", "PSTN usages"),
    ("Remove-CsTenantDialPlan", "Tenant dial plans"),
    ("Remove-CsOnlinePSTNGateway", "PSTN gateways"),
    ("Remove-MgDomain", "Domains"),
]


def _contoso_script(execute: bool = False, folder: Path = CONTOSO) -> str:
    snap = load_tenant_dir(folder)
    report = check_tenants([snap], CheckOptions(domain_rules=DomainRules.of(account_domains=CONTOSO_ACCOUNT_DOMAINS)))
    context = ScriptContext(tenant=snap.tenant, tenant_id=snap.tenant_id, tenant_name=snap.tenant_name,
                            source=snap.source, generated_at=WHEN, execute=execute)
    return render_cleanup_script(report.plans[0], report.domains.removals_for(snap.tenant), context)


def _changes(script: str) -> list[str]:
    """The changing commands, each as it stands in its ``Invoke-Change ... { COMMAND }`` line."""
    commands = []
    for line in script.splitlines():
        guarded = re.match(r"^Invoke-Change .*? \{ (.*) \}$", line)
        if guarded and CHANGE.match(guarded.group(1)):
            commands.append(guarded.group(1))
    return commands


class TestOrder:
    def test_steps_appear_in_dependency_order(self) -> None:
        """Pre-flight → every grant gone (users, groups, tenant default) → routes → policies → usages → dial plans
        → gateways → domains."""
        script = _contoso_script()
        positions = [script.index(f"Step {n}: {title}") for n, title in enumerate(STEPS, start=1)]
        assert positions == sorted(positions)
        assert list(STEPS) == ["Pre-flight", "Unassign users", "Remove group policy assignments",
                               "Reset tenant defaults", "Voice routes", "Voice routing policies", "PSTN usages",
                               "Tenant dial plans", "PSTN gateways", "Domains"]

    @pytest.mark.parametrize("folder", [CONTOSO, NORTHWIND], ids=["contoso", "northwind"])
    def test_every_command_sits_in_its_step_and_steps_never_interleave(self, folder: Path) -> None:
        """Each change belongs to its step, so e.g. no policy is removed before its users are unassigned."""
        script = _contoso_script(folder=folder)
        step_of_line: list[str] = []
        current = ""
        for line in script.splitlines():
            if (match := re.match(r"# ---- Step \d+: (.+?) -", line)):
                current = match.group(1)
            step_of_line.append(current)
        expected = dict(STEP_CMDLETS)
        seen_steps: list[str] = []
        for number, line in enumerate(script.splitlines()):
            for cmdlet in expected:
                if re.search(rf"(^|\{{ )\b{cmdlet} ", line):
                    assert step_of_line[number] == expected[cmdlet], line
                    seen_steps.append(step_of_line[number])
        assert seen_steps == sorted(seen_steps, key=list(STEPS).index)
        # Between them, the two exports exercise every step that changes something (the pre-flight only reads).
        changing = set(STEPS) - {"Pre-flight"}
        if folder == CONTOSO:
            assert set(seen_steps) == changing - {"Remove group policy assignments", "Reset tenant defaults"}
        else:
            assert {"Unassign users", "Remove group policy assignments", "Reset tenant defaults"} <= set(seen_steps)

    def test_users_are_unassigned_before_the_policy_is_removed(self) -> None:
        script = _contoso_script()
        assert script.index("Grant-CsOnlineVoiceRoutingPolicy -Identity 'alice@contoso.com'") < script.index(
            "Remove-CsOnlineVoiceRoutingPolicy -Identity 'Tag:Call2Teams-Policy'")


class TestDryRun:
    def test_every_change_is_only_printed_by_default(self) -> None:
        script = _contoso_script()
        changes = _changes(script)
        assert len(changes) == 14  # 3 grants, 2 routes, 2 policies, 2 usages, 2 dial plans, 2 gateways, 1 domain
        assert "$DryRun = $true" in script and "if ($DryRun) { Write-Host ('would ' + $What); return }" in script
        assert "-WhatIf" not in script.split("#>")[1]  # no cmdlet is asked to support it

    def test_execute_runs_the_same_changes(self) -> None:
        script = _contoso_script(execute=True)
        assert _changes(script) == _changes(_contoso_script()) and "$DryRun = $false" in script
        assert "EXECUTE" in script and "-WhatIf" not in script.split("#>")[1]

    def test_blocked_domain_removal_is_commented_out(self) -> None:
        """A domain with users left is not removed, even in execute mode; the reason is in the script."""
        script = _contoso_script(execute=True)
        assert "Remove-MgDomain -DomainId 'contoso-new7.call2teams.com'" in _changes(script)[-1]
        blocked = [line for line in script.splitlines() if "contoso-old9.call2teams.com" in line]
        assert blocked and all(line.startswith("#") for line in blocked)
        assert any("legacy-activation@contoso-old9.call2teams.com" in line for line in blocked)


class TestHeader:
    def test_header_names_mode_and_counts_and_the_tenant_as_literals(self) -> None:
        script = _contoso_script()
        header = script.split("#>")[0]
        assert "DRY RUN" in header and "2026-05-04T09:30:00+00:00" in header
        assert "2. Unassign users: 3" in header and "9. PSTN gateways: 2" in header
        assert "Contoso" not in header  # names never go into the <# #> block
        assert "$TenantName = 'Contoso Ltd'" in script and f"$TenantId = '{CONTOSO_ID}'" in script

    def test_script_refuses_another_tenant(self) -> None:
        script = _contoso_script()
        assert "if ($connectedTenant -ne $TenantId) {" in script and "throw" in script


class TestQuoting:
    @pytest.mark.parametrize(("text", "quoted"), [("Tag:O'Brien", "'Tag:O''Brien'"), ("$env:x", "'$env:x'")])
    def test_single_quotes_stop_expansion(self, text: str, quoted: str) -> None:
        assert ps_literal(text) == quoted

    def test_names_with_quotes_survive(self) -> None:
        snap = snapshot(voice_routing_policies=(VoiceRoutingPolicy("Tag:C2T-O'Brien", ()),))
        script = render_cleanup_script(find_residuals(snap, MarkerMatcher()), [],
                                       ScriptContext("t1", "/exports/t1", WHEN))
        assert "{ Remove-CsOnlineVoiceRoutingPolicy -Identity 'Tag:C2T-O''Brien' }" in script

    def test_clean_tenant_script_does_nothing(self) -> None:
        script = render_cleanup_script(find_residuals(snapshot(), MarkerMatcher()), [],
                                       ScriptContext("t1", "/exports/t1", WHEN))
        assert _changes(script) == [] and script.count("# nothing to do") == len(STEPS)
