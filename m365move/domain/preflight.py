"""Preflight findings: the plan's problems aggregated across the estate, with what to do.

Findings are derived from the per-subscription decisions, so a rule lives in one place (the
planners) and the preflight can never disagree with the plan.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import Enum

from m365move.domain.gc_pause import cyclic_gc_paused
from m365move.domain.reasons import Decision, ReasonCode
from m365move.domain.subscription_plan import MigrationPlan


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
}


def preflight_findings(plan: MigrationPlan) -> list[Finding]:
    """Errors (blockers), warnings, then info (skip counts); most affected first within each."""
    with cyclic_gc_paused():
        return _findings(plan)


def _findings(plan: MigrationPlan) -> list[Finding]:
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
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    findings.sort(key=lambda f: (order[f.severity], -f.affected_subscriptions, f.code, f.subjects))
    return findings
