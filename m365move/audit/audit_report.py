"""An audit: records and platform state in, statuses, counts and findings out.

:func:`build_audit` is pure (records, a platform state, "now"); :func:`run_audit` reads the journals,
results files and platform, then calls it. The runbook, the CLI and the benchmark all go through here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from m365move.audit.connect_checks import ConnectAudit, audit_connect
from m365move.audit.connect_records import ConnectSnapshot
from m365move.audit.findings import Finding, Severity, count_by_code, sort_findings
from m365move.audit.platform_state import PlatformScope, PlatformSource, PlatformState
from m365move.audit.reconciliation import Reconciliation, ReconciliationOptions, reconcile
from m365move.audit.records import TARGET_KINDS, AuditRecords, RunRecord, combine
from m365move.audit.sources import read_journal, read_results_file
from m365move.audit.summary import (
    STATUSES,
    Filters,
    SubscriptionStatus,
    counts_by,
    counts_by_status,
    group_intents,
    ordered_runs,
    progress_points,
    subscription_statuses,
)
from m365move.errors import InputError

# result.json and the CLI's JSON keep this many findings; the CSV files keep them all.
RESULT_FINDINGS_LIMIT = 200


@dataclass(frozen=True)
class AuditOptions:
    run_ids: frozenset[str] | None = None
    filters: Filters = Filters()
    reconciliation: ReconciliationOptions = ReconciliationOptions()


@dataclass(frozen=True)
class AuditReport:
    generated_at: dt.datetime
    sources: tuple[str, ...]
    runs: tuple[RunRecord, ...]
    statuses: dict[str, SubscriptionStatus]
    reconciliation: Reconciliation
    platform_source: str | None
    reseller_names: dict[str, str] = field(default_factory=dict)
    customer_names: dict[str, str] = field(default_factory=dict)
    # The Connect side (CSP assets, purchases, Partner Center), when Connect was audited too.
    connect: ConnectAudit | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Commerce's and Connect's findings together, critical first."""
        if self.connect is None:
            return self.reconciliation.findings
        return tuple(sort_findings(self.reconciliation.findings + self.connect.findings))

    @property
    def audited_platforms(self) -> tuple[str, ...]:
        journals = ("Commerce",) if self.sources else ()
        return journals + (("Connect",) if self.connect is not None else ())

    def status_counts(self) -> dict[str, int]:
        return counts_by_status(self.statuses.values())

    def severity_counts(self) -> dict[str, int]:
        counts = Counter(f.severity.value for f in self.findings)
        return {s.value: counts[s.value] for s in Severity}

    def by_mode(self) -> dict[str, Counter[str]]:
        return counts_by(self.statuses.values(), "mode")

    def by_reseller(self) -> dict[str, Counter[str]]:
        return counts_by(self.statuses.values(), "reseller_id")

    def by_customer(self) -> dict[str, Counter[str]]:
        return counts_by(self.statuses.values(), "customer_id")

    def progress(self) -> list[tuple[dt.datetime, int]]:
        return progress_points(self.statuses.values())

    def reseller_label(self, reseller_id: str | None) -> str:
        name = self.reseller_names.get(reseller_id or "")
        return f"{name} ({reseller_id})" if name else (reseller_id or "(unknown)")

    def customer_label(self, customer_id: str | None) -> str:
        name = self.customer_names.get(customer_id or "")
        return f"{name} ({customer_id})" if name else (customer_id or "(unknown)")

    def result(self, findings_limit: int = RESULT_FINDINGS_LIMIT) -> dict[str, Any]:
        """The machine-readable outcome (the runbook's ``result.json``, ``audit --format json``)."""
        counts = self.status_counts()
        return {
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "sources": list(self.sources),
            "platform": self.platform_source,
            "runs": [r.run_id for r in self.runs],
            "subscriptions": len(self.statuses),
            "summary": {status: counts.get(status, 0) for status in STATUSES} | counts,
            "anomalies": len(self.findings),
            "anomalies_by_severity": self.severity_counts(),
            "anomalies_by_code": count_by_code(self.findings),
            "findings": [f.as_dict() for f in self.findings[:findings_limit]],
            "findings_shown": min(len(self.findings), findings_limit),
            "checks": [{"check": c.name, "checked": c.checked, "anomalies": c.anomalies, "note": c.note}
                       for c in self.reconciliation.checks + (self.connect.checks if self.connect else ())],
            "connect": None if self.connect is None else {
                "source": self.connect.source,
                "assets": len(self.connect.statuses),
                "summary": self.connect.status_counts(),
                "anomalies": len(self.connect.findings),
                "requests": self.connect.requests_made,
            },
        }


def platform_scope(records: AuditRecords) -> PlatformScope:
    """What the platform must tell: the journal's customers, the audited subscriptions, the targets' seats,
    and the seats of every New Subscription source with a completed sales order (grown since? lost seats),
    unless the journal cancelled it and recorded the seats it read right before (``source_seats``)."""
    return PlatformScope(
        customer_ids=frozenset(i.customer_id for i in records.intents),
        subscription_ids=frozenset(r.subscription_id for r in records.results) | {i.subscription_id for i in records.intents},
        target_subscription_ids=frozenset(
            t for i in records.intents if i.kind in TARGET_KINDS and i.completed and (t := i.target_subscription_id)
        ),
        source_subscription_ids=frozenset(
            i.subscription_id for i in records.intents if i.mode == "new-subscription" and i.kind == "sales" and i.completed
        ),
        orders_since=_orders_since(records),
        journaled_cancellations={i.platform_order_id: i.subscription_id for i in records.intents
                                 if i.kind == "cancellation" and i.platform_order_id},
        journaled_source_seats={i.subscription_id: i.source_seats for i in records.intents
                                if i.kind == "cancellation" and i.completed and i.source_seats is not None},
    )


def _orders_since(records: AuditRecords) -> dt.datetime | None:
    """When the first order the journals know of could have been placed: the first run's start or the
    first intent sent, whichever is earlier; None (read every order) when a run's start is unknown."""
    starts = [r.started_at for r in records.runs]
    if not starts or any(t is None for t in starts):
        return None
    sent = [i.placing_at for i in records.intents if i.placing_at is not None]
    return min([t for t in starts if t is not None] + sent)


def build_audit(
    records: AuditRecords, platform: PlatformState | None, now: dt.datetime, options: AuditOptions = AuditOptions(),
    connect: ConnectAudit | None = None,
) -> AuditReport:
    """The whole audit of ``records`` (already read) against ``platform`` (None: journal-only checks), with the
    Connect side already judged (``connect``) when Connect was read too."""
    known_intents = records.intents
    selected = records.select_runs(options.run_ids)
    statuses = subscription_statuses(selected, platform, options.filters)
    runs = tuple(ordered_runs(selected.runs))
    started = [r.started_at for r in runs if r.started_at is not None]
    reconciliation = reconcile(
        group_intents(selected.intents), statuses, platform, now, options.reconciliation,
        known_intents=known_intents,
        orders_since=min(started) - options.reconciliation.clock_skew if started else None,
    )
    return AuditReport(
        generated_at=now, sources=records.sources, runs=runs, statuses=statuses, reconciliation=reconciliation,
        platform_source=platform.source if platform else None,
        reseller_names=dict(platform.resellers) if platform else {},
        customer_names={c.id: c.name for c in platform.customers.values()} if platform else {},
        connect=connect,
    )


def read_records(
    journals: Sequence[str | Path] = (), results_files: Sequence[str | Path] = (), *, connect: bool = False
) -> AuditRecords:
    """The journals' and results files' records; none at all only for a Connect-only audit (``connect``)."""
    if not journals and not results_files:
        if connect:
            return AuditRecords()
        raise InputError("nothing to audit", hint="give at least one journal or results file, or a Connect URL")
    return combine([read_journal(j) for j in journals] + [read_results_file(r) for r in results_files])


def run_audit(
    journals: Sequence[str | Path] = (),
    results_files: Sequence[str | Path] = (),
    platform: PlatformSource | None = None,
    options: AuditOptions = AuditOptions(),
    *,
    now: dt.datetime | None = None,
    connect: ConnectSource | None = None,
) -> AuditReport:
    """Read, then audit; the platform is read once, for the selected runs' customers and targets; Connect (and
    Partner Center) once, in bulk, when ``connect`` is given."""
    records = read_records(journals, results_files, connect=connect is not None)
    _check_runs(records, options.run_ids)
    state = platform.read(platform_scope(records.select_runs(options.run_ids))) if platform and records.sources else None
    moment = now or dt.datetime.now(dt.timezone.utc)
    connect_audit = audit_connect(connect.read(), moment, options.reconciliation.stuck_after) if connect else None
    return build_audit(records, state, moment, options, connect_audit)


class ConnectSource(Protocol):
    def read(self) -> ConnectSnapshot: ...


def _check_runs(records: AuditRecords, run_ids: Collection[str] | None) -> None:
    unknown = sorted(set(run_ids or ()) - {r.run_id for r in records.runs})
    if unknown:
        raise InputError(f"run {', '.join(unknown)} is in none of {', '.join(records.sources)}",
                         hint="`m365move runs list --journal FILE` shows the runs")
