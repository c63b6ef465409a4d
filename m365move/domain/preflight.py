"""Preflight findings: the plan's problems aggregated across the estate, with what to do.

Findings are derived from the per-subscription decisions, so a rule lives in one place (the
planners) and the preflight can never disagree with the plan.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from m365move.domain.migration_rules import TERM_ENDS_SOON, TermEnding, term_ending_message, terms_ending_within
from m365move.domain.reasons import Decision, ReasonCode
from m365move.domain.subscription_plan import MigrationPlan
from m365move.memory.cyclic_gc import cyclic_gc_paused


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    subjects: tuple[str, ...]
    affected_subscriptions: int
    message: str


# Account-level problems become one finding per code listing every reseller / customer / subscription.
_ACCOUNT_CODES = {
    ReasonCode.TIER_CONFIG_INCOMPLETE: (
        "resellers", "complete their tier configuration in Connect (the NCE product) before migrating"),
    ReasonCode.MCA_NOT_ACCEPTED: (
        "customers", "have these customers accept the Microsoft Customer Agreement"),
    ReasonCode.INCOMPLETE_ORDER: (
        "subscriptions", "let their open orders finish (or cancel them), then plan again"),
    ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS: (
        "Partner Center migrations or schedules", "they are pending on these legacy subscriptions: wait for them "
        "(`m365move reconcile` lists each), then plan again"),
}


def terms_ending_soon(plan: MigrationPlan, expirations: Iterable[tuple[str, dt.date | None]], *, today: dt.date,
                      days: int) -> list[TermEnding]:
    """The plan's in-scope sources (migrate or blocked) whose legacy term ends from ``today`` to ``today + days``:
    Microsoft migrates those itself at term end unless they are migrated (or scheduled) first."""
    ends = dict(expirations)
    return terms_ending_within(((s.subscription_id, s.customer_id, ends.get(s.subscription_id))
                                for s in plan.subscriptions if s.decision is not Decision.SKIP), today=today, days=days)


def term_ending_finding(soon: list[TermEnding], days: int) -> Finding | None:
    """One warning listing every subscription whose term ends soon (soonest first), None when there is none."""
    if not soon:
        return None
    return Finding(TERM_ENDS_SOON, Severity.WARNING, tuple(t.subscription_id for t in soon), len(soon),
                   term_ending_message(soon, days))


def preflight_findings(plan: MigrationPlan, extra: Iterable[Finding | None] = ()) -> list[Finding]:
    """Errors (blockers), warnings, then info (skip counts); most affected first within each. ``extra``: findings
    not derived from decisions (e.g. ``term_ending_finding``), sorted in with the others."""
    with cyclic_gc_paused():
        return _findings(plan, [f for f in extra if f is not None])


def _findings(plan: MigrationPlan, extra: list[Finding]) -> list[Finding]:
    subjects_by_group: dict[tuple[str, tuple[str, ...]], set[str]] = defaultdict(set)
    affected: dict[tuple[str, tuple[str, ...]], set[str]] = defaultdict(set)
    messages: dict[tuple[str, tuple[str, ...]], str] = {}
    severities: dict[tuple[str, tuple[str, ...]], Severity] = {}
    for sub in plan.subscriptions:
        if sub.decision is Decision.BLOCKED:
            for reason in sub.reasons:
                key = (reason.code.value, () if reason.code in _ACCOUNT_CODES else reason.subject)
                subjects_by_group[key].update(reason.subject)
                affected[key].add(sub.subscription_id)
                messages.setdefault(key, reason.message)
                severities[key] = Severity.ERROR
        elif sub.decision is Decision.SKIP:
            for reason in sub.reasons:
                key = (reason.code.value, ())
                affected[key].add(sub.subscription_id)
                messages.setdefault(key, f"skipped: {reason.code.value} (out of scope by rule)")
                severities[key] = Severity.INFO
        for warning in sub.warnings:
            key = (warning.code.value, (warning.license or "",))
            subjects_by_group[key].add(warning.license or "")
            affected[key].add(sub.subscription_id)
            messages.setdefault(key, warning.message)
            severities[key] = Severity.WARNING
    findings = []
    for key, subs in affected.items():
        code, subject = key
        subjects = tuple(subject) if subject else tuple(sorted(subjects_by_group.get(key, ())))
        message = messages[key]
        account = _ACCOUNT_CODES.get(ReasonCode(code)) if severities[key] is Severity.ERROR else None
        if account is not None:
            noun, todo = account
            message = f"{len(subjects)} {noun} affected: {todo}"
        findings.append(Finding(code, severities[key], subjects, len(subs), message))
    findings.extend(extra)
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    findings.sort(key=lambda f: (order[f.severity], -f.affected_subscriptions, f.code, f.subjects))
    return findings
