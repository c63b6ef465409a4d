"""Benchmark: the live Commerce audit (`m365move audit --journal … --commerce-url …`) of 10k and 50k migrated
subscriptions, at the audit's and the sandbox's default settings; 100k extrapolated from the two points.

Migrating 10k subscriptions through the sandbox takes most of an hour on a shared machine, and the audit only
reads, so each size is seeded as a finished New Subscription run would leave it: a generated estate, the plan
of ``size`` of its subscriptions, a journal holding every intent completed, and a sandbox state (resumed with
``sandbox serve --state``) holding what those orders made: each completed sales order with its NCE
subscription, each source cancelled by a completed cancellation order. The audit runs in its own process
against ``sandbox serve`` in another, with no option but the inputs (default rate limit and concurrency).

Printed per size: wall and CPU seconds, the requests the audit made (and per subscription), its verdict
(it must find nothing), peak memory, the sandbox's CPU seconds and memory, the machine's load average (the
audit and the sandbox share its cores with whatever else runs); then the 100k extrapolation (linear through
the smallest and the largest size measured).
Target: 10k ≤ 120 s wall. Exit status 1 when missed, or when the audit finds anything on the clean estate.

    .venv/bin/python benchmarks/live_audit_scale.py [--sizes 10000 50000] [--rate-limit PER_SECOND]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrate_scale import CREDENTIALS, Sandbox, run_measured  # noqa: E402

TARGET_10K_S = 120.0
RUN = "20261130T000000Z-bench"


def seed(size: int, folder: Path, now: dt.datetime) -> tuple[Path, Path, Path]:
    """The estate, the sandbox state file and the journal of a finished run of ``size`` subscriptions."""
    from sqlalchemy import create_engine, insert

    from m365move.demo.estate_generator import EstateSize, generate_estate
    from m365move.domain.orders import MigrationMode, OrderKind
    from m365move.domain.planner import plan_migration
    from m365move.estate.loader import load_estate
    from m365move.execution.journal import intents_table, metadata, results_table, runs_table
    from m365move.sandbox.commerce_state import CommerceState

    estate = folder / "estate.json"
    estate.write_bytes(orjson.dumps(generate_estate(EstateSize.for_subscriptions(int(size * 2.4)), seed=5)))
    loaded = load_estate(estate)
    chosen = plan_migration(loaded.estate, MigrationMode.NEW_SUBSCRIPTION).migrating()[:size]
    if len(chosen) < size:
        raise SystemExit(f"the estate has only {len(chosen)} subscriptions to migrate, not {size}")

    state: dict[str, Any] = json.loads(CommerceState.open(loaded.document).snapshot_json())
    subscriptions = {s["id"]: s for s in state["subscriptions"]}
    next_id = int(state["next_id"])
    started = now - dt.timedelta(hours=2)
    # Orders are created one after another within the run's hour, as the platform numbers them: ids and creation
    # times rise together (a platform's id order is its creation order).
    step = 3600.0 / (size * 4)
    placed_orders = 0
    intents: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []

    def new_id() -> str:
        nonlocal next_id
        next_id += 1
        return str(next_id)

    for planned in chosen:
        source = subscriptions[planned.subscription_id]
        for seq, order in enumerate(planned.orders):
            key = order.key(MigrationMode.NEW_SUBSCRIPTION, planned.subscription_id)
            order_id = new_id()
            placed = started + dt.timedelta(seconds=placed_orders * step)
            placed_orders += 1
            target = None
            if order.kind is OrderKind.CANCELLATION:
                source["status"] = "terminated"
                subscription_of_order = planned.subscription_id
            else:
                target = new_id()
                subscriptions[target] = {
                    "id": target, "customer_id": planned.customer_id, "plan_id": order.plan_id, "status": "active",
                    "trial": False, "billing_period": source["billing_period"],
                    "subscription_period": order.subscription_period or source["subscription_period"],
                    "start_date": None, "expiration_date": None, "creation_date": placed.date().isoformat(),
                    "products": [{"mpn": order.nce_license, "quantity": order.quantity}], "attributes": {},
                }
                subscription_of_order = target
            state["orders"].append({
                "id": order_id, "order_number": f"SO{order_id}", "type": order.kind.value,
                "customer_id": planned.customer_id, "po_number": key, "status": "completed",
                "creation_time": placed.isoformat(), "provisioning_time": placed.isoformat(),
                "subscription_id": subscription_of_order, "plan_id": order.plan_id,
                "products": [] if target is None else [{"mpn": order.nce_license, "quantity": order.quantity}],
                "subscription_period": order.subscription_period, "attributes": {}, "status_code": "CP",
            })
            intents.append({
                "key": key, "first_run_id": RUN, "last_run_id": RUN, "mode": "new-subscription",
                "subscription_id": planned.subscription_id, "customer_id": planned.customer_id,
                "reseller_id": planned.reseller_id, "seq": seq, "kind": order.kind.value, "license": order.license,
                "nce_license": order.nce_license, "plan_id": order.plan_id, "quantity": order.quantity,
                "subscription_period": order.subscription_period, "start_date": None, "expiration_date": None,
                "attributes": "{}", "state": "final", "platform_order_id": order_id, "platform_status": "completed",
                "created_subscription_id": target, "attempt": 1, "placing_at": placed.isoformat(),
                "placed_at": placed.isoformat(), "finished_at": (placed + dt.timedelta(seconds=step / 2)).isoformat(),
                # What the executor journals with a cancellation: the source's seats it read right before.
                "source_seats": held_seats(source["products"]) if order.kind is OrderKind.CANCELLATION else None,
            })
        results.append({"run_id": RUN, "subscription_id": planned.subscription_id, "mode": "new-subscription",
                        "decision": "migrate", "final_status": "migrated", "reasons": ""})
    state["subscriptions"] = list(subscriptions.values())
    state["next_id"] = next_id
    state_file = folder / "sandbox-state.json"
    state_file.write_bytes(orjson.dumps(state))

    journal = folder / "journal.sqlite"
    engine = create_engine(f"sqlite:///{journal}")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(runs_table), [{
            "run_id": RUN, "mode": "new-subscription", "dry_run": False, "status": "finished",
            "started_at": started.isoformat(), "finished_at": (started + dt.timedelta(hours=1)).isoformat(),
            "user": "bench", "host": "bench", "parameters": json.dumps({"execute": True}), "summary": "{}",
            "results_path": None,
        }])
        connection.execute(insert(intents_table), intents)
        connection.execute(insert(results_table), results)
    engine.dispose()
    return estate, state_file, journal


def held_seats(products: list[dict[str, Any]]) -> str:
    """The journal's ``source_seats`` of a source holding ``products`` (as the executor's seat check reads them)."""
    from m365move.execution.seat_check import seats_text

    seats: dict[str, int] = {}
    for product in products:
        seats[product["mpn"].upper()] = seats.get(product["mpn"].upper(), 0) + int(product["quantity"])
    return seats_text(seats)


def audit(size: int, folder: Path, env: dict[str, str], options: list[str]) -> dict[str, float]:
    estate, state_file, journal = seed(size, folder, dt.datetime.now(dt.timezone.utc))
    sandbox = Sandbox(estate, folder, state_file, env)
    try:
        sandbox.reset()
        run = run_measured([sys.executable, "-m", "m365move", "audit", "--journal", str(journal),
                            "--commerce-url", sandbox.url, "--format", "json", "--output-dir", str(folder / "audit"),
                            *options],
                           env, accept=(0, 3))
        requests = sandbox.requests()
    finally:
        sandbox_cpu_s, sandbox_mb = sandbox.stop()
    told = re.search(r"Commerce read with (\d+) requests", run.stderr)
    result = json.loads((folder / "audit" / "result.json").read_text())
    return {"wall_s": run.wall_s, "cpu_s": run.cpu_s, "mb": run.peak_mb, "anomalies": result["anomalies"],
            "requests": int(told.group(1)) if told else requests, "sandbox_requests": requests,
            "migrated": result["summary"]["migrated"], "sandbox_cpu_s": sandbox_cpu_s, "sandbox_mb": sandbox_mb}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--rate-limit", help="passed to the audit (default: the audit's own default); the target "
                                              "is judged at the defaults only")
    args = parser.parse_args()
    options = ["--rate-limit", args.rate_limit] if args.rate_limit is not None else []
    env = os.environ | CREDENTIALS
    results: dict[int, dict[str, float]] = {}
    ok = True
    with tempfile.TemporaryDirectory() as name:
        for size in sorted(set(args.sizes)):
            folder = Path(name) / str(size)
            folder.mkdir()
            r = results[size] = audit(size, folder, env, options)
            print(f"{size:>7} subscriptions: audit {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} CPU s, "
                  f"{int(r['requests'])} requests ({r['requests'] / size:.3f}/subscription; the sandbox counted "
                  f"{int(r['sandbox_requests'])}), {int(r['migrated'])} migrated, {int(r['anomalies'])} anomalies, "
                  f"{r['mb']:.0f} MB; sandbox {r['sandbox_cpu_s']:.1f} CPU s (with its start), {r['sandbox_mb']:.0f} MB; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
            ok &= r["anomalies"] == 0 and r["migrated"] == size
    if 10_000 in results and not options:
        seconds = results[10_000]["wall_s"]
        met = seconds <= TARGET_10K_S
        ok &= met
        print(f"live audit of 10000 subscriptions: {seconds:.1f} s with {int(results[10_000]['requests'])} requests "
              f"(target ≤ {TARGET_10K_S:.0f} s at default settings): {'ok' if met else 'MISSED'}")
    sizes = sorted(results)
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        slope = (results[b]["wall_s"] - results[a]["wall_s"]) / (b - a)
        per_request = (results[b]["requests"] - results[a]["requests"]) / (b - a)
        at_100k = results[a]["wall_s"] + slope * (100_000 - a)
        requests_100k = results[a]["requests"] + per_request * (100_000 - a)
        print(f"100000 subscriptions (extrapolated from {a} and {b}): {at_100k:.0f} s, {requests_100k:.0f} requests")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
