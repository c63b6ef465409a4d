"""Recording what clients send to the sandbox, for the traffic conformance test.

Every sandbox in the process adds each Commerce and Connect request it receives (refused ones too) to every
active ``TrafficLog``; nothing is kept when no log is active, so long runs pay nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from m365move.sandbox.spec_validation import ApiName, Exchange


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    api: ApiName
    exchange: Exchange


class TrafficLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    def add(self, api: ApiName, exchange: Exchange) -> None:
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


def record(api: ApiName, exchange: Exchange) -> None:
    if not _active:
        return
    with _active_lock:
        logs = list(_active)
    for log in logs:
        log.add(api, exchange)
