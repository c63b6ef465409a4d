"""The EaaS runner's own code in this process: connect-extension-runner's task managers, pointed at a Connect.

The extension runs in production under ``cextrun`` (connect-extension-runner), which receives tasks over a
websocket and hands each to a task manager (background, interactive, scheduled). The managers decide what our
handlers see and what becomes of their answers: they count the object with the event definition's filter first
(no match: *skip* without calling the handler), build a new application per task with a ``ConnectClient`` that
repeats requests (``max_retries=3``), run sync handlers in a thread pool, and turn an exception or a timeout
into *retry*. ``LocalRuntime`` submits tasks to those managers unmodified; only the Connect address is ours
(the runner builds ``https://<address>/public/v1``; a local sandbox is plain http).

connect-extension-runner is in the project's dev extra, in one environment with the project under the runner's own
pins (connect-eaas-core<38; the project uses no pydantic): the runner image provides it in production. Importing
this module without it raises ``ImportError``.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from m365move.errors import InputError

try:
    from connect.eaas.core.proto import EventDefinition, Logging, LogMeta, SetupResponse, Task, TaskInput, TaskOptions
    from connect.eaas.runner.config import ConfigHelper
    from connect.eaas.runner.constants import BACKGROUND_EVENT_TYPES, INTERACTIVE_EVENT_TYPES
    from connect.eaas.runner.handlers.events import EventsApp
    from connect.eaas.runner.managers import BackgroundTasksManager, InteractiveTasksManager, ScheduledTasksManager
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"connect-extension-runner is not installed here ({missing}); the dev extra installs it "
        "(`pip install -e .[dev]`; scripts/test and scripts/demo make .venv with it)") from missing

# How Connect defines the events this extension handles (sent to the runner in its setup answer): the collection
# the runner counts the object in, with ``${_object_id_}`` and ``${_statuses_}`` filled in, and where it reads it.
_REQUESTS = ("requests", "requests/{pk}", "and(eq(id,${_object_id_}),in(status,${_statuses_}))")
_TIER_CONFIG_REQUESTS = ("tier/config-requests", "tier/config-requests/{pk}",
                         "and(eq(id,${_object_id_}),in(status,${_statuses_}))")
EVENT_DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "asset_purchase_request_processing": _REQUESTS,
    "asset_cancel_request_processing": _REQUESTS,
    "tier_config_setup_request_processing": _TIER_CONFIG_REQUESTS,
    "tier_config_change_request_processing": _TIER_CONFIG_REQUESTS,
    "tier_config_setup_request_validation": _TIER_CONFIG_REQUESTS,
    "tier_config_change_request_validation": _TIER_CONFIG_REQUESTS,
}
BACKGROUND = "background"
INTERACTIVE = "interactive"
SCHEDULED = "scheduled"


class RunnerUnavailable(InputError):
    """connect-extension-runner is not installed in this environment."""


@dataclass(frozen=True)
class TaskResult:
    """What the runner would send back to Connect for one task."""

    task_id: str
    event_type: str
    object_id: str
    result: str  # success | reschedule | skip | fail | retry
    countdown: int = 0
    message: str | None = None
    data: Any = None
    runtime: float = 0.0


class _LocalConfig(ConfigHelper):  # type: ignore[misc]  # the runner ships no types
    """The runner's configuration with the Connect API at ``api_url`` (the runner itself always uses https)."""

    def __init__(self, api_url: str) -> None:
        super().__init__(secure=False)
        self._api_url = api_url.rstrip("/")

    def get_api_url(self) -> str:
        return self._api_url


class LocalRuntime:
    """The runner's managers and events handler for one extension environment, in this process."""

    def __init__(self, api_url: str, api_key: str, variables: Mapping[str, str], *, service_id: str = "SRVC-LOCAL",
                 environment_id: str = "ENV-LOCAL", timeouts: Mapping[str, int] | None = None) -> None:
        self.config = _LocalConfig(api_url)
        self.config.env.update({"api_key": api_key, "environment_id": environment_id, "instance_id": "INS-LOCAL",
                                "api_address": api_url})
        for category, seconds in (timeouts or {}).items():
            self.config.env[f"{category}_task_max_execution_time"] = int(seconds)
        self.config.update_dynamic_config(SetupResponse(
            variables=[{"name": k, "value": v, "secure": False} for k, v in variables.items()],
            environment_type="development",
            logging=Logging(meta=LogMeta(service_id=service_id, account_id="PA-LOCAL", account_name="local")),
            event_definitions=[EventDefinition(event_type=event, api_collection_endpoint=collection,
                                               api_resource_endpoint=resource, api_collection_filter=rql_filter)
                               for event, (collection, resource, rql_filter) in EVENT_DEFINITIONS.items()],
        ))
        self.handler = EventsApp(self.config)
        self._managers: dict[str, Any] | None = None
        self._waiting: dict[str, asyncio.Future[Task]] = {}  # task id -> its answer, on the runner's loop
        if self.handler.get_application() is None:
            raise RunnerUnavailable("no events application found (entry point connect.eaas.ext eventsapp)",
                                    where="pyproject.toml")

    @property
    def events(self) -> dict[str, Any]:
        events: dict[str, Any] = self.handler.events
        return events

    @staticmethod
    def category_of(event_type: str) -> str:
        """The task category Connect gives an event type (the runner's own lists)."""
        if event_type in INTERACTIVE_EVENT_TYPES:
            return INTERACTIVE
        return BACKGROUND if event_type in BACKGROUND_EVENT_TYPES else SCHEDULED

    async def deliver_all(self, tasks: Iterable[Task]) -> list[TaskResult]:
        """Submit tasks to their managers at once (as the websocket worker does) and wait for every result.
        Batches may run at the same time (each waits for its own tasks' answers, as Connect does)."""
        if self._managers is None:
            # Made on the runner's loop, once, as the events worker makes them; the queue it hands them is ours.
            self._managers = {BACKGROUND: BackgroundTasksManager(self.config, self.handler, self._answer),
                              INTERACTIVE: InteractiveTasksManager(self.config, self.handler, self._answer),
                              SCHEDULED: ScheduledTasksManager(self.config, self.handler, self._answer)}
        managers = self._managers
        submitted = list(tasks)
        loop = asyncio.get_running_loop()
        answers = []
        for task in submitted:
            future: asyncio.Future[Task] = loop.create_future()
            self._waiting[task.options.task_id] = future
            answers.append(future)
        await asyncio.gather(*(managers[t.options.task_category].submit(t) for t in submitted))
        return [_result(answer) for answer in await asyncio.gather(*answers)]

    async def _answer(self, answer: Task) -> None:
        """The runner's result queue: each answer goes to the delivery waiting for that task."""
        future = self._waiting.pop(answer.options.task_id, None)
        if future is not None and not future.done():
            future.set_result(answer)

    def update_variables(self, variables: Mapping[str, str]) -> None:
        """New values for the environment's variables, as Connect sends them when an operator edits them."""
        self.config.update_dynamic_config(SetupResponse(
            variables=[{"name": k, "value": v, "secure": False} for k, v in variables.items()]))

    def deliver_many(self, tasks: Iterable[Task]) -> list[TaskResult]:
        """Tasks delivered together, on the runner's event loop (one per process, as in the runner)."""
        return asyncio.run_coroutine_threadsafe(self.deliver_all(tasks), _runner_loop()).result()

    def deliver(self, event_type: str, object_id: str, *, data: Any = None, installation_id: str | None = None,
                api_key: str | None = None) -> TaskResult:
        """One task, start to answer."""
        (result,) = self.deliver_many([self.task(event_type, object_id, data=data, installation_id=installation_id,
                                                 api_key=api_key)])
        return result

    def task(self, event_type: str, object_id: str, *, data: Any = None, installation_id: str | None = None,
             api_key: str | None = None, task_id: str | None = None) -> Task:
        return Task(options=TaskOptions(task_id=task_id or f"TQ-{uuid.uuid4().hex[:12]}",
                                        task_category=self.category_of(event_type), api_key=api_key,
                                        installation_id=installation_id),
                    input=TaskInput(event_type=event_type, object_id=object_id, data=data))


_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_GUARD = threading.Lock()


def _runner_loop() -> asyncio.AbstractEventLoop:
    """The process's runner event loop, in a daemon thread. The runner has one loop for its whole life, and
    connect-openapi-client keeps its async connection pools per endpoint for the process: they must stay on it."""
    global _LOOP
    with _LOOP_GUARD:
        if _LOOP is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="m365move-runner-loop", daemon=True).start()
            _LOOP = loop
        return _LOOP


def _result(answer: Task) -> TaskResult:
    output = answer.output
    assert output is not None
    return TaskResult(answer.options.task_id, answer.input.event_type, answer.input.object_id, str(output.result),
                      int(output.countdown or 0), output.message, output.data, float(output.runtime or 0.0))
