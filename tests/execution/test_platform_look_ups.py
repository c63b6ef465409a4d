"""What a run asks the platform about orders that may already exist (issue 14, item 3).

An intent still "planned" was never sent by a worker of the journal: no per-subscription look-up. What a
lost or different journal placed is found by the run's one read of m365move's orders, taken before
anything is journaled. An intent left "placing" (uncertain answer, crash) is looked up after its claim,
with the filters SimpleAPI declares (creation time, and the source subscription for orders placed on it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from m365move.cli import main
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.sandbox.faults import Faults
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import duplicate_keys, migrate_args, sandbox_on, set_faults, state, use_credentials, write_estate

SOURCES = 6


def estate(tmp_path: Path) -> Path:
    builder = standard()
    for n in range(SOURCES):
        builder.subscription(str(3000001 + n), resources=[(BASE, 3 + n), (ADDON, 1 + n)])
    return write_estate(tmp_path, builder.doc)


def requests(server: Any) -> dict[str, int]:
    return dict(server.context.stats.snapshot()["requests"])


def test_a_fresh_run_reads_per_order_only_what_it_must(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per source: its POSTs, one read of each completed sales order (for the subscription it created), one read
    of the source before its cancellation, and one listing of its customer's orders before each phase's orders
    (the platform re-checked right before placing: another workspace may have acted since the run started).
    The other listings (the run's platform read, one per polling round of a batch, the orders by key after the
    run) do not grow with the number of sources."""
    use_credentials(monkeypatch)
    path = estate(tmp_path)
    with sandbox_on(path, Faults(order_processing_seconds=0)) as server:  # final at the first poll
        assert main(migrate_args("new-subscription", path, server, tmp_path / "work", "--execute")) == 0
        counted = requests(server)
        snapshot = state(server)
    placed = [o for o in snapshot["orders"] if (o.get("po_number") or "").startswith("M365MOVE-")]
    assert len(placed) == SOURCES * 3  # two sales orders and a cancellation per source
    assert counted["POST /orders"] == SOURCES * 3
    assert counted["GET /orders/{id}"] == SOURCES * 2
    assert counted["GET /subscriptions/{id}"] == SOURCES  # the seat check reads the source only
    # The platform read, one re-check per source and phase, one polling round per phase, the orders by key after.
    assert counted["GET /orders"] == 1 + 2 * SOURCES + 2 + 1, counted


def test_a_lost_journal_adopts_what_the_platform_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second workspace (or a lost journal) runs the same migration: every order is found, none placed."""
    use_credentials(monkeypatch)
    path = estate(tmp_path)
    with sandbox_on(path) as server:
        assert main(migrate_args("new-subscription", path, server, tmp_path / "first", "--execute")) == 0
        before = len(state(server)["orders"])
        assert main(migrate_args("new-subscription", path, server, tmp_path / "second", "--execute")) == 0
        snapshot = state(server)
    assert len(snapshot["orders"]) == before
    assert duplicate_keys(snapshot) == []
    results = next((tmp_path / "second" / "results").glob("*.csv")).read_text()
    assert results.count(",migrated,") == SOURCES


def test_an_uncertain_answer_is_looked_up_with_declared_filters(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Every first POST creates the order and loses the answer: each look-up is bounded by creation time, and a
    cancellation (an order on the source) by the source subscription too; nothing is placed twice."""
    use_credentials(monkeypatch)
    calls: list[dict[str, Any]] = []
    original = SimpleApiClient.find_orders

    def spy(self: SimpleApiClient, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(SimpleApiClient, "find_orders", spy)
    path = estate(tmp_path)
    started = dt.datetime.now(dt.timezone.utc)
    with sandbox_on(path) as server:
        set_faults(server, Faults(rate_fail_after_commit=1.0, max_injected=SOURCES * 3, fail_after_commit_answers=[502],
                                  apply_to=["POST /orders"], order_processing_seconds=0.05))
        assert main(migrate_args("new-subscription", path, server, tmp_path / "work", "--execute")) == 0
        snapshot = state(server)
    assert duplicate_keys(snapshot) == []
    assert len(calls) == SOURCES * 3  # one look-up per uncertain POST
    for call in calls:
        assert call["created_from"] is not None and call["created_from"] <= started
        assert started - call["created_from"] <= dt.timedelta(days=1, minutes=5)
    cancellations = [c for c in calls if "cancellation" in c["po_number"]]
    assert len(cancellations) == SOURCES
    assert all(c.get("subscription_id") and c.get("customer_id") is None for c in cancellations)
    assert all(c.get("customer_id") for c in calls if "sales" in c["po_number"])
