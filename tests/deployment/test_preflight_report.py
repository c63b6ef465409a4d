"""The preflight report stays small at scale: findings rolled up, every table linked to its full CSV,
plans and customers named, the reseller chart capped at the largest ones, the other resellers in a table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from m365move.cli import main
from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.domain.preflight import preflight_findings
from m365move.estate.loader import load_estate
from m365move.runbooks.plan_report import CHART_RESELLERS, decisions_by_reseller, finding_rollup_rows, other_resellers


def _estate(tmp_path: Path, subscriptions: int, resellers: int) -> Path:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(generate_estate(EstateSize.for_subscriptions(subscriptions, resellers), seed=3)))
    return path


def test_rollup_and_top_resellers(tmp_path: Path) -> None:
    estate = load_estate(_estate(tmp_path, 3000, 120)).estate
    plan = plan_migration(estate, MigrationMode.SWITCH_PLAN)
    findings = preflight_findings(plan)
    rollup = finding_rollup_rows(findings)
    assert len(rollup) == len({(f.severity.value, f.code) for f in findings}) < len(findings)
    assert sum(row[2] for row in rollup) == len(findings)
    chart = decisions_by_reseller(plan, top=CHART_RESELLERS)
    others = other_resellers(plan, top=CHART_RESELLERS)
    # No bar sums the others (at 500 resellers it dwarfed every named one): they are rows of a table.
    assert len(chart) == CHART_RESELLERS and len(others) == 120 - CHART_RESELLERS
    assert not set(chart) & {row[0] for row in others}
    assert sum(sum(c.values()) for c in chart.values()) + sum(row[-1] for row in others) == len(plan.subscriptions)
    biggest_other = max(row[-1] for row in others)
    assert all(sum(c.values()) >= biggest_other or c["blocked"] for c in chart.values())


@pytest.mark.slow
def test_preflight_report_links_its_csv_files(tmp_path: Path) -> None:
    path = _estate(tmp_path, 2000, 60)
    run_dir = tmp_path / "run"
    assert main(["runbook", "run", "preflight", "-q", "-p", "estate", str(path), "--output-dir", str(run_dir)]) == 0
    report = (run_dir / "report.html").read_text()
    assert 'href="findings.csv"' in report and 'href="plan.csv"' in report
    result = json.loads((run_dir / "result.json").read_text())
    with (run_dir / "plan.csv").open() as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == result["subscriptions"]  # every source subscription
    assert "The other 35 resellers:" in report
    assert "Sign-off" in report and "Preflight" in report
    for name in ("report.html", "manifest.json", "plan.csv", "findings.csv", "result.json"):
        assert (run_dir / name).stat().st_mode & 0o040, f"{name} is not group-readable"
