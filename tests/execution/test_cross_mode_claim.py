"""One source, one mode, decided in the claim: the race the protocol model found (docs/execution-protocol-model.md)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from m365move.domain.orders import MigrationMode, OrderKind
from m365move.execution.intents import Intent
from m365move.execution.journal import Journal
from tests.estate_builder import BASE

NS, SP = MigrationMode.NEW_SUBSCRIPTION, MigrationMode.SWITCH_PLAN


def intent(mode: MigrationMode, subscription_id: str = "3000001") -> Intent:
    tag = "NS" if mode is NS else "SP"
    kind = OrderKind.SALES if mode is NS else OrderKind.CHANGE
    return Intent(f"M365MOVE-{tag}-{subscription_id}-{kind.value}-{BASE}", mode, subscription_id, "2000001", "1000001", 0,
                  kind, BASE, "CFQ7TTC0LH18:0001", 6001, 12, "1 year", None, None)


class TestOneModePerSourceInTheClaim:
    def test_a_source_claimed_by_one_mode_cannot_be_claimed_by_the_other(self, tmp_path: Path) -> None:
        """Both runs passed their planning check; the second claim, of the other mode, is refused."""
        journal = Journal(tmp_path / "journal.sqlite")
        ns_run, sp_run = journal.start_run(NS, False, {}), journal.start_run(SP, False, {})
        ns_intent, = journal.record_intents(ns_run, [intent(NS)])
        sp_intent, = journal.record_intents(sp_run, [intent(SP)])
        assert journal.claim(sp_intent, sp_run) == 1
        assert journal.claim(ns_intent, ns_run) is None
        assert journal.other_mode_started(ns_intent)
        assert not journal.other_mode_started(sp_intent)

    @pytest.mark.parametrize("status, blocks", [("completed", True), ("error", False), ("rejected", False)])
    def test_a_finished_order_of_the_other_mode_blocks_only_when_it_made_a_target(
            self, tmp_path: Path, status: str, blocks: bool) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        ns_run, sp_run = journal.start_run(NS, False, {}), journal.start_run(SP, False, {})
        ns_intent, = journal.record_intents(ns_run, [intent(NS)])
        sp_intent, = journal.record_intents(sp_run, [intent(SP)])
        journal.claim(sp_intent, sp_run)
        journal.mark_placed(sp_intent.key, "O1", status)
        assert journal.other_mode_started(ns_intent) is blocks
        assert (journal.claim(ns_intent, ns_run) is None) is blocks

    def test_another_source_is_not_affected(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        ns_run, sp_run = journal.start_run(NS, False, {}), journal.start_run(SP, False, {})
        sp_intent, = journal.record_intents(sp_run, [intent(SP, "3000001")])
        ns_intent, = journal.record_intents(ns_run, [intent(NS, "3000002")])
        assert journal.claim(sp_intent, sp_run) == 1
        assert journal.claim(replace(ns_intent), ns_run) == 1
