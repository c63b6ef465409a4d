"""A readable plan summary for people: counts, findings with what to do, a sample of decisions."""

from __future__ import annotations

from collections import Counter

from m365move.domain.preflight import Finding
from m365move.domain.reasons import Decision
from m365move.domain.subscription_plan import MigrationPlan
from m365move.text.terminal_text import visible, visible_lines

SAMPLE_ROWS = 20


def render_plan_table(plan: MigrationPlan, findings: list[Finding]) -> str:
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
    header = f"  {'subscription':>14}  {'reseller':>10}  {'decision':8}  detail"
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
        lines.append(f"  {visible(sub.subscription_id):>14}  {visible(sub.reseller_id):>10}  {sub.decision.value:8}  {detail}")
    # Names and ids were made visible one by one above; this catches anything else that reached a line.
    return visible_lines("\n".join(lines)) + "\n"
