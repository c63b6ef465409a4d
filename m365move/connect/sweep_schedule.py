"""The scheduled sweep as many short tasks: one chunk per task, the position kept in Connect, on the schedule.

Each execution of the sweep's schedule sweeps the next chunk of CSP assets (``SweepParameters.chunk_size``),
writes the new position (``SweepCursor``) into the schedule's own ``parameter`` under ``progress``
(``PUT …/schedules/{id}``), and, while the pass is not finished, asks Connect to run the schedule again now
(``POST …/schedules/{id}/trigger``): the next chunk is a new task, delivered by Connect. No chunk comes near the
runner's limits, and nothing is lost when the runner or its container stops between chunks: the next execution
(the next trigger or recurrence) continues from the stored position. When the pass is finished no trigger is
sent; the schedule's next recurrence starts a new pass.

Duplicates. The runner reads the schedule when the task starts and hands it to the handler; a second delivery
of the same task (a timed-out handler's thread still running, or a recurrence arriving while a chunk runs) holds
the same position. Under the schedule's lock (one per process, like the create locks) the handler reads the
schedule again: if the position moved since the task's copy, that chunk was swept by another delivery and this
one ends without sweeping or triggering, so deliveries never multiply into parallel chains. Across processes
the creates stay safe anyway (look-up before every create).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connect.client import ConnectClient

from m365move.connect.client import with_retries
from m365move.connect.payloads import Json
from m365move.connect.settings import ExtensionSettings
from m365move.connect.source_locks import source_lock
from m365move.connect.sweep import SweepParameters, SweepReport, sweep_chunk
from m365move.connect.sweep_cursor import SweepCursor
from m365move.partnercenter.client import PartnerCenterClient

PROGRESS_KEY = "progress"


@dataclass(frozen=True, slots=True)
class ScheduleRef:
    """Where the sweep's schedule lives in Connect's DevOps API."""

    extension_id: str
    environment_id: str
    schedule_id: str

    @property
    def path(self) -> str:
        return f"devops/services/{self.extension_id}/environments/{self.environment_id}/schedules/{self.schedule_id}"


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """One execution: the chunk's report (None when another delivery had swept it) and the position after it."""

    report: SweepReport | None
    cursor: SweepCursor
    triggered: bool = False

    @property
    def summary(self) -> str:
        c = self.cursor
        if self.report is None:
            return f"chunk {c.chunk} of the pass started {c.pass_started} was already swept by another delivery"
        state = "pass finished" if c.finished else "next chunk triggered"
        return (f"chunk {c.chunk} of the pass started {c.pass_started}: {len(self.report.outcomes)} CSP assets "
                f"{self.report.counts()}, {self.report.created} requests created; {c.swept} assets and "
                f"{c.created_requests} requests in this pass so far; {state}")


def cursor_of(schedule: Mapping[str, Any]) -> SweepCursor:
    parameter = schedule.get("parameter")
    return SweepCursor.from_json(parameter.get(PROGRESS_KEY) if isinstance(parameter, Mapping) else None)


def run_scheduled_chunk(client: ConnectClient, settings: ExtensionSettings, delivered: Mapping[str, Any],
                        ref: ScheduleRef, logger: logging.Logger | logging.LoggerAdapter[Any], *,
                        partner_center: PartnerCenterClient | None = None,
                        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> ChunkOutcome:
    """Sweep the chunk the delivered schedule points at, store the position after it, trigger the next chunk."""
    parameters = SweepParameters.from_schedule(delivered.get("parameter"))
    with source_lock(f"sweep:{ref.schedule_id}"):
        current = read_schedule(client, ref)
        position = cursor_of(current)
        if position != cursor_of(delivered):
            logger.info("New Subscription sweep %s: the position moved since this task was delivered; nothing to do",
                        ref.schedule_id)
            return ChunkOutcome(None, position)
        start = position.starting(now())
        chunk = sweep_chunk(client, settings, parameters, start, limit=parameters.chunk_size,
                            partner_center=partner_center)
        save_cursor(client, ref, current, chunk.cursor)
        triggered = not chunk.cursor.finished
        if triggered:
            trigger(client, ref)
    outcome = ChunkOutcome(chunk.report, chunk.cursor, triggered)
    logger.info("New Subscription sweep %s: %s", ref.schedule_id, outcome.summary)
    return outcome


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
    """Ask Connect to run the schedule now (the next chunk). A repeated trigger is harmless: the second
    execution finds the position moved and ends without sweeping."""
    with_retries(client, f"trigger schedule {ref.schedule_id}", lambda: client.create(f"{ref.path}/trigger"))
