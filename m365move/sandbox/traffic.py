"""Recording what clients send to the sandbox, for the traffic conformance test.

Every sandbox in the process adds each request it receives on an emulated API (refused ones too) to every
active ``TrafficLog``: Commerce and Connect ones whole, to be checked against their specs; Partner Center and
Graph ones without their body (no spec of theirs ships with the sandbox). Nothing is kept when no log is
active, so long runs pay nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from m365move.sandbox.spec_validation import Exchange

# "commerce" and "connect" (specified), "partnercenter" and "graph" (recorded only).
Api = str


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    api: Api
    exchange: Exchange


class TrafficLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    def add(self, api: Api, exchange: Exchange) -> None:
        with self._lock:
            self._requests.append(RecordedRequest(api, exchange))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)


_active: list[TrafficLog] = []
_active_lock = threading.Lock()


@contextmanager
def recording() -> Iterator[TrafficLog]:
    """Record every request any sandbox of this process receives while the block runs."""
    log = TrafficLog()
    with _active_lock:
        _active.append(log)
    try:
        yield log
    finally:
        with _active_lock:
            _active.remove(log)


def active() -> bool:
    return bool(_active)


def record(api: Api, exchange: Exchange) -> None:
    if not _active:
        return
    with _active_lock:
        logs = list(_active)
    for log in logs:
        log.add(api, exchange)


def unspecified_api_of(path: str) -> Api | None:
    """The emulated API without a shipped spec that ``path`` belongs to, if any."""
    if path.startswith("/partnercenter/"):
        return "partnercenter"
    if path.startswith("/v1.0/"):
        return "graph"
    return None
