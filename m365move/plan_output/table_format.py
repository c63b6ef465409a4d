"""A readable plan summary for people: counts, findings with what to do, a sample of decisions."""

from __future__ import annotations

from collections import Counter

from m365move.domain.preflight import Finding
from m365move.domain.price_comparison import PriceReport, SubscriptionPricing
from m365move.domain.reasons import Decision
from m365move.domain.subscription_plan import MigrationPlan
from m365move.text.terminal_text import visible, visible_lines

SAMPLE_ROWS = 20


def render_plan_table(plan: MigrationPlan, findings: list[Finding], prices: PriceReport | None = None) -> str:
    summary = plan.summary()
    lines = [
        f"Plan ({plan.mode.value}): {len(plan.subscriptions)} source subscriptions: "
        f"{summary['migrate']} migrate, {summary['skip']} skip, {summary['blocked']} blocked",
        "",
    ]
    problems = [f for f in findings if f.severity.value != "info"]
    if problems:
        lines.append("Findings (fix the errors to unblock subscriptions):")
        for f in problems:
            subjects = ", ".join(visible(s) for s in f.subjects[:6])
            subjects += f" (+{len(f.subjects) - 6} more)" if len(f.subjects) > 6 else ""
            lines.append(f"  {f.severity.value.upper():7} {f.code:30} {f.affected_subscriptions:>7} subs  {subjects}")
            lines.append(f"          {visible(f.message)}")
        lines.append("")
    skipped = Counter(r.code.value for s in plan.subscriptions if s.decision is Decision.SKIP for r in s.reasons)
    if skipped:
        lines.append("Skipped by rule: " + ", ".join(f"{code} {n}" for code, n in sorted(skipped.items())))
        lines.append("")
    orders = Counter(o.kind.value for s in plan.subscriptions for o in s.orders)
    if orders:
        lines.append("Orders to place: " + ", ".join(f"{n} {kind}" for kind, n in sorted(orders.items())))
        lines.append("")
    if prices is not None:
        lines.extend(_price_totals(prices))
    price_header = f"  {'per month: now':>16}  {'after':>16}  {'difference':>11}  {'term':9}" if prices else ""
    header = f"  {'subscription':>14}  {'reseller':>10}  {'decision':8}{price_header}  detail"
    lines.append(f"First {min(SAMPLE_ROWS, len(plan.subscriptions))} subscriptions:")
    lines.append(header)
    for sub in plan.subscriptions[:SAMPLE_ROWS]:
        if sub.decision is Decision.MIGRATE:
            detail = ", ".join(
                f"{o.kind.value}→{o.plan_id} ({o.choice.value if o.choice else ''})" if o.plan_id else o.kind.value
                for o in sub.orders
            )
        else:
            detail = ", ".join(r.code.value for r in sub.reasons)
        price = _price_cells(prices.of(sub.subscription_id)) if prices is not None else ""
        lines.append(f"  {visible(sub.subscription_id):>14}  {visible(sub.reseller_id):>10}  {sub.decision.value:8}"
                     f"{price}  {detail}")
    # Names and ids were made visible one by one above; this catches anything else that reached a line.
    return visible_lines("\n".join(lines)) + "\n"


def _price_totals(prices: PriceReport) -> list[str]:
    """Totals per currency (never added across currencies), then how many migrating subscriptions had no price."""
    lines = ["Price per month of the migrating subscriptions (now → after migration, per currency):"]
    for total in prices.totals:
        lines.append(f"  {total.currency}  {total.source_monthly:>14,.2f} → {total.target_monthly:>14,.2f}  "
                     f"difference {total.difference:+,.2f}  ({total.subscriptions} subscriptions)")
    if not prices.totals:
        lines.append("  no migrating subscription has both prices")
    if prices.unpriced:
        lines.append(f"  {prices.unpriced} migrating subscriptions without a comparable price (a price unknown, "
                     "or two currencies)")
    lines.append("")
    return lines


def _price_cells(pricing: SubscriptionPricing | None) -> str:
    if pricing is None:
        return f"  {'':>16}  {'':>16}  {'':>11}  {'':9}"
    source, target, difference = pricing.source_monthly, pricing.target_monthly, pricing.difference
    now = f"{source.amount:,.2f} {source.currency}" if source else "?"
    after = f"{target.amount:,.2f} {target.currency}" if target else ("?" if pricing.target_term else "-")
    change = f"{difference.amount:+,.2f}" if difference else ""
    term = f"{pricing.source_term}→{pricing.target_term}" if pricing.target_term else pricing.source_term
    return f"  {now:>16}  {after:>16}  {change:>11}  {term:9}"
