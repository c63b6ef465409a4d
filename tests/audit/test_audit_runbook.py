"""End to end on the sandbox: a real executed migration, anomalies planted in the platform's saved state,
then the ``audit_report`` runbook (``m365move runbook run``) and ``m365move audit`` find each one."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from m365move.cli import main
from tests.audit.sandbox_audit import migrate_on_sandbox, plant_anomalies
from tests.execution.sandbox_run import CREDENTIALS, sandbox_on

pytestmark = pytest.mark.slow
XSS = "<script>alert(1)</script>"


@dataclass(frozen=True)
class AuditRun:
    folder: Path
    result: dict[str, Any]
    planted: dict[str, str]
    cli_json: dict[str, Any]
    cli_exit: int


def audit_runbook(folder: Path, journal: Path, url: str, *extra: str) -> dict[str, Any]:
    args = ["runbook", "run", "audit_report", "-q", "--output-dir", str(folder), "-p", "journal", str(journal),
            "-p", "commerce_url", url, *extra]
    assert main(args) == 0
    return json.loads((folder / "result.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditRun]:
    folder = tmp_path_factory.mktemp("audit-planted")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CREDENTIALS.items():
            patch.setenv(key, value)
        migrated = migrate_on_sandbox(folder)
        planted = plant_anomalies(migrated.state_file)
        with sandbox_on(migrated.estate, state_file=migrated.state_file) as server:
            result = audit_runbook(folder / "run", migrated.journal, server.url, "-p", "stuck_after_hours", "0")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exit_code = main(["audit", "--journal", str(migrated.journal), "--commerce-url", server.url,
                                  "--stuck-after-hours", "0", "--format", "json", "--output-dir", str(folder / "cli")])
        yield AuditRun(folder / "run", result, planted, json.loads(out.getvalue()), exit_code)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditRun]:
    folder = tmp_path_factory.mktemp("audit-clean")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CREDENTIALS.items():
            patch.setenv(key, value)
        migrated = migrate_on_sandbox(folder, customer_name=XSS, failing=())
        with sandbox_on(migrated.estate, state_file=migrated.state_file) as server:
            result = audit_runbook(folder / "run", migrated.journal, server.url, "-p", "reseller", f"1000001,{XSS}")
        yield AuditRun(folder / "run", result, {}, {}, 0)


class TestPlantedAnomalies:
    @pytest.mark.parametrize("code", ["seat-mismatch", "duplicate-target", "cancelled-before-targets-completed",
                                      "stuck-migration"])
    def test_each_source_anomaly_is_in_result_json(self, planted_run: AuditRun, code: str) -> None:
        """Found under its exact code, on the subscription it was planted on."""
        found = {f["subscription_id"] for f in planted_run.result["findings"] if f["code"] == code}
        assert planted_run.planted[code] in found

    def test_the_order_placed_by_hand_is_an_orphan_target(self, planted_run: AuditRun) -> None:
        [orphan] = [f for f in planted_run.result["findings"] if f["code"] == "orphan-target"]
        assert orphan["ids"]["order"] == planted_run.planted["orphan-target"]
        assert orphan["ids"]["po_number"] == "HAND-PLACED-1"

    def test_counts_and_order(self, planted_run: AuditRun) -> None:
        result = planted_run.result
        assert result["summary"]["migrated"] == 2 and result["summary"]["partially-migrated"] == 2
        assert result["summary"]["blocked"] == 1
        assert result["anomalies_by_code"] == {"cancelled-before-targets-completed": 1, "duplicate-target": 1,
                                               "seat-mismatch": 1, "orphan-target": 1, "stuck-migration": 2}
        severities = [f["severity"] for f in result["findings"]]
        assert severities == sorted(severities, key=["critical", "warning", "info"].index)

    def test_the_cli_reports_the_same_findings_and_exits_3(self, planted_run: AuditRun) -> None:
        assert planted_run.cli_exit == 3
        assert planted_run.cli_json["anomalies_by_code"] == planted_run.result["anomalies_by_code"]

    def test_full_tables_are_csv_files_in_the_run_folder(self, planted_run: AuditRun) -> None:
        findings = (planted_run.folder / "findings.csv").read_text().splitlines()
        assert len(findings) == 1 + 6 and findings[0].startswith("severity,code,subscription")
        assert (planted_run.folder / "subscriptions.csv").read_text().count("\n") == 1 + 5

    def test_the_report_puts_the_executive_summary_first(self, planted_run: AuditRun) -> None:
        text = (planted_run.folder / "report.html").read_text()
        assert text.index("3 critical anomalies") < text.index('id="Anomalies"') < text.index("seat-mismatch")
        assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', text)) == 2


class TestSealedBundles:
    def test_the_runbook_folder_verifies_and_its_report_shows_the_manifest_hash(self, planted_run: AuditRun) -> None:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["audit", "verify", str(planted_run.folder), "--allow-unsigned"]) == 0
        manifest_hash = re.search(r"manifest sha256 ([0-9a-f]{64})", out.getvalue())
        assert manifest_hash and manifest_hash.group(1) in (planted_run.folder / "report.html").read_text()

    def test_the_cli_output_folder_is_sealed_with_its_parameters(self, planted_run: AuditRun) -> None:
        cli_folder = planted_run.folder.parent / "cli"
        manifest = json.loads((cli_folder / "manifest.json").read_text())
        assert manifest["kind"] == "audit" and manifest["parameters"]["stuck_after_hours"] == 0
        assert {"findings.csv", "result.json"} <= {f["path"] for f in manifest["files"]}
        assert json.loads((cli_folder / "result.json").read_text())["anomalies_by_code"] == \
            planted_run.result["anomalies_by_code"]
        (cli_folder / "findings.csv").write_text("severity,code\n")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["audit", "verify", str(cli_folder)]) == 3
        assert "changed: findings.csv" in out.getvalue()


class TestCleanRun:
    def test_reports_no_anomalies(self, clean_run: AuditRun) -> None:
        assert clean_run.result["anomalies"] == 0 and clean_run.result["findings"] == []
        assert clean_run.result["summary"]["migrated"] == 2 and clean_run.result["summary"]["blocked"] == 1

    def test_a_customer_named_like_a_script_is_rendered_as_text(self, clean_run: AuditRun) -> None:
        """The name reaches the report (tables) and the parameters (run header), escaped, never as a live tag."""
        text = (clean_run.folder / "report.html").read_text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        live = [m.group(0) for m in re.finditer(r"<script[^>]*>[^<]{0,40}", text) if "alert(1)" in m.group(0)]
        assert live == []


def test_render_audit_returns_the_report_of_a_runbook_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README demo's entry point: one call, one report.html in the folder asked for."""
    from m365move.demo.__main__ import render_audit

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    migrated = migrate_on_sandbox(tmp_path, failing=())
    with sandbox_on(migrated.estate, state_file=migrated.state_file) as server:
        report = render_audit(migrated.journal, server.url, tmp_path / "audit")
    assert report == tmp_path / "audit" / "report.html"
    assert "No anomalies: the journal and the platform agree" in report.read_text()
    assert json.loads((tmp_path / "audit" / "result.json").read_text())["summary"]["migrated"] == 2
