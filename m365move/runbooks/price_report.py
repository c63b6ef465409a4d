"""Price and term before ordering, for the runbooks: the totals per currency, a table per subscription, a chart.

The prices come from Commerce's order estimate when the runbook reads Commerce live (``client`` given), else
from the plans' prices in the estate (``domain.price_comparison``). Totals are per currency, never added across
currencies; the chart draws one pair of bars (now, after migration) per currency.
"""

from __future__ import annotations

from decimal import Decimal

from m365move.commerce.order_estimates import EstimatedPrices
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.estate import Estate
from m365move.domain.price_comparison import PlanPrices, PriceReport, SubscriptionPricing, compare_prices
from m365move.domain.reasons import Decision
from m365move.domain.subscription_plan import MigrationPlan
from m365move.rendering.charts import Chart, grouped_amounts

TOTAL_HEADERS = ("currency", "subscriptions", "now / month", "after / month", "difference / month")
PRICE_HEADERS = ("subscription", "decision", "now / month", "after / month", "difference", "target price from",
                 "term", "billing", "what changes")


def plan_prices(plan: MigrationPlan, estate: Estate, client: SimpleApiClient | None = None) -> PriceReport:
    """Every planned subscription's prices: Commerce's estimate for the targets when a client is given."""
    if client is None:
        return compare_prices(plan, estate, PlanPrices())
    book = EstimatedPrices(client)
    book.prefetch(plan, estate.catalog)
    return compare_prices(plan, estate, book)


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def total_rows(prices: PriceReport) -> list[tuple[str, int, str, str, str]]:
    """One row per currency: the migrating subscriptions priced in it, now and after, and the difference."""
    return [(t.currency, t.subscriptions, _amount(t.source_monthly), _amount(t.target_monthly),
             f"{t.difference:+,.2f}") for t in prices.totals]


def price_rows(plan: MigrationPlan, prices: PriceReport, limit: int | None = None) -> list[tuple[str, ...]]:
    """Migrating subscriptions first, largest increase first, then the others: now, after, difference, terms."""
    def rank(sub_id: str, decision: Decision) -> tuple[int, Decimal, str]:
        pricing = prices.of(sub_id)
        difference = pricing.difference if pricing else None
        return (decision is not Decision.MIGRATE, -(difference.amount if difference else Decimal(0)), sub_id)

    ordered = sorted(plan.subscriptions, key=lambda s: rank(s.subscription_id, s.decision))
    rows = [_row(s.subscription_id, s.decision.value, prices.of(s.subscription_id)) for s in ordered]
    return rows[:limit] if limit else rows


def _row(subscription_id: str, decision: str, pricing: SubscriptionPricing | None) -> tuple[str, ...]:
    if pricing is None:
        return (subscription_id, decision, "", "", "", "", "", "", "")
    source, target, difference = pricing.source_monthly, pricing.target_monthly, pricing.difference
    term = f"{pricing.source_term} → {pricing.target_term}" if pricing.target_term else pricing.source_term
    billing = f"{pricing.source_billing} → {pricing.target_billing}" if pricing.target_billing else pricing.source_billing
    return (
        subscription_id, decision,
        f"{_amount(source.amount)} {source.currency}" if source else "unknown",
        f"{_amount(target.amount)} {target.currency}" if target else ("unknown" if pricing.target_term else ""),
        f"{difference.amount:+,.2f} {difference.currency}" if difference else "",
        pricing.target_price_from.value if pricing.target_price_from else "",
        term, billing, "; ".join(pricing.term_changes),
    )


def price_chart(prices: PriceReport, title: str) -> Chart | None:
    """Now and after migration per currency (monthly, migrating subscriptions); None when nothing is priced."""
    if not prices.totals:
        return None
    groups = {t.currency: {"now": t.source_monthly, "after migration": t.target_monthly} for t in prices.totals}
    return grouped_amounts(groups, ("now", "after migration"), title=title, value_label="per month")
