"""One source, one mode, decided in the claim: the race the protocol model found (docs/execution-protocol-model.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from m365move.domain.orders import MigrationMode, OrderKind
from m365move.execution.intents import Intent
from m365move.execution.journal import Journal
from tests.estate_builder import BASE
from tests.execution.postgres_server import postgres_url
from tests.execution.test_claims_on_database_clock import fresh_database

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
        journal.mark_placed(journal.intent(sp_intent.key), "O1", status)
        assert journal.other_mode_started(ns_intent) is blocks
        assert (journal.claim(ns_intent, ns_run) is None) is blocks

    def test_another_source_is_not_affected(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        ns_run, sp_run = journal.start_run(NS, False, {}), journal.start_run(SP, False, {})
        sp_intent, = journal.record_intents(sp_run, [intent(SP, "3000001")])
        ns_intent, = journal.record_intents(ns_run, [intent(NS, "3000002")])
        assert journal.claim(sp_intent, sp_run) == 1
        assert journal.claim(replace(ns_intent), ns_run) == 1


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_url() as url:
        yield url


TRIALS = 200


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_simultaneous_claims_of_both_modes_on_one_source_let_at_most_one_through(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    """200 trials, each a New Subscription and a Switch Plan claim of one source released together from two
    connections. Under READ COMMITTED each claim's "other mode started" read missed the other's uncommitted row
    (185 of 200 trials both went through); the source's lock row taken first serialises them."""
    url = fresh_database(request.getfixturevalue("postgres")) if backend == "postgresql" else str(
        tmp_path / "journal.sqlite")
    journals = [Journal(url), Journal(url)]
    runs = [journals[0].start_run(NS, False, {}), journals[1].start_run(SP, False, {})]
    sources = [str(4000000 + n) for n in range(TRIALS)]
    seen = [journals[0].record_intents(runs[0], [intent(NS, s) for s in sources]),
            journals[1].record_intents(runs[1], [intent(SP, s) for s in sources])]
    both = 0
    for trial in range(TRIALS):
        start = threading.Barrier(2)
        outcome: list[int | None] = [None, None]

        def claim(side: int, trial: int = trial, start: threading.Barrier = start,
                  outcome: list[int | None] = outcome) -> None:
            start.wait()
            outcome[side] = journals[side].claim(seen[side][trial], runs[side])

        threads = [threading.Thread(target=claim, args=(side,)) for side in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        both += all(result is not None for result in outcome)
        assert any(result is not None for result in outcome)  # one of them always wins
    for journal in journals:
        journal.close()
    assert both == 0, f"{both} of {TRIALS} trials let both modes claim one source"
