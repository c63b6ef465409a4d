"""The claim race of issue 26 item 1, driven deterministically through the executor's own code path.

Two workers, each with its own journal connection and its own Commerce client, share one journal and one sandbox.
Worker A claims the order and stops right before its fence (a pause past its lease). Worker B reads the intent
(placing, held by A, A stale) and stops right before its claim: in the earlier code it had already judged A stale
with its own SELECT. A is let go: it proves its claim and its POST is about to leave (stopped again at the socket).
B is let go: it claims, looks the order up (nothing yet: A's POST has not left), and places it. A's POST leaves.

In the earlier code A's fence checked only the generation, B's claim only state/attempt/generation: two sales
orders. Now B's staleness is judged inside its claim, and A's fence refuses a claim whose lease ran out (A claims
again, which refuses B's older read): one order. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from m365move.commerce.credentials import CommerceCredentials
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.estate.loader import load_estate
from m365move.execution.crash_points import CrashPoints
from m365move.execution.executor import ExecutionOptions, MigrationExecutor, SubscriptionWork
from m365move.execution.intents import IntentState, intents_for
from m365move.execution.journal import LEASE_ENV_VAR, Journal
from tests.estate_builder import BASE, standard
from tests.execution.postgres_server import postgres_url
from tests.execution.sandbox_run import duplicate_keys, sandbox_on, state, write_estate

NS = MigrationMode.NEW_SUBSCRIPTION
LEASE = 1.5
STEP_TIMEOUT = 60.0


class Hooks(CrashPoints):
    """Named points of the executor where a test holds a worker: ``hold(name)`` makes the first arrival there
    wait until ``release(name)``; ``arrived(name)`` waits for that arrival."""

    def __init__(self) -> None:
        super().__init__("")
        self._held: dict[str, tuple[threading.Event, threading.Event]] = {}

    def hold(self, name: str) -> None:
        self._held[name] = (threading.Event(), threading.Event())

    def reached(self, name: str) -> None:
        pair = self._held.pop(name, None)
        if pair is not None:
            arrived, go = pair
            arrived.set()
            assert go.wait(STEP_TIMEOUT), f"never released at {name}"


class Gate:
    """One hold point of one worker, made before the worker starts."""

    def __init__(self, hooks: Hooks, name: str) -> None:
        hooks.hold(name)
        self.arrived, self.go = hooks._held[name]

    def wait_arrival(self) -> None:
        assert self.arrived.wait(STEP_TIMEOUT), "the worker never reached its hold point"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_url() as url:
        yield url


def _fresh_database(server_url: str) -> str:
    import psycopg

    name = f"journal_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def _worker(url: str, server_url: str, hooks: Hooks) -> tuple[Journal, SimpleApiClient, Callable[[str], MigrationExecutor]]:
    journal = Journal(url)
    client = SimpleApiClient(server_url, CommerceCredentials.sandbox(), rate_limit_per_second=None)
    options = ExecutionOptions(concurrency=1, poll_interval=0.05, uncertain_settle_seconds=0.05,
                               commit_deadline_seconds=1.0)

    def executor(run_id: str) -> MigrationExecutor:
        return MigrationExecutor(client, journal, run_id, options, crash_points=hooks)

    return journal, client, executor


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_worker_paused_between_the_others_stale_check_and_claim_causes_no_duplicate(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEASE_ENV_VAR, str(LEASE))
    builder = standard()
    builder.subscription("3000001", resources=[(BASE, 4)])
    estate_path = write_estate(tmp_path, builder.doc)
    url = (_fresh_database(request.getfixturevalue("postgres")) if backend == "postgresql"
           else str(tmp_path / "journal.sqlite"))
    plan = plan_migration(load_estate(estate_path).estate, NS).migrating()[0]
    sales = [i for i in intents_for(NS, plan) if i.phase == 1]
    assert len(sales) == 1
    with sandbox_on(estate_path) as server:
        hooks_a, hooks_b = Hooks(), Hooks()
        journal_a, client_a, executor_a = _worker(url, server.url, hooks_a)
        journal_b, client_b, executor_b = _worker(url, server.url, hooks_b)
        try:
            run_a = journal_a.start_run(NS, False, {})
            recorded = journal_a.record_intents(run_a, sales)
            work_a = SubscriptionWork(plan.subscription_id, plan.customer_id, recorded)
            a_before_fence = Gate(hooks_a, "before-post")
            a_at_socket = Gate(hooks_a, "post-leaving")
            worker_a = threading.Thread(target=executor_a(run_a)._place, args=(work_a, recorded[0]), daemon=True)
            worker_a.start()
            a_before_fence.wait_arrival()  # A holds the claim, paused before its fence
            time.sleep(LEASE + 0.5)  # ... past its lease

            run_b = journal_b.start_run(NS, False, {})
            seen_by_b = journal_b.record_intents(run_b, sales)
            assert (seen_by_b[0].state, seen_by_b[0].claimed_by) == (IntentState.PLACING, run_a)
            work_b = SubscriptionWork(plan.subscription_id, plan.customer_id, seen_by_b)
            b_before_claim = Gate(hooks_b, "before-place")
            worker_b = threading.Thread(target=executor_b(run_b)._place, args=(work_b, seen_by_b[0]), daemon=True)
            worker_b.start()
            b_before_claim.wait_arrival()  # B read A's claim as stale; its claim is next

            a_before_fence.go.set()  # A wakes up: proves its claim, its POST is about to leave
            a_at_socket.wait_arrival()
            b_before_claim.go.set()  # B claims, looks up (nothing has left yet), places
            worker_b.join(STEP_TIMEOUT)
            assert not worker_b.is_alive()
            a_at_socket.go.set()  # A's POST leaves
            worker_a.join(STEP_TIMEOUT)
            assert not worker_a.is_alive()
            snapshot = state(server)
        finally:
            for client in (client_a, client_b):
                client.close()
            for journal in (journal_a, journal_b):
                journal.close()
    ours = [o for o in snapshot["orders"] if o.get("po_number") == sales[0].key]
    assert duplicate_keys(snapshot) == [], [o["id"] for o in ours]
    assert len(ours) == 1
