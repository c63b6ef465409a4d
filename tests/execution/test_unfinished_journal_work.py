"""The sources a run carries on are found by the journal's database, with the same answer as reading every intent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from m365move.domain.orders import MigrationMode, OrderKind
from m365move.domain.planner import Selection
from m365move.execution.intents import Intent
from m365move.execution.journal import Journal
from m365move.execution.migration_run import unfinished_journal_work
from tests.estate_builder import BASE

NS, SP = MigrationMode.NEW_SUBSCRIPTION, MigrationMode.SWITCH_PLAN


def intents(subscription_id: str, mode: MigrationMode = NS, customer: str = "2000001") -> list[Intent]:
    tag, first = ("NS", OrderKind.SALES) if mode is NS else ("SP", OrderKind.CHANGE)
    sales = Intent(f"M365MOVE-{tag}-{subscription_id}-{first.value}-{BASE}", mode, subscription_id, customer, "1000001",
                   0, first, BASE, "CFQ7TTC0LH18:0001", 6001, 12, "1 year", None, None)
    return [sales, replace(sales, key=f"M365MOVE-{tag}-{subscription_id}-cancellation-{BASE}", seq=1,
                           kind=OrderKind.CANCELLATION)]


def test_only_sources_with_an_order_not_completed_are_carried_on(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    run = journal.start_run(NS, False, {})
    done, half, error, untouched, excluded, other_customer = (journal.record_intents(run, intents(s, customer=c))
        for s, c in [("3000001", "2000001"), ("3000002", "2000001"), ("3000003", "2000001"), ("3000004", "2000001"),
                     ("3000005", "2000001"), ("3000006", "2000002")])
    journal.record_intents(journal.start_run(SP, False, {}), intents("3000007", SP))
    for intent in done:
        journal.mark_placed(journal.intent(intent.key), f"O-{intent.key}", "completed")
    journal.mark_placed(journal.intent(half[0].key), "O-half", "completed")  # the cancellation is still planned (no status yet)
    journal.mark_placed(journal.intent(error[0].key), "O-error", "completed")
    journal.mark_placed(journal.intent(error[1].key), "O-error-2", "error")

    found = unfinished_journal_work(journal, NS, Selection(customer_ids=frozenset({"2000001"})),
                                    exclude=frozenset({"3000005"}))

    assert list(found) == ["3000002", "3000003", "3000004"]
    assert [i.seq for i in found["3000002"]] == [0, 1]  # every intent of a carried-on source, in order
    assert journal.unfinished_subscriptions(NS) == {"3000002", "3000003", "3000004", "3000005", "3000006"}
    assert unfinished_journal_work(journal, NS, Selection(subscription_ids=frozenset({"3000006"}))).keys() == {"3000006"}
