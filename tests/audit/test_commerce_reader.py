"""The Commerce reader against the sandbox: list endpoints per customer, detail reads for targets, for sources the
journal did not cancel with their seats recorded, and for live cancellations the journal did not place only."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from m365move.audit.audit_report import platform_scope
from m365move.audit.platform_state import CommercePlatform
from m365move.audit.sources import read_journal
from m365move.commerce.credentials import CommerceCredentials
from m365move.commerce.errors import CommerceApiError
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.sandbox.state_log import read_state
from tests.audit.sandbox_audit import migrate_on_sandbox
from tests.estate_builder import ADDON, BASE
from tests.execution.sandbox_run import sandbox_on, use_credentials


def test_reads_what_the_audit_needs_with_list_endpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)
    migrated = migrate_on_sandbox(tmp_path, failing=())
    records = read_journal(migrated.journal)
    scope = platform_scope(records)
    assert len(scope.target_subscription_ids) == 3  # 3000001: base + add-on, 3000002: base
    with sandbox_on(migrated.estate, state_file=migrated.state_file) as server:
        httpx.post(f"{server.url}/_sandbox/reset-stats", auth=server.admin_auth).raise_for_status()
        with SimpleApiClient(server.url, CommerceCredentials.sandbox(), rate_limit_per_second=None) as client:
            state = CommercePlatform(client).read(scope)
        requests = httpx.get(f"{server.url}/_sandbox/stats", auth=server.admin_auth).json()["requests"]
    # The 3 targets only: both sources were cancelled by the journal, which recorded the seats the executor read
    # right before placing each cancellation (a terminated subscription cannot change since).
    assert requests["GET /subscriptions/{id}"] == 3
    # List items carry no subscriptionId, but the journal placed both live cancellations (one per migrated source):
    # the order ids it was answered with and the poNumbers agree, so none is read by id.
    assert requests["GET /orders"] == 1 and requests.get("GET /orders/{id}", 0) == 0
    cancellations = [o for o in state.orders if o.type == "cancellation"]
    assert sorted(o.subscription_id or "" for o in cancellations) == ["3000001", "3000002"]
    targets = [state.subscriptions[t] for t in scope.target_subscription_ids]
    assert all(t.products for t in targets) and sorted(sum(q for _, q in t.products or ()) for t in targets) == [3, 5, 12]
    assert state.subscriptions["3000004"].products is None  # listed, not read in detail
    assert scope.source_subscription_ids == {"3000001", "3000002"}
    assert state.subscriptions["3000001"].status == "terminated" and state.subscriptions["3000001"].seats(BASE) == 12
    assert {o.type for o in state.orders} == {"sales", "cancellation"}
    assert all(o.created_at is not None and o.created_at.tzinfo is not None for o in state.orders)
    assert state.customers["2000001"].reseller_id == "1000001" and state.resellers["1000001"] == "Northwind"


def test_bulk_and_per_customer_reads_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Collections are read in bulk when that takes fewer requests than one per customer, else per customer;
    both give the same platform state. Orders are read from the first run on (creationTimeFrom)."""
    use_credentials(monkeypatch)
    migrated = migrate_on_sandbox(tmp_path, failing=())
    scope = platform_scope(read_journal(migrated.journal))
    assert scope.orders_since is not None
    states, asked = [], []
    with sandbox_on(migrated.estate, state_file=migrated.state_file) as server:
        for page_size in (1000, 2):  # one bulk page each; or more pages than audited customers
            httpx.post(f"{server.url}/_sandbox/reset-stats", auth=server.admin_auth).raise_for_status()
            with SimpleApiClient(server.url, CommerceCredentials.sandbox(), rate_limit_per_second=None,
                                 page_size=page_size) as client:
                seen: list[tuple[str, int, int]] = []
                states.append(CommercePlatform(client, workers=4, progress=lambda *p, seen=seen: seen.append(p)).read(scope))
            asked.append(httpx.get(f"{server.url}/_sandbox/stats", auth=server.admin_auth).json()["requests"])
            assert seen and all(done <= total or not total for _, done, total in seen)
    bulk, per_customer = states
    assert bulk.subscriptions == per_customer.subscriptions and sorted(bulk.orders, key=str) == sorted(
        per_customer.orders, key=str)
    assert asked[0]["GET /subscriptions"] == 1 and asked[0]["GET /orders"] == 1
    assert asked[1]["GET /subscriptions"] > 1


def test_orders_filtered_by_creation_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    use_credentials(monkeypatch)
    migrated = migrate_on_sandbox(tmp_path, failing=())
    with sandbox_on(migrated.estate, state_file=migrated.state_file) as server, SimpleApiClient(
        server.url, CommerceCredentials.sandbox(), rate_limit_per_second=None
    ) as client:
        every = client.list_orders(customer_id="2000001")
        later = client.list_orders(customer_id="2000001", created_from=dt.datetime.now(dt.timezone.utc)
                                   + dt.timedelta(hours=1))
        with pytest.raises(CommerceApiError) as refused:
            client._call("GET", "/orders", params={"creationTimeFrom": "yesterday"})
    assert every and later == []
    assert refused.value.status == 400 and "date-time" in str(refused.value)


def test_sources_are_read_when_the_journal_does_not_hold_their_seats(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The executor journals the seats it read before each cancellation; a journal without them (written before
    the column existed) or a source the platform no longer lists as cancelled (reinstated) is read by id."""
    use_credentials(monkeypatch)
    migrated = migrate_on_sandbox(tmp_path, failing=())
    with sqlite3.connect(migrated.journal) as db:
        recorded = dict(db.execute("SELECT subscription_id, source_seats FROM intents WHERE kind = 'cancellation'"))
        assert {sub: json.loads(seats) for sub, seats in recorded.items()} == {
            "3000001": {BASE.upper(): 12, ADDON.upper(): 3}, "3000002": {BASE.upper(): 5}}
        db.execute("UPDATE intents SET source_seats = NULL WHERE subscription_id = '3000002'")
    state = read_state(migrated.state_file)
    next(s for s in state["subscriptions"] if s["id"] == "3000001")["status"] = "active"  # reinstated by hand
    migrated.state_file.write_text(json.dumps(state))
    scope = platform_scope(read_journal(migrated.journal))
    assert set(scope.journaled_source_seats) == {"3000001"}
    with sandbox_on(migrated.estate, state_file=migrated.state_file) as server:
        httpx.post(f"{server.url}/_sandbox/reset-stats", auth=server.admin_auth).raise_for_status()
        with SimpleApiClient(server.url, CommerceCredentials.sandbox(), rate_limit_per_second=None) as client:
            read = CommercePlatform(client).read(scope)
        requests = httpx.get(f"{server.url}/_sandbox/stats", auth=server.admin_auth).json()["requests"]
    assert requests["GET /subscriptions/{id}"] == 5  # the 3 targets and both sources
    assert read.subscriptions["3000001"].status == "active" and read.subscriptions["3000002"].seats(BASE) == 5
