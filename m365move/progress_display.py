"""Progress with an end: count, rate and ETA per thing being counted.

On a terminal a ``rich`` progress bar per counted thing ("subscriptions read", "orders placed", …);
elsewhere (a log file, CI, a runbook cell) one plain line per counted thing every ``every_seconds``
and when it finishes, so a long run is never silent and never floods its log.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@dataclass
class _Counter:
    started: float
    done: int = 0
    total: int = 0
    last_line: float = 0.0
    finished: bool = False
    task: TaskID | None = field(default=None)


def format_rate_line(what: str, done: int, total: int, elapsed: float) -> str:
    """``subscriptions read: 1,200/5,000 (24%), 80.0/s, ETA 0:00:47``."""
    rate = done / elapsed if elapsed > 0 else 0.0
    percent = f" ({100 * done / total:.0f}%)" if total else ""
    if total and rate > 0 and done < total:
        eta = f", ETA {_clock((total - done) / rate)}"
    elif total and done >= total:
        eta = f", done in {_clock(elapsed)}"
    else:
        eta = ""
    of_total = f"/{total:,}" if total else ""
    return f"{what}: {done:,}{of_total}{percent}, {rate:.1f}/s{eta}"


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ProgressDisplay:
    """``update(what, done, total)`` from any thread; ``close()`` at the end (idempotent)."""

    def __init__(self, stream: TextIO | None = None, *, every_seconds: float = 10.0,
                 terminal: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.every_seconds = every_seconds
        is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.terminal = is_tty if terminal is None else terminal
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}
        self._bars: Progress | None = None

    def update(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        with self._lock:
            counter = self._counters.get(what)
            if counter is None:
                counter = self._counters[what] = _Counter(started=now)
            counter.done, counter.total = done, total
            if self.terminal:
                self._bar(what, counter)
                return
            finished = bool(total) and done >= total
            if finished and counter.finished:
                return
            if finished or now - counter.last_line >= self.every_seconds:
                counter.last_line = now
                counter.finished = finished
                self.stream.write(format_rate_line(what, done, total, now - counter.started) + "\n")
                self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._bars is not None:
                self._bars.stop()
                self._bars = None
            elif not self.terminal:
                now = time.monotonic()
                for what, c in self._counters.items():
                    if not c.finished and c.done:
                        self.stream.write(format_rate_line(what, c.done, c.total, now - c.started) + "\n")
                        c.finished = True
                self.stream.flush()

    def _bar(self, what: str, counter: _Counter) -> None:
        if self._bars is None:
            self._bars = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}/s"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False,
            )
            self._bars.start()
        if counter.task is None:
            counter.task = self._bars.add_task(what, total=counter.total or None, rate="0.0")
        elapsed = time.monotonic() - counter.started
        rate = f"{counter.done / elapsed:.1f}" if elapsed > 0 else "0.0"
        self._bars.update(counter.task, completed=counter.done, total=counter.total or None, rate=rate)

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
