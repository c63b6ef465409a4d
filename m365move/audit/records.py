"""What an audit reads from journals and results files, as plain values (no SQLAlchemy, no files).

One journal or results file gives one :class:`AuditRecords`; several combine into one. Times are
timezone-aware UTC; a results file has no intents and no times, so the checks that need them skip it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

TARGET_KINDS = frozenset({"sales", "migration", "change"})
# Kinds whose completed order creates a new subscription (a change order switches the source itself).
CREATING_KINDS = frozenset({"sales", "migration"})
_PO_NUMBER = re.compile(r"^M365MOVE-(NS|SP)-(.+?)-(sales|change|migration|cancellation)-(.+?)(?:-A(\d+))?$")


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    mode: str
    dry_run: bool | None  # None: a results file does not say
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    user: str | None
    host: str | None
    parameters: dict[str, Any]
    summary: dict[str, int]
    source: str


@dataclass(frozen=True, slots=True)
class IntentRecord:
    """One journaled order intent (see ``execution/intents.py``), with its timings."""

    key: str
    mode: str
    subscription_id: str
    customer_id: str
    reseller_id: str
    seq: int
    kind: str
    license: str | None
    nce_license: str | None
    quantity: int | None
    state: str
    platform_order_id: str | None
    platform_status: str | None
    created_subscription_id: str | None
    attempt: int
    placing_at: dt.datetime | None
    placed_at: dt.datetime | None
    finished_at: dt.datetime | None
    first_run_id: str
    last_run_id: str
    # The platform's own words when it refused the order or the order ended in error (journals written before
    # the column existed: None), and why a second-phase order is held back (e.g. seat-count-changed).
    failure_message: str | None = None
    hold_reason: str | None = None
    # A cancellation the journal placed: the source's seats the executor read right before placing it,
    # (licence, seats) pairs (journals written before the column existed, or a cancellation not checked: None).
    source_seats: tuple[tuple[str, int], ...] | None = None

    @property
    def completed(self) -> bool:
        return self.state == "final" and self.platform_status == "completed"

    @property
    def failed(self) -> bool:
        return self.state == "final" and self.platform_status != "completed"

    @property
    def po_numbers(self) -> tuple[str, ...]:
        """Every poNumber this intent's attempts carried (attempt n > 1 appends ``-A<n>``)."""
        return (self.key,) + tuple(f"{self.key}-A{n}" for n in range(2, self.attempt + 1))

    @property
    def target_subscription_id(self) -> str | None:
        """The subscription holding the NCE seats: the one created, or the source a change order switched."""
        if self.kind == "change":
            return self.subscription_id if self.completed else None
        return self.created_subscription_id

    @property
    def last_activity(self) -> dt.datetime | None:
        times = [t for t in (self.placing_at, self.placed_at, self.finished_at) if t is not None]
        return max(times) if times else None


@dataclass(frozen=True, slots=True)
class ResultRecord:
    run_id: str
    subscription_id: str
    mode: str
    decision: str
    final_status: str
    reasons: str
    order_ids: tuple[str, ...] = ()
    failure_message: str = ""


@dataclass(frozen=True)
class AuditRecords:
    runs: tuple[RunRecord, ...] = ()
    intents: tuple[IntentRecord, ...] = ()
    results: tuple[ResultRecord, ...] = ()
    sources: tuple[str, ...] = field(default=())

    def select_runs(self, run_ids: Collection[str] | None) -> AuditRecords:
        """Only the given runs, their results, and the intents of every subscription they touched."""
        if not run_ids:
            return self
        wanted = set(run_ids)
        results = tuple(r for r in self.results if r.run_id in wanted)
        touched = {r.subscription_id for r in results}
        touched |= {i.subscription_id for i in self.intents if i.first_run_id in wanted or i.last_run_id in wanted}
        return AuditRecords(
            runs=tuple(r for r in self.runs if r.run_id in wanted),
            intents=tuple(i for i in self.intents if i.subscription_id in touched),
            results=results,
            sources=self.sources,
        )


def combine(parts: Iterable[AuditRecords]) -> AuditRecords:
    """Several journals/results files as one; a run or intent key met twice is kept once (the first)."""
    runs: dict[str, RunRecord] = {}
    intents: dict[str, IntentRecord] = {}
    results: dict[tuple[str, str], ResultRecord] = {}
    sources: list[str] = []
    for part in parts:
        for run in part.runs:
            runs.setdefault(run.run_id, run)
        for intent in part.intents:
            intents.setdefault(intent.key, intent)
        for result in part.results:
            results.setdefault((result.run_id, result.subscription_id), result)
        sources.extend(part.sources)
    return AuditRecords(tuple(runs.values()), tuple(intents.values()), tuple(results.values()), tuple(sources))


@dataclass(frozen=True, slots=True)
class OrderKey:
    """What a poNumber written by m365move says: mode tag, source subscription, order kind, licence, attempt."""

    mode_tag: str
    subscription_id: str
    kind: str
    license: str
    attempt: int


def parse_po_number(po_number: str | None) -> OrderKey | None:
    """The parts of an m365move poNumber; None for any other poNumber (an order placed by someone else)."""
    if not po_number:
        return None
    match = _PO_NUMBER.match(po_number)
    if match is None:
        return None
    tag, subscription_id, kind, license, attempt = match.groups()
    return OrderKey(tag, subscription_id, kind, license, int(attempt) if attempt else 1)


def parse_time(text: str | None) -> dt.datetime | None:
    """An ISO timestamp as UTC; naive ones are taken as UTC (the journal writes UTC)."""
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
