"""Benchmark: an executed New Subscription migration against the sandbox with 50 ms latency per call.

Prints, per concurrency (1, 8, 32): wall seconds, HTTP requests per migrated subscription against the
budget (orders placed + polls + 2), and the ratio of wall time to the ideal bound
(calls × latency / concurrency). Targets: ratio ≤ 1.5 at concurrency 32; requests within budget.
The sandbox runs in its own process so that it does not share the executor's interpreter.

    .venv/bin/python benchmarks/migrate_throughput.py [--subscriptions 2000] [--concurrency 1 8 32]

At concurrency 1, 2,000 subscriptions take about 15 minutes (8 calls × 50 ms each); --subscriptions-at-1
runs fewer there (the ratio does not depend on the count).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from m365move.commerce.credentials import CommerceCredentials
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.licenses import PlansMapping
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection, plan_migration
from m365move.estate.loader import load_estate
from m365move.execution.executor import ExecutionOptions
from m365move.execution.journal import Journal
from m365move.execution.migration_run import RunRequest, run_migration
from m365move.execution.run_progress import Progress
from m365move.sandbox.auth import ADMIN_AUTH

LATENCY_MS = float(os.environ.get("BENCH_LATENCY_MS", "50"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sandbox(estate: Path, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    faults = folder / "faults.yaml"
    faults.write_text(yaml.safe_dump({"latency_ms": LATENCY_MS, "order_processing_seconds": 0.0}))
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "m365move", "sandbox", "serve", "--estate", str(estate),
                                "--faults", str(faults), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/_sandbox/stats", auth=ADMIN_AUTH, timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the sandbox did not start")


def measure(estate_path: Path, count: int, concurrency: int, folder: Path) -> dict[str, float]:
    loaded = load_estate(estate_path).estate
    plan = plan_migration(loaded, MigrationMode.NEW_SUBSCRIPTION)
    chosen = frozenset(s.subscription_id for s in plan.migrating()[:count])
    process, url = start_sandbox(estate_path, folder)
    try:
        with SimpleApiClient(url, CommerceCredentials.sandbox(), rate_limit_per_second=None, timeout=60) as client:
            journal = Journal(folder / f"journal-{concurrency}.sqlite")
            request = RunRequest(
                mode=MigrationMode.NEW_SUBSCRIPTION, estate=loaded, plans_mapping=PlansMapping(),
                selection=Selection(subscription_ids=chosen), execute=True, parameters={"benchmark": True},
                options=ExecutionOptions(concurrency=concurrency, poll_interval=0.05, batch_size=max(200, concurrency * 8)),
            )
            started = time.perf_counter()
            with open(os.devnull, "w") as quiet:
                report = run_migration(request, journal, client, folder, progress=Progress(0, stream=quiet))
            wall = time.perf_counter() - started
            requests = client.stats.requests
        placed = sum(len(s.orders) for s in plan.migrating() if s.subscription_id in chosen)
    finally:
        process.terminate()
        process.wait(10)
    migrated = report.summary.get("migrated", 0)
    polls = requests - placed - 2 * len(chosen)  # what is left once the budget's other terms are taken out
    ideal = requests * LATENCY_MS / 1000 / concurrency
    return {"wall": wall, "requests": requests, "migrated": migrated, "placed": placed, "subscriptions": len(chosen),
            "ratio": wall / ideal, "per_sub": requests / max(1, migrated), "polls": polls}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=2000)
    parser.add_argument("--subscriptions-at-1", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        estate = folder / "estate.json"
        # Enough sources that the plan has the requested number of "migrate" subscriptions.
        document = generate_estate(EstateSize.for_subscriptions(int(args.subscriptions * 2.2)), seed=5)
        estate.write_text(__import__("json").dumps(document))
        print(f"{'conc':>5} {'subs':>6} {'migrated':>8} {'wall s':>8} {'requests':>9} {'req/sub':>8} "
              f"{'budget/sub':>10} {'ideal s':>8} {'ratio':>6}")
        ok = True
        for concurrency in args.concurrency:
            count = args.subscriptions_at_1 if concurrency == 1 else args.subscriptions
            r = measure(estate, count, concurrency, folder)
            # Budget per subscription: orders placed + polls + 2 (polls = one per order when orders finish at once).
            budget = (r["placed"] * 2 + 2 * r["subscriptions"]) / r["subscriptions"]
            print(f"{concurrency:>5} {int(r['subscriptions']):>6} {int(r['migrated']):>8} {r['wall']:>8.1f} "
                  f"{int(r['requests']):>9} {r['per_sub']:>8.2f} {budget:>10.2f} "
                  f"{r['requests'] * LATENCY_MS / 1000 / concurrency:>8.1f} {r['ratio']:>6.2f}")
            if concurrency == 32:
                ok &= r["ratio"] <= 1.5
        print("target: ratio ≤ 1.5 at concurrency 32:", "ok" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
