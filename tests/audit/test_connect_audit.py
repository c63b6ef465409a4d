"""The Connect audit on the sandbox: the real extension migrates CSP assets through Connect and Partner Center,
then ``m365move audit --connect-url …`` reads both with the real clients. A clean run reports nothing; each
planted anomaly (duplicate purchase, cancel before approval, seat mismatch, Microsoft-led duplicate, stuck
migration, approved purchase whose migration failed) is found under its code, with what to do."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from m365move.cli import main
from tests.audit.connect_plants import connect_environment, plant_connect_anomalies
from tests.audit.sandbox_audit import migrate_on_sandbox
from tests.connect.sandbox_fixtures import connect_rig
from tests.execution.sandbox_run import sandbox_on, use_credentials

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class ConnectAudits:
    clean: dict[str, Any]
    clean_exit: int
    planted: dict[str, Any]
    planted_exit: int
    planted_on: dict[str, str]
    # The same two audits with --partner-center-lookups where-needed.
    clean_where_needed: dict[str, Any]
    planted_where_needed: dict[str, Any]


def audit(options: list[str]) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["audit", *options, "--format", "json"])
    return code, json.loads(out.getvalue())


@pytest.fixture(scope="module")
def connect_audits() -> Iterator[ConnectAudits]:
    with pytest.MonkeyPatch.context() as patch, connect_rig(12) as rig:
        rig.driver.run_until_settled(timeout=300)
        options = connect_environment(rig, patch)
        where_needed = [*options, "--partner-center-lookups", "where-needed"]
        clean_exit, clean = audit(options)
        _, clean_where_needed = audit(where_needed)
        planted_on = plant_connect_anomalies(rig)
        planted_exit, planted = audit(options)
        _, planted_where_needed = audit(where_needed)
        yield ConnectAudits(clean, clean_exit, planted, planted_exit, planted_on, clean_where_needed,
                            planted_where_needed)


def test_a_clean_connect_run_reports_none(connect_audits: ConnectAudits) -> None:
    clean = connect_audits.clean
    assert clean["anomalies"] == 0 and clean["findings"] == [] and connect_audits.clean_exit == 0
    assert clean["connect"]["assets"] == 12 and clean["connect"]["summary"]["migrated"] >= 6
    assert clean["sources"] == [] and clean["subscriptions"] == 0  # Connect only: no journal given
    # Bulk reads: the CSP assets once (NCE assets come with the requests on them); Partner Center once per tenant.
    requests = clean["connect"]["requests"]
    assert requests["Connect GET /assets"] == 1 and requests["Connect GET /requests"] == 2
    assert 0 < requests["Partner Center GET /v1/migrations/newcommerce"] <= 12
    checks = {c["check"]: c for c in clean["checks"]}
    assert checks["Connect: NCE seats equal CSP seats"]["checked"] >= 6
    assert checks["Connect: approved purchases have a completed migration"]["note"] == ""


@pytest.mark.parametrize("code", ["duplicate-target", "cancelled-before-targets-completed", "seat-mismatch",
                                  "microsoft-led-duplicate", "stuck-migration", "approved-migration-failed"])
def test_each_planted_anomaly_is_found_with_its_code_and_advice(connect_audits: ConnectAudits, code: str) -> None:
    found = [f for f in connect_audits.planted["findings"] if f["code"] == code]
    assert [f["subscription_id"] for f in found] == [connect_audits.planted_on[code]], found
    [finding] = found
    assert finding["platform"] == "Connect" and finding["action"] and finding["customer_id"]


def test_nothing_else_is_found_and_the_exit_status_gates_sign_off(connect_audits: ConnectAudits) -> None:
    planted = connect_audits.planted
    assert planted["anomalies_by_code"] == {code: 1 for code in connect_audits.planted_on}
    assert connect_audits.planted_exit == 3


def test_where_needed_lists_our_migrations_by_tag_and_reads_fewer_tenants(connect_audits: ConnectAudits) -> None:
    """Our migrations come 300 a call by the extension's tag; a tenant is read on its own only where they do not
    account for every subscription (not migrated, processing, failed, an adopted Microsoft-led migration)."""
    clean, every = connect_audits.clean_where_needed, connect_audits.clean
    assert clean["anomalies"] == 0 and clean["findings"] == []
    requests = clean["connect"]["requests"]
    assert requests["Partner Center GET /v1/migrations/newcommerce by ExternalReferenceId"] >= 1
    per_tenant = requests.get("Partner Center GET /v1/migrations/newcommerce", 0)
    assert per_tenant < every["connect"]["requests"]["Partner Center GET /v1/migrations/newcommerce"]
    checks = {c["check"]: c for c in clean["checks"]}
    note = checks["Connect: one purchase and one migration per CSP item"]["note"]
    assert f"{per_tenant:,} of " in note and "Microsoft-led migration of a subscription whose own migration completed" in note
    assert clean["connect"]["summary"] == every["connect"]["summary"]


def test_where_needed_finds_every_planted_anomaly_but_the_one_it_says_it_cannot_see(
        connect_audits: ConnectAudits) -> None:
    """A Microsoft-led migration beside a completed tagged one (which Partner Center refuses to start) is the
    blind spot the check names; every other planted anomaly is found as by a read of every tenant."""
    planted, on = connect_audits.planted_where_needed, connect_audits.planted_on
    expected = {code: 1 for code in on if code != "microsoft-led-duplicate"}
    assert planted["anomalies_by_code"] == expected
    for finding in planted["findings"]:
        assert finding["subscription_id"] == on[finding["code"]] and finding["action"]


def test_the_advice_fits_the_case(connect_audits: ConnectAudits) -> None:
    by_code = {f["code"]: f for f in connect_audits.planted["findings"]}
    early = by_code["cancelled-before-targets-completed"]
    assert "approved only at" in early["message"] and "do not reinstate" in early["action"]
    assert "keep Microsoft's" in by_code["microsoft-led-duplicate"]["action"]
    assert "Processing" in by_code["stuck-migration"]["message"]
    assert "do not cancel the CSP asset" in by_code["approved-migration-failed"]["action"]
    seats = by_code["seat-mismatch"]
    assert int(seats["ids"]["csp_seats"]) - int(seats["ids"]["nce_seats"]) == 2


def test_one_runbook_report_covers_commerce_and_connect_side_by_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path
    use_credentials(monkeypatch)
    migrated = migrate_on_sandbox(folder, failing=())
    with sandbox_on(migrated.estate, state_file=migrated.state_file) as commerce, connect_rig(8) as rig:
        rig.driver.run_until_settled(timeout=300)
        options = connect_environment(rig, monkeypatch)
        named = dict(zip(options[::2], options[1::2], strict=True))
        products = {flag: ",".join(v for k, v in zip(options[::2], options[1::2], strict=True) if k == flag)
                    for flag in ("--csp-product", "--nce-product")}
        args = ["runbook", "run", "audit_report", "-q", "--output-dir", str(folder / "run"),
                "-p", "journal", str(migrated.journal), "-p", "commerce_url", commerce.url,
                "-p", "connect_url", named["--connect-url"], "-p", "partner_center_url", named["--partner-center-url"],
                "-p", "csp_products", products["--csp-product"], "-p", "nce_products", products["--nce-product"]]
        assert main(args) == 0
    result = json.loads((folder / "run" / "result.json").read_text())
    assert result["summary"]["migrated"] == 2 and result["connect"]["summary"]["migrated"] >= 4
    assert result["anomalies"] == 0
    report = (folder / "run" / "report.html").read_text()
    assert "Commerce (subscriptions)" in report and "Connect (CSP assets)" in report
    assert (folder / "run" / "connect_assets.csv").read_text().count("\n") == 1 + 8
    assert main(["audit", "verify", str(folder / "run"), "--allow-unsigned"]) == 0
