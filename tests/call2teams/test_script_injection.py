"""Generated PowerShell over hostile names in every field, parsed with a real PowerShell grammar: 0 injected commands.

For each hostile name, a tenant is built whose every field carries it (policy, route, usage, gateway and dial
plan identities and names, normalization rules, UPNs, the policies users are granted, domains and the users
homed in them, the tenant's name and id, the export folder). The script rendered for it must:

- parse without a syntax error;
- hold exactly the intended commands: the same names, parameters and argument structure as the script
  rendered for the same tenant with a harmless placeholder, each literal reading back as the hostile name;
- have the same token stream as that placeholder script once literals are collapsed to values (so no
  statement, expression, variable or comment was added anywhere);
- carry no raw line break other than its own, no control or format character, and no double-quoted string
  built from a value.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from m365move.call2teams.cleanup_script import ScriptContext, render_cleanup_script
from m365move.call2teams.domain_checks import DomainRules
from m365move.call2teams.residual_checks import MarkerMatcher
from m365move.call2teams.snapshot import (
    DependantKind,
    DialPlan,
    Domain,
    DomainDependant,
    GroupPolicyAssignment,
    NormalizationRule,
    PstnGateway,
    TeamsUser,
    TenantDefault,
    TenantSnapshot,
    VoiceRoute,
    VoiceRoutingPolicy,
)
from m365move.call2teams.snapshot_loader import load_tenant_dir
from m365move.call2teams.tenant_check import CheckOptions, check_tenants
from m365move.cli import main
from m365move.runbooks.call2teams_steps import write_cleanup_scripts
from tests.call2teams.hostile_names import HOSTILE_NAMES
from tests.call2teams.powershell_grammar import (
    Command,
    as_powershell_reads_it,
    commands,
    expandable_strings,
    parse,
    raw_characters,
    shape,
)

WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)
PLACEHOLDER = "PLACEHOLDER"

# The script for the hostile tenant, command by command (dry run): what must be there and nothing else.
def _guarded(*reads_then_change: str) -> list[str]:
    """A re-read (and its helpers), Stop-Changed, then Invoke-Change of the change."""
    *reads, change = reads_then_change
    return [*reads, "Stop-Changed", "Invoke-Change", change]


INTENDED_COMMANDS = [
    "Write-Host", "Write-Host", "$Change",  # Invoke-Change: prints in a dry run, runs the change otherwise
    "Import-Module",  # Graph, for the domain step
    "New-Object", "Get-Command", "Write-Host",  # every cmdlet and parameter used exists
    "Get-CsTenant",  # the guard against another tenant
    # Pre-flight: re-read user grants, group grants, tenant defaults and the domains' dependants.
    "New-Object", "Get-CsOnlineUser",
    "Get-CsGroupPolicyAssignment", "Get-CsOnlineVoiceRoutingPolicy", "ForEach-Object", "Where-Object", "Where-Object",
    "Get-CsGroupPolicyAssignment", "Get-CsTenantDialPlan", "ForEach-Object", "Where-Object", "Where-Object",
    "Get-MgDomainNameReference", "ForEach-Object", "Where-Object",
    "Get-MgDomainNameReference", "Where-Object", "ForEach-Object",
    "Write-Host",  # lists what is stale before the throw
    # Then each change: re-read that object, stop if it changed, then the change.
    *_guarded("Get-CsOnlineUser", "Grant-CsOnlineVoiceRoutingPolicy"),
    *_guarded("Get-CsOnlineUser", "Grant-CsTenantDialPlan"),
    *_guarded("Get-CsGroupPolicyAssignment", "ForEach-Object", "Remove-CsGroupPolicyAssignment"),
    *_guarded("Get-CsGroupPolicyAssignment", "ForEach-Object", "Remove-CsGroupPolicyAssignment"),
    *_guarded("Get-CsOnlineVoiceRoutingPolicy", "ForEach-Object", "Where-Object", "Where-Object",
              "Grant-CsOnlineVoiceRoutingPolicy"),  # reset the tenant default
    *_guarded("Get-CsOnlineVoiceRoute", "Remove-CsOnlineVoiceRoute"),
    *_guarded("Get-CsOnlineVoiceRoute", "Set-CsOnlineVoiceRoute"),
    *_guarded("Get-CsOnlineVoiceRoutingPolicy", "Remove-CsOnlineVoiceRoutingPolicy"),
    *_guarded("Get-CsOnlineVoiceRoutingPolicy", "Set-CsOnlineVoiceRoutingPolicy"),
    *_guarded("Get-CsOnlinePstnUsage", "ForEach-Object", "Set-CsOnlinePstnUsage"),
    *_guarded("Get-CsTenantDialPlan", "Remove-CsTenantDialPlan"),
    *_guarded("Get-CsTenantDialPlan", "Where-Object", "Set-CsTenantDialPlan"),
    *_guarded("Get-CsOnlinePSTNGateway", "Remove-CsOnlinePSTNGateway"),
    *_guarded("Get-MgDomainNameReference", "ForEach-Object", "Where-Object", "Remove-MgDomain"),
    *_guarded("Get-MgDomainNameReference", "Where-Object", "ForEach-Object", "Invoke-MgForceDomainDelete"),
    "Write-Host",
]


def hostile_tenant(name: str) -> TenantSnapshot:
    """A tenant whose every field carries ``name`` (each also carries a marker, so every object is residual)."""
    domain_free = f"c2t-a-{name}.call2teams.com".lower()
    domain_blocked = f"c2t-b-{name}.call2teams.com".lower()
    return TenantSnapshot(
        tenant=name,
        tenant_id=name,
        tenant_name=name,
        source=name,
        voice_routing_policies=(
            VoiceRoutingPolicy(f"Tag:C2T-{name}", (f"C2T-usage-{name}",)),
            VoiceRoutingPolicy("Global", (f"C2T-usage-{name}", "Local")),
            VoiceRoutingPolicy("Tag:Sales", (f"C2T-usage-{name}", "Local")),
        ),
        voice_routes=(
            VoiceRoute(f"C2T-route-{name}", f"C2T-route-{name}", ".*", (f"C2T-usage-{name}",), (f"sbc-{name}.c2t.io",)),
            VoiceRoute("Sales", "Sales", ".*", (f"C2T-usage-{name}", "Local"), ("sbc.contoso.com",)),
        ),
        pstn_usages=(f"C2T-usage-{name}", "Local"),
        pstn_gateways=(PstnGateway(f"sbc-{name}.c2t.io", f"sbc-{name}.c2t.io"),),
        dial_plans=(
            DialPlan(f"Tag:C2T-dp-{name}", f"C2T-dp-{name}"),
            DialPlan("Global", "", (NormalizationRule(f"C2T-rule-{name}"), NormalizationRule("Local"))),
        ),
        users=(TeamsUser(f"{name}@contoso.com", name, f"C2T-{name}", f"C2T-dp-{name}"),),
        group_policy_assignments=(
            GroupPolicyAssignment(f"group-{name}", "OnlineVoiceRoutingPolicy", f"C2T-{name}", 1),
            GroupPolicyAssignment(f"group-dp-{name}", "TenantDialPlan", f"Tag:C2T-dp-{name}", 2),
        ),
        # The tenant default voice routing policy was granted from the Call2Teams one (same usages): reset.
        tenant_defaults=(
            TenantDefault("OnlineVoiceRoutingPolicy", usages=(f"C2T-usage-{name}",)),
            TenantDefault("TenantDialPlan", rules=(NormalizationRule(f"C2T-rule-{name}"), NormalizationRule("Local"))),
        ),
        domains=(Domain(domain_free, is_verified=False), Domain(domain_blocked, is_verified=False)),
        domain_references={domain_blocked: (f"u-{name}@{domain_blocked}",)},
        domain_dependants={domain_blocked: (
            DomainDependant(DependantKind.GROUP, f"g-{name}", name, (f"mail-{name}@{domain_blocked}",)),
            DomainDependant(DependantKind.APPLICATION, f"a-{name}", name, (f"https://{domain_blocked}/{name}",)),
        )},
    )


def render(snapshot: TenantSnapshot, *, execute: bool = False, force_delete: bool = True) -> str:
    report = check_tenants([snapshot], CheckOptions(matcher=MarkerMatcher(), domain_rules=DomainRules.of()))
    context = ScriptContext(tenant=snapshot.tenant, source=snapshot.source, generated_at=WHEN, execute=execute,
                            tenant_id=snapshot.tenant_id, tenant_name=snapshot.tenant_name,
                            force_delete_domains=force_delete)
    return render_cleanup_script(report.plans[0], report.domains.removals_for(snapshot.tenant), context)


def _substitute(name: str) -> Callable[[object], object]:
    """Placeholder values → the hostile name as PowerShell reads it (domains are lower-cased by the checks)."""
    as_read, lowered = as_powershell_reads_it(name), as_powershell_reads_it(name.lower())

    def substitute(value: object) -> object:
        if isinstance(value, str):
            return value.replace(PLACEHOLDER.lower() + ".", lowered + ".").replace(
                "@c2t-b-" + PLACEHOLDER.lower(), "@c2t-b-" + lowered).replace(PLACEHOLDER, as_read)
        if isinstance(value, tuple):
            return tuple(substitute(item) for item in value)
        if isinstance(value, dict):
            return {key: substitute(item) for key, item in value.items()}
        return value

    return substitute


def _expected(benign: list[Command], name: str) -> list[Command]:
    substitute = _substitute(name)
    return [Command(c.name, tuple((kind, substitute(value)) for kind, value in c.elements)) for c in benign]


class TestPlaceholderScript:
    """The reference the hostile scripts are compared with is itself what we intend."""

    def test_placeholder_script_runs_the_intended_commands(self) -> None:
        found = commands(parse(render(hostile_tenant(PLACEHOLDER))))
        assert [c.name for c in found] == INTENDED_COMMANDS
        removals = [c for c in found if c.name.startswith(("Remove-", "Set-", "Grant-", "Invoke-MgForce"))]
        assert removals and not any("-WhatIf" in c.parameters for c in removals)

    def test_every_field_is_exercised(self) -> None:
        script = render(hostile_tenant(PLACEHOLDER))
        literals = [value for kind, *rest in shape(parse(script)) if kind == "literal" for value in rest]
        for expected in ("Tag:C2T-PLACEHOLDER", "C2T-route-PLACEHOLDER", "C2T-usage-PLACEHOLDER",
                         "sbc-PLACEHOLDER.c2t.io", "Tag:C2T-dp-PLACEHOLDER", "C2T-rule-PLACEHOLDER",
                         "PLACEHOLDER@contoso.com", "c2t-a-placeholder.call2teams.com"):
            assert expected in literals, expected
        assert literals.count(PLACEHOLDER) == 4  # tenant label, name, id, export folder
        assert "group-PLACEHOLDER" in literals and "group-dp-PLACEHOLDER" in literals
        # Comments carry the policy users are granted, the blocked domain's users and the reasons.
        assert "'u-PLACEHOLDER@c2t-b-placeholder.call2teams.com'" in script
        assert "'C2T-PLACEHOLDER'" in script
        assert "'mail-PLACEHOLDER@c2t-b-placeholder.call2teams.com'" in script and "'a-PLACEHOLDER'" in script


@pytest.mark.parametrize("execute", [False, True], ids=["dry-run", "execute"])
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_inject_nothing(name: str, execute: bool) -> None:
    benign_script = render(hostile_tenant(PLACEHOLDER), execute=execute)
    script = render(hostile_tenant(name), execute=execute)
    script.encode("utf-8")  # writable as the UTF-8 file it becomes (no lone surrogate left raw)

    root = parse(script)
    benign_root = parse(benign_script)
    assert commands(root) == _expected(commands(benign_root), name)
    substitute = _substitute(name)
    assert shape(root) == [tuple(substitute(part) for part in token) for token in shape(benign_root)]
    assert raw_characters(script) == []
    assert expandable_strings(root) == []
    header = script.split("#>", 1)[0]
    assert PLACEHOLDER not in benign_script.split("#>", 1)[0] and "Start-Process" not in header


def test_hostile_table_is_large_enough() -> None:
    assert len(HOSTILE_NAMES) >= 20 and len(set(HOSTILE_NAMES)) == len(HOSTILE_NAMES)


def _write_export(folder: Path, name: str) -> None:
    """The hostile tenant as Export-Call2TeamsTenant.ps1 writes it (the cmdlets' JSON)."""
    folder.mkdir()
    files = {
        "tenant.json": [{"TenantId": name, "DisplayName": name}],
        "voice_routing_policies.json": [{"Identity": f"Tag:C2T-{name}", "OnlinePstnUsages": [f"C2T-usage-{name}"]}],
        "voice_routes.json": [{"Identity": f"C2T-route-{name}", "Name": f"C2T-route-{name}", "NumberPattern": ".*",
                               "OnlinePstnUsages": [f"C2T-usage-{name}"],
                               "OnlinePstnGatewayList": [f"sbc-{name}.c2t.io"]}],
        "pstn_usages.json": {"Identity": "Global", "Usage": [f"C2T-usage-{name}", "Local"]},
        "pstn_gateways.json": [{"Identity": f"sbc-{name}.c2t.io", "Fqdn": f"sbc-{name}.c2t.io"}],
        "dial_plans.json": [{"Identity": f"Tag:C2T-dp-{name}", "SimpleName": f"C2T-dp-{name}",
                             "NormalizationRules": []}],
        "users.json": [{"UserPrincipalName": f"{name}@contoso.com", "OnlineVoiceRoutingPolicy": f"C2T-{name}",
                        "TenantDialPlan": f"C2T-dp-{name}"}],
        "domains.json": [{"id": f"c2t-a-{name}.call2teams.com", "isVerified": False}],
    }
    for file_name, data in files.items():
        (folder / file_name).write_text(json.dumps(data, ensure_ascii=True), encoding="utf-8")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_cli_and_runbook_scripts_from_hostile_exports(name: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The same holds end to end: export files → `call2teams cleanup-script` and the runbook's writer."""
    scripts = {}
    for which, value in (("hostile", name), ("benign", PLACEHOLDER)):
        export = tmp_path / "export"  # one path for both, so the export folder reads the same in both scripts
        _write_export(export, value)
        output = tmp_path / f"{which}.ps1"
        assert main(["call2teams", "cleanup-script", "--tenant-dir", str(export), "--output", str(output)]) == 0
        scripts[which] = output.read_text(encoding="utf-8")
        folder = tmp_path / f"runbook-{which}"
        folder.mkdir()
        (runbook_script,) = write_cleanup_scripts(check_tenants([load_tenant_dir(export)]), folder, now=WHEN)
        scripts[f"runbook-{which}"] = runbook_script.read_text(encoding="utf-8")
        shutil.rmtree(export)
    capsys.readouterr()
    substitute = _substitute(name)
    for prefix in ("", "runbook-"):
        root, benign_root = parse(scripts[f"{prefix}hostile"]), parse(scripts[f"{prefix}benign"])
        assert [c.name for c in commands(benign_root)].count("Remove-CsOnlineVoiceRoutingPolicy") == 1
        assert commands(root) == _expected(commands(benign_root), name)
        assert shape(root) == [tuple(substitute(part) for part in token) for token in shape(benign_root)]
        assert raw_characters(scripts[f"{prefix}hostile"]) == []
