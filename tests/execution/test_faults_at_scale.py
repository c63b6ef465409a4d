"""With 10% 5xx, 5% 429, dropped connections, gateway errors after the order was created ("fail after commit")
and random latency, 500 subscriptions migrate correctly: each order exists once."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from m365move.cli import main
from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.estate.loader import load_estate
from m365move.sandbox.faults import Faults
from tests.execution.sandbox_run import duplicate_keys, migrate_args, sandbox_on, state, use_credentials

pytestmark = pytest.mark.slow


def test_500_subscriptions_through_faults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(generate_estate(EstateSize.for_subscriptions(1150), seed=11)))
    plan = plan_migration(load_estate(estate).estate, MigrationMode.NEW_SUBSCRIPTION)
    migrating = {s.subscription_id: s for s in plan.migrating()[:500]}
    assert len(migrating) == 500
    source = tmp_path / "subs.csv"
    source.write_text("OaSubscriptionId\n" + "\n".join(migrating) + "\n")
    faults = Faults(rate_5xx=0.10, rate_429=0.05, rate_drop=0.01, rate_fail_after_commit=0.04,
                    retry_after_seconds=0.05, latency_ms=2, latency_jitter_ms=8, order_processing_seconds=0.05, seed=3)
    with sandbox_on(estate, faults) as server:
        args = migrate_args("new-subscription", estate, server, tmp_path / "work", "--execute", "--source-data",
                            str(source), "--concurrency", "16")
        status = main(args)
        snapshot = state(server)
        injected = server.context.stats.snapshot()["faults"]
    assert status == 0
    # The gateway answered 502/503/504 or dropped the connection after creating orders: none was sent twice.
    assert injected.get("fail-after-commit", 0) >= 20, injected
    results_file = next((tmp_path / "work" / "results").glob("*.csv"))
    with results_file.open() as handle:
        statuses = {row["subscription_id"]: row["final_status"] for row in csv.DictReader(handle)}
    assert set(statuses) == set(migrating)
    assert set(statuses.values()) == {"migrated"}, {k: v for k, v in statuses.items() if v != "migrated"}
    assert duplicate_keys(snapshot) == []
    subs = {s["id"]: s for s in snapshot["subscriptions"]}
    assert all(subs[sid]["status"] == "terminated" for sid in migrating)
    sales = [o for o in snapshot["orders"] if o["type"] == "sales" and o["status"] == "completed"]
    assert len(sales) == sum(len(s.orders) - 1 for s in migrating.values())
