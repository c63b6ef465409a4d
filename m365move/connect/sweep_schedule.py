"""One execution of the scheduled sweep: chunk after chunk within a time budget, not a chain of self-triggered tasks.

Each execution of the sweep's schedule works through chunks of CSP assets (``SweepParameters.chunk_size``, oldest
``created`` first) until the pass is finished or its time budget is spent: the budget is the runner's limit for a
scheduled task (12 h) less a reserve (``task_deadline``), and a chunk is started only when the time left holds
twice the longest chunk so far. Nothing depends on Connect accepting a change to the schedule:

- **Where to start** is where the platform says the work is. Assets already swept have their purchases (or their
  cancel) in Connect; sweeping them again creates nothing and costs one read per page. So an execution that cannot
  resume from a stored position starts from the oldest asset and still reaches every one, faster each time.
- **The stored position** (``progress`` in the schedule's own parameter, ``PUT …/schedules/{id}``) only saves that
  re-reading after an execution that ran out of budget; a refused update (403: the key may not change schedules)
  is logged once as a warning and said in the execution's output, and the sweep goes on.
- **The next execution** of an unfinished pass is asked for (``POST …/schedules/{id}/trigger``) only when the
  budget ended the execution; a refused trigger is said the same way, and the schedule's next recurrence continues.

Duplicates. A second delivery of an execution in this process (a redelivered task) waits on the schedule's lock
and then finds the stored position moved: it ends without sweeping. Another process sweeping at the same time is
not held by that lock; its creates are settled by ``purchase_marker`` (the younger duplicate is failed before any
approval).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connect.client import ConnectClient

from m365move.connect.client import with_retries
from m365move.connect.payloads import Json
from m365move.connect.request_creation import Settle
from m365move.connect.settings import ExtensionSettings
from m365move.connect.source_locks import source_lock
from m365move.connect.sweep import SweepParameters, SweepReport, sweep_chunk
from m365move.connect.sweep_cursor import SweepCursor
from m365move.connect.sweep_log import log_chunk
from m365move.connect.task_deadline import TaskDeadline
from m365move.errors import AuthenticationError, PlatformError
from m365move.partnercenter.client import PartnerCenterClient
from m365move.text.url_path import segment

PROGRESS_KEY = "progress"


@dataclass(frozen=True, slots=True)
class ScheduleRef:
    """Where the sweep's schedule lives in Connect's DevOps API."""

    extension_id: str
    environment_id: str
    schedule_id: str

    @property
    def path(self) -> str:
        return (f"devops/services/{segment(self.extension_id)}/environments/{segment(self.environment_id)}"
                f"/schedules/{segment(self.schedule_id)}")


@dataclass
class ExecutionOutcome:
    """One execution: what its chunks did, where the pass stands, and what Connect refused along the way."""

    report: SweepReport | None  # None: another delivery had swept from this position already
    cursor: SweepCursor
    chunks: int = 0
    triggered: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        c = self.cursor
        if self.report is None:
            return f"the pass started {c.pass_started} had moved on since this execution was delivered; nothing to do"
        if c.finished:
            state = "pass finished"
        else:
            state = "time budget spent; " + ("next execution triggered" if self.triggered
                                             else "the next execution continues")
        text = (f"{self.chunks} chunk(s), {len(self.report.outcomes)} CSP assets {self.report.counts()}, "
                f"{self.report.created} requests created"
                + (f", {len(self.report.duplicates_failed)} duplicate purchases failed"
                   if self.report.duplicates_failed else "")
                + f"; {c.swept} assets and {c.created_requests} requests in the pass started {c.pass_started}; {state}")
        return "; ".join([text, *self.warnings])


def cursor_of(schedule: Mapping[str, Any]) -> SweepCursor:
    parameter = schedule.get("parameter")
    return SweepCursor.from_json(parameter.get(PROGRESS_KEY) if isinstance(parameter, Mapping) else None)


def run_execution(client: ConnectClient, settings: ExtensionSettings, delivered: Mapping[str, Any],
                  ref: ScheduleRef | None, logger: logging.Logger | logging.LoggerAdapter[Any], *,
                  deadline: TaskDeadline, partner_center: PartnerCenterClient | None = None,
                  settle: Settle | None = None, clock: Callable[[], float] = time.monotonic,
                  now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> ExecutionOutcome:
    """Sweep chunk after chunk from the delivered schedule's position until the pass ends or the budget does."""
    parameters = SweepParameters.from_schedule(delivered.get("parameter"))
    lock_key = f"sweep:{ref.schedule_id if ref is not None else delivered.get('id', 'local')}"
    warnings: list[str] = []
    with source_lock(lock_key):
        current: Mapping[str, Any] = delivered
        if ref is not None:
            try:
                current = read_schedule(client, ref)
            except (PlatformError, AuthenticationError) as error:
                warnings.append(_warn(logger, ref, f"cannot read the schedule ({error}); sweeping from the position "
                                                   "this execution was delivered with"))
        position = cursor_of(current)
        if position != cursor_of(delivered):
            logger.info("New Subscription sweep %s: the position moved since this execution was delivered; "
                        "nothing to do", ref.schedule_id if ref else "")
            return ExecutionOutcome(None, position)
        cursor = position.starting(now())
        report = SweepReport()
        chunks, longest, can_store = 0, 0.0, ref is not None
        while True:
            started = clock()
            chunk = sweep_chunk(client, settings, parameters, cursor, limit=parameters.chunk_size,
                                partner_center=partner_center, settle=settle)
            longest = max(longest, clock() - started)
            chunks += 1
            cursor = chunk.cursor
            report.outcomes.extend(chunk.report.outcomes)
            report.duplicates_failed.extend(chunk.report.duplicates_failed)
            log_chunk(logger, cursor, chunk.report)
            if can_store and ref is not None:
                try:
                    save_cursor(client, ref, current, cursor)
                except (PlatformError, AuthenticationError) as error:
                    can_store = False
                    warnings.append(_warn(logger, ref, f"Connect refused to store the position ({error}); the sweep "
                                                       "goes on without it, and an execution that runs out of time is "
                                                       "continued by the next one from the oldest asset"))
            if cursor.finished or deadline.remaining() < 2 * longest:
                break
        triggered = False
        if not cursor.finished and ref is not None:
            try:
                trigger(client, ref)
                triggered = True
            except (PlatformError, AuthenticationError) as error:
                warnings.append(_warn(logger, ref, f"Connect refused to run the schedule again ({error}); the "
                                                   "schedule's next recurrence continues the pass"))
    outcome = ExecutionOutcome(report, cursor, chunks, triggered, warnings)
    logger.info("New Subscription sweep %s: %s", ref.schedule_id if ref else "", outcome.summary)
    return outcome


def _warn(logger: logging.Logger | logging.LoggerAdapter[Any], ref: ScheduleRef, message: str) -> str:
    """Said once per execution, in the log and in the execution's output."""
    logger.warning("New Subscription sweep %s: %s", ref.schedule_id, message)
    return message


def read_schedule(client: ConnectClient, ref: ScheduleRef) -> Json:
    schedule: Json = with_retries(client, f"GET schedule {ref.schedule_id}", lambda: client.get(ref.path))
    return schedule


def save_cursor(client: ConnectClient, ref: ScheduleRef, schedule: Mapping[str, Any], cursor: SweepCursor) -> None:
    """Write the position into the schedule's parameter (the operator's keys stay as they are)."""
    parameter = dict(schedule.get("parameter") or {})
    parameter[PROGRESS_KEY] = cursor.to_json()
    body: Json = {"name": schedule.get("name"), "method": schedule.get("method"), "trigger": schedule.get("trigger"),
                  "parameter": parameter}
    if schedule.get("description") is not None:
        body["description"] = schedule["description"]
    # A PUT is idempotent: repeating it after a lost answer writes the same position again.
    with_retries(client, f"store the sweep position on schedule {ref.schedule_id}",
                 lambda: client.update(ref.path, payload=body))


def trigger(client: ConnectClient, ref: ScheduleRef) -> None:
    """Ask Connect to run the schedule now (the rest of the pass). A repeated trigger is harmless: the second
    execution finds the position moved and ends without sweeping."""
    with_retries(client, f"trigger schedule {ref.schedule_id}", lambda: client.create(f"{ref.path}/trigger"))
