"""A migration plan as report rows and counts: findings, decisions, orders, decisions by reseller.

Pure functions over the domain's plan; the runbooks turn the rows into HTML tables and charts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from m365move.domain.estate import Estate
from m365move.domain.preflight import Finding
from m365move.domain.reasons import Decision
from m365move.domain.subscription_plan import MigrationPlan, SubscriptionPlan
from m365move.runbooks.report_tables import banner, counts_line, key_value_table, shorten

DECISIONS = tuple(decision.value for decision in Decision)  # migrate, skip, blocked
FINDING_HEADERS = ("severity", "code", "subscriptions", "about", "what to do")
DECISION_HEADERS = ("subscription", "reseller", "customer", "decision", "orders or reasons")


def finding_rows(findings: list[Finding]) -> list[tuple[str, str, int, str, str]]:
    """One row per finding, in the preflight's order (errors first, most affected first)."""
    return [
        (f.severity.value, f.code, f.affected_subscriptions, shorten(list(f.subjects)), f.message)
        for f in findings
    ]


def subscription_detail(sub: SubscriptionPlan) -> str:
    """``change → plan 6012 (upgrade-path); migration → plan 6011 (largest-id)`` or the reason codes."""
    if sub.decision is Decision.MIGRATE:
        parts = []
        for order in sub.orders:
            if order.plan_id is None:
                parts.append(order.kind.value)
            else:
                how = f" ({order.choice.value})" if order.choice else ""
                parts.append(f"{order.kind.value} → plan {order.plan_id}{how}")
        return "; ".join(parts)
    return "; ".join(dict.fromkeys(reason.code.value for reason in sub.reasons))


def decision_rows(plan: MigrationPlan, reseller_names: Mapping[str, str] | None = None) -> list[tuple[str, ...]]:
    """One row per subscription: blocked first (they need someone), then migrate, then skip."""
    names = reseller_names or {}
    order = {Decision.BLOCKED: 0, Decision.MIGRATE: 1, Decision.SKIP: 2}
    ordered = sorted(plan.subscriptions, key=lambda s: (order[s.decision], s.subscription_id))
    return [
        (s.subscription_id, _reseller_label(s.reseller_id, names), s.customer_id, s.decision.value,
         subscription_detail(s))
        for s in ordered
    ]


def decisions_by_reseller(
    plan: MigrationPlan, reseller_names: Mapping[str, str] | None = None
) -> dict[str, dict[str, int]]:
    """``{reseller label: {decision: count}}`` for the chart, resellers by id."""
    names = reseller_names or {}
    counts: dict[str, Counter[str]] = {}
    for sub in sorted(plan.subscriptions, key=lambda s: s.reseller_id):
        counts.setdefault(_reseller_label(sub.reseller_id, names), Counter())[sub.decision.value] += 1
    return {label: {d: c.get(d, 0) for d in DECISIONS} for label, c in counts.items()}


def order_counts(plan: MigrationPlan) -> dict[str, int]:
    """How many orders of each kind the plan would place."""
    return dict(sorted(Counter(o.kind.value for s in plan.subscriptions for o in s.orders).items()))


def reseller_names(estate: Estate) -> dict[str, str]:
    return {reseller_id: reseller.name for reseller_id, reseller in estate.resellers.items()}


def plan_summary(plan: MigrationPlan, findings: list[Finding]) -> dict[str, Any]:
    """What a preflight records as its result: the plan's counts (DESIGN §2.4 decisions) and findings."""
    severities = Counter(f.severity.value for f in findings)
    return {
        "mode": plan.mode.value,
        "subscriptions": len(plan.subscriptions),
        "summary": plan.summary(),
        "findings": len(findings),
        "findings_by_severity": {s: severities.get(s, 0) for s in ("error", "warning", "info")},
        "finding_codes": sorted({f.code for f in findings}),
        "orders": order_counts(plan),
    }


def plan_overview(plan: MigrationPlan, findings: list[Finding], source: str) -> str:
    """HTML: a banner with the decision counts (red when something is blocked) and what the plan covers."""
    summary = plan.summary()
    headline = f"{len(plan.subscriptions)} source subscriptions: {counts_line(summary, DECISIONS)}"
    if summary["blocked"]:
        tone, detail = "bad", f"{summary['blocked']} blocked: the findings below say what to fix to unblock them."
    elif summary["migrate"]:
        tone, detail = "good", "Nothing is blocked."
    else:
        tone, detail = "info", "Nothing to migrate."
    errors = sum(1 for f in findings if f.severity.value == "error")
    orders = order_counts(plan)
    facts = {
        "mode": plan.mode.value,
        "subscriptions from": source,
        "findings": f"{len(findings)} ({errors} blocking)",
        "orders to place": counts_line(orders) if orders else "none",
    }
    return banner(headline, detail, tone=tone) + key_value_table(facts)


def _reseller_label(reseller_id: str, names: Mapping[str, str]) -> str:
    name = names.get(reseller_id)
    return f"{name} ({reseller_id})" if name else reseller_id
