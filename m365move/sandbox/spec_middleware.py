"""The sandbox's spec gate: every Commerce and Connect request is checked before a route sees it.

A request the spec forbids is answered as the platform answers it (400, or 404/405 for an unknown resource or
method) in that platform's error shape, and no route runs. In test mode (``response_checks``) the route's answer
is checked against the operation's schema too and any mismatch is written down (the answer itself goes out
unchanged). Every request is also offered to the traffic recorder.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from m365move.sandbox import traffic
from m365move.sandbox.response_checks import ResponseViolation, report
from m365move.sandbox.spec_validation import ApiName, Exchange, RequestProblem, api_of, exchange_headers, spec_of

# Commerce answers {code, message}; Connect answers {error_code, errors[]} (the codes are Connect's own).
_COMMERCE_CODES = {400: "invalid-request", 404: "not-found", 405: "method-not-allowed"}
_CONNECT_CODES = {400: "VAL_001", 404: "GEN_404", 405: "GEN_405"}


class SpecMiddleware:
    def __init__(self, app: ASGIApp, *, violations_file: Path | None = None) -> None:
        self.app = app
        self.violations_file = violations_file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = api_of(scope["path"]) if scope["type"] == "http" else None
        if api is None:
            if scope["type"] == "http" and traffic.active() and (other := traffic.unspecified_api_of(scope["path"])):
                traffic.record(other, _exchange(scope, b""))
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        exchange = _exchange(scope, body)
        traffic.record(api, exchange)
        spec = spec_of(api)
        problem = spec.request_problem(exchange)
        if problem is not None:
            await _refuse(send, api, problem)
            return
        if self.violations_file is None:
            await self.app(scope, _replay(body, receive), send)
            return
        # Test mode: the answer is held back until it has been checked, so a violation is on record before the
        # client (and the test that made the request) can go on.
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        await self.app(scope, _replay(body, receive), hold)
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        if start is not None:
            answered = Exchange(
                exchange.method, exchange.path, exchange.query_string, exchange.headers, exchange.body,
                int(start["status"]), exchange_headers(start.get("headers", [])),
                b"".join(bytes(m.get("body", b"")) for m in messages if m["type"] == "http.response.body"),
            )
            problems = spec.response_problems(answered)
            if problems:
                report(self.violations_file, ResponseViolation(api, exchange.method, exchange.path, answered.status or 0,
                                                               problems))
        for message in messages:
            await send(message)


def _exchange(scope: Scope, body: bytes) -> Exchange:
    return Exchange(
        method=scope["method"],
        path=scope["path"],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=exchange_headers(scope.get("headers", [])),
        body=body,
    )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(bytes(message.get("body", b"")))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, api: ApiName, problem: RequestProblem) -> None:
    if api == "commerce":
        payload: dict[str, object] = {"code": _COMMERCE_CODES.get(problem.status, "invalid-request"), "message": problem.message}
    else:
        payload = {"error_code": _CONNECT_CODES.get(problem.status, "VAL_001"), "errors": [problem.message]}
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": problem.status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
