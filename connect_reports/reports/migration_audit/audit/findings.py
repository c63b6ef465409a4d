# Copied from m365move/audit/findings.py by `python -m m365move.audit.report_copy`: edit the original, not this.
"""Audit findings: one anomaly each, with its code, severity, the ids involved and what to do.

Codes (keep these exact strings; reviewers and scripts filter on them):

=====================================  ========  ==============================================================
code                                   severity  when
=====================================  ========  ==============================================================
``cancelled-before-targets-completed`` critical  a source was cancelled while one of its targets had not completed
``duplicate-target``                   critical  one licence of one source has two live targets (orders or modes)
``seat-mismatch``                      critical  a migrated licence's NCE seats differ from its CSP seats
``target-missing``                     critical  a completed target subscription is not on the platform
``orphan-target``                      warning   a sales/migration order no journaled source accounts for
``stuck-migration``                    warning   still ``partially-migrated`` or ``pending`` after the threshold
``microsoft-led-duplicate``            critical  Connect: Microsoft migrated a legacy subscription we migrated too
``approved-migration-failed``          critical  Connect: a purchase was approved but its Partner Center migration failed
=====================================  ========  ==============================================================

The first six mean the same for Commerce (journals) and Connect (requests and Partner Center migrations).

Copied into the Connect report (``connect_reports/``, Python 3.8, standard library only; see ``connect_model``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


class AnomalyCode(str, Enum):
    CANCELLED_BEFORE_TARGETS_COMPLETED = "cancelled-before-targets-completed"
    DUPLICATE_TARGET = "duplicate-target"
    SEAT_MISMATCH = "seat-mismatch"
    TARGET_MISSING = "target-missing"
    ORPHAN_TARGET = "orphan-target"
    STUCK_MIGRATION = "stuck-migration"
    MICROSOFT_LED_DUPLICATE = "microsoft-led-duplicate"
    APPROVED_MIGRATION_FAILED = "approved-migration-failed"


@dataclass(frozen=True)
class CodeDescription:
    severity: Severity
    meaning: str
    action: str


CODES: Mapping[AnomalyCode, CodeDescription] = {
    AnomalyCode.CANCELLED_BEFORE_TARGETS_COMPLETED: CodeDescription(
        Severity.CRITICAL,
        "the source was cancelled while a target order had not completed: the customer may be without service",
        "complete the missing targets now (m365move resume, or place them by hand); if they cannot be completed, "
        "reinstate the source within 7 days (NCE cancellations become irreversible)",
    ),
    AnomalyCode.DUPLICATE_TARGET: CodeDescription(
        Severity.CRITICAL,
        "one licence of one source has two live targets: the customer is billed twice",
        "keep the target the journal records and cancel the other one",
    ),
    AnomalyCode.SEAT_MISMATCH: CodeDescription(
        Severity.CRITICAL,
        "the NCE subscription does not hold as many seats as the CSP licence it replaces",
        "correct the NCE quantity with the reseller, or record why it was changed",
    ),
    AnomalyCode.TARGET_MISSING: CodeDescription(
        Severity.CRITICAL,
        "the journal records a completed target subscription the platform does not list",
        "look the subscription up in Commerce; re-run the migration for this source if it is gone",
    ),
    AnomalyCode.ORPHAN_TARGET: CodeDescription(
        Severity.WARNING,
        "a sales or migration order was placed for an audited customer outside this journal",
        "find who placed it; if it duplicates a migration, cancel it, otherwise note it in the sign-off",
    ),
    AnomalyCode.STUCK_MIGRATION: CodeDescription(
        Severity.WARNING,
        "the source is still partially migrated or pending",
        "resume the run with m365move resume, or fix the failed order, then audit again",
    ),
    AnomalyCode.MICROSOFT_LED_DUPLICATE: CodeDescription(
        Severity.CRITICAL,
        "Microsoft migrated the legacy subscription itself while our purchase or migration for it stands: two NCE "
        "subscriptions for one CSP item",
        "keep Microsoft's new-commerce subscription; fail our purchase if it is still pending, else cancel our NCE "
        "subscription within 7 days of its purchase (NCE cancellations become irreversible) and record it",
    ),
    AnomalyCode.APPROVED_MIGRATION_FAILED: CodeDescription(
        Severity.CRITICAL,
        "the NCE purchase was approved (an NCE asset bills) but Partner Center's migration of the legacy "
        "subscription failed: no new-commerce subscription stands behind it",
        "do not cancel the CSP asset; check the migration in Partner Center: retry it while the legacy subscription "
        "is active, or suspend the NCE asset until it completes",
    ),
}


@dataclass(frozen=True)
class Finding:
    """One anomaly: what (code), how bad, which subscription/customer/reseller, the ids involved, what to do."""

    code: AnomalyCode
    message: str
    subscription_id: str | None = None
    customer_id: str | None = None
    reseller_id: str | None = None
    ids: Mapping[str, str] = field(default_factory=dict)
    # What to do when this case needs other advice than its code's (e.g. never "reinstate" a source whose
    # targets completed since); None: the code's action.
    advice: str | None = None
    # Where it was found: "Commerce" (journals against SimpleAPI) or "Connect" (requests and Partner Center).
    platform: str = "Commerce"

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    @property
    def action(self) -> str:
        return self.advice or CODES[self.code].action

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code.value, "severity": self.severity.value, "subscription_id": self.subscription_id,
            "customer_id": self.customer_id, "reseller_id": self.reseller_id, "ids": dict(self.ids),
            "message": self.message, "action": self.action, "platform": self.platform,
        }


@dataclass(frozen=True)
class CheckOutcome:
    """One check: how many items it looked at, how many anomalies it found, and what it could not check."""

    name: str
    checked: int
    anomalies: int
    note: str = ""


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Critical first, then by code and subscription, so the same audit always lists them alike."""
    return sorted(findings, key=lambda f: (f.severity.rank, f.code.value, f.subscription_id or "", f.message))


def count_by_code(findings: Iterable[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.code.value] = counts.get(finding.code.value, 0) + 1
    return counts
