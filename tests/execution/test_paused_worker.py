"""Fencing: a worker paused past its lease (SIGSTOP, like a VM pause) whose claim was taken over places nothing.

Worker A stops itself (SIGSTOP) at an exact instant of placing its first order: right after claiming it,
right before the POST leaves (after the client's rate limiting), or right after the POST (before
journaling it). Worker B starts once A's lease ran out, takes A's claim over and migrates everything,
cancellations included. Then A is continued: it must not send a second order. Both journal back ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.estate_builder import ADDON, BASE, standard
from tests.execution.postgres_server import postgres_url
from tests.execution.sandbox_run import CREDENTIALS, confirmed, duplicate_keys, sandbox_on, state, write_estate

pytestmark = pytest.mark.slow

LEASE_SECONDS = 3.0
SUBSCRIPTIONS = 4


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_url() as url:
        yield url


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] == "T"


def _wait_until_stopped(worker: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not _stopped(worker.pid):
        if worker.poll() is not None:
            raise AssertionError(f"worker A ended before pausing: {worker.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("worker A never reached its pause point")
        time.sleep(0.05)


def _fresh_database(server_url: str) -> str:
    import psycopg

    name = f"journal_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


CASES = [("sqlite", "after-claim"), ("sqlite", "before-post"), ("sqlite", "after-place"),
         ("postgresql", "after-claim"), ("postgresql", "before-post")]


@pytest.mark.parametrize(("backend", "pause_at"), CASES)
def test_paused_worker_whose_claim_was_taken_over_places_nothing(
    tmp_path: Path, backend: str, pause_at: str, request: pytest.FixtureRequest
) -> None:
    builder = standard()
    for n in range(SUBSCRIPTIONS):
        builder.subscription(str(3000001 + n), resources=[(BASE, 2 + n), (ADDON, 1)])
    estate = write_estate(tmp_path, builder.doc)
    journal = (_fresh_database(request.getfixturevalue("postgres")) if backend == "postgresql"
               else str(tmp_path / "journal.sqlite"))
    env = dict(os.environ) | CREDENTIALS | {"M365MOVE_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS)}
    env.pop("M365MOVE_CRASH_AT", None)
    with sandbox_on(estate) as server:
        command = confirmed([sys.executable, "-m", "m365move", "migrate", "--mode", "new-subscription", "--estate",
                             str(estate), "--commerce-url", server.url, "--execute", "--journal", journal,
                             "--poll-interval", "0.05", "--rate-limit", "0", "--concurrency", "1"])
        worker_a = subprocess.Popen([*command, "--workspace", str(tmp_path / "a")], text=True,
                                    env=env | {"M365MOVE_CRASH_AT": f"{pause_at}:1:stop"},
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _wait_until_stopped(worker_a)
            placed_while_a_paused = len(state(server)["orders"])
            time.sleep(LEASE_SECONDS + 1.5)  # A's lease runs out: its claim may now be taken over
            worker_b = subprocess.run([*command, "--workspace", str(tmp_path / "b")], env=env, text=True,
                                      capture_output=True, timeout=120)
            assert worker_b.returncode == 0, worker_b.stderr[-3000:]
            kinds = [o["type"] for o in state(server)["orders"]]
            assert (kinds.count("sales"), kinds.count("cancellation")) == (2 * SUBSCRIPTIONS, SUBSCRIPTIONS)
        finally:
            os.kill(worker_a.pid, signal.SIGCONT)
        _, a_errors = worker_a.communicate(timeout=120)
        snapshot = state(server)
    assert duplicate_keys(snapshot) == [], a_errors[-3000:]
    kinds = [o["type"] for o in snapshot["orders"]]
    assert (kinds.count("sales"), kinds.count("cancellation")) == (2 * SUBSCRIPTIONS, SUBSCRIPTIONS)
    if pause_at == "after-place":
        assert placed_while_a_paused == 1  # A's POST went through; B found it by its key and adopted it
    else:
        assert placed_while_a_paused == 0
        assert "claim taken over by another worker" in a_errors, a_errors[-3000:]
