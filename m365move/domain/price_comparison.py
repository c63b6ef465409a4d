"""Price and term before ordering: per source subscription and in total, what it costs now and after.

Every price is brought to a month (a seat's price for one billing period divided by the billing period's
months), so that a source billed yearly and a target billed monthly compare. Amounts in different currencies
are never added: a subscription whose source and target prices are in different currencies has no difference,
and totals are kept per currency.

The target's price comes from a ``PriceBook``: Commerce's order estimate where it answers, else the plan's
price (``commerce.order_estimates``); the source's from what Commerce bills it (``products[].unitPrice`` of the
subscription, the estate's ``resources[].unit_price``), else its plan's prices (the estate or catalog file). A
subscription with an unpriced licence has no price rather than a wrong one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Final, Protocol

from m365move.domain.catalog import Catalog, ResourceRole, ServicePlan
from m365move.domain.estate import Estate, Subscription
from m365move.domain.money import Money
from m365move.domain.orders import OrderKind, PlannedOrder
from m365move.domain.period import Period
from m365move.domain.reasons import Decision
from m365move.domain.subscription_plan import MigrationPlan, SubscriptionPlan

# Microsoft's rule since 2025-04-01: an annual term billed monthly costs 5 % more than billed yearly.
MONTHLY_BILLING_UPLIFT_FROM: Final = dt.date(2025, 4, 1)
MONTHLY_BILLING_OF_ANNUAL_TERM: Final = "annual term billed monthly: +5 % since 2025-04-01"
_TARGET_KINDS = frozenset({OrderKind.SALES, OrderKind.CHANGE, OrderKind.MIGRATION})


class PriceFrom(str, Enum):
    """Where a target price came from."""

    ESTIMATE = "estimate"  # Commerce's order estimate (SimpleAPI POST /orders/estimate)
    PLAN = "plan"  # the plan's price list


@dataclass(frozen=True, slots=True)
class Quote:
    """One seat of a licence for one billing period."""

    price: Money
    source: PriceFrom


class PriceBook(Protocol):
    """Prices of target licences; None when nobody can say."""

    def quote(self, customer_id: str, reseller_id: str, plan: ServicePlan, mpn: str,
              subscription_period: Period) -> Quote | None: ...


class PlanPrices:
    """The plan's own price list (the estate's or catalog's ``plans[].prices``)."""

    def quote(self, customer_id: str, reseller_id: str, plan: ServicePlan, mpn: str,
              subscription_period: Period) -> Quote | None:
        price = plan.price_of(mpn, subscription_period)
        return Quote(price, PriceFrom.PLAN) if price is not None else None


@lru_cache(maxsize=256)
def iso_duration(period: Period) -> str:
    """``1 month`` → ``P1M``, ``1 year`` → ``P1Y``, ``30 day`` → ``P30D`` (Microsoft's term notation)."""
    unit = {"month": "M", "year": "Y"}.get(period.unit, "D")
    return f"P{period.duration}{unit}"


def months_in(period: Period) -> int | None:
    """Whole months of a billing period; None for days (no monthly equivalent)."""
    if period.unit == "month":
        return period.duration
    if period.unit == "year":
        return 12 * period.duration
    return None


@dataclass(frozen=True, slots=True)
class SubscriptionPricing:
    """One source subscription's price and terms now (source) and after migration (target)."""

    source_monthly: Money | None
    target_monthly: Money | None
    target_price_from: PriceFrom | None
    source_term: str
    source_billing: str
    target_term: str | None
    target_billing: str | None
    term_changes: tuple[str, ...] = ()

    @property
    def difference(self) -> Money | None:
        """Target minus source, when both are known in one currency."""
        source, target = self.source_monthly, self.target_monthly
        if source is None or target is None or source.currency != target.currency:
            return None
        return Money(target.amount - source.amount, source.currency)


@dataclass(frozen=True, slots=True)
class PriceTotal:
    """Totals of one currency over the migrating subscriptions priced in it (source and target alike)."""

    currency: str
    subscriptions: int
    source_monthly: Decimal
    target_monthly: Decimal

    @property
    def difference(self) -> Decimal:
        return self.target_monthly - self.source_monthly


@dataclass(frozen=True, slots=True)
class PriceReport:
    by_subscription: Mapping[str, SubscriptionPricing]
    totals: tuple[PriceTotal, ...]
    # Migrating subscriptions left out of the totals: a price unknown, or source and target in two currencies.
    unpriced: int

    def of(self, subscription_id: str) -> SubscriptionPricing | None:
        return self.by_subscription.get(subscription_id)


def compare_prices(plan: MigrationPlan, estate: Estate, book: PriceBook) -> PriceReport:
    """Prices of every planned subscription, and totals per currency of those that migrate."""
    subscriptions = {s.id: s for s in estate.subscriptions}
    catalog = estate.catalog
    by_subscription: dict[str, SubscriptionPricing] = {}
    sums: dict[str, list[Decimal]] = {}
    counts: dict[str, int] = {}
    unpriced = 0
    for planned in plan.subscriptions:
        source = subscriptions.get(planned.subscription_id)
        if source is None:
            continue
        pricing = _pricing(planned, source, catalog, book)
        by_subscription[planned.subscription_id] = pricing
        if planned.decision is not Decision.MIGRATE:
            continue
        difference = pricing.difference
        if difference is None or pricing.source_monthly is None or pricing.target_monthly is None:
            unpriced += 1
            continue
        total = sums.setdefault(difference.currency, [Decimal(0), Decimal(0)])
        total[0] += pricing.source_monthly.amount
        total[1] += pricing.target_monthly.amount
        counts[difference.currency] = counts.get(difference.currency, 0) + 1
    totals = tuple(PriceTotal(c, counts[c], s, t) for c, (s, t) in sorted(sums.items()))
    return PriceReport(by_subscription, totals, unpriced)


def _pricing(planned: SubscriptionPlan, source: Subscription, catalog: Catalog, book: PriceBook) -> SubscriptionPricing:
    source_monthly = _source_monthly(source, catalog[source.plan_id])
    targets = [o for o in planned.orders if o.kind in _TARGET_KINDS and o.plan_id is not None]
    target_monthly: Money | None = None
    price_from: PriceFrom | None = None
    target_term = target_billing = None
    changes: tuple[str, ...] = ()
    if targets:
        target_monthly, price_from = _target_monthly(planned, targets, catalog, book)
        first = catalog.get(targets[0].plan_id or 0)
        term = _period(targets[0].subscription_period) if targets[0].subscription_period else None
        target_term = iso_duration(term) if term else None
        target_billing = iso_duration(first.billing_period) if first else None
        changes = _term_changes(source.subscription_period, source.billing_period, term,
                                first.billing_period if first else None)
    return SubscriptionPricing(
        source_monthly, target_monthly, price_from,
        iso_duration(source.subscription_period), iso_duration(source.billing_period),
        target_term, target_billing, changes,
    )


def _source_monthly(source: Subscription, plan: ServicePlan) -> Money | None:
    months = months_in(source.billing_period)
    if months is None:
        return None
    amount, currency = Decimal(0), None
    for resource in source.resources:
        if resource.quantity <= 0:
            continue
        role = plan.role_of(resource.mpn)
        if role is None or role is ResourceRole.OTHER:
            continue
        price = resource.unit_price or plan.prices.get((resource.mpn, source.subscription_period))
        if price is None or (currency is not None and currency != price.currency):
            return None
        amount += price.amount * resource.quantity
        currency = price.currency
    return Money(amount / months, currency) if currency is not None else None


def _target_monthly(planned: SubscriptionPlan, targets: list[PlannedOrder], catalog: Catalog,
                    book: PriceBook) -> tuple[Money | None, PriceFrom | None]:
    amount, currency = Decimal(0), None
    price_from = PriceFrom.ESTIMATE
    for order in targets:
        plan = catalog.get(order.plan_id or 0)
        months = months_in(plan.billing_period) if plan else None
        if plan is None or months is None or order.subscription_period is None or order.nce_license is None:
            return None, None
        quote = book.quote(planned.customer_id, planned.reseller_id, plan, order.nce_license,
                           _period(order.subscription_period))
        if quote is None or (currency is not None and currency != quote.price.currency):
            return None, None
        if quote.source is PriceFrom.PLAN:
            price_from = PriceFrom.PLAN
        amount += quote.price.amount * (order.quantity or 0) / months
        currency = quote.price.currency
    return (Money(amount, currency), price_from) if currency is not None else (None, None)


@lru_cache(maxsize=256)
def _term_changes(source_term: Period, source_billing: Period, term: Period | None,
                  billing: Period | None) -> tuple[str, ...]:
    changes = []
    if term is not None and term != source_term:
        changes.append(f"term {iso_duration(source_term)}→{iso_duration(term)}")
    if billing is not None and billing != source_billing:
        changes.append(f"billing {iso_duration(source_billing)}→{iso_duration(billing)}")
    if term is not None and billing is not None and term.unit == "year" and billing == Period(1, "month"):
        changes.append(MONTHLY_BILLING_OF_ANNUAL_TERM)
    return tuple(changes)


_PERIODS: dict[str, Period] = {}


def _period(text: str) -> Period:
    """A planned order's period text as a Period (a handful of texts, parsed once each)."""
    period = _PERIODS.get(text)
    if period is None:
        period = Period.parse(text)
        if len(_PERIODS) < 256:
            _PERIODS[text] = period
    return period
