"""Benchmark: the audit of a journal of 100,000 subscriptions, in the core and through the audit_report runbook.

Builds the journal with bulk inserts into the journal's own tables (one executed New Subscription run:
~90% migrated, the rest partially migrated, pending, blocked or skipped; 500 resellers, 20,000 customers)
and a synthetic platform that agrees with it except for a few hundred planted anomalies. Prints:

- journal build seconds (setup, reported apart);
- core seconds: read the journal, audit against the in-memory platform, write every CSV table;
- runbook seconds: ``audit_report`` through the runner (kernel start included) with the platform as a
  snapshot file, and the size of its ``report.html``.

Targets on this machine: the runbook ≤ 30 s, ``report.html`` ≤ 5 MB. Exit status 1 when one is missed.

    .venv/bin/python benchmarks/audit_scale.py [--subscriptions 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_SECONDS = 30.0
TARGET_REPORT_MB = 5.0
BASE, ADDON = "91FD106F-4B2C-4938-95AC-F54F74E9A239", "0A4E9B7C-1111-4C2D-9E3F-AAAAAAAAAAAA"
NCE = {BASE: "CFQ7TTC0LH18:0001", ADDON: "CFQ7TTC0LHXX:0002"}
RUN = "20260301T090000Z-bench1"
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


def build(size: int, folder: Path) -> tuple[Path, Path, dict[str, int]]:
    """The journal file and the platform snapshot file; and what was planted."""
    from sqlalchemy import create_engine, insert

    from m365move.audit.platform_snapshot import write_platform_snapshot
    from m365move.audit.platform_state import PlatformCustomer, PlatformOrder, PlatformSubscription, platform_state_of
    from m365move.execution.journal import intents_table, metadata, results_table, runs_table

    rng = random.Random(42)
    intents: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    subscriptions: list[PlatformSubscription] = []
    orders: list[PlatformOrder] = []
    planted = {"seat-mismatch": 0, "duplicate-target": 0, "orphan-target": 0, "stuck-migration": 0}
    next_id = 50_000_000

    def new_id() -> str:
        nonlocal next_id
        next_id += 1
        return str(next_id)

    for n in range(size):
        sub, customer = str(3_000_000 + n), str(2_000_000 + n % 20_000)
        reseller = str(1_000_000 + (n % 20_000) % 500)
        at = T0 + dt.timedelta(seconds=n * 0.5)
        roll = rng.random()
        status = ("migrated" if roll < 0.90 else "partially-migrated" if roll < 0.93 else "pending" if roll < 0.95
                  else "blocked" if roll < 0.98 else "skipped")
        results.append({"run_id": RUN, "subscription_id": sub, "mode": "new-subscription",
                        "decision": {"blocked": "blocked", "skipped": "skip"}.get(status, "migrate"),
                        "final_status": status, "reasons": ""})
        if status in ("blocked", "skipped"):
            subscriptions.append(PlatformSubscription(sub, customer, "active"))
            continue
        licences = {BASE: rng.randint(1, 300)} | ({ADDON: rng.randint(1, 50)} if rng.random() < 0.3 else {})
        for seq, (licence, quantity) in enumerate(licences.items()):
            order_id, target = new_id(), new_id()
            failed = status == "partially-migrated" and seq == 0
            open_ = status == "pending"
            key = f"M365MOVE-NS-{sub}-sales-{licence}"
            intents.append(_intent(key, sub, customer, reseller, seq, "sales", licence, quantity, order_id,
                                   None if failed or open_ else target, "error" if failed else "processing" if open_
                                   else "completed", at + dt.timedelta(seconds=seq)))
            if not failed and not open_:
                seats = quantity - 1 if n % 997 == 0 else quantity
                planted["seat-mismatch"] += seats != quantity
                subscriptions.append(PlatformSubscription(target, customer, "active", ((NCE[licence], seats),)))
            orders.append(PlatformOrder(order_id, "sales", customer, "error" if failed else "processing" if open_
                                        else "completed", key, None if failed or open_ else target, at))
            if n % 1999 == 0 and status == "migrated":
                planted["duplicate-target"] += 1
                orders.append(PlatformOrder(new_id(), "sales", customer, "completed", key, new_id(), at))
        if status == "migrated":
            order_id, key = new_id(), f"M365MOVE-NS-{sub}-cancellation-SOURCE"
            intents.append(_intent(key, sub, customer, reseller, len(licences), "cancellation", None, None, order_id,
                                   None, "completed", at + dt.timedelta(seconds=5)))
            orders.append(PlatformOrder(order_id, "cancellation", customer, "completed", key, sub,
                                        at + dt.timedelta(seconds=5)))
        else:
            planted["stuck-migration"] += 1
        if n % 2003 == 0:
            planted["orphan-target"] += 1
            orders.append(PlatformOrder(new_id(), "sales", customer, "completed", f"HAND-{n}", new_id(), at))
        subscriptions.append(PlatformSubscription(sub, customer, "terminated" if status == "migrated" else "active"))

    journal = folder / "journal.sqlite"
    engine = create_engine(f"sqlite:///{journal}")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(runs_table), [{
            "run_id": RUN, "mode": "new-subscription", "dry_run": False, "status": "finished",
            "started_at": T0.isoformat(), "finished_at": (T0 + dt.timedelta(hours=14)).isoformat(), "user": "bench",
            "host": "bench", "parameters": json.dumps({"execute": True, "mode": "new-subscription"}), "summary": "{}",
            "results_path": None,
        }])
        connection.execute(insert(intents_table), intents)
        connection.execute(insert(results_table), results)
    engine.dispose()
    customers = [PlatformCustomer(str(2_000_000 + c), f"Customer {c}", str(1_000_000 + c % 500)) for c in range(20_000)]
    resellers = {str(1_000_000 + r): f"Reseller {r}" for r in range(500)}
    snapshot = write_platform_snapshot(
        platform_state_of(resellers, customers, subscriptions, orders, source="synthetic platform (benchmark)"),
        folder / "platform.json",
    )
    return journal, snapshot, planted


def _intent(key: str, sub: str, customer: str, reseller: str, seq: int, kind: str, licence: str | None,
            quantity: int | None, order_id: str, created: str | None, status: str, at: dt.datetime) -> dict[str, Any]:
    final = status in ("completed", "error")
    return {
        "key": key, "first_run_id": RUN, "last_run_id": RUN, "mode": "new-subscription", "subscription_id": sub,
        "customer_id": customer, "reseller_id": reseller, "seq": seq, "kind": kind, "license": licence,
        "nce_license": NCE.get(licence or ""), "plan_id": 6001, "quantity": quantity, "subscription_period": "1 year",
        "start_date": None, "expiration_date": None, "attributes": "{}", "state": "final" if final else "placed",
        "platform_order_id": order_id, "platform_status": status, "created_subscription_id": created, "attempt": 1,
        "placing_at": at.isoformat(), "placed_at": at.isoformat(),
        "finished_at": (at + dt.timedelta(seconds=2)).isoformat() if final else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    from m365move.audit.audit_report import run_audit
    from m365move.audit.platform_snapshot import read_platform_snapshot
    from m365move.audit.platform_state import InMemoryPlatform
    from m365move.audit.tables import all_tables
    from m365move.audit.tables_csv import write_tables
    from m365move.runbooks.runner import run_runbook

    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        journal, snapshot, planted = build(args.subscriptions, folder)
        print(f"journal of {args.subscriptions:,} subscriptions built in {time.perf_counter() - started:.1f} s; "
              f"planted {planted}")

        platform = InMemoryPlatform(read_platform_snapshot(snapshot))
        started = time.perf_counter()
        report = run_audit([journal], platform=platform, now=T0 + dt.timedelta(days=2))
        audited = time.perf_counter() - started
        write_tables(folder / "core-tables", all_tables(report))
        core = time.perf_counter() - started
        counts = report.result()["anomalies_by_code"]
        print(f"core: audit {audited:.1f} s, with CSV tables {core:.1f} s; anomalies {counts}")

        started = time.perf_counter()
        outcome = run_runbook("audit_report", {"journal": str(journal), "platform_snapshot": str(snapshot)},
                              folder / "runbook", cell_timeout=600)
        seconds = time.perf_counter() - started
        size_mb = outcome.report.stat().st_size / 1e6 if outcome.report.exists() else float("nan")
        print(f"runbook: {outcome.status.value} in {seconds:.1f} s (cells {outcome.timings.get('cells', 0):.1f} s); "
              f"report.html {size_mb:.2f} MB; result.json anomalies {outcome.result and outcome.result['anomalies']}")
        ok = outcome.ok and seconds <= TARGET_SECONDS and size_mb <= TARGET_REPORT_MB
        print(f"targets: runbook ≤ {TARGET_SECONDS:.0f} s, report ≤ {TARGET_REPORT_MB:.0f} MB: {'met' if ok else 'MISSED'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
