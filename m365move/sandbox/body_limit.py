"""A cap on request bodies for every sandbox route: larger ones get 413 before any route reads them.

Without it a client could send a 1 GB body and the sandbox would hold it (and its JSON) in memory. The
platforms behind it refuse large bodies at their gateways too. The body is read here, at most
``max_bytes`` of it, and handed on whole; a declared ``Content-Length`` beyond the cap is refused
without reading anything.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest real request (a PUT of a whole faults document, a Connect request with its asset) is a
# few kilobytes; a megabyte leaves room for any estate-sized test payload.
MAX_BODY_BYTES = 1024 * 1024


class BodySizeLimit:
    """Pure ASGI middleware; the outermost one, so nothing else reads an oversized body."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send, 400, "bad-request", "Content-Length is not a whole number")
            return
        if declared is not None and declared > self.max_bytes:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        await _refuse(send, 413, "payload-too-large", f"request bodies are limited to {self.max_bytes} bytes")


def _content_length(scope: Scope) -> int | None:
    """The declared length, None if not declared, -1 if not a number."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 20 else -1
    return None


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
