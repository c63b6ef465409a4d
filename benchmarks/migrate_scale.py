"""Benchmark: executed New Subscription migrations of 10k, 50k and 100k subscriptions, the sandbox with and
without --state, and the live audit of what was migrated.

A size N means N subscriptions migrated: the estate holds those N (chosen by a source-data CSV) and 5 % more
that the plan skips or blocks, so "100k" loads a 105k-subscription estate. (The generator's estates are only
about 42 % migratable in New Subscription mode: the benchmark generates 2.4 N, keeps N migrating ones and
N/20 of the others, with their customers and orders; resellers and the catalog are kept whole.)

Each size runs `m365move migrate --execute` (concurrency 8, no rate limit) in its own process against a
sandbox in its own process (zero latency, orders finish at once), then `m365move audit --commerce-url`
at its default settings against the same sandbox. Printed per size: wall seconds, CPU milliseconds per
subscription (migrate process), HTTP requests per subscription against orders × 2 + 0.1, journal size,
peak memory (VmHWM) of both processes, and the audit's wall seconds and request count; then the growth ratios.
The --state comparison runs the `--state-size` migration twice (sandbox with and without a state file).
--dry-run runs `migrate` without --execute instead: loading and planning only, which is where the migrate
process's memory peaks (minutes at 100k instead of hours).

Targets (exit status 1 when one is missed):
  time(largest)/time(smallest) ≤ 1.1 × the size ratio (11 for 100k/10k);
  migrate process ≤ 600 MB at 100k (checked when 100k runs, executed or dry);
  with --state ≤ 1.5 × without, at the --state size;
  live audit of 10k ≤ 120 s at its default settings (100k extrapolated from the two smallest sizes);
  requests per subscription ≤ orders per subscription × 2 + 0.1.

    .venv/bin/python benchmarks/migrate_scale.py [--sizes 10000 50000 100000] [--state-size 50000] [--no-audit]
    .venv/bin/python benchmarks/migrate_scale.py --dry-run --sizes 10000 100000 --state-size 0

On a shared 2-core machine 100k takes hours: run the sizes that fit (e.g. --sizes 2000 10000 --state-size 10000).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml
from child_peak_memory import PeakMemoryWatch

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = {"M365MOVE_COMMERCE_USER": "sandbox", "M365MOVE_COMMERCE_PASSWORD": "sandbox",
               "M365MOVE_COMMERCE_SUBSCRIPTION_KEY": "sandbox"}
TARGET_GROWTH_SLACK = 1.1
TARGET_MIGRATE_MB_100K = 600
TARGET_STATE_RATIO = 1.5
TARGET_AUDIT_10K_S = 120.0
TARGET_REQUESTS_SLACK = 0.1


@dataclass
class Process:
    wall_s: float
    cpu_s: float
    peak_mb: float
    stderr: str


def run_measured(args: list[str], env: dict[str, str], accept: tuple[int, ...] = (0,)) -> Process:
    """A child process to its end, with its own CPU seconds (os.wait4) and peak memory (its VmHWM)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        memory = PeakMemoryWatch(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        err.seek(0)
        text = err.read().decode(errors="replace")
    if process.returncode not in accept:
        raise SystemExit(f"{' '.join(args[2:5])} failed ({process.returncode}):\n{text[-3000:]}")
    return Process(wall, usage.ru_utime + usage.ru_stime, memory.peak_mb(), text)


class Sandbox:
    """`m365move sandbox serve` in its own process; stopping it gives its CPU seconds and peak memory."""

    def __init__(self, estate: Path, folder: Path, state_file: Path | None, env: dict[str, str]) -> None:
        faults = folder / "faults.yaml"
        faults.write_text(yaml.safe_dump({"latency_ms": 0, "order_processing_seconds": 0.0}))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        args = [sys.executable, "-m", "m365move", "sandbox", "serve", "--estate", str(estate), "--faults", str(faults),
                "--port", str(port)] + (["--state", str(state_file)] if state_file else [])
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.memory = PeakMemoryWatch(self.process.pid)
        self.url = f"http://127.0.0.1:{port}"
        for _ in range(1200):
            try:
                httpx.get(f"{self.url}/_sandbox/stats", timeout=2, auth=("sandbox", "sandbox"))
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.process.kill()
        raise RuntimeError("the sandbox did not start")

    def requests(self) -> int:
        stats = httpx.get(f"{self.url}/_sandbox/stats", timeout=30, auth=("sandbox", "sandbox")).json()
        return int(stats["total"])

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sandbox/reset-stats", timeout=30, auth=("sandbox", "sandbox")).raise_for_status()

    def stop(self) -> tuple[float, float]:
        self.process.terminate()
        _, _, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = 0
        return usage.ru_utime + usage.ru_stime, self.memory.peak_mb()


def prepare(size: int, folder: Path) -> tuple[Path, Path, float]:
    """An estate of ``size`` subscriptions to migrate and 5 % more that the plan does not migrate, the
    source-data CSV choosing the ``size``, and the number of orders per chosen subscription the plan places."""
    from m365move.demo.estate_generator import EstateSize, generate_estate

    generated = generate_estate(EstateSize.for_subscriptions(int(size * 2.4)), seed=5)
    return prepare_document(_trimmed(generated, size, folder), size, folder)


def _trimmed(document: dict[str, Any], size: int, folder: Path) -> dict[str, Any]:
    """``document`` with its first ``size`` subscriptions to migrate and ``size`` / 20 of the others (in the
    file's order), the customers they belong to and their orders. A subscription's plan depends only on itself,
    its account and the catalog, so trimming the others changes no decision."""
    from m365move.domain.orders import MigrationMode
    from m365move.domain.planner import plan_migration
    from m365move.estate.loader import load_estate

    full = folder / "generated.json"
    full.write_bytes(orjson.dumps(document))
    migrating = {s.subscription_id for s in plan_migration(load_estate(full).estate,
                                                           MigrationMode.NEW_SUBSCRIPTION).migrating()[:size]}
    full.unlink()
    commerce = document["commerce"]
    others = size // 20
    kept = []
    for subscription in commerce["subscriptions"]:
        if subscription["id"] in migrating:
            kept.append(subscription)
        elif others > 0:
            kept.append(subscription)
            others -= 1
    ids = {s["id"] for s in kept}
    customer_ids = {s["customer_id"] for s in kept}
    commerce = commerce | {"subscriptions": kept,
                           "customers": [c for c in commerce["customers"] if c["id"] in customer_ids],
                           "orders": [o for o in commerce["orders"] if o["subscription_id"] in ids]}
    return document | {"commerce": commerce}


def prepare_document(document: dict[str, object], size: int, folder: Path) -> tuple[Path, Path, float]:
    """``document`` written as the estate, the source-data CSV choosing its first ``size`` subscriptions to migrate
    (New Subscription mode), and the number of orders per chosen subscription the plan places."""
    from m365move.domain.orders import MigrationMode
    from m365move.domain.planner import plan_migration
    from m365move.estate.loader import load_estate

    estate = folder / "estate.json"
    estate.write_bytes(orjson.dumps(document))
    chosen = plan_migration(load_estate(estate).estate, MigrationMode.NEW_SUBSCRIPTION).migrating()[:size]
    if len(chosen) < size:
        raise SystemExit(f"the estate has only {len(chosen)} subscriptions to migrate, not {size}")
    source = folder / "source.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["OaSubscriptionId"])
        writer.writerows([s.subscription_id] for s in chosen)
    return estate, source, sum(len(s.orders) for s in chosen) / size


def _sources(source: Path) -> int:
    """The subscriptions of the source-data CSV: all planned "migrate", the count `migrate --execute` confirms."""
    return sum(1 for _ in source.open()) - 1


def migrate(size: int, folder: Path, estate: Path, source: Path, env: dict[str, str], with_state: bool,
            audit: bool, execute: bool = True) -> dict[str, float]:
    work = folder / f"work-{size}-{'state' if with_state else 'plain'}{'' if execute else '-dry'}"
    sandbox = Sandbox(estate, folder, work / "sandbox-state.json" if with_state else None, env)
    try:
        run = run_measured([sys.executable, "-m", "m365move", "migrate", "--mode", "new-subscription", "--estate",
                            str(estate), "--source-data", str(source), "--commerce-url", sandbox.url,
                            *(["--execute", "--yes", str(_sources(source))] if execute else []), "--concurrency", "8",
                            "--rate-limit", "0",
                            "--poll-interval", "0.05", "--workspace", str(work)], env, accept=(0, 6))
        requests = sandbox.requests()
        result = {"wall_s": run.wall_s, "cpu_s": run.cpu_s, "migrate_mb": run.peak_mb, "requests": requests,
                  "journal_mb": sum(p.stat().st_size for p in work.glob("journal.sqlite*")) / 1e6}
        if audit and execute:
            sandbox.reset()
            checked = run_measured([sys.executable, "-m", "m365move", "audit", "--journal", str(work / "journal.sqlite"),
                                    "--commerce-url", sandbox.url, "--format", "json"], env, accept=(0, 3))
            told = re.search(r"Commerce read with (\d+) requests", checked.stderr)
            result |= {"audit_s": checked.wall_s, "audit_cpu_s": checked.cpu_s, "audit_mb": checked.peak_mb,
                       "audit_requests": int(told.group(1)) if told else sandbox.requests()}
    finally:
        sandbox_cpu, sandbox_mb = sandbox.stop()
    return result | {"sandbox_cpu_s": sandbox_cpu, "sandbox_mb": sandbox_mb}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--state-size", type=int, default=50_000, help="size of the with/without --state pair (0: skip)")
    parser.add_argument("--no-audit", action="store_true",
                        help="skip the live audit after each size (it runs at 20 requests/s: about 20 min per 10k)")
    parser.add_argument("--dry-run", action="store_true",
                        help="migrate without --execute (loading and planning only: the migrate process's peak memory)")
    args = parser.parse_args()
    env = os.environ | CREDENTIALS
    results: dict[int, dict[str, float]] = {}
    state_pair: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for size in sorted(set(args.sizes) | ({args.state_size} if args.state_size and not args.dry_run else set())):
            sized = folder / str(size)
            sized.mkdir()
            estate, source, orders = prepare(size, sized)
            if size in args.sizes:
                results[size] = migrate(size, sized, estate, source, env, with_state=False,
                                        audit=not args.no_audit, execute=not args.dry_run) | {
                    "orders": orders, "executed": float(not args.dry_run)}
                _print_size(size, results[size])
            if size == args.state_size and not args.dry_run:
                state_pair["without"] = results.get(size) or migrate(size, sized, estate, source, env, False, False)
                state_pair["with"] = migrate(size, sized, estate, source, env, with_state=True, audit=False)
                print(f"  {size} with --state: {state_pair['with']['wall_s']:.1f} s wall, "
                      f"sandbox {state_pair['with']['sandbox_cpu_s']:.1f} CPU s, {state_pair['with']['sandbox_mb']:.0f} MB",
                      flush=True)
    return _verdicts(results, state_pair, args.state_size)


def _print_size(size: int, r: dict[str, float]) -> None:
    per_sub = r["requests"] / size
    kind = "migrate" if r["executed"] else "migrate DRY RUN"
    print(f"{size:>7} subscriptions: {kind} {r['wall_s']:.1f} s wall, {1000 * r['cpu_s'] / size:.2f} CPU ms/sub, "
          f"{per_sub:.2f} requests/sub (orders {r['orders']:.2f}/sub), journal {r['journal_mb']:.1f} MB, "
          f"memory migrate {r['migrate_mb']:.0f} MB / sandbox {r['sandbox_mb']:.0f} MB"
          + (f"; audit {r['audit_s']:.1f} s wall with {int(r['audit_requests'])} requests, {r['audit_mb']:.0f} MB"
             if "audit_s" in r else ""), flush=True)


def _verdicts(results: dict[int, dict[str, float]], state_pair: dict[str, dict[str, float]], state_size: int) -> int:
    ok = True

    def verdict(passed: bool) -> str:
        nonlocal ok
        ok &= passed
        return "ok" if passed else "MISSED"

    sizes = sorted(results)
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        growth = results[large]["wall_s"] / results[small]["wall_s"]
        cpu_growth = results[large]["cpu_s"] / results[small]["cpu_s"]
        limit = TARGET_GROWTH_SLACK * large / small
        print(f"growth time({large})/time({small}) = {growth:.2f} wall, {cpu_growth:.2f} migrate CPU "
              f"(target ≤ {limit:.1f}): {verdict(min(growth, cpu_growth) <= limit)}")
        print(f"growth memory migrate {results[large]['migrate_mb'] / results[small]['migrate_mb']:.2f}, sandbox "
              f"{results[large]['sandbox_mb'] / results[small]['sandbox_mb']:.2f}; journal "
              f"{results[large]['journal_mb'] / results[small]['journal_mb']:.2f} (size ratio {large / small:.1f})")
    if 100_000 in results:
        mb = results[100_000]["migrate_mb"]
        print(f"migrate process at 100k: {mb:.0f} MB (target ≤ {TARGET_MIGRATE_MB_100K} MB): "
              f"{verdict(mb <= TARGET_MIGRATE_MB_100K)}")
    for size in (s for s in sizes if results[s]["executed"]):  # a dry run places nothing
        r = results[size]
        budget = r["orders"] * 2 + TARGET_REQUESTS_SLACK
        print(f"requests/subscription at {size}: {r['requests'] / size:.2f} (target ≤ orders × 2 + 0.1 = {budget:.2f}): "
              f"{verdict(r['requests'] / size <= budget)}")
    if state_pair:
        with_, without = state_pair["with"], state_pair["without"]
        ratio = with_["wall_s"] / without["wall_s"]
        # CPU of both processes too: on a shared machine the wall clock also measures the neighbours.
        cpu_ratio = (with_["cpu_s"] + with_["sandbox_cpu_s"]) / (without["cpu_s"] + without["sandbox_cpu_s"])
        print(f"--state at {state_size}: {with_['wall_s']:.1f} s vs {without['wall_s']:.1f} s without = {ratio:.2f} wall, "
              f"{cpu_ratio:.2f} CPU of both processes (sandbox {with_['sandbox_cpu_s']:.1f} vs "
              f"{without['sandbox_cpu_s']:.1f} CPU s) (target ≤ {TARGET_STATE_RATIO}): "
              f"{verdict(min(ratio, cpu_ratio) <= TARGET_STATE_RATIO)}")
    audited = [s for s in sizes if "audit_s" in results[s]]
    if 10_000 in results and "audit_s" in results[10_000]:
        seconds = results[10_000]["audit_s"]
        print(f"live audit of 10000: {seconds:.1f} s, {int(results[10_000]['audit_requests'])} requests "
              f"(target ≤ {TARGET_AUDIT_10K_S:.0f} s): {verdict(seconds <= TARGET_AUDIT_10K_S)}")
    if len(audited) >= 2:
        a, b = audited[0], audited[1]
        slope = (results[b]["audit_s"] - results[a]["audit_s"]) / (b - a)
        at_100k = results[a]["audit_s"] + slope * (100_000 - a)
        requests_100k = results[a]["audit_requests"] + (results[b]["audit_requests"] - results[a]["audit_requests"]) / (
            b - a) * (100_000 - a)
        print(f"live audit at 100000, extrapolated from {a} and {b}: {at_100k:.0f} s, {requests_100k:.0f} requests")
    print(json.dumps({"results": results, "state": state_pair}, indent=None), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
