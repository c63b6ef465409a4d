"""Two runner instances on one sweep execution and on every purchase (issue 26, item 7).

Connect may deliver one scheduled execution, or one event, to two instances of an extension environment. Each
instance here is its own process running connect-extension-runner's task managers (``runner_process``); they
share nothing but the sandbox's Connect and Partner Center. The per-source locks of one process cannot hold the
other: both sweeps look up, find nothing and create, so a CSP item can get two purchases. What must hold is what
the money depends on: the younger purchase of an item is failed before any approval (``purchase_marker``), each
Partner Center migration is created once and bound to one purchase, and the create carries the same
``MS-RequestId`` in both processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from m365move.connect.purchase_fulfilment import MIGRATION_ID_PARAM
from m365move.connect.purchase_marker import DUPLICATE_PURCHASE
from m365move.sandbox.faults import Faults
from tests.runner.conftest import SCHEDULE_ID, RunnerRig, runner_rig

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

REPOSITORY = Path(__file__).resolve().parents[2]
PURCHASE = "asset_purchase_request_processing"
# Every API answer this much later: the two sweeps' look-ups both come before either one's creates are committed.
RACE_LATENCY_MS = 400


class Instance:
    """One runner process; ``send`` then ``receive`` delivers tasks and reads the runner's answers."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.stdin: IO[str] = process.stdin  # type: ignore[assignment]
        self.stdout: IO[str] = process.stdout  # type: ignore[assignment]

    def send(self, tasks: list[tuple[str, str]]) -> None:
        self.stdin.write(json.dumps({"tasks": tasks}) + "\n")
        self.stdin.flush()

    def receive(self) -> list[dict[str, Any]]:
        line = self.stdout.readline()
        assert line, f"runner process ended (exit {self.process.poll()})"
        results: list[dict[str, Any]] = json.loads(line)["results"]
        return results


@contextmanager
def runner_instance(rig: RunnerRig, log: Path) -> Iterator[Instance]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))}
    with log.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.runner.runner_process", f"{rig.server.url}/public/v1",
             rig.section["connect"]["api_key"], json.dumps(rig.variables)],
            cwd=REPOSITORY, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            ready = process.stdout.readline() if process.stdout else ""
            assert json.loads(ready or "{}").get("ready"), f"runner process did not start: {log.read_text()[-2000:]}"
            yield Instance(process)
        finally:
            if process.poll() is None and process.stdin is not None:
                process.stdin.write(json.dumps({"quit": True}) + "\n")
                process.stdin.close()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _to_both(instances: list[Instance], tasks: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The same tasks delivered to both instances at once; every answer."""
    for instance in instances:
        instance.send(tasks)
    return [answer for instance in instances for answer in instance.receive()]


def test_two_runner_processes_make_one_purchase_per_item_and_one_approval_per_migration(tmp_path: Path) -> None:
    with runner_rig(6, seed=31) as rig, ExitStack() as stack:
        rig.connect.add_schedule({"id": SCHEDULE_ID, "name": "New Subscription sweep", "method": "new_subscription_sweep",
                                  "description": "", "parameter": {},
                                  "trigger": {"type": "recurring", "start": "2026-01-01T00:00:00+00:00",
                                              "unit": "hours", "amount": 1}})
        instances = [stack.enter_context(runner_instance(rig, tmp_path / f"runner-{n}.log")) for n in (1, 2)]

        # One sweep execution delivered to both instances at once.
        rig.server.context.injector.replace(Faults(latency_ms=RACE_LATENCY_MS))
        answers = _to_both(instances, [("scheduled_execution", SCHEDULE_ID)])
        rig.server.context.injector.replace(Faults())
        assert [a["result"] for a in answers] == ["success", "success"], answers
        purchases = rig.requests(type="purchase")
        markers = Counter(r["asset"]["external_uid"] for r in purchases)
        assert len(purchases) > len(markers), "the two sweeps did not race (no item got two purchases)"

        # Every pending purchase delivered to both instances at once, until none is pending.
        for _ in range(60):
            pending = [r["id"] for r in rig.requests(type="purchase", status="pending")]
            if not pending:
                break
            _to_both(instances, [(PURCHASE, request_id) for request_id in pending])
            time.sleep(0.2)  # Partner Center's migrations move on (platform time runs 600x)
        else:
            pytest.fail(f"purchases still pending: {pending}")

    purchases = rig.requests(type="purchase")
    by_marker: dict[str, list[dict[str, Any]]] = {}
    for request in purchases:
        by_marker.setdefault(request["asset"]["external_uid"], []).append(request)
    for marker, group in by_marker.items():
        statuses = Counter(r["status"] for r in group)
        assert statuses["approved"] == 1 and statuses["approved"] + statuses["failed"] == len(group), (marker, statuses)
        duplicates = [r for r in group if r["status"] == "failed"]
        assert all(r["reason"].startswith(f"{DUPLICATE_PURCHASE}: ") for r in duplicates), duplicates
    approved = [r for r in purchases if r["status"] == "approved"]
    bound = Counter(next(p["value"] for p in r["asset"]["params"] if p["id"] == MIGRATION_ID_PARAM) for r in approved)
    assert len(bound) == len(approved) and max(bound.values()) == 1, bound  # one approval per migration
    assert set(rig.partner_center.created_for.values()) == {1}  # one migration per legacy subscription
    # Both instances intended each migration with the same MS-RequestId (the second create was answered by the first).
    attempts = rig.partner_center.create_attempt_ids
    assert all(len(set(ids)) == 1 for ids in attempts.values()), attempts
