"""Contract tests: the SimpleAPI client against the sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from client_fixtures import make_client

from m365move.commerce import CommerceNotFound, OrderRequest, SimpleApiClient
from m365move.commerce.errors import CommerceApiError
from m365move.domain.period import Period
from m365move.sandbox.server import SandboxServer

YEAR = Period(1, "year")
BASIC_NCE = "CFQ7TTC0LH18:0001"
E3_NCE = "CFQ7TTC0LFLZ:0001"
PHONE_NCE = "CFQ7TTC0LH1G:0001"


class TestReads:
    def test_plans_across_pages(self, sandbox: SandboxServer) -> None:
        """With two plans a page, listing reads three pages and gets all five plans once."""
        with make_client(sandbox, page_size=2) as client:
            plans = client.list_plans()
        assert [p.id for p in plans] == [5001, 5002, 6001, 6002, 6003]
        assert plans[1].subscription_periods == (YEAR,) and plans[1].billing_period == Period(1, "month")
        assert sandbox.context.stats.snapshot()["requests"]["GET /plans"] == 3

    def test_plan_switches_from_upgrade_paths(self, shared_client: SimpleApiClient) -> None:
        """planSwitches list every reseller's upgrade targets, per subscription period both plans offer."""
        plan = shared_client.get_plan(5002)
        assert sorted((s.plan_id, s.subscription_period) for s in plan.switches) == [(6001, YEAR), (6002, YEAR)]
        assert shared_client.get_plan(6001).switches == ()

    def test_subscriptions_across_pages_and_filters(self, sandbox: SandboxServer) -> None:
        with make_client(sandbox, page_size=10) as client:
            everything = client.list_subscriptions()
            assert len(everything) == 28 and len({s.id for s in everything}) == 28
            assert {s.id for s in client.list_subscriptions(customer_id="2000001")} == {"3000001", "3000002"}
            assert len(client.list_subscriptions(customer_id="2000003", status="terminated")) == 5
        assert sandbox.context.stats.snapshot()["requests"]["GET /subscriptions"] == 3 + 1 + 1

    def test_subscription_details(self, shared_client: SimpleApiClient) -> None:
        s = shared_client.get_subscription("3000002")
        assert s.plan_id == 5002 and s.customer_id == "2000001" and s.status == "active"
        assert {(p.mpn, p.quantity) for p in s.products} == {
            ("796B6B5F-613C-4E24-A17C-EBA730D49C02", 10),
            ("4828C8EC-DC2E-4779-B502-87AC9CE28AB7", 5),
        }
        assert (s.creation_date, s.expiration_date) == (dt.date(2026, 1, 15), dt.date(2027, 1, 15))
        assert s.subscription_period == YEAR

    def test_trial_is_the_plans_period(self, shared_client: SimpleApiClient) -> None:
        """A trial is told by the plan: the subscription's period is one the plan flags as trial."""
        plan = shared_client.get_plan(5001)
        trial, paid = shared_client.get_subscription("3000003"), shared_client.get_subscription("3000001")
        assert plan.trial_periods == (Period(30, "day"),)
        assert plan.is_trial(trial.subscription_period) and not plan.is_trial(paid.subscription_period)
        assert {p.id: p.trial_periods for p in shared_client.list_plans()}[5001] == plan.trial_periods

    def test_accounts(self, shared_client: SimpleApiClient) -> None:
        assert [r.id for r in shared_client.list_resellers()] == ["1000001", "1000002"]
        customers = {c.id: c for c in shared_client.list_customers()}
        assert customers["2000002"].reseller_id == "1000001" and customers["2000002"].mca_accepted is False
        assert [c.id for c in shared_client.list_customers(reseller_id="1000002")] == ["2000003"]

    def test_not_found(self, shared_client: SimpleApiClient) -> None:
        with pytest.raises(CommerceNotFound, match="404") as caught:
            shared_client.get_subscription("404404")
        assert isinstance(caught.value, LookupError) and caught.value.correlation_id


class TestOrderEffects:
    def test_sales_creates_a_subscription(self, client: SimpleApiClient) -> None:
        """A completed sales order created a subscription on its plan with its quantity and period."""
        placed = client.place_order(
            OrderRequest.sales(
                customer_id="2000001",
                po_number="M365MOVE-NS-3000001-sales-A",
                plan_id=6001,
                mpn=BASIC_NCE,
                quantity=12,
                subscription_period=YEAR,
            )
        )
        assert placed.status == "submitted" and placed.subscription_id is None
        done = client.get_order(placed.id)
        assert done.completed and done.subscription_id
        new = client.get_subscription(done.subscription_id)
        assert new.plan_id == 6001 and [(p.mpn, p.quantity) for p in new.products] == [(BASIC_NCE, 12)]
        assert new.status == "active" and new.subscription_period == YEAR and new.customer_id == "2000001"
        assert new.creation_date and new.expiration_date == new.creation_date.replace(year=new.creation_date.year + 1)

    def test_change_switches_plan_keeping_dates_and_only_base(self, client: SimpleApiClient) -> None:
        """A completed change order moved the subscription to the target plan, same dates, base licence only."""
        client.place_order(
            OrderRequest.change(
                customer_id="2000001", po_number="M365MOVE-SP-3000002-change-B", subscription_id="3000002", plan_id=6002
            )
        )
        after = client.get_subscription("3000002")
        assert after.plan_id == 6002
        assert [(p.mpn, p.quantity) for p in after.products] == [(E3_NCE, 10)]
        assert (after.creation_date, after.expiration_date) == (dt.date(2026, 1, 15), dt.date(2027, 1, 15))

    def test_migration_creates_subscription_with_given_dates(self, client: SimpleApiClient) -> None:
        placed = client.place_order(
            OrderRequest.migration(
                customer_id="2000001",
                po_number="M365MOVE-SP-3000002-migration-C",
                plan_id=6003,
                mpn=PHONE_NCE,
                quantity=5,
                subscription_period=YEAR,
                start_date=dt.date(2026, 1, 15),
                expiration_date=dt.date(2027, 1, 15),
            )
        )
        done = client.get_order(placed.id)
        assert done.completed and done.subscription_id
        new = client.get_subscription(done.subscription_id)
        assert (new.creation_date, new.expiration_date) == (dt.date(2026, 1, 15), dt.date(2027, 1, 15))
        assert new.plan_id == 6003 and [(p.mpn, p.quantity) for p in new.products] == [(PHONE_NCE, 5)]

    def test_cancellation_terminates_source(self, client: SimpleApiClient) -> None:
        placed = client.place_order(
            OrderRequest.cancellation(
                customer_id="2000001", po_number="M365MOVE-NS-3000001-cancellation-SOURCE", subscription_id="3000001"
            )
        )
        assert client.get_order(placed.id).completed
        assert client.get_subscription("3000001").status == "terminated"

    def test_refused_order_is_an_api_error(self, client: SimpleApiClient) -> None:
        with pytest.raises(CommerceApiError, match="not an upgrade path") as caught:
            client.place_order(OrderRequest.change(customer_id="2000001", po_number="X", subscription_id="3000001", plan_id=6002))
        assert caught.value.status == 400 and caught.value.code == "order-rejected"


class TestOrdersEndingInError:
    def test_by_rate(self, sandbox: SandboxServer, client: SimpleApiClient) -> None:
        """order_error_rate 1: the order ends in error and changes nothing."""
        httpx.put(f"{sandbox.url}/_sandbox/faults", auth=sandbox.admin_auth,
                  json={"order_error_rate": 1.0, "order_processing_seconds": 0})
        placed = client.place_order(OrderRequest.cancellation(customer_id="2000001", po_number="P", subscription_id="3000001"))
        done = client.get_order(placed.id)
        assert done.status == "error" and done.is_final
        assert done.failure_message == "the order failed at the vendor (sandbox fault injection)"
        assert client.get_subscription("3000001").status == "active"

    def test_for_named_subscriptions(self, sandbox: SandboxServer, client: SimpleApiClient) -> None:
        """Orders for a listed source end in error, including sales orders naming it in their poNumber."""
        httpx.put(f"{sandbox.url}/_sandbox/faults", auth=sandbox.admin_auth,
                  json={"error_subscriptions": ["3000001"], "order_processing_seconds": 0})
        sales = client.place_order(
            OrderRequest.sales(
                customer_id="2000001",
                po_number="M365MOVE-NS-3000001-sales-X",
                plan_id=6001,
                mpn=BASIC_NCE,
                quantity=1,
                subscription_period=YEAR,
            )
        )
        change = client.place_order(
            OrderRequest.change(
                customer_id="2000001", po_number="M365MOVE-SP-3000002-change-Y", subscription_id="3000002", plan_id=6002
            )
        )
        assert client.get_order(sales.id).status == "error"
        assert client.get_order(change.id).status == "completed"


class TestFindingOrders:
    def test_find_by_po_number_through_customer(self, client: SimpleApiClient) -> None:
        """The executor's crash check: a sales order for a source is found via its customer and poNumber."""
        key = "M365MOVE-NS-3000001-sales-91FD106F-4B2C-4938-95AC-F54F74E9A239"
        placed = client.place_order(
            OrderRequest.sales(
                customer_id="2000001", po_number=key, plan_id=6001, mpn=BASIC_NCE, quantity=2, subscription_period=YEAR
            )
        )
        found = client.find_orders(customer_id="2000001", po_number=key)
        assert [o.id for o in found] == [placed.id]
        assert client.find_orders(customer_id="2000001", po_number=key + "-nope") == []
        assert client.find_orders(customer_id="2000002", po_number=key) == []

    def test_found_orders_are_read_in_full(self, sandbox: SandboxServer, client: SimpleApiClient) -> None:
        """List items are the spec's Order (no subscriptionId); find_orders reads only the matches by id, so the
        executor's crash-time adoption learns the subscription a completed sales order created."""
        key = "M365MOVE-NS-3000001-sales-CFQ7TTC0LH18:0001"
        placed = client.place_order(
            OrderRequest.sales(customer_id="2000001", po_number=key, plan_id=6001, mpn=BASIC_NCE, quantity=2,
                               subscription_period=YEAR)
        )
        client.place_order(OrderRequest.cancellation(customer_id="2000001", po_number="OTHER", subscription_id="3000002"))
        listed = client.list_orders(customer_id="2000001")
        assert {o.id for o in listed} >= {placed.id} and all(o.subscription_id is None for o in listed)
        before = sandbox.context.stats.snapshot()["requests"].get("GET /orders/{id}", 0)
        [found] = client.find_orders(customer_id="2000001", po_numbers={key, "M365MOVE-NS-3000001-cancellation-SOURCE"})
        assert found.id == placed.id and found.completed and found.subscription_id
        assert client.get_subscription(found.subscription_id).plan_id == 6001
        assert sandbox.context.stats.snapshot()["requests"]["GET /orders/{id}"] == before + 1  # the match only

    def test_list_orders_filters(self, client: SimpleApiClient) -> None:
        change = client.place_order(
            OrderRequest.change(customer_id="2000001", po_number="C", subscription_id="3000002", plan_id=6002)
        )
        assert [o.id for o in client.list_orders(subscription_id="3000002")] == [change.id]
        assert [o.id for o in client.list_orders(status="processing")] == ["8000001"]
        with pytest.raises(ValueError):
            client.find_orders(po_number="C")
        with pytest.raises(ValueError):
            client.find_orders(customer_id="2000001")
        assert [o.id for o in client.list_orders(customer_id="2000001", created_from=dt.datetime(2100, 1, 1))] == []
        assert change.id in {o.id for o in client.list_orders(customer_id="2000001", created_from=dt.datetime(2000, 1, 1))}
