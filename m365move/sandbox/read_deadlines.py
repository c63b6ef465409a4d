"""Deadlines for reading a request: headers and body each have a time limit, as the platforms' gateways do.

uvicorn (h11) waits for ever on a client that sends half a request: a few hundred connections that each send
part of the headers, or announce a 1 MiB body and send a byte a minute, hold the sandbox's memory and sockets
(150 such connections held +150 MB). Real gateways answer a slow client with a timeout and close it. Here:

- the request line and headers must be complete within ``header_seconds`` of the connection opening or of
  the first byte of the next request on a kept-alive connection;
- the body within ``body_seconds`` of the headers;

otherwise the connection is closed. A request being answered has no deadline (the route's own time is the
sandbox's faults' business), nor has an idle kept-alive connection (uvicorn's keep-alive timeout closes it).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
BODY_SECONDS = 60.0


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a read deadline per phase of each request."""

    header_seconds = HEADER_SECONDS
    body_seconds = BODY_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: Any = None
        super().connection_made(transport)
        self._arm(h11.IDLE, self.header_seconds)  # a connection that never sends a request is closed too

    def data_received(self, data: bytes) -> None:
        if self._phase is None and self.conn.their_state is h11.IDLE:
            self._arm(h11.IDLE, self.header_seconds)  # the first byte of a new request on a kept-alive connection
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY and self._phase is not h11.SEND_BODY:
            self._arm(h11.SEND_BODY, self.body_seconds)
        elif state is not h11.IDLE and state is not h11.SEND_BODY:
            self._disarm()  # the request is complete: the answer has no read deadline

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, phase: Any, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._expired, phase)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._phase = None, None

    def _expired(self, phase: Any) -> None:
        self._deadline = None
        if self.conn.their_state is phase and not self.transport.is_closing():
            self.transport.close()


def deadline_protocol(header_seconds: float = HEADER_SECONDS, body_seconds: float = BODY_SECONDS) -> type[H11Protocol]:
    """The protocol class for ``uvicorn.Config(http=…)`` with these deadlines."""
    return type("SandboxH11Protocol", (DeadlineH11Protocol,),
                {"header_seconds": header_seconds, "body_seconds": body_seconds})
