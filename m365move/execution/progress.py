"""Progress on long work: counts by status on one line, redrawn on a terminal, periodic otherwise.

The line says what it counts: ``[phase 1: placing, batch 2 of 5] 1000 subscriptions; orders: placed 180,
completed 120; 0:01:05`` (the subscriptions being worked on, the orders by status, the time so far).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, every_seconds: float = 5.0) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.counts: Counter[str] = Counter()
        self.step = ""
        self.batches = 0  # set by the executor: batch N of M
        self._batch = 0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._every = 0.2 if self._tty else every_seconds
        self._last = 0.0

    def phase(self, step: str) -> None:
        with self._lock:
            if step.startswith("phase 1: placing"):
                self._batch += 1
            self.step = step
        self._draw(force=True)

    def count(self, status: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[status] += amount
        self._draw()

    def done(self) -> None:
        if not self.total and not self.counts:
            return  # nothing was to be done: no progress line to leave behind
        self._draw(force=True)
        if self._tty:
            self.stream.write("\n")

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self._every:
            return
        self._last = now
        with self._lock:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "none yet"
            batch = f", batch {self._batch} of {self.batches}" if self.batches > 1 else ""
            elapsed = int(now - self._started)
            clock = f"{elapsed // 3600}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}"
            line = f"[{self.step}{batch}] {self.total} subscriptions; orders: {counts}; {clock}"
        self.stream.write(("\r" + line.ljust(100)) if self._tty else line + "\n")
        self.stream.flush()
