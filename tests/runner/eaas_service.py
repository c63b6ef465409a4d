"""A loopback stand-in for Connect's EaaS websocket service, which the unmodified ``cextrun`` connects to.

What Connect does on that socket (connect-extension-runner 43.1, protocol version 2, messages are
``connect.eaas.core.proto.Message`` JSON):

- a runner's worker opens ``wss://<SERVER_ADDRESS>/public/v1/devops/ws/<ENVIRONMENT_ID>/<INSTANCE_ID>`` with
  ``?running_tasks=…&running_scheduled_tasks=…&runner_type=background|interactive`` and the environment's API key
  in ``Authorization``; anything else is refused (401 for a wrong key, 404 for another environment);
- the worker sends ``setup_request`` (its event subscriptions, schedulables, declared variables, repository,
  audience, runner version); Connect answers ``setup_response``: the environment's variables (declared ones, with
  the values an operator set), the event definitions, the environment type and the logging meta (service id);
- Connect sends ``task`` messages (background and scheduled tasks to the background worker, interactive ones to
  the interactive worker); the runner answers each with the same task and its ``output``.

It runs on its own event loop in a daemon thread; the test thread talks to it through thread-safe calls.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connect.eaas.core.proto import (
    EventDefinition,
    Logging,
    LogMeta,
    Message,
    MessageType,
    SetupResponse,
    Task,
)
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from m365move.connect.runtime import EVENT_DEFINITIONS

SOCKET_PATH = "/public/v1/devops/ws/{environment}/{instance}"


@dataclass
class Worker:
    """One connected runner worker (background or interactive)."""

    runner_type: str
    query: dict[str, list[str]]
    connection: ServerConnection
    setup_request: dict[str, Any] | None = None


@dataclass
class EaasService:
    api_key: str
    environment_id: str
    service_id: str
    configured_variables: Mapping[str, str]
    ssl_context: ssl.SSLContext
    account_id: str = "PA-000-000"
    workers: dict[str, Worker] = field(default_factory=dict)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (status, path) of refused handshakes
    shutdowns: list[str] = field(default_factory=list)  # runner types that said goodbye

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="eaas-stand-in", daemon=True)
        self._server: Server | None = None
        self._changed = threading.Condition()
        self._answers: dict[str, Task] = {}
        self.address = ""

    # -- the test's side -----------------------------------------------------------------------------

    def start(self) -> EaasService:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        self.address = f"{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            server = self._server

            async def close() -> None:
                server.close()
                await server.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def wait_for_setup(self, runner_type: str, timeout: float) -> dict[str, Any]:
        """The setup request of the worker of that type, once it has connected and sent it."""
        with self._changed:
            ready = self._changed.wait_for(lambda: self._setup_of(runner_type) is not None, timeout=timeout)
        if not ready:
            raise TimeoutError(f"no {runner_type} worker completed its setup within {timeout:g} s "
                               f"(refused handshakes: {self.refused})")
        setup = self._setup_of(runner_type)
        assert setup is not None
        return setup

    def run_task(self, runner_type: str, task: Task, timeout: float) -> Task:
        """Send one task to that worker and wait for the runner's answer to it."""
        worker = self.workers[runner_type]
        message = Message(version=2, message_type=MessageType.TASK, data=task).serialize()
        asyncio.run_coroutine_threadsafe(worker.connection.send(json.dumps(message)), self._loop).result(timeout=10)
        task_id = task.options.task_id
        with self._changed:
            if not self._changed.wait_for(lambda: task_id in self._answers, timeout=timeout):
                raise TimeoutError(f"the runner did not answer task {task_id} within {timeout:g} s")
            return self._answers[task_id]

    def _setup_of(self, runner_type: str) -> dict[str, Any] | None:
        worker = self.workers.get(runner_type)
        return worker.setup_request if worker is not None else None

    # -- Connect's side ------------------------------------------------------------------------------

    async def _serve(self) -> Server:
        return await serve(self._session, "127.0.0.1", 0, ssl=self.ssl_context, process_request=self._admit,
                           max_size=2**21)

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if request.headers.get("Authorization") != self.api_key:
            self.refused.append((401, path))
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid API key\n")
        prefix = SOCKET_PATH.format(environment=self.environment_id, instance="")
        if not path.startswith(prefix) or "/" in path[len(prefix):] or len(path) == len(prefix):
            self.refused.append((404, path))
            return connection.respond(HTTPStatus.NOT_FOUND, "no such environment\n")
        return None

    async def _session(self, connection: ServerConnection) -> None:
        query = parse_qs(urlsplit(connection.request.path if connection.request else "").query)
        runner_type = (query.get("runner_type") or ["background"])[0]
        worker = Worker(runner_type, query, connection)
        with self._changed:
            self.workers[runner_type] = worker
        async for raw in connection:
            message = json.loads(raw)
            kind = message.get("message_type")
            if kind == MessageType.SETUP_REQUEST:
                await connection.send(json.dumps(self._setup_response(message["data"])))
                with self._changed:
                    worker.setup_request = message["data"]
                    self._changed.notify_all()
            elif kind == MessageType.TASK:
                answer = Message.parse_obj(message).data  # (the runner's pydantic 1)
                assert isinstance(answer, Task)
                with self._changed:
                    self._answers[answer.options.task_id] = answer
                    self._changed.notify_all()
            elif kind == MessageType.SHUTDOWN:
                with self._changed:
                    self.shutdowns.append(runner_type)
                    self._changed.notify_all()

    def _setup_response(self, setup_request: dict[str, Any]) -> dict[str, Any]:
        """The environment's variables are the ones the extension declares, valued as the operator set them."""
        variables = [{"name": v["name"], "value": str(self.configured_variables.get(v["name"], v.get("initial_value", ""))),
                      "secure": bool(v.get("secure", False))}
                     for v in setup_request.get("variables") or []]
        definitions = [EventDefinition(event_type=event, api_collection_endpoint=collection,
                                       api_resource_endpoint=resource, api_collection_filter=rql_filter)
                       for event, (collection, resource, rql_filter) in EVENT_DEFINITIONS.items()]
        response = SetupResponse(variables=variables, environment_type="development", event_definitions=definitions,
                                 logging=Logging(meta=LogMeta(service_id=self.service_id, account_id=self.account_id,
                                                              account_name="m365move tests")))
        return Message(version=2, message_type=MessageType.SETUP_RESPONSE, data=response).serialize()
