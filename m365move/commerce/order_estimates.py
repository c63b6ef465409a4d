"""Target prices from Commerce's order estimate (SimpleAPI ``POST /orders/estimate``, estimateOrder), read-only.

One estimate per (target plan, subscription period): a sales order of one seat of each licence of the plan, for
one customer who would order it. The unit prices it answers are kept, so a plan of 100k subscriptions asks
Commerce once per target plan and period (a few hundred), never per subscription, and the estimates of a plan
are asked ``workers`` at a time before the prices are compared (``prefetch``). A seat's price times the quantity
is the line's price: Microsoft prices NCE licences per seat. Prices are the plan's, as the provider sees them;
a reseller's own price list is not asked for (decision record `prices-from-the-order-estimate`).

Where Commerce gives no estimate (it refuses the order, or has no such operation) the plan's own price list
is used (``PlanPrices``), and the quote says so (``target_price_from: plan``). An estimate never creates
anything: it is not an order.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from m365move.commerce.errors import CommerceApiError
from m365move.commerce.models import OrderRequest, ProductQuantity
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.catalog import Catalog, ResourceRole, ServicePlan
from m365move.domain.money import Money, checked_amount, checked_currency
from m365move.domain.orders import OrderKind
from m365move.domain.period import Period
from m365move.domain.price_comparison import PlanPrices, PriceFrom, Quote
from m365move.domain.subscription_plan import MigrationPlan

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
    """A ``PriceBook``: Commerce's estimate per (plan, period), the plan's price where there is none."""

    def __init__(self, client: SimpleApiClient, *, workers: int = 8) -> None:
        self._client = client
        self._workers = workers
        self._fallback = PlanPrices()
        self._estimates: dict[tuple[int, Period], dict[str, Money]] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.refused = 0

    def prefetch(self, plan: MigrationPlan, catalog: Catalog) -> None:
        """Ask every estimate the plan's target orders need, ``workers`` at a time (each once)."""
        wanted: dict[tuple[int, Period], tuple[str, ServicePlan]] = {}
        for sub in plan.subscriptions:
            for order in sub.orders:
                if order.kind is OrderKind.CANCELLATION or order.plan_id is None or not order.subscription_period:
                    continue
                target = catalog.get(order.plan_id)
                if target is not None:
                    key = (target.id, Period.parse(order.subscription_period))
                    wanted.setdefault(key, (sub.customer_id, target))
        missing = [(key, customer, target) for key, (customer, target) in wanted.items() if key not in self._estimates]
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            answers = list(pool.map(lambda item: self._estimate(item[1], item[2], item[0][1]), missing))
        for (key, _, _), prices in zip(missing, answers, strict=True):
            self._estimates[key] = prices

    def quote(self, customer_id: str, reseller_id: str, plan: ServicePlan, mpn: str,
              subscription_period: Period) -> Quote | None:
        key = (plan.id, subscription_period)
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
        with self._lock:
            self.calls += 1
        try:
            return estimate_order(self._client, order).unit_prices
        except CommerceApiError as refused:
            with self._lock:
                self.refused += 1
                first = self.refused == 1
            if first:
                log.warning("Commerce gives no estimate for plan %s (%s): the plan's prices are used where it does "
                            "not", plan.id, refused.platform_message)
            return {}

