"""Cleanup that cannot stop halfway: group policy assignments, tenant-wide defaults, domains with dependants.

Northwind's export (tests/call2teams/fixtures/northwind, in the cmdlets' real shapes: the group assignments
written by Windows PowerShell 5.1 as UTF-16 LE with a BOM, one-item lists unrolled to a string or an object)
has the Call2Teams voice routing policy granted to two groups, to two users and as the tenant default, the
Call2Teams dial plan granted to a group and as the tenant default, and an unverified Call2Teams domain still
used by a user, a group and an application.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from m365move.call2teams.cleanup_script import ScriptContext, render_cleanup_script
from m365move.call2teams.domain_checks import DomainRules
from m365move.call2teams.findings import FindingCode, Verdict
from m365move.call2teams.graph_client import GraphClient
from m365move.call2teams.snapshot import DependantKind, DomainDependant, TenantSnapshot
from m365move.call2teams.snapshot_loader import load_tenant_dir, with_graph_domains
from m365move.call2teams.tenant_check import CheckOptions, TenantCheckReport, check_tenants
from m365move.cli import main
from m365move.errors import InputError
from m365move.sandbox.graph_routes import graph_routes
from tests.call2teams.helpers import CONTOSO, NORTHWIND, NORTHWIND_ID, snapshot
from tests.call2teams.powershell_grammar import Command, commands, parse
from tests.contract_schemas import validate

WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)
OLD_DOMAIN = "northwind-old.call2teams.com"
GROUP_RANK_1 = "c2f5d8b3-2222-4c3d-8e9f-0a1b2c3d4e5f"
GROUP_RANK_2 = "b1e4c7a2-1111-4c3d-8e9f-0a1b2c3d4e5f"
DIAL_PLAN_GROUP = "d3a6e9c4-3333-4c3d-8e9f-0a1b2c3d4e5f"
READS = {"Write-Host", "Get-CsTenant", "New-Object", "Get-CsOnlineUser", "Get-CsGroupPolicyAssignment",
         "Get-CsOnlineVoiceRoutingPolicy", "Get-CsTenantDialPlan", "ForEach-Object", "Where-Object", "Get-Command",
         "Get-MgDomainNameReference", "$Change", "Stop-Changed", "Invoke-Change", "Get-CsOnlineVoiceRoute",
         "Get-CsOnlinePstnUsage", "Get-CsOnlinePSTNGateway"}


def _check(snap: TenantSnapshot) -> TenantCheckReport:
    return check_tenants([snap], CheckOptions(domain_rules=DomainRules.of()))


def _script(snap: TenantSnapshot, *, force_delete: bool = False, execute: bool = False) -> str:
    report = _check(snap)
    context = ScriptContext(tenant=snap.tenant, source=snap.source, generated_at=WHEN, execute=execute,
                            tenant_id=snap.tenant_id, tenant_name=snap.tenant_name, force_delete_domains=force_delete)
    return render_cleanup_script(report.plans[0], report.domains.removals_for(snap.tenant), context)


def _findings(snap: TenantSnapshot, code: FindingCode) -> list[Any]:
    return [f for f in _check(snap).findings if f.code is code]


class TestExportShapes:
    def test_utf16_group_assignments_and_unrolled_defaults_load(self) -> None:
        assert NORTHWIND.joinpath("group_policy_assignments.json").read_bytes()[:2] == b"\xff\xfe"
        snap = load_tenant_dir(NORTHWIND)
        assert snap.not_exported == ()
        assignments = snap.group_policy_assignments or ()
        assert [(a.group_id, a.policy_type, a.policy_name, a.rank) for a in assignments][:2] == [
            (GROUP_RANK_2, "OnlineVoiceRoutingPolicy", "C2T-Voice", 2),
            (GROUP_RANK_1, "OnlineVoiceRoutingPolicy", "C2T-Voice", 1)]
        defaults = {d.policy_type: d for d in snap.tenant_defaults or ()}
        # ConvertTo-Json unrolled the one-item lists: a string for the usages, an object for the rules.
        assert defaults["OnlineVoiceRoutingPolicy"].usages == ("C2T-Usage",)
        assert [r.name for r in defaults["TenantDialPlan"].rules] == ["C2T-Intl"]

    def test_single_assignment_is_written_as_an_object(self) -> None:
        """One group assignment: ConvertTo-Json writes the object itself, not a one-element array."""
        assert json.loads(CONTOSO.joinpath("group_policy_assignments.json").read_text())["GroupId"]
        snap = load_tenant_dir(CONTOSO)
        assert [a.policy_name for a in snap.group_policy_assignments or ()] == ["Sales-Direct"]

    def test_policy_type_written_as_a_number_is_refused(self, tmp_path: Path) -> None:
        folder = tmp_path / "t"
        shutil.copytree(NORTHWIND, folder)
        (folder / "group_policy_assignments.json").write_text(json.dumps(
            [{"GroupId": "g1", "PolicyType": 7, "PolicyName": "C2T-Voice", "Rank": 1}]))
        with pytest.raises(InputError, match="PolicyType .* is the number 7"):
            load_tenant_dir(folder)

    @pytest.mark.parametrize("missing", ["group_policy_assignments.json", "tenant_defaults.json"])
    def test_missing_file_is_not_exported_and_not_ready(self, tmp_path: Path, missing: str) -> None:
        folder = tmp_path / "t"
        shutil.copytree(NORTHWIND, folder)
        (folder / missing).unlink()
        snap = load_tenant_dir(folder)
        assert snap.not_exported == (missing,)
        report = _check(snap)
        assert report.verdict is Verdict.NOT_READY and not report.complete


class TestChecks:
    def test_group_assignments_are_found_with_ids_and_ranks(self) -> None:
        found = _findings(load_tenant_dir(NORTHWIND), FindingCode.GROUP_ASSIGNED_RESIDUAL_POLICY)
        by_policy = {f.details["policy"]: f for f in found}
        assert set(by_policy) == {"C2T-Voice", "C2T-DialPlan"}  # Reception's group assignment is the customer's
        voice = by_policy["C2T-Voice"]
        assert voice.objects == (GROUP_RANK_1, GROUP_RANK_2)
        assert voice.details["groups"] == [{"group_id": GROUP_RANK_1, "rank": 1}, {"group_id": GROUP_RANK_2, "rank": 2}]
        assert "Remove-CsGroupPolicyAssignment" in voice.fix
        assert f"{GROUP_RANK_1} rank 1, {GROUP_RANK_2} rank 2" in voice.fix
        assert by_policy["C2T-DialPlan"].objects == (DIAL_PLAN_GROUP,)

    def test_tenant_defaults_granted_from_call2teams_are_found(self) -> None:
        found = _findings(load_tenant_dir(NORTHWIND), FindingCode.TENANT_DEFAULT_RESIDUAL_POLICY)
        assert {(f.details["policy_type"], f.details["policy"]) for f in found} == {
            ("OnlineVoiceRoutingPolicy", "C2T-Voice"), ("TenantDialPlan", "C2T-DialPlan")}
        assert all("-Global -PolicyName $null" in f.fix for f in found)

    def test_a_customers_default_with_call2teams_usages_is_detached_not_reset(self) -> None:
        """Contoso's Global dial plan holds a Call2Teams rule and the customer's own: detach, keep the default."""
        snap = load_tenant_dir(CONTOSO)
        assert _findings(snap, FindingCode.TENANT_DEFAULT_RESIDUAL_POLICY) == []
        assert _findings(snap, FindingCode.GROUP_ASSIGNED_RESIDUAL_POLICY) == []

    def test_verdict_stays_not_ready_until_every_grant_is_gone(self) -> None:
        snap = load_tenant_dir(NORTHWIND)
        without_groups = dataclasses.replace(snap, group_policy_assignments=())
        assert _findings(without_groups, FindingCode.GROUP_ASSIGNED_RESIDUAL_POLICY) == []
        assert _findings(without_groups, FindingCode.TENANT_DEFAULT_RESIDUAL_POLICY)
        defaults_gone = snapshot(voice_routing_policies=snap.voice_routing_policies, tenant_defaults=(),
                                 group_policy_assignments=snap.group_policy_assignments)
        assert _check(defaults_gone).verdict is Verdict.NOT_READY  # the policy itself, and its group grants, remain
        nothing_left = snapshot(group_policy_assignments=snap.group_policy_assignments,
                                tenant_defaults=snap.tenant_defaults)
        # Grants of a policy that is gone still name Call2Teams: not ready until they are removed too.
        assert _check(nothing_left).verdict is Verdict.NOT_READY
        assert _check(snapshot()).verdict is Verdict.READY

    def test_cli_check_reports_them_in_the_contract_and_exits_7(self, capsys: pytest.CaptureFixture[str]) -> None:
        code = main(["call2teams", "check", "--tenant-dir", str(NORTHWIND), "--format", "json"])
        report = json.loads(capsys.readouterr().out)
        validate(report, "call2teams.schema.json")
        assert code == 7 and report["verdict"] == "not-ready"
        codes = [f["code"] for f in report["findings"]]
        assert codes.count("group-assigned-residual-policy") == 2 and codes.count("tenant-default-residual-policy") == 2


class TestScriptOrder:
    def test_every_grant_is_gone_before_any_removal(self) -> None:
        """Parsed with the PowerShell grammar: reads first, then users, groups and defaults, then removals."""
        found = commands(parse(_script(load_tenant_dir(NORTHWIND))))
        names = [c.name for c in found]
        first_change = next(i for i, c in enumerate(found) if c.name not in READS)
        assert set(names[:first_change]) <= READS  # the pre-flight only reads
        grants = [i for i, c in enumerate(found) if c.name.startswith("Grant-") or c.name == "Remove-CsGroupPolicyAssignment"]
        removals = [i for i, c in enumerate(found) if c.name in {
            "Remove-CsOnlineVoiceRoutingPolicy", "Remove-CsTenantDialPlan", "Remove-CsOnlineVoiceRoute",
            "Set-CsOnlinePstnUsage", "Remove-CsOnlinePSTNGateway"}]
        assert len(grants) == 2 + 3 + 2 and len(removals) == 5
        assert max(grants) < min(removals)
        changes = [c for c in found if c.name not in READS | {"Import-Module"}]
        assert changes and not any("-WhatIf" in c.parameters for c in changes), changes

    def test_the_grant_commands_are_exact(self) -> None:
        found = [c for c in commands(parse(_script(load_tenant_dir(NORTHWIND))))
                 if c.name.startswith("Grant-") or c.name == "Remove-CsGroupPolicyAssignment"]
        assert found == [
            Command("Grant-CsOnlineVoiceRoutingPolicy", (("param", "-Identity"), ("literal", "anna@northwind.example"),
                                                         ("param", "-PolicyName"), ("token", "$null"))),
            Command("Grant-CsOnlineVoiceRoutingPolicy", (("param", "-Identity"), ("literal", "bo@northwind.example"),
                                                         ("param", "-PolicyName"), ("token", "$null"))),
            Command("Remove-CsGroupPolicyAssignment", (("param", "-GroupId"), ("literal", GROUP_RANK_1),
                                                       ("param", "-PolicyType"), ("literal", "OnlineVoiceRoutingPolicy"))),
            Command("Remove-CsGroupPolicyAssignment", (("param", "-GroupId"), ("literal", GROUP_RANK_2),
                                                       ("param", "-PolicyType"), ("literal", "OnlineVoiceRoutingPolicy"))),
            Command("Remove-CsGroupPolicyAssignment", (("param", "-GroupId"), ("literal", DIAL_PLAN_GROUP),
                                                       ("param", "-PolicyType"), ("literal", "TenantDialPlan"))),
            Command("Grant-CsOnlineVoiceRoutingPolicy", (("param", "-Global"), ("param", "-PolicyName"),
                                                         ("token", "$null"))),
            Command("Grant-CsTenantDialPlan", (("param", "-Global"), ("param", "-PolicyName"), ("token", "$null"))),
        ]

    def test_execute_mode_drops_whatif_but_keeps_the_order(self) -> None:
        found = commands(parse(_script(load_tenant_dir(NORTHWIND), execute=True)))
        assert not any("-WhatIf" in c.parameters for c in found)

    def test_preflight_knows_what_the_export_showed(self) -> None:
        script = _script(load_tenant_dir(NORTHWIND))
        preflight = script[script.index("Step 1: Pre-flight"):script.index("Step 2:")]
        assert "$RemovedVoiceRoutingPolicy = @('C2T-Voice','Tag:C2T-Voice')" in preflight
        assert "$ExportedVoiceRoutingPolicyUsers = @('anna@northwind.example','bo@northwind.example')" in preflight
        assert f"$ExportedVoiceRoutingPolicyGroups = @('{GROUP_RANK_2}','{GROUP_RANK_1}')" in preflight
        assert "$ExportedVoiceRoutingPolicyDefault = @('C2T-Usage')" in preflight
        assert "throw ('Stopped before any change" in preflight
        assert preflight.index("Get-CsGroupPolicyAssignment -PolicyType 'OnlineVoiceRoutingPolicy'") > 0

    def test_preflight_refuses_when_the_tenant_default_was_not_exported(self) -> None:
        snap = dataclasses.replace(load_tenant_dir(NORTHWIND), tenant_defaults=None)
        script = _script(snap)
        assert "$Stale.Add('the tenant default OnlineVoiceRoutingPolicy was not exported (tenant_defaults.json)')" in script
        parse(script)


class TestDomainDependants:
    def test_finding_lists_the_user_the_group_and_the_application(self) -> None:
        (blocked,) = _findings(load_tenant_dir(NORTHWIND), FindingCode.DOMAIN_HAS_USERS)
        assert blocked.objects == (OLD_DOMAIN, f"c2t-activation@{OLD_DOMAIN}", f"voice-admins@{OLD_DOMAIN}",
                                   f"https://{OLD_DOMAIN}/provisioning")
        assert blocked.details["users"] == [f"c2t-activation@{OLD_DOMAIN}"]
        assert [g["name"] for g in blocked.details["groups"]] == [f"voice-admins@{OLD_DOMAIN}"]
        assert [a["name"] for a in blocked.details["applications"]] == ["C2T provisioning"]
        assert "Update-MgUser" in blocked.fix and "PrimarySmtpAddress" in blocked.fix and "IdentifierUris" in blocked.fix
        assert "forcedelete" not in blocked.fix.lower()  # only the option that asks for it is named

    def test_script_lists_all_three_and_force_delete_only_when_asked(self) -> None:
        snap = load_tenant_dir(NORTHWIND)
        script = _script(snap)
        domains = script[script.index("Step 10: Domains"):]
        for name in (f"c2t-activation@{OLD_DOMAIN}", f"voice-admins@{OLD_DOMAIN}", f"https://{OLD_DOMAIN}/provisioning"):
            assert f"'{name}'" in domains
        assert "forcedelete" not in script.lower()
        assert [c.name for c in commands(parse(script))].count("Remove-MgDomain") == 0  # blocked: commented out

        asked = _script(snap, force_delete=True)
        found = [c for c in commands(parse(asked)) if c.name == "Invoke-MgForceDomainDelete"]
        assert found == [Command("Invoke-MgForceDomainDelete", (("param", "-DomainId"), ("literal", OLD_DOMAIN),
                                                                ("param", "-DisableUserAccounts"), ("token", "$false")))]
        assert "-DisableUserAccounts:$false" in asked  # Graph's default would disable the renamed users
        assert "renames" in asked and "more than\n# 1,000 objects" in asked and "multi-tenant" in asked

    def test_force_delete_is_not_offered_where_it_would_fail(self) -> None:
        snap = load_tenant_dir(NORTHWIND)
        app = next(d for d in snap.domain_dependants[OLD_DOMAIN] if d.kind is DependantKind.APPLICATION)
        multi = dataclasses.replace(snap, domain_dependants={OLD_DOMAIN: (
            dataclasses.replace(app, sign_in_audience="AzureADMultipleOrgs"),)})
        script = _script(multi, force_delete=True)
        assert "Not offered here: multi-tenant application(s)" in script
        assert "Invoke-MgForceDomainDelete" not in [c.name for c in commands(parse(script))]
        many = dataclasses.replace(snap, domain_dependants={OLD_DOMAIN: tuple(
            DomainDependant(DependantKind.USER, f"u{i}", names=(f"u{i}@{OLD_DOMAIN}",)) for i in range(1001))})
        script = _script(many, force_delete=True)
        assert "Not offered here: 1,001 objects use this domain" in script

    def test_cli_offers_force_delete_only_with_its_option(self, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
        plain, forced = tmp_path / "plain.ps1", tmp_path / "forced.ps1"
        assert main(["call2teams", "cleanup-script", "--tenant-dir", str(NORTHWIND), "--output", str(plain)]) == 0
        assert main(["call2teams", "cleanup-script", "--tenant-dir", str(NORTHWIND), "--output", str(forced),
                     "--force-delete-domains"]) == 0
        capsys.readouterr()
        assert "ForceDomainDelete" not in plain.read_text() and "Invoke-MgForceDomainDelete" in forced.read_text()
        assert NORTHWIND_ID in plain.read_text()

    def test_graph_references_feed_the_dependants(self) -> None:
        """The sandbox's Graph serves users, groups and applications under domainNameReferences."""
        section = {"tenants": [{
            "id": NORTHWIND_ID, "name": "Northwind",
            "domains": [{"id": "northwind.example", "is_default": True}, {"id": OLD_DOMAIN, "is_verified": False}],
            "users": [{"user_principal_name": f"c2t-activation@{OLD_DOMAIN}"}],
            "groups": [{"mail": f"voice-admins@{OLD_DOMAIN}", "display_name": "Voice admins"}],
            "applications": [{"display_name": "C2T provisioning",
                              "identifier_uris": [f"https://{OLD_DOMAIN}/provisioning"]},
                             {"display_name": "Unrelated", "identifier_uris": ["https://northwind.example/x"]}],
        }]}
        app_client = TestClient(Starlette(routes=graph_routes(section)), base_url="https://graph.sandbox.test")

        def handle(request: httpx.Request) -> httpx.Response:
            answer = app_client.request(request.method, str(request.url), headers=dict(request.headers))
            return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

        with GraphClient("https://graph.sandbox.test", transport=httpx.MockTransport(handle),
                         environ={"M365MOVE_GRAPH_TOKEN": "sandbox-graph-token"}) as client:
            snap = with_graph_domains(load_tenant_dir(NORTHWIND), client, domain_suffix="call2teams.com")
        kinds = [d.kind for d in snap.dependants_of(OLD_DOMAIN)]
        assert kinds == [DependantKind.USER, DependantKind.GROUP, DependantKind.APPLICATION]
        (blocked,) = _findings(snap, FindingCode.DOMAIN_HAS_USERS)
        assert len(blocked.objects) == 4
