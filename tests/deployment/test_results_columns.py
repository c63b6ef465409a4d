"""The results CSV names what a person looks for, after the original columns; resume still reads old files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from m365move.cli import main
from m365move.execution.results_file import REQUIRED_COLUMNS, RESULT_COLUMNS
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import migrate_args, sandbox_on, use_credentials, write_estate


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)


def _rows(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), {r["subscription_id"]: r for r in reader}


def test_columns_named_and_resume_reads_older_files(tmp_path: Path) -> None:
    builder = standard()
    builder.subscription("3000001", resources=[(BASE, 12), (ADDON, 3)])
    builder.subscription("3000004", billing="1 year")  # blocked
    path, workspace = write_estate(tmp_path, builder.doc), tmp_path / "work"
    with sandbox_on(path) as server:
        assert main(migrate_args("switch-plan", path, server, workspace)) == 0
        [results] = list((workspace / "results").glob("*.csv"))
        header, rows = _rows(results)
        assert header[:8] == list(REQUIRED_COLUMNS) and header == list(RESULT_COLUMNS)
        assert header[8:] == ["failure_message", "customer_id", "customer_name", "reseller_id", "reseller_name",
                              "source_plan_id", "source_plan_name", "target_plan_ids", "target_plan_names"]
        migrating = rows["3000001"]
        assert (migrating["customer_id"], migrating["customer_name"]) == ("2000001", "Contoso")
        assert (migrating["reseller_id"], migrating["reseller_name"]) == ("1000001", "Northwind")
        assert (migrating["source_plan_id"], migrating["source_plan_name"]) == ("5001", "Plan 5001")
        assert migrating["target_plan_ids"] == "6001;6101"
        assert migrating["target_plan_names"] == "Plan 6001;Plan 6101"
        blocked = rows["3000004"]
        assert blocked["customer_name"] == "Contoso" and blocked["target_plan_ids"] == ""

        # A results file written before the columns were appended: resume reads it (missing columns empty).
        old = tmp_path / "old-results.csv"
        with results.open(newline="") as source, old.open("w", newline="") as target:
            writer = csv.DictWriter(target, fieldnames=REQUIRED_COLUMNS, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(csv.DictReader(source))
        assert main(["resume", str(old), "--workspace", str(workspace), "--execute", "--poll-interval", "0.02",
                     "--rate-limit", "0"]) == 0
    latest = max((workspace / "results").glob("*.csv"), key=lambda p: p.stat().st_mtime)
    _, resumed = _rows(latest)
    assert resumed["3000001"]["final_status"] == "migrated" and resumed["3000001"]["customer_name"] == "Contoso"
