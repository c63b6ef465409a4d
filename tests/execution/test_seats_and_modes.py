"""Two ways to lose money after an interrupted run, closed.

- Seats changed between the sales orders and the cancellation: 18 seats ordered on NCE, the run is
  killed, the CSP source grows to 25; the resume must not cancel it (7 seats would be lost) but block it
  with ``seat-count-changed`` naming the licence and the difference, and cancel once the seats match.
- The other mode after an interrupted run: New Subscription killed after its sales orders, then Switch
  Plan on the same sources (or the other way round) must not place anything for them: a second NCE
  subscription for one CSP subscription. Blocked with ``migrated-in-other-mode``, whether the run
  shares the journal or only the platform shows it.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from m365move.sandbox.server import SandboxServer
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import CREDENTIALS, confirmed, duplicate_keys, sandbox_on, state, write_estate

pytestmark = pytest.mark.slow


def estate(tmp_path: Path) -> Path:
    builder = standard()
    builder.subscription("3000001", resources=[(BASE, 18), (ADDON, 2)])
    builder.subscription("3000002", resources=[(BASE, 5)])
    return write_estate(tmp_path, builder.doc)


def cli(args: list[str], workspace: Path, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ) | CREDENTIALS
    env.pop("M365MOVE_CRASH_AT", None)
    if crash:
        env["M365MOVE_CRASH_AT"] = crash
    return subprocess.run([sys.executable, "-m", "m365move", *args, "--workspace", str(workspace), "--poll-interval",
                           "0.02", "--rate-limit", "0", "--concurrency", "1"], env=env, capture_output=True, text=True,
                          timeout=120)


def migrate(mode: str, path: Path, server: SandboxServer) -> list[str]:
    return confirmed(["migrate", "--mode", mode, "--estate", str(path), "--commerce-url", server.url, "--execute"])


def last_run(workspace: Path) -> str:
    with sqlite3.connect(workspace / "journal.sqlite") as connection:
        return str(connection.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0])


def last_results(workspace: Path) -> dict[str, dict[str, str]]:
    newest = max((workspace / "results").glob("*.csv"), key=lambda p: p.stat().st_mtime_ns)
    with newest.open() as handle:
        return {row["subscription_id"]: row for row in csv.DictReader(handle)}


def set_seats(server: SandboxServer, subscription_id: str, mpn: str, quantity: int) -> None:
    """The customer changes the source's seats on the platform (the sandbox has no order for it)."""
    commerce = server.context.commerce
    with commerce._lock:
        for product in commerce._subscriptions[subscription_id].products:
            if product.mpn.upper() == mpn.upper():
                product.quantity = quantity


def orders_of(snapshot: dict[str, object], kind: str, source: str) -> list[dict[str, str]]:
    return [o for o in snapshot["orders"] if o["type"] == kind and f"-{source}-" in (o["po_number"] or "")]  # type: ignore[attr-defined, index]


def test_seats_changed_after_the_sales_orders_block_the_cancellation(tmp_path: Path) -> None:
    path, workspace = estate(tmp_path), tmp_path / "work"
    with sandbox_on(path) as server:
        # Killed once the three sales orders completed, before any cancellation.
        killed = cli(migrate("new-subscription", path, server), workspace, crash="after-poll:3")
        assert killed.returncode == -9, killed.stderr[-2000:]
        assert orders_of(state(server), "cancellation", "3000001") == []
        set_seats(server, "3000001", BASE, 25)

        resumed = cli(["resume", last_run(workspace), "--execute"], workspace)
        assert resumed.returncode == 6, resumed.stderr[-2000:]
        rows = last_results(workspace)
        assert rows["3000001"]["final_status"] == "blocked"
        reasons = rows["3000001"]["reasons"]
        assert reasons.startswith("seat-count-changed: ")
        assert f"licence {BASE}: the source has 25 seats now, the NCE subscriptions 18 (+7)" in reasons
        assert ADDON not in reasons  # its seats match
        assert rows["3000002"]["final_status"] == "migrated"
        snapshot = state(server)
        assert orders_of(snapshot, "cancellation", "3000001") == []
        assert {s["id"]: s["status"] for s in snapshot["subscriptions"]}["3000001"] == "active"
        with sqlite3.connect(workspace / "journal.sqlite") as connection:
            held = connection.execute("SELECT hold_reason FROM intents WHERE kind = 'cancellation' "
                                      "AND subscription_id = '3000001'").fetchone()[0]
        assert held == reasons

        # Seats aligned again (the extra 7 ordered elsewhere, or removed): the next resume cancels.
        set_seats(server, "3000001", BASE, 18)
        again = cli(["resume", last_run(workspace), "--execute"], workspace)
        assert again.returncode == 0, again.stderr[-2000:]
        assert last_results(workspace)["3000001"]["final_status"] == "migrated"
        snapshot = state(server)
    assert len(orders_of(snapshot, "cancellation", "3000001")) == 1
    assert duplicate_keys(snapshot) == []


@pytest.mark.parametrize("shared_journal", [True, False], ids=["same-journal", "platform-only"])
def test_new_subscription_interrupted_then_switch_plan_is_blocked(tmp_path: Path, shared_journal: bool) -> None:
    path = estate(tmp_path)
    with sandbox_on(path) as server:
        killed = cli(migrate("new-subscription", path, server), tmp_path / "ns", crash="after-poll:3")
        assert killed.returncode == -9, killed.stderr[-2000:]
        switch = cli(migrate("switch-plan", path, server), tmp_path / ("ns" if shared_journal else "sp"))
        snapshot = state(server)
    assert switch.returncode == 6, switch.stderr[-2000:]
    rows = last_results(tmp_path / ("ns" if shared_journal else "sp"))
    for source in ("3000001", "3000002"):
        assert rows[source]["final_status"] == "blocked"
        assert rows[source]["reasons"].startswith("migrated-in-other-mode: ")
        assert "new-subscription mode" in rows[source]["reasons"]
        assert orders_of(snapshot, "change", source) == [] and orders_of(snapshot, "migration", source) == []
    assert duplicate_keys(snapshot) == []


def test_switch_plan_interrupted_then_new_subscription_is_blocked(tmp_path: Path) -> None:
    path = estate(tmp_path)
    with sandbox_on(path) as server:
        # Killed right after the first change order was placed (before it was journaled): only the platform knows.
        killed = cli(migrate("switch-plan", path, server), tmp_path / "sp", crash="after-place:1")
        assert killed.returncode == -9, killed.stderr[-2000:]
        changed = [o for o in state(server)["orders"] if o["type"] == "change"]
        assert len(changed) == 1
        source = changed[0]["subscription_id"]
        new_subscription = cli(migrate("new-subscription", path, server), tmp_path / "sp")
        snapshot = state(server)
    assert new_subscription.returncode == 6, new_subscription.stderr[-2000:]
    rows = last_results(tmp_path / "sp")
    assert rows[source]["final_status"] == "blocked"
    assert rows[source]["reasons"].startswith("migrated-in-other-mode: ")
    assert "switch-plan mode" in rows[source]["reasons"]
    assert orders_of(snapshot, "sales", source) == [] and orders_of(snapshot, "cancellation", source) == []
