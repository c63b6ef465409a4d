"""Tables, CSV files, HTML pieces, charts, snapshot files and the CLI, on planted in-memory data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from m365move.audit.audit_report import AuditReport, build_audit
from m365move.audit.charts import progress_chart, status_by_reseller_chart
from m365move.audit.platform_snapshot import read_platform_snapshot, write_platform_snapshot
from m365move.audit.platform_state import PlatformCustomer, platform_state_of
from m365move.audit.report_html import executive_summary, findings_section
from m365move.audit.tables import all_tables, by_reseller_table, runs_table
from m365move.audit.tables_csv import write_tables
from m365move.cli import main
from m365move.errors import InputError
from m365move.rendering.charts import PNG_SIGNATURE
from tests.audit.builders import BASE, CUSTOMER, NCE, NOW, RESELLER, standard
from tests.audit.sandbox_audit import migrate_on_sandbox
from tests.execution.sandbox_run import use_credentials

XSS = "<script>alert(1)</script>"


def xss_report() -> AuditReport:
    scenario = standard()
    target = scenario.sales("3000002").created_subscription_id
    scenario.replace_subscription(str(target), products=((NCE[BASE], 1),))
    platform = scenario.platform()
    hostile = platform_state_of({RESELLER: XSS}, [PlatformCustomer(CUSTOMER, XSS, RESELLER)],
                                platform.subscriptions.values(), platform.orders)
    return build_audit(scenario.records(), hostile, NOW)


class TestHtml:
    def test_names_from_the_platform_are_escaped(self) -> None:
        report = xss_report()
        text = executive_summary(report) + findings_section(report, 10)
        assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text

    def test_the_verdict_names_the_critical_count(self) -> None:
        assert "1 critical anomalies" in executive_summary(xss_report())
        assert "No anomalies" in executive_summary(build_audit(standard().records(), standard().platform(), NOW))

    def test_findings_are_cut_to_the_limit_and_point_to_the_csv(self) -> None:
        scenario = standard()
        for n in range(30):
            scenario.blocked(str(3100000 + n))
            scenario.results[-1] = scenario.results[-1].__class__(
                scenario.results[-1].run_id, str(3100000 + n), "new-subscription", "migrate", "pending", "")
        text = findings_section(build_audit(scenario.records(), scenario.platform(), NOW), 5)
        assert "First 5 of 30 rows shown" in text and "findings.csv" in text


class TestTablesAndCsv:
    def test_every_table_is_written_in_full(self, tmp_path: Path) -> None:
        report = xss_report()
        paths = write_tables(tmp_path, all_tables(report))
        assert {p.name for p in paths} >= {"findings.csv", "subscriptions.csv", "runs.csv", "status_by_reseller.csv"}
        with (tmp_path / "subscriptions.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert {r["subscription"]: r["status"] for r in rows} == {"3000001": "migrated", "3000002": "migrated",
                                                                  "3000004": "blocked"}
        assert rows[0]["customer"] == XSS  # CSV keeps the raw value; only HTML escapes

    def test_the_runs_table_shows_only_parameters_that_were_set(self) -> None:
        [row] = runs_table(xss_report()).rows
        assert row[2] == "executed" and row[7] == "execute=true"

    def test_resellers_with_problems_come_first(self) -> None:
        rows = by_reseller_table(xss_report()).rows
        assert rows[0][0] == f"{XSS} ({RESELLER})"


class TestCharts:
    def test_progress_is_a_png_saying_how_many_migrated(self) -> None:
        chart = progress_chart(xss_report().progress())
        assert chart.png.startswith(PNG_SIGNATURE) and "2 subscriptions migrated" in chart.alt

    def test_only_the_resellers_with_most_problems_are_drawn(self) -> None:
        from collections import Counter

        groups = {f"R{n}": Counter({"migrated": 50, "failed": n}) for n in range(30)}
        chart = status_by_reseller_chart(groups, ["migrated", "failed"], top=5)
        assert "the 5 of 30 with the most problems" in chart.alt
        assert "R29: 50 migrated, 29 failed" in chart.alt and "R3:" not in chart.alt

    def test_nothing_migrated_yet_is_an_error_not_an_empty_chart(self) -> None:
        with pytest.raises(ValueError):
            progress_chart([])


class TestSnapshot:
    def test_a_written_snapshot_reads_back_the_same(self, tmp_path: Path) -> None:
        state = standard().platform()
        again = read_platform_snapshot(write_platform_snapshot(state, tmp_path / "p.json"))
        assert again.subscriptions == state.subscriptions and again.orders == state.orders
        assert again.customers == state.customers and again.customers_read == state.customers_read

    def test_a_malformed_snapshot_names_the_section(self, tmp_path: Path) -> None:
        (tmp_path / "p.json").write_text(json.dumps({"version": 1, "resellers": {}, "customers": [],
                                                     "subscriptions": [{"id": "1"}], "orders": []}))
        with pytest.raises(InputError, match="subscriptions"):
            read_platform_snapshot(tmp_path / "p.json")


class TestCli:
    @pytest.fixture(autouse=True)
    def _credentials(self, monkeypatch: pytest.MonkeyPatch) -> None:
        use_credentials(monkeypatch)

    def test_json_and_csv_from_a_journal_and_a_snapshot(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A real journal (a migration on the sandbox), audited offline against a snapshot file."""
        migrated = migrate_on_sandbox(tmp_path, failing=())
        snapshot = write_platform_snapshot(platform_state_of({}, [], [], []), tmp_path / "empty.json")
        capsys.readouterr()
        code = main(["audit", "--journal", str(migrated.journal), "--platform-snapshot", str(snapshot),
                     "--format", "json", "--output-dir", str(tmp_path / "out")])
        result = json.loads(capsys.readouterr().out)
        assert code == 0 and result["summary"]["migrated"] == 2 and result["summary"]["blocked"] == 1
        assert (tmp_path / "out" / "findings.csv").read_text().startswith("severity,code")

    def test_an_unknown_run_is_bad_input(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        migrated = migrate_on_sandbox(tmp_path, failing=())
        assert main(["audit", "--journal", str(migrated.journal), "--run", "NOPE"]) == 2
        assert "run NOPE is in none of the journals" in capsys.readouterr().err

    def test_nothing_to_audit_is_bad_input(self, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)  # no shared workspace journal here (audit would read it by default)
        monkeypatch.delenv("M365MOVE_WORKSPACE", raising=False)
        assert main(["audit"]) == 2
        assert "give journal" in capsys.readouterr().err
