"""Crash test: SIGKILL the executor at many instants of an executed migration, resume, compare.

Each scenario runs ``m365move migrate --execute`` in a subprocess that kills itself (SIGKILL, via
``M365MOVE_CRASH_AT``) at a named instant — before placing, between placing and journaling, after
journaling, after a poll — then ``m365move resume RUN_ID --execute`` (itself killed again in some
scenarios) until a resume finishes. The end state must equal an uninterrupted run's: the same final
status per source, the same new subscriptions, no two orders with one key, and no cancellation placed
before all of its source's sales orders completed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from m365move.sandbox.faults import Faults
from tests.estate_builder import ADDON, ADDON2, BASE, standard
from tests.execution.sandbox_run import CREDENTIALS, confirmed, duplicate_keys, sandbox_on, state, write_estate

pytestmark = pytest.mark.slow

POINTS = ("before-place", "after-place", "after-journal", "after-poll")
# (crash of the migrate run, crashes of the resumes after it): every point, at instants spread over the run
# (the migrate run places 23 orders and polls them; its resumes have less left, hence the small counts).
SCENARIOS: list[tuple[str, ...]] = [
    (f"{POINTS[i % 4]}:{1 + (i * 5) % 21}", f"{POINTS[(i + 1) % 4]}:{1 + i % 3}", f"{POINTS[(i + 2) % 4]}:1")
    for i in range(20)
]


def estate_document() -> dict[str, Any]:
    builder = standard()
    for n in range(8):
        resources = [(BASE, 3 + n)] + ([(ADDON, 1 + n)] if n % 2 else []) + ([(ADDON2, 2)] if n % 3 == 0 else [])
        builder.subscription(str(3000001 + n), resources=resources)
    return builder.doc


def run_cli(args: list[str], workspace: Path, crash: str | None) -> int:
    env = dict(os.environ) | CREDENTIALS
    env.pop("M365MOVE_CRASH_AT", None)
    if crash:
        env["M365MOVE_CRASH_AT"] = crash
    common = ["--workspace", str(workspace), "--poll-interval", "0.02", "--rate-limit", "0", "--concurrency", "4"]
    done = subprocess.run([sys.executable, "-m", "m365move", *args, *common], env=env, capture_output=True, text=True,
                          timeout=120)
    if done.returncode not in (0, -9):
        raise AssertionError(f"m365move {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.returncode


def last_run_id(workspace: Path) -> str:
    with sqlite3.connect(workspace / "journal.sqlite") as connection:
        return str(connection.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0])


def final_results(workspace: Path) -> dict[str, str]:
    """Each source's status in the latest run that reported it (a resume covers only what was left)."""
    with sqlite3.connect(workspace / "journal.sqlite") as connection:
        rows = connection.execute(
            "SELECT r.subscription_id, r.final_status FROM results r JOIN runs USING (run_id) ORDER BY runs.started_at")
        return dict(rows.fetchall())


def outcome(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What must match an uninterrupted run: each source's status and the seats created for it."""
    created: dict[str, list[tuple[int, str, int]]] = {}
    by_id = {s["id"]: s for s in snapshot["subscriptions"]}
    for order in snapshot["orders"]:
        if order["type"] == "sales" and order["status"] == "completed":
            source = order["po_number"].split("-")[2]
            sub = by_id[order["subscription_id"]]
            created.setdefault(source, []).append((sub["plan_id"], sub["products"][0]["mpn"], sub["products"][0]["quantity"]))
    return {
        "sources": {s["id"]: s["status"] for s in snapshot["subscriptions"] if s["id"].startswith("30000")},
        "created": {k: sorted(v) for k, v in created.items()},
    }


def early_cancellations(snapshot: dict[str, Any]) -> list[str]:
    early = []
    for cancellation in (o for o in snapshot["orders"] if o["type"] == "cancellation"):
        source = cancellation["subscription_id"]
        sales = [o for o in snapshot["orders"] if o["type"] == "sales" and o["po_number"].split("-")[2] == source]
        if not sales or any(o["status"] != "completed" or o["provisioning_time"] > cancellation["creation_time"]
                            for o in sales if o["status"] == "completed") or not any(o["status"] == "completed" for o in sales):
            early.append(source)
    return early


def test_sigkill_at_many_points_then_resume(tmp_path: Path) -> None:
    estate = write_estate(tmp_path, estate_document())
    migrate = confirmed(["migrate", "--mode", "new-subscription", "--estate", str(estate), "--execute"])
    faults = Faults(order_processing_seconds=0.05)
    with sandbox_on(estate, faults) as server:
        assert run_cli([*migrate, "--commerce-url", server.url], tmp_path / "reference", None) == 0
        reference = outcome(state(server))
        reference_results = final_results(tmp_path / "reference")
    assert set(reference_results.values()) == {"migrated"}

    kills = duplicates = early = mismatches = 0
    for number, scenario in enumerate(SCENARIOS):
        workspace = tmp_path / f"crash-{number}"
        with sandbox_on(estate, faults) as server:
            status = run_cli([*migrate, "--commerce-url", server.url], workspace, scenario[0])
            kills += status == -9
            for crash in [*scenario[1:], None]:
                status = run_cli(["resume", last_run_id(workspace), "--execute"], workspace, crash)
                kills += status == -9
            snapshot = state(server)
        duplicates += len(duplicate_keys(snapshot))
        early += len(early_cancellations(snapshot))
        if outcome(snapshot) != reference or final_results(workspace) != reference_results:
            mismatches += 1
            print(f"scenario {scenario} differs: {outcome(snapshot)} / {final_results(workspace)}")
    print(f"\ncrash test: {len(SCENARIOS)} scenarios, {kills} SIGKILLs, {duplicates} duplicate orders, "
          f"{early} early cancellations, {mismatches} end states differing from the uninterrupted run")
    assert kills >= 50
    assert (duplicates, early, mismatches) == (0, 0, 0)
