"""The scheduled sweep in chunks (issue 12 item 5, issue 27), through the runner's ScheduledTasksManager on the sandbox.

Each execution works through chunks of ``chunk_size`` CSP assets from the position stored on the schedule in
Connect, storing the position after each, until the pass ends or its time budget does. A pass in chunks must
create exactly the purchase requests one pass in one call creates, also when Connect refuses to store the
position. ``benchmarks/sweep_chunks.py`` does the same with 10,000 assets and times the chunks.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from m365move.connect import source_locks
from m365move.connect.source_locks import source_lock
from m365move.connect.sweep_schedule import PROGRESS_KEY
from tests.runner.chunked_sweep import chunked_pass, one_pass, request_signatures
from tests.runner.conftest import SCHEDULE_ID, RunnerRig, runner_rig

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

def _progress(rig: Any) -> dict[str, Any]:
    progress: dict[str, Any] = rig.connect.schedules[SCHEDULE_ID]["parameter"][PROGRESS_KEY]
    return progress


@pytest.mark.parametrize(("n_assets", "chunk_size"), [
    (80, 15),
    pytest.param(300, 45, marks=pytest.mark.slow),
])
def test_a_pass_in_chunks_creates_exactly_the_purchases_of_one_pass(n_assets: int, chunk_size: int) -> None:
    parameter = {"chunk_size": chunk_size, "batch_size": 15}
    with runner_rig(n_assets, seed=11) as rig:
        one_pass(rig, parameter)
        expected = request_signatures(rig.connect)
    with runner_rig(n_assets, seed=11) as rig:
        made = chunked_pass(rig, parameter)
        got = request_signatures(rig.connect)
        progress = _progress(rig)
    assert set(made.results) == {"success"}, made.messages
    assert made.chunks == 1  # one execution: the pass fits in its time budget
    # e.g. 300 / 45: 6 chunks of 45 assets and the last of 30
    assert progress["finished"] and progress["swept"] == n_assets and progress["chunk"] == -(-n_assets // chunk_size)
    assert sum(expected.values()) > n_assets  # one per CSP item: assets have several
    assert max(got.values()) == 1  # no duplicates
    assert got == expected


def test_assets_created_in_the_same_instant_are_neither_skipped_nor_swept_twice() -> None:
    """Chunk boundaries inside a run of equal ``created`` (ties are in no guaranteed order)."""
    def same_instant(section: dict[str, Any]) -> None:
        for number, asset in enumerate(section["connect"]["assets"]):
            stamp = f"2025-03-0{1 + number // 15}T08:00:00+00:00"  # runs of 15 equal stamps
            asset["events"] = {"created": {"at": stamp}, "updated": {"at": stamp}}

    with runner_rig(40, seed=5, change=same_instant) as rig:
        one_pass(rig, {"chunk_size": 6, "batch_size": 3})
        expected = request_signatures(rig.connect)
    with runner_rig(40, seed=5, change=same_instant) as rig:
        made = chunked_pass(rig, {"chunk_size": 6, "batch_size": 3})
        got = request_signatures(rig.connect)
        assert _progress(rig)["swept"] == 40
    assert set(made.results) == {"success"}, made.messages
    assert made.chunks == 1
    assert got == expected


def test_the_next_pass_starts_again_and_creates_nothing_new() -> None:
    with runner_rig(30, seed=3) as rig:
        first = chunked_pass(rig, {"chunk_size": 10})
        created = request_signatures(rig.connect)
        started = _progress(rig)["pass_started"]
        # The next recurrence: the schedule as Connect keeps it (with the finished position), delivered again.
        again = rig.runtime.deliver("scheduled_execution", SCHEDULE_ID)
        while triggered := rig.connect.take_triggered():
            rig.runtime.deliver_many([rig.runtime.task("scheduled_execution", s) for s in triggered])
        assert first.chunks == 1 and _progress(rig)["chunk"] == 3 and again.result == "success"
        assert _progress(rig)["swept"] == 30 and _progress(rig)["created_requests"] == 0
        assert _progress(rig)["pass_started"] >= started
        assert request_signatures(rig.connect) == created


def test_one_execution_delivered_twice_at_once_is_swept_once(caplog: pytest.LogCaptureFixture) -> None:
    """A second delivery of the same execution (a timed-out handler's thread still running, a recurrence arriving
    while one runs) holds the same position: it ends without sweeping."""
    caplog.set_level(logging.INFO)
    with runner_rig(30, seed=3) as rig:
        rig.connect.add_schedule({"id": SCHEDULE_ID, "name": "New Subscription sweep",
                                  "method": "new_subscription_sweep", "description": "",
                                  "parameter": {"chunk_size": 10},
                                  "trigger": {"type": "recurring", "start": "2026-01-01T00:00:00+00:00",
                                              "unit": "hours", "amount": 1}})
        tasks = [rig.runtime.task("scheduled_execution", SCHEDULE_ID) for _ in range(2)]
        # Both deliveries get their copy of the schedule before either sweeps (as when the first is still running
        # when the second arrives): hold the schedule's lock until both handlers wait on it.
        with ThreadPoolExecutor(1) as pool, source_lock(f"sweep:{SCHEDULE_ID}"):
            delivered = pool.submit(rig.runtime.deliver_many, tasks)
            deadline = time.monotonic() + 60
            while _waiting_on(f"sweep:{SCHEDULE_ID}") < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
        answers = delivered.result(timeout=120)
        assert [a.result for a in answers] == ["success", "success"]
        assert sum("nothing to do" in r.getMessage() for r in caplog.records) == 1
        assert rig.connect.take_triggered() == []  # the pass fitted in one execution
        assert _progress(rig)["chunk"] == 3 and _progress(rig)["swept"] == 30 and _progress(rig)["finished"]


def _waiting_on(key: str) -> int:
    """Holders and waiters of a source lock (the test holds it; each handler that reached it waits)."""
    with source_locks._GUARD:
        return source_locks._LOCKS.get(key, (None, 0))[1]


def test_a_refused_schedule_update_still_sweeps_every_asset(caplog: pytest.LogCaptureFixture) -> None:
    """The key may not change schedules (403 on PUT and trigger): the sweep does not stop after its first chunk; each
    execution works through its chunks, says what was refused, and the next one creates nothing new."""
    parameter = {"chunk_size": 3, "batch_size": 3}
    with runner_rig(9, seed=13) as rig:
        one_pass(rig, parameter)
        expected = request_signatures(rig.connect)
    with runner_rig(9, seed=13) as rig:
        rig.connect.schedule_changes_refused = True
        caplog.set_level(logging.INFO)
        first = rig.sweep(parameter)
        assert first.result == "success", first.message
        said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(said) == 1 and "refused to store the position" in said[0], said  # said once, not silent
        summaries = [r.getMessage() for r in caplog.records if "chunk(s)" in r.getMessage()]
        assert "3 chunk(s)" in summaries[-1] and "pass finished" in summaries[-1], summaries
        assert request_signatures(rig.connect) == expected  # every asset of the pass, not 3 of 9
        assert PROGRESS_KEY not in rig.connect.schedules[SCHEDULE_ID]["parameter"]
        caplog.clear()
        again = rig.runtime.deliver("scheduled_execution", SCHEDULE_ID)
        assert again.result == "success"
        summaries = [r.getMessage() for r in caplog.records if "chunk(s)" in r.getMessage()]
        assert "0 requests created" in summaries[-1], summaries
        assert request_signatures(rig.connect) == expected


@pytest.mark.parametrize("credentials", [
    {"PARTNER_CENTER_TENANT_ID": "<partner tenant id>", "PARTNER_CENTER_CLIENT_ID": "<app id>",
     "PARTNER_CENTER_CLIENT_SECRET": "<app secret>"},  # the placeholders @variables creates
    {"PARTNER_CENTER_CLIENT_SECRET": "not-the-secret"},  # refused by the token endpoint
], ids=["placeholders", "token-refused"])
def test_no_purchase_is_created_that_could_not_be_fulfilled(credentials: dict[str, str],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    with runner_rig(9, seed=13) as rig:
        rig.connect.add_schedule({"id": SCHEDULE_ID, "name": "New Subscription sweep",
                                  "method": "new_subscription_sweep", "description": "", "parameter": {},
                                  "trigger": {"type": "recurring", "start": "2026-01-01T00:00:00+00:00",
                                              "unit": "hours", "amount": 1}})
        runtime = rig.with_variables(FULFIL_MIGRATIONS="true", DRY_RUN="false", **credentials)
        answer = runtime.deliver("scheduled_execution", SCHEDULE_ID)
        assert answer.result == "fail" and "no purchase is created" in (answer.message or ""), answer.message
        assert rig.requests(type="purchase") == []
        said = [r for r in caplog.records if "no purchase is created" in r.getMessage()]
        assert len(said) == 1  # once per execution


def test_an_unknown_schedule_parameter_key_is_refused(rig: RunnerRig) -> None:
    answer = rig.sweep({"dry": True})
    assert answer.result == "fail" and "unknown key(s) dry" in (answer.message or ""), answer.message
    assert rig.requests(type="purchase") == []
