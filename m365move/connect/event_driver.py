"""A local stand-in for the EaaS runner (``m365move connect run-events``): it finds the tasks Connect would send
this extension, runs the real handlers with the real ConnectClient, and honours their answers.

Like the runner it makes a new application instance per task, redelivers a rescheduled task only after its
countdown, does not redeliver a task that was done, skipped or failed until the object changes, and runs the
schedulable beside the events. Countdowns are platform seconds: with ``time_scale`` (the sandbox's speed-up) a
300 s countdown waits 300 / time_scale real seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from connect.client import ConnectClient
from connect.eaas.core.enums import ResultType
from connect.eaas.core.extension import EventsApplicationBase

from m365move.connect import queries
from m365move.connect.client import with_retries
from m365move.connect.payloads import Json
from m365move.connect.settings import ExtensionSettings

log = logging.getLogger(__name__)

TIER_CONFIG_TASK = "tier_config_setup_request_processing"
TIER_CONFIG_CHANGE_TASK = "tier_config_change_request_processing"
PURCHASE_TASK = "asset_purchase_request_processing"


@dataclass(frozen=True, slots=True)
class TaskRecord:
    event_type: str
    object_id: str
    result: str  # success | reschedule | skip | fail
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
    """Drives one events application against Connect (usually the sandbox)."""

    def __init__(
        self,
        application: type[EventsApplicationBase],
        client: ConnectClient,
        config: Mapping[str, str],
        *,
        logger: logging.Logger | None = None,
        time_scale: float = 1.0,
        workers: int = 8,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        application_client: ConnectClient | None = None,
    ) -> None:
        self.application = application
        self.client = client
        # The handlers' client (the runner gives the extension its own); the driver's look-ups use ``client``.
        self.application_client = application_client or client
        self.config = dict(config)
        self.settings = ExtensionSettings.from_config(self.config)
        self.logger = logger or logging.getLogger("m365move.extension")
        self.time_scale = time_scale
        self.workers = workers
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}  # object id -> real time it may be delivered again
        self._consumed: set[tuple[str, str]] = set()  # (object id, its `updated`) already answered
        self._in_flight: set[str] = set()
        self.history: list[TaskRecord] = []

    # -- one step each -------------------------------------------------------------------------------

    def new_instance(self) -> EventsApplicationBase:
        """A fresh application per task, as the runner does (nothing survives between tasks)."""
        return self.application(self.application_client, self.logger, dict(self.config))

    def run_schedule(self, parameter: Mapping[str, Any] | None = None) -> TaskRecord:
        schedulable = self.application.get_schedulables()[0]
        instance = self.new_instance()
        response = getattr(instance, schedulable["method"])({"id": "EFS-LOCAL", "parameter": dict(parameter or {})})
        record = TaskRecord("scheduled_execution", schedulable["method"], str(response.status), 0,
                            response.output, self._clock())
        self._remember(record)
        return record

    def deliver(self, event_type: str, obj: Json) -> TaskRecord:
        """Run the handler of ``event_type`` on ``obj`` now (also for a task delivered twice on purpose)."""
        method = next(e["method"] for e in self.application.get_events() if e["event_type"] == event_type)
        response = getattr(self.new_instance(), method)(obj)
        countdown = int(getattr(response, "countdown", 0) or 0)
        record = TaskRecord(event_type, str(obj["id"]), str(response.status), countdown, response.output, self._clock())
        with self._lock:
            if response.status == ResultType.RESCHEDULE:
                self._due[record.object_id] = self._clock() + countdown / self.time_scale
            else:
                self._due.pop(record.object_id, None)
                self._consumed.add((record.object_id, str(obj.get("updated", ""))))
        self._remember(record)
        return record

    def pending_tasks(self) -> list[tuple[str, Json]]:
        """The tasks Connect would deliver now: pending tier-config and purchase requests of the NCE products."""
        now = self._clock()
        products = self.settings.nce_product_ids
        tasks: list[tuple[str, Json]] = []
        for request in queries.pending_tier_config_requests(self.client, products):
            tasks.append((TIER_CONFIG_TASK if request.get("type") == "setup" else TIER_CONFIG_CHANGE_TASK, request))
        for request in queries.pending_purchase_requests(self.client, products):
            tasks.append((PURCHASE_TASK, request))
        with self._lock:
            # A rescheduled task whose object moved on (approved, failed…) will never be delivered again.
            pending_ids = {str(obj["id"]) for _, obj in tasks}
            for stale in [i for i in self._due if i not in pending_ids and i not in self._in_flight]:
                del self._due[stale]
            return [(kind, obj) for kind, obj in tasks
                    if self._due.get(str(obj["id"]), 0.0) <= now and str(obj["id"]) not in self._in_flight
                    and (str(obj["id"]), str(obj.get("updated", ""))) not in self._consumed]

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
            if not self._due:
                return None
            return max(0.0, min(self._due.values()) - self._clock())

    # -- until nothing moves -------------------------------------------------------------------------

    def run_until_settled(self, *, timeout: float = 120.0, parameter: Mapping[str, Any] | None = None,
                          sweep_every: float = 30.0, idle_poll: float = 0.02) -> DriverReport:
        """Sweep, deliver, wait for countdowns, sweep again… until a sweep changes nothing and no task waits.

        The schedulable runs in its own thread, as the runner runs schedules beside events, so a long sweep never
        holds back a task whose countdown ended. ``sweep_every`` is platform seconds between sweep starts.
        """
        report = DriverReport()
        start = self._clock()
        first = len(self.history)
        sweeps = ThreadPoolExecutor(max_workers=1, thread_name_prefix="m365move-schedule")
        workers = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="m365move-task")
        running: Future[bool] | None = None
        last_sweep: float | None = None
        try:
            while self._clock() - start < timeout:
                if running is not None and running.done():
                    if running.result():
                        report.settled = True
                        break
                    running = None
                now = self._clock()
                if running is None and (last_sweep is None or (now - last_sweep) * self.time_scale >= sweep_every):
                    running = sweeps.submit(self._sweep_changed_nothing, parameter)
                    report.sweeps += 1
                    last_sweep = now
                # Tasks start as soon as they are due, beside those still running (no batch waits for its slowest).
                started = self._dispatch(workers)
                if not started:
                    wait = self.next_due_in()
                    self._sleep(min(wait if wait is not None else idle_poll, idle_poll * 10) or idle_poll)
        finally:
            sweeps.shutdown(wait=True)
            workers.shutdown(wait=True)
        report.deliveries = self.history[first:]
        report.seconds = self._clock() - start
        return report

    def _dispatch(self, pool: ThreadPoolExecutor) -> int:
        tasks = self.pending_tasks()
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
        self.run_schedule(parameter)
        return self._request_count() == before and self._quiet()

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
                self._consumed.add((record.object_id, str(obj.get("updated", ""))))
            self._remember(record)
            return record

    def _remember(self, record: TaskRecord) -> None:
        with self._lock:
            self.history.append(record)
