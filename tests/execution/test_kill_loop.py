"""Kill-and-resume loop: random SIGKILLs of the migrate process and of the sandbox, gateways failing after commit.

Half the sources migrate in New Subscription mode, half in Switch Plan mode, on one sandbox that runs as
its own process and keeps its state in a file (``--state``). The loop starts ``migrate`` (then
``resume`` of the last run) and kills it at a random instant, 36 times in all (18 per mode); every sixth
kill also kills the sandbox, which is restarted from its state file on the same port. Gateways answer
502/503/504 or drop the connection after creating 10% of the orders. Then resumes run to the end.
The platform must hold: no order twice, no cancellation before all its source's sales orders
completed, and every source's seats on NCE exactly as on CSP (no seat lost or added).
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from m365move.sandbox.auth import ADMIN_AUTH
from tests.estate_builder import ADDON, BASE, NCE_ADDON, NCE_BASE, standard
from tests.execution.sandbox_run import CREDENTIALS, confirmed, duplicate_keys, write_estate
from tests.execution.test_crash_resume import early_cancellations

pytestmark = pytest.mark.slow

SOURCES = 12
KILLS_PER_MODE = 18
SANDBOX_KILL_EVERY = 6
MODES = {"new-subscription": "ns", "switch-plan": "sp"}


class Sandbox:
    """``m365move sandbox serve --state FILE`` as a process that can be SIGKILLed and restarted on its port."""

    def __init__(self, estate: Path, folder: Path) -> None:
        self.estate, self.folder, self.port = estate, folder, 0
        self.faults = folder / "faults.yaml"
        self.faults.write_text(yaml.safe_dump({
            "rate_fail_after_commit": 0.10, "apply_to": ["POST /orders"], "order_processing_seconds": 0.2,
            "seed": 7}))
        self.process: subprocess.Popen[str] | None = None
        self.kills = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "m365move", "sandbox", "serve", "--estate", str(self.estate), "--faults",
             str(self.faults), "--state", str(self.folder / "state.json"), "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert found, f"the sandbox did not start: {line!r}"
        self.port = int(found.group(1))

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.kills += 1

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_sandbox/state", auth=ADMIN_AUTH, timeout=30).json()  # type: ignore[no-any-return]


def _estate_document() -> dict[str, Any]:
    builder = standard()
    for n in range(SOURCES):
        builder.subscription(str(3000001 + n), resources=[(BASE, 2 + n), (ADDON, 1 + n % 3)])
    return builder.doc


def _command(mode: str, tmp_path: Path, sandbox: Sandbox) -> list[str]:
    workspace = tmp_path / MODES[mode]
    common = ["--workspace", str(workspace), "--poll-interval", "0.05", "--rate-limit", "0", "--concurrency", "3"]
    journal = workspace / "journal.sqlite"
    if journal.exists():
        with sqlite3.connect(journal) as connection:
            last = connection.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        if last:
            return [sys.executable, "-m", "m365move", "resume", str(last[0]), "--execute", *common]
    return confirmed([sys.executable, "-m", "m365move", "migrate", "--mode", mode, "--estate",
                      str(tmp_path / "estate.yaml"), "--source-data", str(tmp_path / f"{MODES[mode]}.csv"),
                      "--commerce-url", sandbox.url, "--execute", *common])


def _lost_seats(snapshot: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """Sources whose NCE seats differ from their CSP seats (per NCE licence), or that were cancelled short."""
    subscriptions = {s["id"]: s for s in snapshot["subscriptions"]}
    wanted = {s["id"]: {NCE_BASE: next(r["quantity"] for r in s["resources"] if r["mpn"] == BASE),
                        NCE_ADDON: next(r["quantity"] for r in s["resources"] if r["mpn"] == ADDON)}
              for s in document["commerce"]["subscriptions"]}
    held: dict[str, dict[str, int]] = {source: {} for source in wanted}
    for order in snapshot["orders"]:
        source = (order["po_number"] or "").split("-")[2] if order["po_number"] else None
        if source not in held or order["status"] != "completed":
            continue
        if order["type"] in ("sales", "migration"):
            for product in subscriptions[order["subscription_id"]]["products"]:
                held[source][product["mpn"]] = held[source].get(product["mpn"], 0) + product["quantity"]
        elif order["type"] == "change":
            for product in subscriptions[source]["products"]:
                held[source][product["mpn"]] = held[source].get(product["mpn"], 0) + product["quantity"]
    return [source for source in wanted if held[source] != wanted[source]]


def test_random_kills_of_migrate_and_sandbox_with_gateway_faults(tmp_path: Path) -> None:
    document = _estate_document()
    write_estate(tmp_path, document)
    sources = [str(3000001 + n) for n in range(SOURCES)]
    (tmp_path / "ns.csv").write_text("OaSubscriptionId\n" + "\n".join(sources[: SOURCES // 2]) + "\n")
    (tmp_path / "sp.csv").write_text("OaSubscriptionId\n" + "\n".join(sources[SOURCES // 2:]) + "\n")
    env = dict(os.environ) | CREDENTIALS
    env.pop("M365MOVE_CRASH_AT", None)
    chance = random.Random(20261130)
    sandbox = Sandbox(tmp_path / "estate.yaml", tmp_path)
    sandbox.start()
    migrate_kills = 0
    started = time.monotonic()
    try:
        # Until 2 * KILLS_PER_MODE runs were killed (a run that finishes before its kill counts for nothing), bounded.
        number = -1
        while migrate_kills < 2 * KILLS_PER_MODE and number < 6 * KILLS_PER_MODE:
            number += 1
            mode = list(MODES)[number % 2]
            worker = subprocess.Popen(_command(mode, tmp_path, sandbox), env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            try:
                worker.wait(timeout=chance.uniform(0.6, 3.5))
            except subprocess.TimeoutExpired:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=30)
                migrate_kills += 1
            if (number + 1) % SANDBOX_KILL_EVERY == 0:
                sandbox.kill()
                sandbox.start()
        finals: dict[str, int] = {}
        for mode in MODES:
            for _ in range(5):  # resumes without kills until the run ends (gateway faults still on)
                done = subprocess.run(_command(mode, tmp_path, sandbox), env=env, capture_output=True, text=True,
                                      timeout=300)
                finals[mode] = done.returncode
                if done.returncode == 0:
                    break
        snapshot = sandbox.state()
    finally:
        sandbox.kill()
    duplicates, early, lost = duplicate_keys(snapshot), early_cancellations(snapshot), _lost_seats(snapshot, document)
    print(f"\nkill loop: {migrate_kills} SIGKILLs of migrate/resume, {sandbox.kills - 1} of the sandbox, "
          f"{len(snapshot['orders'])} orders, {len(duplicates)} duplicates, {len(early)} early cancellations, "
          f"{len(lost)} sources with lost seats, {time.monotonic() - started:.0f} s")
    assert migrate_kills >= 30 and sandbox.kills - 1 >= 5
    assert finals == {"new-subscription": 0, "switch-plan": 0}
    assert (duplicates, early, lost) == ([], [], [])
