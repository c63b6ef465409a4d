"""The Call2Teams runbooks' parameters and rows, and the cleanup scripts they write."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from m365move.call2teams.accounts import load_accounts
from m365move.call2teams.move_readiness import MoveMethod, MoveRequest, assess_move
from m365move.call2teams.snapshot_loader import load_tenant_dir
from m365move.call2teams.tenant_check import check_tenants
from m365move.errors import InputError
from m365move.runbooks.call2teams_steps import (
    MoveReadinessParameters,
    TenantCheckParameters,
    finding_rows,
    move_finding_rows,
    severity_counts,
    tenant_names,
    write_cleanup_scripts,
)
from tests.call2teams.helpers import CONTOSO_ACCOUNT_DOMAINS

FIXTURES = Path(__file__).resolve().parents[1] / "call2teams" / "fixtures"
NOW = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)


class TestTenantCheckParameters:
    def test_lists_are_comma_separated(self) -> None:
        params = TenantCheckParameters(tenant_dirs="a, b", markers="c2t,legacy",
                                       account_domains=",".join(CONTOSO_ACCOUNT_DOMAINS))
        options = params.options()
        assert params.folders == ["a", "b"] and options.matcher.markers == ("c2t", "legacy")
        assert set(options.domain_rules.account_domains or ()) == set(CONTOSO_ACCOUNT_DOMAINS)

    @pytest.mark.parametrize("values", [{"tenant_dirs": " , "}, {"tenant_dirs": "a", "markers": ","}])
    def test_empty_lists_are_refused(self, values: dict[str, str]) -> None:
        with pytest.raises(InputError):
            TenantCheckParameters.from_namespace(values)


class TestMoveReadinessParameters:
    def test_builds_the_request(self) -> None:
        params = MoveReadinessParameters(accounts=str(FIXTURES / "accounts.yaml"), source="SA-101", target="SA-201",
                                         method="diy", move_date="2026-12-01", service_desk_case="")
        request = params.request(load_accounts(params.accounts))
        assert request.method is MoveMethod.DIY and request.move_date == dt.date(2026, 12, 1)
        assert request.service_desk_case is None  # an empty text is no case

    @pytest.mark.parametrize(("values", "message"), [
        ({"source": "SA-101", "target": "SA-101"}, "same account"),
        ({"source": "SA-101", "target": "SA-201", "method": "teleport"}, "method must be one of"),
        ({"source": "SA-101", "target": "SA-201", "move_date": "tomorrow"}, "isoformat"),
    ])
    def test_bad_values_are_refused(self, values: dict[str, str], message: str) -> None:
        with pytest.raises(InputError, match=message):
            MoveReadinessParameters.from_namespace({"accounts": "a.yaml"} | values)

    def test_a_base_account_as_source_is_an_input_error(self) -> None:
        params = MoveReadinessParameters(accounts=str(FIXTURES / "accounts.yaml"), source="NP-100", target="SA-201")
        with pytest.raises(InputError, match="only sub-accounts move"):
            params.request(load_accounts(params.accounts))


class TestMoveReport:
    def test_fixes_name_the_runbook_parameters_not_cli_options(self) -> None:
        report = assess_move(load_accounts(FIXTURES / "accounts.yaml"), MoveRequest("SA-101", "SA-201"),
                             today=dt.date(2026, 5, 1))
        fixes = " ".join(row[3] for row in move_finding_rows(report.findings))
        assert "permission_confirmed=true" in fixes and "service_desk_case" in fixes
        assert "--" not in fixes


class TestTenantReport:
    def test_rows_name_tenants_by_display_name(self) -> None:
        snapshots = [load_tenant_dir(FIXTURES / "contoso"), load_tenant_dir(FIXTURES / "fabrikam")]
        report = check_tenants(snapshots)
        rows = finding_rows(report.findings, tenant_names(snapshots))
        assert len(rows) == len(report.findings)
        assert "Contoso Ltd" in {row[2] for row in rows}
        assert sum(severity_counts(report.findings).values()) == len(report.findings)

    def test_cleanup_scripts_are_dry_runs(self, tmp_path: Path) -> None:
        snapshots = [load_tenant_dir(FIXTURES / "contoso")]
        written = write_cleanup_scripts(check_tenants(snapshots), tmp_path, now=NOW)
        assert [path.name for path in written] == [f"cleanup-{snapshots[0].tenant}.ps1"]
        text = written[0].read_text()
        changes = [line for line in text.splitlines() if line.startswith("Invoke-Change")]
        assert changes and "$DryRun = $true" in text and "-WhatIf" not in text.split("#>")[1]
