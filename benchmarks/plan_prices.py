"""Benchmark: what price and term cost a plan, with the plans' prices and with Commerce's order estimates.

On a generated estate (default 10k subscriptions) the planning core (``plan_migration``, New Subscription) is
timed alone, then followed by ``compare_prices`` with the plans' own prices (``PlanPrices``), then with
Commerce's order estimate through the SimpleAPI client against a sandbox in this process (``EstimatedPrices``;
one estimate per target plan and period, 8 at a time, never per subscription). The baseline is the planning core
of the same run.

Targets (exit 1 when missed):
  plan + the plans' prices ≤ 1.5 × plan (CPU seconds);
  estimates ≤ 1 per 10 subscriptions, and at most one per (target plan, period) the plan orders.
The wall ratio with estimates is printed beside them: it includes the HTTP round trips (the sandbox shares the
process, so its CPU is in the same clock).

    .venv/bin/python benchmarks/plan_prices.py [--subscriptions 10000]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

TARGET_PLAN_PRICES_RATIO = 1.5
TARGET_CALLS_PER_SUBSCRIPTION = 0.1


def _timed(work: Any) -> tuple[Any, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    args = parser.parse_args()

    from m365move.commerce.credentials import CommerceCredentials
    from m365move.commerce.order_estimates import EstimatedPrices
    from m365move.commerce.simpleapi_client import SimpleApiClient
    from m365move.demo.estate_generator import EstateSize, generate_estate
    from m365move.domain.orders import MigrationMode, OrderKind
    from m365move.domain.planner import plan_migration
    from m365move.domain.price_comparison import PlanPrices, compare_prices
    from m365move.estate.loader import load_estate
    from m365move.sandbox.faults import Faults
    from m365move.sandbox.server import run_sandbox

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "estate.json"
        path.write_bytes(orjson.dumps(generate_estate(EstateSize.for_subscriptions(args.subscriptions), seed=42)))
        estate = load_estate(path).estate
        gc.collect()
        mode = MigrationMode.NEW_SUBSCRIPTION
        plan, plan_cpu, plan_wall = _timed(lambda: plan_migration(estate, mode))
        _, own_cpu, own_wall = _timed(lambda: compare_prices(plan_migration(estate, mode), estate, PlanPrices()))
        with run_sandbox(path, Faults(order_processing_seconds=0)) as server, \
                SimpleApiClient(server.url, CommerceCredentials.sandbox(), max_retries=2) as client:
            book = EstimatedPrices(client)

            def estimated() -> Any:
                planned = plan_migration(estate, mode)
                book.prefetch(planned, estate.catalog)
                return compare_prices(planned, estate, book)

            report, est_cpu, est_wall = _timed(estimated)
    keys = {(o.plan_id, o.subscription_period) for s in plan.subscriptions for o in s.orders
            if o.kind is OrderKind.SALES}
    priced = sum(1 for s in plan.migrating() if (p := report.of(s.subscription_id)) and p.difference is not None)
    own_ratio = own_cpu / plan_cpu
    calls_per_sub = book.calls / args.subscriptions
    print(f"{args.subscriptions:,} subscriptions, {len(plan.migrating()):,} migrate ({priced:,} priced both ways), "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"plan alone:                 {plan_cpu:6.2f} s CPU {plan_wall:6.2f} s wall")
    print(f"plan + the plans' prices:   {own_cpu:6.2f} s CPU {own_wall:6.2f} s wall  ratio {own_ratio:.2f}x CPU "
          f"(target <= {TARGET_PLAN_PRICES_RATIO}x)")
    print(f"plan + Commerce estimates:  {est_cpu:6.2f} s CPU {est_wall:6.2f} s wall  ratio {est_wall / plan_wall:.2f}x "
          f"wall, {est_cpu / plan_cpu:.2f}x CPU; {book.calls} estimates ({book.refused} refused) for "
          f"{len(keys)} (target plan, period): {calls_per_sub:.4f} per subscription "
          f"(target <= {TARGET_CALLS_PER_SUBSCRIPTION})")
    ok = own_ratio <= TARGET_PLAN_PRICES_RATIO and calls_per_sub <= TARGET_CALLS_PER_SUBSCRIPTION and \
        book.calls <= len(keys)
    print("ok" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
