"""Price and term before ordering: per subscription, and totals per currency (never added across currencies)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from m365move.domain.money import Money
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.domain.price_comparison import MONTHLY_BILLING_OF_ANNUAL_TERM, PlanPrices, PriceFrom, compare_prices
from tests.estate_builder import ADDON, BASE, NCE_ADDON, NCE_BASE, EstateBuilder


def priced(builder: EstateBuilder, plan_id: int, mpn: str, amount: str, currency: str = "EUR",
           period: str = "1 year") -> EstateBuilder:
    plan: dict[str, Any] = next(p for p in builder.commerce["plans"] if p["id"] == plan_id)
    plan.setdefault("prices", []).append(
        {"mpn": mpn, "subscription_period": period, "amount": amount, "currency": currency})
    return builder


def two_currencies() -> EstateBuilder:
    """Plan 5001 (EUR: 10 a seat a month) → 6001 (EUR: 10.50, annual billed monthly); plan 5002 (USD: 120 a
    seat a year, billed yearly) → 6002 (USD: 126 a year); plan 5003 priced in EUR with its add-on in USD."""
    builder = (EstateBuilder()
               .csp_plan(5001).nce_plan(6001)
               .plan(5002, [(BASE, "base")], billing="1 year", periods=("1 year",))
               .plan(6002, [(NCE_BASE, "base")], billing="1 year", periods=("1 year",))
               .csp_plan(5003, addons=(ADDON,)).nce_plan(6101, NCE_ADDON))
    priced(builder, 5001, BASE, "10.00")
    priced(builder, 6001, NCE_BASE, "10.50")
    priced(builder, 5002, BASE, "120.00", "USD")
    priced(builder, 6002, NCE_BASE, "126.00", "USD")
    priced(builder, 5003, BASE, "10.00")
    priced(builder, 5003, ADDON, "4.00", "USD")
    priced(builder, 6101, NCE_ADDON, "4.20", "USD")
    builder.subscription("3000001", 5001, [(BASE, 12)])
    builder.subscription("3000002", 5001, [(BASE, 8)])
    builder.subscription("3000003", 5002, [(BASE, 10)], billing="1 year")
    builder.subscription("3000004", 5003, [(BASE, 2), (ADDON, 3)])
    return builder


def test_each_subscription_shows_its_price_now_and_after_and_the_difference() -> None:
    estate = two_currencies().build()
    plan = plan_migration(estate, MigrationMode.NEW_SUBSCRIPTION)
    report = compare_prices(plan, estate, PlanPrices())
    first = report.of("3000001")
    assert first is not None
    assert first.source_monthly == Money(Decimal("120.00"), "EUR")
    assert first.target_monthly == Money(Decimal("126.00"), "EUR")
    assert first.difference == Money(Decimal("6.00"), "EUR")
    assert first.target_price_from is PriceFrom.PLAN
    assert (first.source_term, first.source_billing, first.target_term, first.target_billing) == ("P1Y", "P1M",
                                                                                                   "P1Y", "P1M")
    assert first.term_changes == (MONTHLY_BILLING_OF_ANNUAL_TERM,)
    yearly = report.of("3000003")
    assert yearly is not None  # billed yearly: 1,200 USD a year is 100 a month, 1,260 is 105
    assert yearly.source_monthly == Money(Decimal(100), "USD") and yearly.difference == Money(Decimal(5), "USD")
    assert yearly.term_changes == ()


def test_totals_are_per_currency_and_never_add_two_currencies() -> None:
    estate = two_currencies().build()
    report = compare_prices(plan_migration(estate, MigrationMode.NEW_SUBSCRIPTION), estate, PlanPrices())
    totals = {t.currency: t for t in report.totals}
    assert set(totals) == {"EUR", "USD"}
    assert (totals["EUR"].subscriptions, totals["EUR"].source_monthly, totals["EUR"].target_monthly) == (
        2, Decimal("200.00"), Decimal("210.00"))
    assert (totals["USD"].subscriptions, totals["USD"].difference) == (1, Decimal(5))
    # 3000004 holds a EUR base and a USD add-on: no price of its own, in no total, counted as unpriced.
    mixed = report.of("3000004")
    assert mixed is not None and mixed.source_monthly is None and mixed.difference is None
    assert report.unpriced == 1


def test_an_unpriced_licence_leaves_the_price_unknown_rather_than_wrong() -> None:
    builder = EstateBuilder().csp_plan(5001).nce_plan(6001).subscription("3000001", 5001, [(BASE, 12)])
    priced(builder, 5001, BASE, "10.00")
    estate = builder.build()
    report = compare_prices(plan_migration(estate, MigrationMode.NEW_SUBSCRIPTION), estate, PlanPrices())
    only = report.of("3000001")
    assert only is not None and only.target_monthly is None and only.difference is None
    assert report.totals == () and report.unpriced == 1
