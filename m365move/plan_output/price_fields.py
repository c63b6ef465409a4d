"""The price and term fields of a planned subscription, and the totals per currency, as JSON and CSV carry them.

Keys (JSON) and columns (CSV, at the end of the row) have the same names; amounts are text with two decimals
(``"126.00"``), per month, in the currency beside them; ``null`` (JSON) or empty (CSV) where not known:

- ``source_monthly_price``, ``source_currency``: the source's licences at its quantities, at its plan's price;
- ``target_monthly_price``, ``target_currency``: the targets of the planned orders, at Commerce's estimate or
  the target plan's price (``target_price_from``: ``estimate`` or ``plan``);
- ``monthly_price_difference``: target minus source, only when both are known in one currency;
- ``source_term``, ``source_billing``, ``target_term``, ``target_billing``: ISO 8601 durations (``P1M``, ``P1Y``);
- ``term_changes``: what changes (``term P1M→P1Y``, ``billing P1Y→P1M``, the +5 % of monthly billing of a
  yearly term), a list in JSON, joined with ``; `` in CSV.
"""

from __future__ import annotations

from typing import Any, Final

from m365move.domain.money import Money
from m365move.domain.price_comparison import PriceReport, PriceTotal, SubscriptionPricing

PRICE_COLUMNS: Final = (
    "source_monthly_price", "source_currency", "target_monthly_price", "target_currency", "monthly_price_difference",
    "target_price_from", "source_term", "source_billing", "target_term", "target_billing", "term_changes",
)


def _amount(money: Money | None) -> str | None:
    return money.text() if money is not None else None


def pricing_to_json(pricing: SubscriptionPricing | None) -> dict[str, Any]:
    """The price keys of one subscription (all ``null`` when it was not priced)."""
    if pricing is None:
        return {**dict.fromkeys(PRICE_COLUMNS), "term_changes": []}
    source, target = pricing.source_monthly, pricing.target_monthly
    return {
        "source_monthly_price": _amount(source),
        "source_currency": source.currency if source else None,
        "target_monthly_price": _amount(target),
        "target_currency": target.currency if target else None,
        "monthly_price_difference": _amount(pricing.difference),
        "target_price_from": pricing.target_price_from.value if pricing.target_price_from else None,
        "source_term": pricing.source_term,
        "source_billing": pricing.source_billing,
        "target_term": pricing.target_term,
        "target_billing": pricing.target_billing,
        "term_changes": list(pricing.term_changes),
    }


def pricing_to_csv(pricing: SubscriptionPricing | None) -> tuple[str, ...]:
    """The price columns of one CSV row, in ``PRICE_COLUMNS`` order."""
    fields = pricing_to_json(pricing)
    return tuple("; ".join(fields[c]) if c == "term_changes" else (fields[c] or "") for c in PRICE_COLUMNS)


def total_to_json(total: PriceTotal) -> dict[str, Any]:
    return {
        "currency": total.currency,
        "subscriptions": total.subscriptions,
        "source_monthly_price": Money(total.source_monthly, total.currency).text(),
        "target_monthly_price": Money(total.target_monthly, total.currency).text(),
        "monthly_price_difference": Money(total.difference, total.currency).text(),
    }


def totals_to_json(report: PriceReport) -> dict[str, Any]:
    """The plan's ``price_totals`` (one per currency, migrating subscriptions only) and ``unpriced_subscriptions``."""
    return {"price_totals": [total_to_json(t) for t in report.totals], "unpriced_subscriptions": report.unpriced}
