"""The sandbox's estimateOrder (POST /orders/estimate): priced from the plan's prices, read-only, refused as the
order would be."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from m365move.commerce.credentials import CommerceCredentials
from m365move.commerce.errors import CommerceApiError
from m365move.commerce.models import OrderRequest, ProductQuantity
from m365move.commerce.order_estimates import EstimatedPrices, estimate_order
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.money import Money
from m365move.domain.period import Period
from m365move.domain.price_comparison import PriceFrom
from m365move.sandbox.server import SandboxServer

BASIC = "Basic " + base64.b64encode(b"sandbox:sandbox").decode()
NCE_BASIC = "CFQ7TTC0LH18:0001"
YEAR = Period(1, "year")


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[SimpleApiClient]:
    with SimpleApiClient(sandbox.url, CommerceCredentials.sandbox(), max_retries=0) as c:
        yield c


def sales(plan_id: int = 6001, quantity: int = 12, customer: str = "2000001", mpn: str = NCE_BASIC) -> OrderRequest:
    return OrderRequest(type="sales", customer_id=customer, po_number="ESTIMATE", plan_id=plan_id,
                        products=(ProductQuantity(mpn=mpn, quantity=quantity),), subscription_period=YEAR)


def test_an_estimate_is_the_plans_price_times_the_quantity(sandbox: SandboxServer, client: SimpleApiClient) -> None:
    token = httpx.post(f"{sandbox.url}/token", headers={"X-Subscription-Key": "sandbox", "Authorization": BASIC}).json()
    answer = httpx.post(f"{sandbox.url}/orders/estimate", json=sales().to_payload(),
                        headers={"X-Subscription-Key": "sandbox", "Authorization": f"Bearer {token['token']}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == {"amount": "75.60", "currency": "EUR"}  # 12 seats at 6.30
    assert body["details"][0]["unitPrice"] == {"amount": "6.30", "currency": "EUR"}
    assert estimate_order(client, sales()).unit_prices == {NCE_BASIC: Money(Decimal("6.30"), "EUR")}


def test_an_estimate_creates_nothing(sandbox: SandboxServer, client: SimpleApiClient) -> None:
    commerce = sandbox.context.commerce
    before = commerce.snapshot_json()
    for _ in range(3):
        estimate_order(client, sales())
    with pytest.raises(CommerceApiError):
        estimate_order(client, sales(plan_id=6999))
    assert commerce.snapshot_json() == before  # no order, no subscription, no id taken


@pytest.mark.parametrize(("order", "words"), [
    (sales(plan_id=6999), "plan 6999 does not exist"),
    (sales(customer="2000003"), "not delegated to reseller 1000002"),  # Tailspin's reseller has no 6001
    (sales(quantity=0), "must be positive"),
    (sales(plan_id=6003, mpn="CFQ7TTC0LH1G:0001"), "no price"),
])
def test_the_estimate_is_refused_as_the_order_would_be(client: SimpleApiClient, order: OrderRequest,
                                                       words: str) -> None:
    with pytest.raises(CommerceApiError) as refused:
        estimate_order(client, order)
    assert refused.value.status == 400 and words in str(refused.value.platform_message)


def test_prices_are_asked_once_per_plan_and_period(sandbox: SandboxServer, client: SimpleApiClient) -> None:
    book = EstimatedPrices(client)
    plan = sandbox_plan(sandbox, 6001)
    for customer in ("2000001", "2000002") * 20:  # two customers, many subscriptions
        quote = book.quote(customer, "1000001", plan, NCE_BASIC, YEAR)
        assert quote is not None and quote.source is PriceFrom.ESTIMATE and quote.price.amount == Decimal("6.30")
    assert book.calls == 1
    # Refused (plan 6003 has no price in the sandbox): the plan's own price list, here none.
    assert book.quote("2000001", "1000001", sandbox_plan(sandbox, 6003), "CFQ7TTC0LH1G:0001", YEAR) is None
    assert (book.calls, book.refused) == (2, 1)


def sandbox_plan(sandbox: SandboxServer, plan_id: int):  # type: ignore[no-untyped-def]
    from m365move.estate.loader import build_estate

    estate = build_estate(sandbox.context.document, "sandbox")
    return estate.catalog[plan_id]


def test_a_plans_estimates_are_asked_before_pricing_once_each(sandbox: SandboxServer, client: SimpleApiClient) -> None:
    from m365move.domain.orders import MigrationMode
    from m365move.domain.planner import plan_migration
    from m365move.domain.price_comparison import compare_prices
    from m365move.estate.loader import build_estate

    estate = build_estate(sandbox.context.document, "sandbox")
    plan = plan_migration(estate, MigrationMode.NEW_SUBSCRIPTION)
    book = EstimatedPrices(client, workers=4)
    book.prefetch(plan, estate.catalog)
    wanted = {(o.plan_id, o.subscription_period) for s in plan.subscriptions for o in s.orders if o.plan_id}
    assert book.calls == len(wanted) > 0
    report = compare_prices(plan, estate, book)
    assert book.calls == len(wanted)  # pricing asked nothing more
    priced = [report.of(s.subscription_id) for s in plan.migrating()]
    assert any(p is not None and p.target_price_from is PriceFrom.ESTIMATE for p in priced)
