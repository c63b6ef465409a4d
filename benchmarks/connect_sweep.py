"""Connect extension benchmark: API calls per migrated CSP asset, sweep time for many assets, and the
Partner Center create limit under load. The tasks run through connect-extension-runner's task managers, so this
runs in .venv (which has the runner).

    .venv/bin/python benchmarks/connect_sweep.py                       # all three, full sizes
    .venv/bin/python benchmarks/connect_sweep.py --sweep-assets 2000 --rate-limit-purchases 0
    .venv/bin/python benchmarks/connect_sweep.py --calls-assets 0 --sweep-assets 0   # the create limit only
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from m365move.sandbox.traffic import TrafficLog, recording  # noqa: E402
from tests.connect.rate_limit_scenario import run_rate_limit_scenario  # noqa: E402
from tests.connect.sandbox_fixtures import connect_rig  # noqa: E402


def extension_calls(traffic: TrafficLog) -> tuple[int, int]:
    """(all, the sweep's) Connect calls the extension made: the runner puts EAAS_TASK_TYPE on the clients it makes
    for the application, not on its own look-ups nor on the driver's."""
    types = [r.exchange.header("eaas_task_type") for r in traffic.requests if r.api == "connect"]
    return sum(1 for t in types if t), sum(1 for t in types if t == "scheduled_execution")


# Calls DESIGN §4 needs per CSP item whatever the implementation: the sweep's purchase create; Partner Center's
# look-up, validation, create and at least one status read after the reschedule; storing the migration id and the
# approval in Connect. Plus the new subscription id's parameter update (Connect's approve takes no parameters).
DESIGN_CALLS_PER_ITEM = {"sweep: purchase create": 1, "PC: existing-migration look-up": 1, "PC: eligibility validation": 1,
                         "PC: migration create": 1, "PC: status read when Completed": 1,
                         "Connect: store migration id": 1, "Connect: approve": 1}
SUBSCRIPTION_ID_UPDATE = 1  # "Connect: store new subscription id" (kept: approve cannot carry it)
CANCEL_PER_ASSET = 1


def calls_per_asset(n_assets: int, sweep_every: float) -> None:
    with connect_rig(n_assets, seed=3, time_scale=600.0, pending_resellers=0, microsoft_led=0) as rig:
        rig.server.context.stats.reset()
        with recording() as traffic:
            report = rig.driver.run_until_settled(timeout=600, sweep_every=sweep_every)
        calls, by_sweep = extension_calls(traffic)
        routes = rig.server.context.stats.snapshot()["requests"]
        pc_calls = sum(n for route, n in routes.items() if "/partnercenter" in route)
        migrated = [a for a in rig.section["connect"]["assets"] if rig.connect.assets[a["id"]]["status"] == "terminated"]
        items = statistics.mean(len(a["items"]) for a in migrated)
        per_asset = (calls + pc_calls) / len(migrated)
        target = 2 * items + 6
        floor = (sum(DESIGN_CALLS_PER_ITEM.values()) + SUBSCRIPTION_ID_UPDATE) * items + CANCEL_PER_ASSET
        print(f"[calls] {len(migrated)}/{n_assets} CSP assets migrated (settled={report.settled}, {report.sweeps} sweeps "
              f"every {sweep_every:g} platform s or longer, {report.seconds:.1f} s); {items:.2f} items per asset")
        sweep_per_asset = by_sweep / len(migrated)
        print(f"[calls] Connect calls by the extension {calls} (sweep {by_sweep}, handlers "
              f"{calls - by_sweep}), Partner Center calls {pc_calls} (token fetches included)")
        pc_by_step = {route.split(" ", 1)[1].replace("/partnercenter", ""): n for route, n in sorted(routes.items())
                      if "/partnercenter" in route}
        print("[calls] Partner Center per route: " + ", ".join(f"{route} {n}" for route, n in pc_by_step.items()))
        print(f"[calls] sweep only: {sweep_per_asset:.2f} per migrated asset, target 2 x items + 6 = {target:.2f}: "
              f"{'met' if sweep_per_asset <= target else 'MISSED'}")
        print(f"[calls] whole flow (sweep + purchase fulfilment + Partner Center): {per_asset:.2f} per migrated asset, "
              f"target {target:.2f}: {'met' if per_asset <= target else 'MISSED'}; floor of DESIGN §4's steps "
              f"{floor:.2f} (7 calls per item + the new-subscription-id update + 1 cancel per asset, no sweep reads)")


def sweep_time(n_assets: int) -> None:
    with connect_rig(n_assets, seed=4, time_scale=1.0, pending_resellers=0) as rig:
        parameter = {"batch_size": 500, "concurrency": 8}
        for label in ("first sweep (creates the purchase requests)", "second sweep (nothing to create)"):
            before = len(rig.connect.requests)
            rig.server.context.stats.reset()
            start = time.perf_counter()
            record = rig.driver.run_schedule(parameter)
            seconds = time.perf_counter() - start
            total = rig.server.context.stats.snapshot()["total"]
            print(f"[sweep] {n_assets} CSP assets, {label}: {seconds:.1f} s, {len(rig.connect.requests) - before} "
                  f"requests created, {total} API calls ({record.result})")


def rate_limit(purchases: int, time_scale: float) -> bool:
    """The create limit's use; False when below the 90 % target."""
    result = run_rate_limit_scenario(purchases, limit=100, window=300.0, time_scale=time_scale, timeout=900)
    print(f"[rate] {result.purchases} migration purchases, create limit 100 per 300 platform s "
          f"(= {300 / time_scale:g} s real at {time_scale:g}x): {result.utilisation:.1%} of the limit sustained "
          f"(target 90%), {result.throttled} answers 429, {result.early_retries} early retries, {result.failed} failed "
          f"requests, {result.failed_tasks} failed tasks, {result.approved} approved, {result.seconds:.1f} s")
    return result.utilisation >= 0.9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls-assets", type=int, default=200)
    parser.add_argument("--sweep-assets", type=int, default=10_000)
    # Every task goes through the runner's task managers (0.2-1.5 s of CPU per task on a shared machine, one process):
    # the platform may run only as fast as that lets 100 creates and the tasks around them fit in a window.
    parser.add_argument("--rate-limit-purchases", type=int, default=300)
    parser.add_argument("--rate-limit-time-scale", type=float, default=2.0,
                        help="platform seconds per real second in the rate-limit run (2: a 5-minute window lasts 150 s)")
    parser.add_argument("--sweep-every", type=float, default=30.0,
                        help="platform seconds between sweep starts in the calls run (a sweep never overlaps itself)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.calls_assets:
        calls_per_asset(args.calls_assets, args.sweep_every)
    if args.sweep_assets:
        sweep_time(args.sweep_assets)
    if args.rate_limit_purchases and not rate_limit(args.rate_limit_purchases, args.rate_limit_time_scale):
        raise SystemExit("rate-limit utilisation below its 90 % target")


if __name__ == "__main__":
    main()
