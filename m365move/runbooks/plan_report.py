"""A migration plan as report rows and counts: findings, decisions, orders, decisions by reseller.

Pure functions over the domain's plan; the runbooks turn the rows into HTML tables and charts. At
100,000 subscriptions a plan has tens of thousands of findings: the report shows them rolled up by code
and the most affected ones, and the run folder keeps every one as CSV (``findings.csv``, ``plan.csv``),
linked from the tables. Charts show the largest resellers; the others are listed in a table under the chart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from m365move.domain.estate import Estate
from m365move.domain.migration_rules import TermEnding
from m365move.domain.preflight import Finding
from m365move.domain.price_comparison import PriceReport
from m365move.domain.reasons import Decision
from m365move.domain.subscription_plan import MigrationPlan, SubscriptionPlan
from m365move.files.atomic_files import atomic_writer
from m365move.files.spreadsheet_csv import FormulaSafeDictWriter
from m365move.plan_output.csv_format import write_plan_csv
from m365move.rendering.report_tables import banner, counts_line, key_value_table, shorten
from m365move.text.markup_escaping import html_text

DECISIONS = tuple(decision.value for decision in Decision)  # migrate, skip, blocked
FINDING_HEADERS = ("severity", "code", "subscriptions", "about", "what to do")
DECISION_HEADERS = ("subscription", "reseller", "customer", "decision", "orders or reasons")


ROLLUP_HEADERS = ("severity", "code", "findings", "subscriptions", "for example", "what to do")
TERM_END_HEADERS = ("subscription", "customer", "term ends", "days left")
CHART_RESELLERS = 25  # bars in the decisions chart; the other resellers are listed in a table under it


def finding_rollup_rows(findings: list[Finding]) -> list[tuple[str, str, int, int, str, str]]:
    """One row per (severity, code): how many findings and subscriptions, the most affected subjects."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:  # already errors first, most affected first
        groups.setdefault((finding.severity.value, finding.code), []).append(finding)
    return [
        (severity, code, len(group), sum(f.affected_subscriptions for f in group),
         shorten([s for f in group[:3] for s in f.subjects], limit=4), group[0].message)
        for (severity, code), group in groups.items()
    ]


def write_findings_csv(findings: list[Finding], path: str | Path) -> Path:
    """Every finding, one per row (the report shows them rolled up)."""
    target = Path(path)
    with atomic_writer(target, newline="") as handle:
        writer = FormulaSafeDictWriter(handle, fieldnames=("severity", "code", "subscriptions", "subjects", "message"),
                                       lineterminator="\n")
        writer.writeheader()
        writer.writerows({"severity": f.severity.value, "code": f.code, "subscriptions": str(f.affected_subscriptions),
                          "subjects": ";".join(f.subjects), "message": f.message} for f in findings)
    return target


def write_plan_file(plan: MigrationPlan, path: str | Path, prices: PriceReport | None = None) -> Path:
    """The whole plan as CSV (``m365move plan --format csv``), every subscription; with ``prices``, its price and
    term columns too."""
    target = Path(path)
    with atomic_writer(target, newline="") as handle:
        write_plan_csv(plan, handle, prices)
    return target


def file_link(name: str, what: str) -> str:
    """A line linking a file of the run folder (the report sits in the same folder)."""
    return f'<p>{html_text(what)}: <a href="{html_text(name)}">{html_text(name)}</a></p>'


def term_ending_rows(ending: list[TermEnding]) -> list[tuple[str, str, str, int]]:
    """The legacy subscriptions whose term ends soon, soonest first: Microsoft migrates them itself at term end."""
    return [(t.subscription_id, t.customer_id, t.term_end.isoformat(), t.days_left) for t in ending]


def finding_rows(findings: list[Finding]) -> list[tuple[str, str, int, str, str]]:
    """One row per finding, in the preflight's order (errors first, most affected first)."""
    return [
        (f.severity.value, f.code, f.affected_subscriptions, shorten(list(f.subjects)), f.message)
        for f in findings
    ]


def subscription_detail(sub: SubscriptionPlan, plan_names: Mapping[int, str] | None = None) -> str:
    """``change → plan 6012 M365 E3 (NCE) (upgrade-path); migration → …`` or the reason codes."""
    names = plan_names or {}
    if sub.decision is Decision.MIGRATE:
        parts = []
        for order in sub.orders:
            if order.plan_id is None:
                parts.append(order.kind.value)
            else:
                how = f" ({order.choice.value})" if order.choice else ""
                name = f" {names[order.plan_id]}" if names.get(order.plan_id) else ""
                parts.append(f"{order.kind.value} → plan {order.plan_id}{name}{how}")
        return "; ".join(parts)
    return "; ".join(dict.fromkeys(reason.code.value for reason in sub.reasons))


def decision_rows(plan: MigrationPlan, reseller_names: Mapping[str, str] | None = None,
                  estate: Estate | None = None, limit: int | None = None) -> list[tuple[str, ...]]:
    """One row per subscription: blocked first (they need someone), then migrate, then skip; customers and
    plans named when the estate is given. ``limit`` rows at most (the CSV has them all)."""
    names = reseller_names or {}
    customers = {c: customer.name for c, customer in estate.customers.items()} if estate else {}
    plans = {p.id: p.name for p in estate.catalog} if estate else {}
    order = {Decision.BLOCKED: 0, Decision.MIGRATE: 1, Decision.SKIP: 2}
    ordered = sorted(plan.subscriptions, key=lambda s: (order[s.decision], s.subscription_id))
    if limit:
        ordered = ordered[:limit]
    return [
        (s.subscription_id, _reseller_label(s.reseller_id, names), _reseller_label(s.customer_id, customers),
         s.decision.value, subscription_detail(s, plans))
        for s in ordered
    ]


def decisions_by_reseller(
    plan: MigrationPlan, reseller_names: Mapping[str, str] | None = None, *, top: int | None = None
) -> dict[str, dict[str, int]]:
    """``{reseller label: {decision: count}}`` for the chart, resellers by id; with ``top``, only the ``top``
    resellers with most subscriptions (blocked ones first): the others go to a table (``other_resellers``),
    never into one bar that would dwarf every named one."""
    counts = _counts_by_reseller(plan, reseller_names or {})
    if top is not None and len(counts) > top:
        counts = {label: counts[label] for label in _ranked(counts)[:top]}
    return {label: {d: c.get(d, 0) for d in DECISIONS} for label, c in counts.items()}


OTHER_RESELLER_HEADERS = ("reseller", *DECISIONS, "subscriptions")


def other_resellers(
    plan: MigrationPlan, reseller_names: Mapping[str, str] | None = None, *, top: int
) -> list[tuple[str | int, ...]]:
    """The resellers beyond the chart's ``top``, in the same order, as table rows with their decision counts."""
    counts = _counts_by_reseller(plan, reseller_names or {})
    if len(counts) <= top:
        return []
    return [(label, *(counts[label].get(d, 0) for d in DECISIONS), sum(counts[label].values()))
            for label in _ranked(counts)[top:]]


def _counts_by_reseller(plan: MigrationPlan, names: Mapping[str, str]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for sub in sorted(plan.subscriptions, key=lambda s: s.reseller_id):
        counts.setdefault(_reseller_label(sub.reseller_id, names), Counter())[sub.decision.value] += 1
    return counts


def _ranked(counts: Mapping[str, Counter[str]]) -> list[str]:
    """Most blocked first, then most subscriptions, then by label."""
    return sorted(counts, key=lambda label: (-counts[label]["blocked"], -sum(counts[label].values()), label))


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
