"""Where every audited subscription stands, and the counts a reviewer reads first.

A subscription's audit status comes from its journaled intents when it has any (the journal is the
truth, as in ``execution/final_status.py``); otherwise from its row in the latest executed run, or,
failing that, the latest dry run, where a subscription that would migrate reads ``not-executed``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from m365move.audit.platform_state import PlatformState
from m365move.audit.records import AuditRecords, IntentRecord, ResultRecord, RunRecord

# Executive-summary order; "not-executed" is the audit's own: planned in a dry run only.
STATUSES = ("migrated", "partially-migrated", "failed", "pending", "blocked", "skipped", "not-executed")
UNFINISHED = frozenset({"partially-migrated", "pending"})
UNKNOWN = "(unknown)"


@dataclass(frozen=True, slots=True)
class SubscriptionStatus:
    subscription_id: str
    mode: str
    status: str
    customer_id: str | None
    reseller_id: str | None
    last_run_id: str | None
    reasons: str
    last_activity: dt.datetime | None  # latest order step or run end: when it started waiting
    completed_at: dt.datetime | None  # when its last order completed (migrated only)
    orders: int
    # The platform's own words for each failed order ("sales <licence>: ..."), from the journal or results file.
    failure_message: str = ""


@dataclass(frozen=True)
class Filters:
    reseller_ids: frozenset[str] | None = None
    customer_ids: frozenset[str] | None = None

    def keeps(self, status: SubscriptionStatus) -> bool:
        return (self.reseller_ids is None or status.reseller_id in self.reseller_ids) and (
            self.customer_ids is None or status.customer_id in self.customer_ids
        )


def status_from_intents(intents: Sequence[IntentRecord]) -> str:
    """The run's final-status rule (``execution/final_status.py``) over journaled intent records.

    Judged from the final state across modes: a source whose every order of one mode completed is migrated,
    whatever a later run in the other mode (say, from a stale estate) left behind; that run's refused
    orders are not unfinished work.
    """
    if completed_mode(intents):
        return "migrated"
    if any(i.failed for i in intents):
        return "partially-migrated" if any(i.platform_order_id for i in intents) else "failed"
    return "pending"


def completed_mode(intents: Sequence[IntentRecord]) -> str | None:
    """The mode whose every journaled order completed (the one that migrated the source), if any."""
    modes: dict[str, bool] = {}
    for intent in intents:
        modes[intent.mode] = modes.get(intent.mode, True) and intent.completed
    return next((mode for mode, done in modes.items() if done), None)


def failure_messages(intents: Iterable[IntentRecord]) -> str:
    """Why each failed order failed, in the platform's words: ``<kind> <licence>: <message>`` joined by `` | ``."""
    return " | ".join(f"{i.kind} {i.license or 'SOURCE'}: {i.failure_message}" for i in intents
                      if i.failed and i.failure_message)


def group_intents(intents: Iterable[IntentRecord]) -> dict[str, list[IntentRecord]]:
    grouped: defaultdict[str, list[IntentRecord]] = defaultdict(list)
    for intent in intents:
        grouped[intent.subscription_id].append(intent)
    for found in grouped.values():
        found.sort(key=lambda i: (i.mode, i.seq))
    return dict(grouped)


def subscription_statuses(
    records: AuditRecords, platform: PlatformState | None = None, filters: Filters = Filters()
) -> dict[str, SubscriptionStatus]:
    """Every audited subscription's status, keyed by id, in id order."""
    runs = {r.run_id: r for r in records.runs}
    by_sub = group_intents(records.intents)
    latest = _latest_rows(records.results, runs)
    statuses: dict[str, SubscriptionStatus] = {}
    for sub_id in sorted(by_sub.keys() | latest.keys(), key=_id_order):
        intents = by_sub.get(sub_id)
        row = latest.get(sub_id)
        customer, reseller = _owner(sub_id, intents, platform)
        if intents:
            status = status_from_intents(intents)
            activity = [t for t in (i.last_activity for i in intents) if t is not None]
            finished = [i.finished_at for i in intents if i.finished_at is not None]
            last = max(intents, key=lambda i: i.last_activity or dt.datetime.min.replace(tzinfo=dt.timezone.utc))
            entry = SubscriptionStatus(
                sub_id, completed_mode(intents) or last.mode, status, customer, reseller, last.last_run_id,
                row.reasons if row else "",
                max(activity) if activity else None,
                max(finished) if status == "migrated" and finished else None, len(intents),
                failure_messages(intents) or (row.failure_message if row else ""),
            )
        else:
            assert row is not None
            run = runs.get(row.run_id)
            status = row.final_status
            if run is not None and run.dry_run and status == "pending":
                status = "not-executed"
            entry = SubscriptionStatus(sub_id, row.mode, status, customer, reseller, row.run_id, row.reasons,
                                       run.finished_at if run else None, None, len(row.order_ids), row.failure_message)
        if filters.keeps(entry):
            statuses[sub_id] = entry
    return statuses


def counts_by_status(statuses: Iterable[SubscriptionStatus]) -> dict[str, int]:
    counts = Counter(s.status for s in statuses)
    return {status: counts[status] for status in STATUSES if counts[status]} | {
        s: n for s, n in counts.items() if s not in STATUSES
    }


def counts_by(statuses: Iterable[SubscriptionStatus], attribute: str) -> dict[str, Counter[str]]:
    """Status counts per mode / reseller_id / customer_id (missing ones under ``(unknown)``)."""
    grouped: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for status in statuses:
        grouped[getattr(status, attribute) or UNKNOWN][status.status] += 1
    return dict(grouped)


def progress_points(statuses: Iterable[SubscriptionStatus]) -> list[tuple[dt.datetime, int]]:
    """Cumulative migrated subscriptions over time: (completion time, migrated so far)."""
    times = sorted(s.completed_at for s in statuses if s.completed_at is not None)
    return [(t, n) for n, t in enumerate(times, start=1)]


def ordered_runs(runs: Iterable[RunRecord]) -> list[RunRecord]:
    return sorted(runs, key=lambda r: (r.started_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc), r.run_id))


def _latest_rows(results: Iterable[ResultRecord], runs: Mapping[str, RunRecord]) -> dict[str, ResultRecord]:
    """Per subscription, its row in the latest executed run, else in the latest run of any kind."""
    order = {r.run_id: n for n, r in enumerate(ordered_runs(runs.values()))}
    best: dict[str, tuple[tuple[int, int], ResultRecord]] = {}
    for row in results:
        run = runs.get(row.run_id)
        rank = (0 if run is not None and run.dry_run else 1, order.get(row.run_id, -1))
        held = best.get(row.subscription_id)
        if held is None or rank > held[0]:
            best[row.subscription_id] = (rank, row)
    return {sub: row for sub, (_, row) in best.items()}


def _owner(
    sub_id: str, intents: Sequence[IntentRecord] | None, platform: PlatformState | None
) -> tuple[str | None, str | None]:
    if intents:
        return intents[0].customer_id, intents[0].reseller_id
    if platform is None:
        return None, None
    subscription = platform.subscriptions.get(sub_id)
    customer_id = subscription.customer_id if subscription else None
    customer = platform.customers.get(customer_id or "")
    return customer_id, customer.reseller_id if customer else None


def _id_order(text: str) -> tuple[int, str]:
    return (int(text), text) if text.isdigit() else (1 << 62, text)
