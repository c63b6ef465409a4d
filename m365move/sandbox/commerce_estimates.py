"""Prices of an order the sandbox's Commerce would accept (SimpleAPI ``POST /orders/estimate``, estimateOrder).

The price of each product line is the plan's price of one seat (the estate's ``plans[].prices``: Commerce's
recurring product price for one billing period of the order's subscription period) times its quantity, so an
estimate is the first billing period's charge of the order. A line the plan has no price for is refused, as
Commerce refuses to rate a product without a price (an estimate with a made-up zero would be a wrong price).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from m365move.estate.schema import PlanEntry


@dataclass(frozen=True, slots=True)
class EstimateLine:
    mpn: str
    quantity: int
    unit_price: Decimal
    currency: str

    @property
    def extended_price(self) -> Decimal:
        return self.unit_price * self.quantity


def estimate_lines(plan: PlanEntry, products: Iterable[tuple[str, int]], period: str | None) -> list[EstimateLine]:
    """One priced line per (MPN, quantity) of the order; ValueError (the caller's refusal) for an unpriced one."""
    prices = {(p.mpn.upper(), p.subscription_period): p for p in plan.prices}
    lines = []
    for mpn, quantity in products:
        price = prices.get((mpn.upper(), period or ""))
        if price is None:
            raise ValueError(f"plan {plan.id} has no price for {mpn} with subscription period {period}")
        lines.append(EstimateLine(mpn, quantity, price.amount, price.currency))
    currencies = {line.currency for line in lines}
    if len(currencies) > 1:
        raise ValueError(f"plan {plan.id} prices its products in {', '.join(sorted(currencies))}: "
                            "one order is charged in one currency")
    return lines


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(amount), "currency": currency}


def estimate_json(order_type: str, customer_id: str, lines: list[EstimateLine]) -> dict[str, Any]:
    """The OrderDetailed answer: ``total``, ``details`` (one recurring detail per line, with its unit and extended
    price) and ``products`` (their extended prices); only readable fields, as for a placed order."""
    currency = lines[0].currency if lines else "USD"
    return {
        "type": order_type,
        "customerId": customer_id,
        "total": _money(sum((line.extended_price for line in lines), Decimal(0)), currency),
        "details": [
            {"type": "recurring", "mpn": line.mpn, "quantity": line.quantity,
             "unitPrice": _money(line.unit_price, line.currency),
             "extendedPrice": _money(line.extended_price, line.currency)}
            for line in lines
        ],
        "products": [
            {"mpn": line.mpn, "quantity": line.quantity, "extendedPrice": _money(line.extended_price, line.currency)}
            for line in lines
        ],
    }
