"""Claims decided by the database alone: staleness inside the compare-and-set, on the database's clock; the fence
refuses a claim whose lease ran out; liveness from boot id, PID namespace and start time; retry as a compare-and-set.
Each on SQLite and PostgreSQL (docs/execution-protocol.md, "Claims")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from m365move.domain.orders import MigrationMode, OrderKind
from m365move.execution.intents import Intent, IntentState
from m365move.execution.journal import LEASE_ENV_VAR, Journal
from m365move.execution.process_identity import process_identity, process_is_gone
from tests.estate_builder import BASE
from tests.execution.postgres_server import postgres_url

NS = MigrationMode.NEW_SUBSCRIPTION
LEASE = 1.0


def intent(key: str = "M365MOVE-NS-3000001-sales-X") -> Intent:
    return Intent(key, NS, "3000001", "2000001", "1000001", 0, OrderKind.SALES, BASE, "CFQ7TTC0LH18:0001", 6001, 12,
                  "1 year", None, None)


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_url() as url:
        yield url


def fresh_database(server_url: str) -> str:
    import psycopg

    name = f"journal_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return fresh_database(request.getfixturevalue("postgres"))
    return str(tmp_path / "journal.sqlite")


@pytest.fixture(autouse=True)
def short_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LEASE_ENV_VAR, str(LEASE))


def test_a_claim_is_taken_over_only_once_its_lease_ran_out_on_the_database_clock(journal_url: str) -> None:
    journal = Journal(journal_url)
    holder, taker = journal.start_run(NS, False, {}), journal.start_run(NS, False, {})
    seen, = journal.record_intents(holder, [intent()])
    assert journal.claim(seen, holder) == 1
    read_by_taker, = journal.record_intents(taker, [intent()])
    assert journal.claim(read_by_taker, taker) is None  # proved a moment ago
    time.sleep(LEASE + 0.3)
    assert journal.claim(read_by_taker, taker) == 2
    journal.close()


def test_the_hosts_clocks_do_not_decide(journal_url: str) -> None:
    """What the hosts wrote with their own clocks (heartbeat_at, fenced_at) is not read: a holder whose host clock is
    an hour behind keeps its claim while proved, and one whose host clock is an hour ahead loses it once stale."""
    journal = Journal(journal_url)
    holder, taker = journal.start_run(NS, False, {}), journal.start_run(NS, False, {})
    seen, = journal.record_intents(holder, [intent()])
    assert journal.claim(seen, holder) == 1
    with journal._engine.begin() as connection:
        connection.exec_driver_sql("UPDATE runs SET heartbeat_at = '2000-01-01T00:00:00.000+00:00'")
        connection.exec_driver_sql("UPDATE intents SET fenced_at = '2000-01-01T00:00:00.000+00:00'")
    read_by_taker, = journal.record_intents(taker, [intent()])
    assert journal.claim(read_by_taker, taker) is None
    time.sleep(LEASE + 0.3)
    with journal._engine.begin() as connection:
        connection.exec_driver_sql("UPDATE runs SET heartbeat_at = '2999-01-01T00:00:00.000+00:00'")
        connection.exec_driver_sql("UPDATE intents SET fenced_at = '2999-01-01T00:00:00.000+00:00'")
    assert journal.claim(read_by_taker, taker) == 2
    journal.close()


def test_the_fence_refuses_once_the_holders_own_lease_ran_out(journal_url: str) -> None:
    """Nobody took it yet, but anyone could have judged it stale: the fence refuses, a new claim proves it again."""
    journal = Journal(journal_url)
    holder = journal.start_run(NS, False, {})
    seen, = journal.record_intents(holder, [intent()])
    assert journal.claim(seen, holder) == 1
    assert journal.fence(seen.key, holder, 1, send_window=0.25)
    time.sleep(LEASE + 0.3)
    assert not journal.fence(seen.key, holder, 1, send_window=0.25)
    assert not journal.renew(seen.key, holder, 1)
    again = journal.intent(seen.key)
    assert again is not None and (again.state, again.claimed_by) == (IntentState.PLACING, holder)
    assert journal.claim(again, holder) == 2
    assert journal.fence(seen.key, holder, 2, send_window=0.25)
    journal.close()


def test_commit_wait_counts_from_the_last_fence_on_the_database_clock(journal_url: str) -> None:
    journal = Journal(journal_url)
    holder = journal.start_run(NS, False, {})
    seen, = journal.record_intents(holder, [intent()])
    journal.claim(seen, holder)
    assert journal.commit_wait(seen.key, 5.0) is None  # no POST was ever allowed
    journal.fence(seen.key, holder, 1, send_window=0.5)
    wait = journal.commit_wait(seen.key, 5.0)
    assert wait is not None and 5.0 < wait <= 5.5
    journal.close()


def test_retry_is_a_compare_and_set(journal_url: str) -> None:
    """A worker with an older read cannot reset an -A2 another worker already took up (and forget its order)."""
    journal = Journal(journal_url)
    first, second = journal.start_run(NS, False, {}), journal.start_run(NS, False, {})
    seen, = journal.record_intents(first, [intent()])
    journal.claim(seen, first)
    journal.mark_placed(journal.intent(seen.key), "O-1", "error", failure_message="no")
    failed = journal.intent(seen.key)
    assert failed is not None and failed.failed
    retried = journal.retry(failed, first)
    assert retried is not None and retried.attempt == 2
    assert journal.claim(retried, first) == 2
    journal.mark_placed(journal.intent(seen.key), "O-2", "submitted")
    assert journal.retry(failed, second) is None  # the second worker's read is old
    now = journal.intent(seen.key)
    assert now is not None and (now.attempt, now.platform_order_id, now.state) == (2, "O-2", IntentState.PLACED)
    journal.close()



def test_mark_placed_is_a_compare_and_set(journal_url: str) -> None:
    """Journaling an order is refused when the row moved since the caller read or claimed it: a planned intent
    another worker claimed meanwhile, a claim taken over after its lease ran out (the first holder's late answer),
    and an attempt retried since. The row keeps the other actor's version; nothing of the late answer is written."""
    journal = Journal(journal_url)
    holder, taker = journal.start_run(NS, False, {}), journal.start_run(NS, False, {})
    planned, = journal.record_intents(holder, [intent()])
    assert journal.claim(planned, holder) == 1
    held = journal.intent(planned.key)
    assert held is not None and held.state is IntentState.PLACING
    assert journal.mark_placed(planned, "O-0", "submitted") is False  # read as planned; claimed since
    time.sleep(LEASE + 0.3)
    read_by_taker, = journal.record_intents(taker, [intent()])
    assert journal.claim(read_by_taker, taker) == 2
    assert journal.mark_placed(held, "O-1", "submitted") is False  # the first holder's late answer
    now = journal.intent(planned.key)
    assert now is not None and (now.state, now.claimed_by, now.platform_order_id) == (IntentState.PLACING, taker, None)
    assert journal.mark_placed(now, "O-1", "error", failure_message="no") is True  # the taker adopts the order
    failed = journal.intent(planned.key)
    assert failed is not None and journal.retry(failed, taker) is not None
    assert journal.mark_placed(now, "O-1", "submitted") is False  # -A2 is not turned into -A1's order
    assert journal.mark_placed(held, "O-1", "submitted") is False
    after = journal.intent(planned.key)
    assert after is not None and (after.attempt, after.state, after.platform_order_id) == (2, IntentState.PLANNED, None)
    journal.close()

class TestLiveness:
    def test_a_process_that_ended_here_is_gone_and_a_live_one_is_not(self) -> None:
        child = subprocess.run([sys.executable, "-c", "from m365move.execution.process_identity import "
                                "process_identity; print(process_identity())"], capture_output=True, text=True,
                               env=dict(os.environ) | {"PYTHONPATH": os.pathsep.join(sys.path)}, check=True)
        assert process_is_gone(child.stdout.strip())
        assert not process_is_gone(process_identity())
        # Same PID, another start time: the PID was reused.
        boot, namespace, pid, start = (process_identity() or "").split("/")
        assert process_is_gone(f"{boot}/{namespace}/{pid}/{int(start) + 1}")
        assert not process_is_gone(f"another-boot/{namespace}/{pid}/{int(start) + 1}")
        assert not process_is_gone(None)

    def test_a_dead_runs_claims_are_free_at_once(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        dead = journal.start_run(NS, False, {})
        seen, = journal.record_intents(dead, [intent()])
        journal.claim(seen, dead)
        child = subprocess.run([sys.executable, "-c", "from m365move.execution.process_identity import "
                                "process_identity; print(process_identity())"], capture_output=True, text=True,
                               env=dict(os.environ) | {"PYTHONPATH": os.pathsep.join(sys.path)}, check=True)
        with journal._engine.begin() as connection:
            connection.exec_driver_sql("UPDATE runs SET process_identity = ? WHERE run_id = ?",
                                       (child.stdout.strip(), dead))
        taker = journal.start_run(NS, False, {})  # marks the dead run interrupted
        assert journal.run(dead)["status"] == "interrupted"
        current, = journal.record_intents(taker, [intent()])
        assert journal.claim(current, taker) == 2  # well within the lease

    @pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                        reason="needs unshare and root to make a PID namespace")
    def test_a_run_in_another_pid_namespace_on_this_host_is_left_to_its_lease(self, tmp_path: Path) -> None:
        """Containers share a host name; in its own PID namespace the worker is PID 1 or 2, dead in ours. It must
        not be marked interrupted, nor its claim taken, while its lease runs."""
        location = tmp_path / "journal.sqlite"
        script = (
            "import sys, time\n"
            "from m365move.domain.orders import MigrationMode\n"
            "from m365move.execution.journal import Journal\n"
            "from tests.execution.test_claims_on_database_clock import intent\n"
            "journal = Journal(sys.argv[1])\n"
            "run = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {})\n"
            "seen, = journal.record_intents(run, [intent()])\n"
            "assert journal.claim(seen, run) == 1\n"
            "print(run, flush=True)\n"
            "sys.stdin.readline()\n"
        )
        env = dict(os.environ) | {"PYTHONPATH": os.pathsep.join(sys.path), LEASE_ENV_VAR: "30"}
        container = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", script,
                                      str(location)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        try:
            assert container.stdout is not None
            contained_run = container.stdout.readline().strip()
            journal = Journal(location)
            assert int(journal.run(contained_run)["pid"]) < 10  # its namespace's PID: no such process out here
            taker = journal.start_run(NS, False, {})
            assert journal.run(contained_run)["status"] == "running"
            current, = journal.record_intents(taker, [intent()])
            assert journal.claim(current, taker) is None
            journal.close()
        finally:
            container.communicate("\n", timeout=30)
