"""What happens to every sandbox request around the routes: correlation ids, request counts, faults.

Faults and counts apply to API routes only; ``/_sandbox/...`` (admin) passes through untouched so a
test can always clear a fault. A dropped connection is simulated *after* the route ran: the platform
processed the request but the answer never arrived, the case that makes ``POST /orders`` uncertain.
"Fail after commit" is the gateway's version of it: the route ran (the order exists), then the client
gets a 502, 503 or 504 or a dropped connection, as from a proxy in front of Commerce. "Commit after
answer" is the later commit: the client gets its gateway error, dropped connection or no answer first,
and the route runs N seconds after the request arrived (the order appears then).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import uuid
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from m365move.sandbox.faults import FaultInjector, HttpFault
from m365move.sandbox.request_stats import RequestStats

ADMIN_PREFIX = "/_sandbox"
# The request's arrival (ISO-8601, UTC) in ``scope["state"]`` of a request committed after its answer: a platform
# stamps rows when its transaction starts, so what commits late carries the earlier time (Connect's ``created``).
ARRIVED_AT = "m365move_arrived_at"
CORRELATION_HEADER = "X-Correlation-ID"


class SimulatedConnectionDrop(Exception):
    """Raised inside the ASGI app so uvicorn closes the connection mid-answer (a fault, not a bug)."""


class _HideSimulatedDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedConnectionDrop))


logging.getLogger("uvicorn.error").addFilter(_HideSimulatedDrops())


class ApiMiddleware:
    """Pure ASGI middleware: no buffering of normal responses, so it costs nothing when faults are off."""

    def __init__(
        self, app: ASGIApp, *, routes: Sequence[BaseRoute], injector: FaultInjector, stats: RequestStats
    ) -> None:
        self.app = app
        self.routes = routes
        self.injector = injector
        self.stats = stats
        # Late commits under way (a task is only weakly referenced by the event loop).
        self._late: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = _header(scope, b"x-correlation-id") or str(uuid.uuid4())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-correlation-id"]
                message = {**message, "headers": [*headers, (b"x-correlation-id", correlation.encode("latin-1"))]}
            await send(message)

        if scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send_with_id)
            return
        route = self.route_template(scope)
        self.stats.record_request(route)
        decision = self.injector.for_request(route)
        if decision.delay_seconds > 0:
            # The platform has the whole request before it is slow: a client that gives up meanwhile
            # does not stop the order from being created (what makes a timed-out POST uncertain).
            receive = await _buffered(receive)
            await asyncio.sleep(decision.delay_seconds)
        if decision.fault is None:
            await self.app(scope, receive, send_with_id)
            return
        self.stats.record_fault(decision.fault.value)
        if decision.fault is HttpFault.THROTTLE:
            retry_after = self.injector.faults.retry_after_seconds
            await _answer(
                send_with_id, 429, "throttled", "too many requests", [(b"retry-after", _seconds(retry_after))]
            )
        elif decision.fault is HttpFault.SERVER_ERROR:
            await _answer(send_with_id, 503, "unavailable", "service temporarily unavailable (sandbox fault)", [])
        elif decision.fault is HttpFault.FAIL_AFTER_COMMIT and decision.answer_after_commit != "drop":
            await self.app(scope, receive, _swallow)
            status = int(decision.answer_after_commit or 502)
            await _answer(send_with_id, status, "bad-gateway", f"gateway error {status} (sandbox fault after commit)", [])
        elif decision.fault is HttpFault.COMMIT_AFTER_ANSWER:
            await self._commit_after_answer(scope, receive, send, decision.answer_before_commit,
                                            decision.commit_after_seconds)
        else:
            await self._drop_after_processing(scope, receive, send)

    async def _drop_after_processing(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, _swallow)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
        raise SimulatedConnectionDrop(scope["path"])

    async def _commit_after_answer(self, scope: Scope, receive: Receive, send: Send, early: object,
                                   seconds: float) -> None:
        """Answer first (a gateway error or a dropped connection at once; for "timeout", nothing until the commit),
        then run the route ``seconds`` after the request arrived, as Commerce does behind a gateway that gave up.
        The route sees the arrival time (``ARRIVED_AT``): Connect stamps a request created late with it."""
        receive = await _buffered(receive)
        arrived = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        scope = {**scope, "state": {**scope.get("state", {}), ARRIVED_AT: arrived}}
        if early == "timeout":
            await asyncio.sleep(seconds)
            await self.app(scope, receive, _swallow)
            raise SimulatedConnectionDrop(scope["path"])  # the answer never comes
        task = asyncio.create_task(self._late_commit(scope, receive, seconds))
        self._late.add(task)
        task.add_done_callback(self._late.discard)
        if early == "drop":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
            raise SimulatedConnectionDrop(scope["path"])
        status = int(early)  # type: ignore[call-overload]
        await _answer(send, status, "gateway-timeout", f"gateway error {status} (sandbox fault: the platform "
                      f"commits the request {seconds:g} s later)", [])

    async def _late_commit(self, scope: Scope, receive: Receive, seconds: float) -> None:
        await asyncio.sleep(seconds)
        try:
            await self.app(scope, receive, _swallow)
        except Exception:  # noqa: BLE001 - a late commit that fails is a lost request, as on the platform
            logging.getLogger(__name__).warning("sandbox: late commit of %s failed", scope["path"], exc_info=True)

    def route_template(self, scope: Scope) -> str:
        """``"GET /plans/{id}"`` for a request to ``/plans/42``; the raw path when no route matches."""
        method = scope["method"]
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return f"{method} {getattr(route, 'path', scope['path'])}"
        return f"{method} {scope['path']}"


async def _swallow(message: Message) -> None:
    """Where the route's own answer goes when a fault replaces it."""
    return None


async def _buffered(receive: Receive) -> Receive:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replay


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _seconds(value: float) -> bytes:
    # Retry-After is whole seconds; round up so a client never comes back too early.
    whole = int(value) if value == int(value) else int(value) + 1
    return str(whole).encode()


async def _answer(send: Send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"code": code, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
