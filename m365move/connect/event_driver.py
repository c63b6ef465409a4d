"""Connect's side of the EaaS, played locally (``m365move connect run-events``, the demo, the Connect end-to-end
tests): which tasks Connect would send this extension and when. Each task runs through connect-extension-runner's
own task managers (``m365move.connect.runtime.LocalRuntime``), so what a handler sees and what becomes of its
answer (the object counted with the event's statuses first, a new application per task with the runner's
ConnectClient, an exception or a timeout turned into retry) is the runner's code, not ours.

What is ours is what Connect decides: a pending request is delivered once per version of it (its ``updated``); a
task answered *reschedule* comes back when its countdown ends, with the object as it is then (a *retry* too, after
``RETRY_COUNTDOWN_SECONDS``); the schedulable runs beside the events, and every execution of its schedule that the
extension asks for (``POST …/schedules/{id}/trigger``: the chunked sweep's next chunk) is one more scheduled task.
Countdowns are platform seconds: with ``time_scale`` (the sandbox's speed-up) a 300 s countdown waits
300 / time_scale real seconds, and the extension is given the platform clock (``platform_clock``) for the limits it
keeps itself.

Finding tasks costs the driver, not the extension, but it shares the machine with both: new tasks are found by
asking for pending requests changed since the last look (all of them now and then), and a rescheduled task is
read again by id when its countdown ends rather than by re-listing every pending request.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connect.client import ConnectClient, R

from m365move.connect import queries
from m365move.connect.client import with_retries
from m365move.connect.payloads import Json
from m365move.connect.settings import ExtensionSettings

if TYPE_CHECKING:  # the runner is the dev extra's; without it this module's names stay importable
    from m365move.connect.runtime import LocalRuntime, TaskResult

log = logging.getLogger(__name__)

TIER_CONFIG_TASK = "tier_config_setup_request_processing"
TIER_CONFIG_CHANGE_TASK = "tier_config_change_request_processing"
PURCHASE_TASK = "asset_purchase_request_processing"
SCHEDULE_TASK = "scheduled_execution"
SCHEDULE_ID = "EFS-LOCAL-SWEEP"
# When Connect sends a task again after the runner answered *retry* (a handler raised or ran out of time). Connect
# does not document it; a minute of platform time keeps a broken handler from spinning.
RETRY_COUNTDOWN_SECONDS = 60


@dataclass(frozen=True, slots=True)
class TaskRecord:
    event_type: str
    object_id: str
    result: str  # success | reschedule | skip | fail | retry
    countdown: int = 0
    output: str | None = None
    at: float = 0.0  # real monotonic seconds


@dataclass
class DriverReport:
    sweeps: int = 0
    deliveries: list[TaskRecord] = field(default_factory=list)
    settled: bool = False
    seconds: float = 0.0

    def count(self, result: str, event_type: str | None = None) -> int:
        return sum(1 for r in self.deliveries if r.result == result and (event_type is None or r.event_type == event_type))


class EventDriver:
    """Sends one extension environment the tasks Connect (usually the sandbox) has for it, through the runner."""

    def __init__(
        self,
        runtime: LocalRuntime,
        client: ConnectClient,
        config: Mapping[str, str],
        *,
        add_schedule: Callable[[Json], None],
        take_triggered: Callable[[], list[str]] = list,
        logger: logging.Logger | None = None,
        time_scale: float = 1.0,
        workers: int = 8,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.runtime = runtime
        self.client = client  # the driver's own look-ups (Connect's side); the runner gives the handlers theirs
        self.config = dict(config)  # the environment's variables; edits reach the runner before the next task
        self._sent_config: dict[str, str] = dict(self.config)
        self.settings = ExtensionSettings.from_config(self.config)
        self.logger = logger or logging.getLogger("m365move.extension")
        self.time_scale = time_scale
        self.workers = workers
        self._add_schedule = add_schedule
        self._take_triggered = take_triggered  # schedule executions the extension triggered since the last look
        self._schedule_parameter: dict[str, Any] | None = None  # what the schedule was last given
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}  # object id -> real time it may be delivered again
        self._due_kind: dict[str, str] = {}  # object id -> its event type (to read it again when due)
        self._due_heap: list[tuple[float, str]] = []  # (due, object id); stale entries are skipped
        self._consumed: set[tuple[str, str]] = set()  # (object id, its `updated`) already answered
        self._finished: dict[str, float] = {}  # object id -> real time its last delivery ended
        self._in_flight: set[str] = set()
        self._wake = threading.Event()  # set when the driver should look again before its pause ends
        self.history: list[TaskRecord] = []
        self._tasks_ended = 0  # tasks other than the schedulable's, ended so far (see _sweep_changed_nothing)
        self._install_platform_clock()

    # -- one step each -------------------------------------------------------------------------------

    def platform_time(self) -> float:
        """Platform seconds (real seconds × ``time_scale``), the unit of countdowns and Retry-After."""
        return self._clock() * self.time_scale

    def platform_sleep(self, seconds: float) -> None:
        self._sleep(max(0.0, seconds) / self.time_scale)

    def _install_platform_clock(self) -> None:
        """The extension keeps Partner Center's create limit and token expiry by the platform's clock. The runner
        makes the application instances, so the sandbox's clock goes on the class until ``close``."""
        application: Any = self.runtime.handler.get_application()
        self._saved_clock = application.__dict__.get("platform_clock"), application.__dict__.get("platform_sleep")
        application.platform_clock = staticmethod(self.platform_time)
        application.platform_sleep = staticmethod(self.platform_sleep)

    def close(self) -> None:
        application: Any = self.runtime.handler.get_application()
        application.platform_clock, application.platform_sleep = self._saved_clock

    def __enter__(self) -> EventDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_schedule(self, parameter: Mapping[str, Any] | None = None) -> TaskRecord:
        """One execution of the schedulable, to the end of its pass: Connect keeps the schedule (method, parameter)
        and sends its task; a sweep working in chunks keeps its position on the schedule and asks Connect to run it
        again after each chunk (``POST …/trigger``), and each such execution is a new task, delivered here (at once,
        several together when several were triggered) until none is asked for. The answer of the pass: its first
        execution that did not succeed, else its last."""
        schedulable = self.runtime.handler.schedulables[0]
        wanted = dict(parameter or {})
        if wanted != self._schedule_parameter:
            # Made (or edited by the operator) only then: between passes Connect keeps the schedule as the extension
            # left it, position included.
            self._add_schedule({"id": SCHEDULE_ID, "name": schedulable["name"], "method": schedulable["method"],
                                "description": schedulable["description"], "parameter": wanted,
                                "trigger": {"type": "recurring", "start": "2026-01-01T00:00:00+00:00",
                                            "unit": "hours", "amount": 1}})
            self._schedule_parameter = wanted
        answers = [self._run(SCHEDULE_TASK, SCHEDULE_ID)]
        while triggered := self._take_triggered():
            answers += self._run_many([(SCHEDULE_TASK, schedule_id) for schedule_id in triggered])
        records = [TaskRecord(SCHEDULE_TASK, schedulable["method"], a.result, 0, a.message, self._clock())
                   for a in answers]
        for record in records:
            self._remember(record)
        return next((r for r in records if r.result != "success"), records[-1])

    def deliver(self, event_type: str, obj: Json) -> TaskRecord:
        """The task of ``event_type`` on ``obj`` now, through the runner (also a task delivered twice on purpose)."""
        answer = self._run(event_type, str(obj["id"]))
        countdown = answer.countdown if answer.result == "reschedule" else (
            RETRY_COUNTDOWN_SECONDS if answer.result == "retry" else 0)
        record = TaskRecord(event_type, str(obj["id"]), answer.result, countdown, answer.message, self._clock())
        with self._lock:
            ended = self._clock()
            if countdown:
                due = ended + countdown / self.time_scale
                self._due[record.object_id] = due
                self._due_kind[record.object_id] = event_type
                heapq.heappush(self._due_heap, (due, record.object_id))
            else:
                self._forget_due(record.object_id)
                self._consumed.add((record.object_id, str(obj.get("updated", ""))))
            self._finished[record.object_id] = ended
        self._remember(record)
        return record

    def _run(self, event_type: str, object_id: str) -> TaskResult:
        (answer,) = self._run_many([(event_type, object_id)])
        return answer

    def _run_many(self, tasks: list[tuple[str, str]]) -> list[TaskResult]:
        """Tasks (event type, object id) sent to the runner together; their answers in order."""
        with self._lock:
            if self.config != self._sent_config:  # an operator edited the variables: Connect sends them again
                self.runtime.update_variables(self.config)
                self._sent_config = dict(self.config)
        return self.runtime.deliver_many([self.runtime.task(kind, object_id) for kind, object_id in tasks])

    def pending_tasks(self, *, changed_since: dt.datetime | None = None) -> list[tuple[str, Json]]:
        """The tasks Connect would deliver now: pending tier-config and purchase requests of the NCE products
        (only those changed since ``changed_since`` when given: a rescheduled task is found by ``due_tasks``)."""
        now = self._clock()
        products = self.settings.nce_product_ids
        changed = R().updated.ge(changed_since.strftime("%Y-%m-%dT%H:%M:%S")) if changed_since else None
        tasks: list[tuple[str, Json]] = []
        for request in queries.pending_tier_config_requests(self.client, products, changed):
            tasks.append((TIER_CONFIG_TASK if request.get("type") == "setup" else TIER_CONFIG_CHANGE_TASK, request))
        for request in queries.pending_purchase_requests(self.client, products, changed):
            tasks.append((PURCHASE_TASK, request))
        with self._lock:
            if changed_since is None:
                # A rescheduled task whose object moved on (approved, failed…) will never be delivered again.
                pending_ids = {str(obj["id"]) for _, obj in tasks}
                for stale in [i for i in self._due if i not in pending_ids and i not in self._in_flight]:
                    self._forget_due(stale)
            return self._deliverable(tasks, now)

    def due_tasks(self) -> list[tuple[str, Json]]:
        """Rescheduled tasks whose countdown has ended, read again from Connect (the runner sends the object as
        it is at redelivery); those whose object moved on are forgotten."""
        now = self._clock()
        with self._lock:
            due: dict[str, str] = {}
            while self._due_heap and self._due_heap[0][0] <= now:
                _, object_id = heapq.heappop(self._due_heap)
                if object_id in self._due and self._due[object_id] <= now and object_id not in self._in_flight:
                    due[object_id] = self._due_kind.get(object_id, PURCHASE_TASK)
        if not due:
            return []
        purchases = [i for i, kind in due.items() if kind == PURCHASE_TASK]
        tier_configs = [i for i, kind in due.items() if kind != PURCHASE_TASK]
        found: list[tuple[str, Json]] = []
        for obj in queries.requests_by_id(self.client, purchases):
            found.append((PURCHASE_TASK, obj))
        for obj in queries.tier_config_requests_by_id(self.client, tier_configs):
            found.append((TIER_CONFIG_TASK if obj.get("type") == "setup" else TIER_CONFIG_CHANGE_TASK, obj))
        with self._lock:
            pending = [(kind, obj) for kind, obj in found if obj.get("status") == "pending"]
            pending_ids = {str(obj["id"]) for _, obj in pending}
            for gone in [i for i in due if i not in pending_ids and i not in self._in_flight]:
                self._forget_due(gone)
            return self._deliverable(pending, now)

    def _deliverable(self, tasks: list[tuple[str, Json]], fetched_at: float) -> list[tuple[str, Json]]:
        """Tasks not waiting on a countdown, not running, not answered in this version, and not read before their
        last delivery ended (a list read while a handler ran may hold the object as it was mid-way)."""
        return [(kind, obj) for kind, obj in tasks
                if self._due.get(str(obj["id"]), 0.0) <= fetched_at and str(obj["id"]) not in self._in_flight
                and (str(obj["id"]), str(obj.get("updated", ""))) not in self._consumed
                and self._finished.get(str(obj["id"]), float("-inf")) < fetched_at]

    def _forget_due(self, object_id: str) -> None:
        self._due.pop(object_id, None)
        self._due_kind.pop(object_id, None)

    def deliver_pending(self) -> list[TaskRecord]:
        """Deliver every task due now and wait for all of them."""
        tasks = self.pending_tasks()
        if not tasks:
            return []
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="m365move-task") as pool:
            return list(pool.map(lambda task: self._deliver_safely(*task), tasks))

    def next_due_in(self) -> float | None:
        """Real seconds until the next rescheduled task is due (None when none is waiting)."""
        with self._lock:
            heap = self._due_heap
            # Entries are left behind when a task is rescheduled again or moves on: drop them here.
            while heap and (self._due.get(heap[0][1]) != heap[0][0] or heap[0][1] in self._in_flight):
                heapq.heappop(heap)
            return max(0.0, heap[0][0] - self._clock()) if heap else None

    # -- until nothing moves -------------------------------------------------------------------------

    def run_until_settled(self, *, timeout: float = 120.0, parameter: Mapping[str, Any] | None = None,
                          sweep_every: float = 30.0, idle_poll: float = 0.02, discover_every: float = 0.25,
                          full_discovery_every: float = 5.0) -> DriverReport:
        """Sweep, deliver, wait for countdowns, sweep again… until a sweep changes nothing and no task waits.

        The schedulable runs in its own thread, as the runner runs schedules beside events, so a long sweep never
        holds back a task whose countdown ended. ``sweep_every`` is platform seconds between sweep starts. A
        rescheduled task is delivered when its countdown ends; new or changed pending requests are looked for
        every ``discover_every`` real seconds and after each sweep (every pending request every
        ``full_discovery_every`` s).
        """
        report = DriverReport()
        start = self._clock()
        first = len(self.history)
        sweeps = ThreadPoolExecutor(max_workers=1, thread_name_prefix="m365move-schedule")
        workers = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="m365move-task")
        running: Future[bool] | None = None
        last_sweep: float | None = None
        next_discovery = start
        next_full = start
        seen_since: dt.datetime | None = None
        try:
            while self._clock() - start < timeout:
                if running is not None and running.done():
                    if running.result():
                        report.settled = True
                        break
                    running = None
                    next_discovery = self._clock()  # the sweep may have created requests
                now = self._clock()
                if running is None and (last_sweep is None or (now - last_sweep) * self.time_scale >= sweep_every):
                    running = sweeps.submit(self._sweep_changed_nothing, parameter)
                    running.add_done_callback(lambda _: self._wake.set())  # its new requests are looked for at once
                    report.sweeps += 1
                    last_sweep = now
                # Tasks start as soon as they are due, beside those still running (no batch waits for its slowest).
                started = self._dispatch(workers, self.due_tasks())
                now = self._clock()
                if now >= next_discovery:
                    # Wall-clock, as Connect stamps `updated`; a margin covers requests changed while we read.
                    wall = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=2)
                    full = now >= next_full or seen_since is None
                    started += self._dispatch(workers, self.pending_tasks(changed_since=None if full else seen_since))
                    seen_since = wall
                    next_discovery = now + discover_every
                    if full:
                        next_full = now + full_discovery_every
                if not started:
                    wait = self.next_due_in()
                    until_discovery = max(0.0, next_discovery - self._clock())
                    pause = min(wait if wait is not None else idle_poll * 10, until_discovery, idle_poll * 10)
                    self._wake.wait(max(pause, 0.001))
                    self._wake.clear()
        finally:
            sweeps.shutdown(wait=True)
            workers.shutdown(wait=True)
        report.deliveries = self.history[first:]
        report.seconds = self._clock() - start
        return report

    def _dispatch(self, pool: ThreadPoolExecutor, tasks: list[tuple[str, Json]]) -> int:
        for event_type, obj in tasks:
            with self._lock:
                self._in_flight.add(str(obj["id"]))
            pool.submit(self._deliver_and_release, event_type, obj)
        return len(tasks)

    def _deliver_and_release(self, event_type: str, obj: Json) -> None:
        try:
            self._deliver_safely(event_type, obj)
        finally:
            with self._lock:
                self._in_flight.discard(str(obj["id"]))

    def _sweep_changed_nothing(self, parameter: Mapping[str, Any] | None) -> bool:
        before = self._request_count()
        with self._lock:
            tasks_before = self._tasks_ended
        self.run_schedule(parameter)
        with self._lock:
            # A task that ended during the pass (a purchase approved) may have made a next step due (the CSP asset's
            # cancel) after the pass had read that asset: only a pass no task ran beside proves nothing is left.
            quiet_beside = self._tasks_ended == tasks_before
        return self._request_count() == before and quiet_beside and self._quiet()

    def _quiet(self) -> bool:
        """No task waiting and no request any handler or the vendor still has to move."""
        if self.pending_tasks() or self._due or self._in_flight:
            return False
        first_page = next(queries.fetch_pages(self.client, "requests", "and(eq(type,cancel),eq(status,pending))",
                                              page_size=1), [])
        return not first_page

    def _request_count(self) -> int:
        def call() -> int:
            self.client.get("requests", params={"limit": 0, "offset": 0})
            content_range = self.client.response.headers.get("Content-Range", "items 0-0/0")
            return int(content_range.rsplit("/", 1)[-1])

        return with_retries(self.client, "count requests", call)

    def _deliver_safely(self, event_type: str, obj: Json) -> TaskRecord:
        try:
            return self.deliver(event_type, obj)
        except Exception as error:  # a handler bug must not stop the other tasks, as in the runner
            log.exception("task %s on %s raised", event_type, obj.get("id"))
            record = TaskRecord(event_type, str(obj["id"]), "fail", 0, f"{type(error).__name__}: {error}", self._clock())
            with self._lock:
                self._forget_due(record.object_id)
                self._consumed.add((record.object_id, str(obj.get("updated", ""))))
                self._finished[record.object_id] = self._clock()
            self._remember(record)
            return record

    def _remember(self, record: TaskRecord) -> None:
        with self._lock:
            self.history.append(record)
            if record.event_type != SCHEDULE_TASK:
                self._tasks_ended += 1
