"""Reading journals and results files, and the status each subscription is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from m365move.audit.records import AuditRecords, ResultRecord, RunRecord, combine, parse_po_number
from m365move.audit.sources import read_journal, read_results_file
from m365move.audit.summary import subscription_statuses
from m365move.domain.orders import MigrationMode, OrderKind
from m365move.errors import InputError
from m365move.execution.intents import Intent
from m365move.execution.journal import Journal
from m365move.execution.results_file import write_results
from tests.audit.builders import BASE, RUN, T0, minutes, standard


def journal_with_one_migration(path: Path) -> str:
    journal = Journal(path)
    run_id = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {"execute": True, "customer": "<b>x</b>"})
    sales = Intent(f"M365MOVE-NS-3000001-sales-{BASE}", MigrationMode.NEW_SUBSCRIPTION, "3000001", "2000001", "1000001",
                   0, OrderKind.SALES, BASE, "CFQ7TTC0LH18:0001", 6001, 12, "1 year", None, None)
    journal.record_intents(run_id, [sales])
    assert journal.claim(sales, run_id)
    journal.mark_placed(journal.intent(sales.key), "9000001", "completed", "4000001")
    journal.record_results(run_id, [{"subscription_id": "3000001", "mode": "new-subscription", "decision": "migrate",
                                     "final_status": "migrated", "reasons": ""}])
    journal.finish_run(run_id, "finished", {"migrated": 1}, None)
    journal.close()
    return run_id


class TestReadJournal:
    def test_reads_runs_intents_and_results_as_written(self, tmp_path: Path) -> None:
        run_id = journal_with_one_migration(tmp_path / "journal.sqlite")
        records = read_journal(tmp_path / "journal.sqlite")
        [run] = records.runs
        assert (run.run_id, run.dry_run, run.parameters["customer"], run.summary) == (run_id, False, "<b>x</b>", {"migrated": 1})
        [item] = records.intents
        assert (item.completed, item.platform_order_id, item.target_subscription_id, item.quantity) == (
            True, "9000001", "4000001", 12)
        assert item.placing_at is not None and item.finished_at is not None and item.placing_at.tzinfo is not None
        assert [r.final_status for r in records.results] == ["migrated"]

    def test_a_missing_journal_is_an_input_error_and_is_not_created(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="no journal here"):
            read_journal(tmp_path / "nope.sqlite")
        assert not (tmp_path / "nope.sqlite").exists()

    def test_a_sqlite_file_that_is_not_a_journal(self, tmp_path: Path) -> None:
        import sqlite3

        with sqlite3.connect(tmp_path / "other.sqlite") as connection:
            connection.execute("CREATE TABLE t (x)")
        with pytest.raises(InputError, match="not an m365move journal"):
            read_journal(tmp_path / "other.sqlite")


class TestReadResultsFile:
    def test_order_ids_come_from_the_orders_column(self, tmp_path: Path) -> None:
        path = tmp_path / "results.csv"
        write_results(path, [
            {"run_id": "R1", "subscription_id": "3000001", "mode": "new-subscription", "decision": "migrate",
             "final_status": "partially-migrated", "orders": "sales:9000001:completed;cancellation:-:planned",
             "new_subscription_ids": "4000001", "reasons": ""},
        ])
        records = read_results_file(path)
        assert records.results[0].order_ids == ("9000001",)
        assert records.runs[0].dry_run is False


class TestStatuses:
    def run(self, run_id: str, minute: float, dry: bool) -> RunRecord:
        return RunRecord(run_id, "new-subscription", dry, "finished", minutes(minute), minutes(minute + 1), None, None,
                         {}, {}, "j")

    def test_journaled_intents_win_over_a_later_already_migrated_row(self) -> None:
        scenario = standard()
        later = ResultRecord("R2", "3000001", "new-subscription", "skip", "skipped", "already-migrated: x")
        records = combine([scenario.records(), AuditRecords((self.run("R2", 60, False),), (), (later,))])
        assert subscription_statuses(records)["3000001"].status == "migrated"

    def test_a_dry_run_row_never_hides_an_executed_one(self) -> None:
        executed = ResultRecord("R1", "3000009", "new-subscription", "blocked", "blocked", "")
        dry = ResultRecord("R2", "3000009", "new-subscription", "migrate", "pending", "")
        records = AuditRecords((self.run("R1", 0, False), self.run("R2", 60, True)), (), (executed, dry))
        assert subscription_statuses(records)["3000009"].status == "blocked"

    def test_would_migrate_in_a_dry_run_only_reads_not_executed(self) -> None:
        dry = ResultRecord("R2", "3000009", "new-subscription", "migrate", "pending", "")
        records = AuditRecords((self.run("R2", 0, True),), (), (dry,))
        assert subscription_statuses(records)["3000009"].status == "not-executed"

    def test_selecting_a_run_keeps_its_subscriptions_only(self) -> None:
        records = combine([standard().records(),
                           AuditRecords((self.run("R2", 60, True),), (),
                                        (ResultRecord("R2", "3000042", "new-subscription", "skip", "skipped", ""),))])
        assert set(subscription_statuses(records.select_runs({RUN}))) == {"3000001", "3000002", "3000004"}
        assert set(subscription_statuses(records.select_runs({"R2"}))) == {"3000042"}

    def test_completion_time_is_the_last_order_s(self) -> None:
        status = subscription_statuses(standard().records())["3000001"]
        assert status.completed_at == T0.replace(minute=2, second=30)


@pytest.mark.parametrize(("po_number", "expected"), [
    (f"M365MOVE-NS-3000001-sales-{BASE}", ("NS", "3000001", "sales", BASE, 1)),
    (f"M365MOVE-SP-3000001-migration-{BASE}-A3", ("SP", "3000001", "migration", BASE, 3)),
    ("M365MOVE-NS-3000001-cancellation-SOURCE", ("NS", "3000001", "cancellation", "SOURCE", 1)),
    ("PO-42", None),
    (None, None),
])
def test_po_numbers_are_read_back_into_their_parts(po_number: str | None, expected: tuple[object, ...] | None) -> None:
    parsed = parse_po_number(po_number)
    assert (None if parsed is None else (parsed.mode_tag, parsed.subscription_id, parsed.kind, parsed.license,
                                         parsed.attempt)) == expected
