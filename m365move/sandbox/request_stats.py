"""Counts of the API requests the sandbox answered, by method and route template, and of injected faults."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestStats:
    """Thread-safe counters; tests read them to prove retries, rate limits and look-ups happened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()

    def record_request(self, route: str) -> None:
        with self._lock:
            self._requests[route] += 1

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """``{"total": n, "requests": {"GET /plans/{id}": n, ...}, "faults": {"429": n, ...}}``."""
        with self._lock:
            return {
                "total": sum(self._requests.values()),
                "requests": dict(sorted(self._requests.items())),
                "faults": dict(sorted(self._faults.items())),
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._faults.clear()
