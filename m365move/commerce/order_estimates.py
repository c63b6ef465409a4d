"""Target prices from Commerce's order estimate (SimpleAPI ``POST /orders/estimate``, estimateOrder), read-only.

One estimate per (reseller, plan, subscription period): a sales order of one seat of each licence of the plan,
for a customer of that reseller (Commerce prices per reseller). The unit prices it answers are kept, so a plan
of 100k subscriptions asks Commerce once per target plan, period and reseller, never per subscription
(decision record `prices-from-the-order-estimate`). A seat's price times the quantity is the line's price:
Microsoft prices NCE licences per seat.

Where Commerce gives no estimate (it refuses the order, or has no such operation) the plan's own price list
is used (``PlanPrices``), and the quote says so (``target_price_from: plan``). An estimate never creates
anything: it is not an order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from m365move.commerce.errors import CommerceApiError
from m365move.commerce.models import OrderRequest, ProductQuantity
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.catalog import ResourceRole, ServicePlan
from m365move.domain.money import Money, checked_amount, checked_currency
from m365move.domain.period import Period
from m365move.domain.price_comparison import PlanPrices, PriceFrom, Quote

log = logging.getLogger(__name__)
ESTIMATE_PO_NUMBER = "M365MOVE-ESTIMATE"


@dataclass(frozen=True, slots=True)
class OrderEstimate:
    """Commerce's answer: the unit price of each product line (by MPN in upper case)."""

    unit_prices: dict[str, Money]

    @classmethod
    def read(cls, body: Any) -> OrderEstimate:
        """The unit prices of an OrderDetailed answer (``details[].unitPrice``, else ``extendedPrice`` / quantity).
        Lines without a readable price are left out (the plan's price is used for them)."""
        prices: dict[str, Money] = {}
        details = body.get("details") if isinstance(body, dict) else None
        for line in details if isinstance(details, list) else []:
            if not isinstance(line, dict) or not isinstance(line.get("mpn"), str):
                continue
            price = _money(line.get("unitPrice"))
            if price is None:
                extended, quantity = _money(line.get("extendedPrice")), line.get("quantity")
                if extended is not None and isinstance(quantity, (int, float)) and quantity > 0:
                    price = Money(extended.amount / Decimal(str(quantity)), extended.currency)
            if price is not None:
                prices[line["mpn"].upper()] = price
        return cls(prices)


def _money(value: Any) -> Money | None:
    if not isinstance(value, dict):
        return None
    try:
        return Money(checked_amount(value.get("amount")), checked_currency(value.get("currency")))
    except ValueError:
        return None


def estimate_order(client: SimpleApiClient, order: OrderRequest) -> OrderEstimate:
    """POST /orders/estimate with the order's body; CommerceApiError when Commerce refuses it."""
    return OrderEstimate.read(client.estimate_order_body(order.to_payload()))


class EstimatedPrices:
    """A ``PriceBook``: Commerce's estimate per (reseller, plan, period), the plan's price where there is none."""

    def __init__(self, client: SimpleApiClient) -> None:
        self._client = client
        self._fallback = PlanPrices()
        self._estimates: dict[tuple[str, int, Period], dict[str, Money]] = {}
        self.calls = 0
        self.refused = 0

    def quote(self, customer_id: str, reseller_id: str, plan: ServicePlan, mpn: str,
              subscription_period: Period) -> Quote | None:
        key = (reseller_id, plan.id, subscription_period)
        prices = self._estimates.get(key)
        if prices is None:
            prices = self._estimate(customer_id, plan, subscription_period)
            self._estimates[key] = prices
        price = prices.get(mpn.upper())
        if price is not None:
            return Quote(price, PriceFrom.ESTIMATE)
        return self._fallback.quote(customer_id, reseller_id, plan, mpn, subscription_period)

    def _estimate(self, customer_id: str, plan: ServicePlan, period: Period) -> dict[str, Money]:
        licences = [r.mpn for r in plan.resources if r.role is not ResourceRole.OTHER]
        if not licences:
            return {}
        order = OrderRequest(type="sales", customer_id=customer_id, po_number=ESTIMATE_PO_NUMBER, plan_id=plan.id,
                             products=tuple(ProductQuantity(mpn=m, quantity=1) for m in licences), subscription_period=period)
        self.calls += 1
        try:
            return estimate_order(self._client, order).unit_prices
        except CommerceApiError as refused:
            self.refused += 1
            if self.refused == 1:
                log.warning("Commerce gives no estimate for plan %s (%s): the plan's prices are used where it does "
                            "not", plan.id, refused.platform_message)
            return {}

