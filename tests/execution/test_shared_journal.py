"""Several workers sharing one journal: each order is placed by exactly one of them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from m365move.domain.orders import MigrationMode, OrderKind
from m365move.execution.intents import Intent, IntentState
from m365move.execution.journal import Journal
from tests.estate_builder import BASE, standard
from tests.execution.postgres_server import postgres_url
from tests.execution.sandbox_run import CREDENTIALS, confirmed, duplicate_keys, sandbox_on, state, write_estate


def intent(key: str = "K1") -> Intent:
    return Intent(key, MigrationMode.NEW_SUBSCRIPTION, "3000001", "2000001", "1000001", 0, OrderKind.SALES, BASE,
                  "CFQ7TTC0LH18:0001", 6001, 12, "1 year", None, None)


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_url() as url:
        yield url


class TestClaims:
    def test_only_one_of_two_readers_claims(self, tmp_path: Path) -> None:
        """Two workers read the same planned intent; the compare-and-set lets exactly one place it."""
        journal = Journal(tmp_path / "journal.sqlite")
        first = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {})
        second = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {})
        seen_by_first, = journal.record_intents(first, [intent()])
        seen_by_second, = journal.record_intents(second, [intent()])
        assert journal.claim(seen_by_first, first) == 1
        assert journal.claim(seen_by_second, second) is None
        assert journal.intents_of(["3000001"])[0].claimed_by == first

    def test_a_live_claim_is_kept_and_a_finished_runs_claim_is_free(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        holder = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {})
        other = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {})
        seen, = journal.record_intents(holder, [intent()])
        assert journal.claim(seen, holder) == 1
        taken, = journal.record_intents(other, [intent()])
        assert journal.claim(taken, other) is None  # live: proved a moment ago, its run is running
        journal.finish_run(holder, "finished", {}, None)
        assert journal.claim(taken, other) == 2

    def test_a_dead_runs_placing_intent_can_be_taken_over(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        crashed = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {})
        seen, = journal.record_intents(crashed, [intent()])
        assert journal.claim(seen, crashed)
        journal.finish_run(crashed, "interrupted", {}, None)
        resumed = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {})
        current, = journal.record_intents(resumed, [intent()])
        assert (current.state, current.claimed_by) == (IntentState.PLACING, crashed)
        assert journal.claim(current, resumed) == 2


@pytest.mark.slow
def test_claims_on_postgresql(postgres: str) -> None:
    """The same compare-and-set on a PostgreSQL journal (what several hosts share)."""
    journal = Journal(postgres)
    first = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {})
    second = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {})
    seen_by_first, = journal.record_intents(first, [intent("PG-K1")])
    seen_by_second, = journal.record_intents(second, [intent("PG-K1")])
    assert journal.claim(seen_by_first, first) == 1
    assert journal.claim(seen_by_second, second) is None
    journal.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_on_one_journal_place_each_order_once(tmp_path: Path, backend: str,
                                                          request: pytest.FixtureRequest) -> None:
    builder = standard()
    for n in range(30):
        builder.subscription(str(3000001 + n), resources=[(BASE, n + 1)])
    estate = write_estate(tmp_path, builder.doc)
    env = dict(os.environ) | CREDENTIALS
    with sandbox_on(estate) as server:
        command = confirmed([
            sys.executable, "-m", "m365move", "migrate", "--mode", "new-subscription", "--estate", str(estate),
            "--commerce-url", server.url, "--execute", "--workspace", str(tmp_path / "work"),
            *(["--journal", _fresh_database(request.getfixturevalue("postgres"))] if backend == "postgresql" else []),
            "--poll-interval", "0.05", "--rate-limit", "0", "--concurrency", "4"])
        workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]
        for worker in workers:
            _, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
        assert duplicate_keys(state(server)) == []
        # Whatever one worker left to the other (claimed by it, not finished when this one ended), a re-run completes.
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        snapshot = state(server)
    assert duplicate_keys(snapshot) == []
    kinds = [o["type"] for o in snapshot["orders"]]
    assert (kinds.count("sales"), kinds.count("cancellation")) == (30, 30)


def _fresh_database(server_url: str) -> str:
    """A new database on the test server, so each test's journal starts empty."""
    import psycopg

    name = f"journal_{uuid.uuid4().hex[:8]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"
