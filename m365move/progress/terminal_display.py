"""Progress on a stream (stderr): ``rich`` bars on a terminal, periodic plain lines elsewhere.

On a terminal a ``rich`` progress bar per counted thing ("subscriptions read", "orders final", …) with
count, rate, elapsed time and ETA; elsewhere (a log file, CI, a pipe) one plain line per counted thing
every ``every_seconds`` and when it finishes, so a long run is never silent and never floods its log.
Work over within ``every_seconds`` (plain) or ``bar_after`` (terminal) shows nothing: a quick step needs no
progress, and a log full of "0/3 … 3/3" lines would hide the ones that matter.
Code doing the work reports through ``m365move.progress``, which picks this display for a process.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
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

from m365move.progress.formatting import rate_line


@dataclass
class _Counter:
    started: float
    done: int = 0
    total: int = 0
    detail: str = ""
    last_line: float = 0.0
    shown: bool = False
    end_shown: bool = False  # the line saying it reached its total is written once
    finished: bool = False
    task: TaskID | None = field(default=None)


def format_rate_line(what: str, done: int, total: int, elapsed: float, detail: str = "") -> str:
    """``subscriptions read: 1,200/5,000 (24%), 80.0/s, ETA 0:00:47``."""
    return rate_line(what, done, total, elapsed, detail)


class ProgressDisplay:
    """``update(what, done, total, detail)`` from any thread; ``finish(what)`` per thing, ``close()`` at the end."""

    def __init__(self, stream: TextIO | None = None, *, every_seconds: float = 10.0,
                 terminal: bool | None = None, console: Console | None = None, bar_after: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream  # None: whatever sys.stderr is when a line is written (it may be replaced)
        self.every_seconds = every_seconds
        self.bar_after = bar_after
        self._clock = clock
        self._terminal = terminal
        self._console = console
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}
        self._bars: Progress | None = None

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr

    @property
    def terminal(self) -> bool:
        if self._terminal is not None:
            return self._terminal
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError):  # no isatty, or closed
            return False

    def update(self, what: str, done: int, total: int, detail: str = "") -> None:
        now = self._clock()
        with self._lock:
            counter = self._counters.get(what)
            if counter is None or counter.finished:  # a new run of the same thing starts counting afresh
                counter = self._counters[what] = _Counter(started=now, last_line=now)
            counter.done, counter.total, counter.detail = done, total, detail
            if self.terminal:
                if counter.task is not None or now - counter.started >= self.bar_after:
                    self._bar(what, counter, now)
                return
            if bool(total) and done >= total:
                if not counter.end_shown and self._long(counter, now):
                    counter.end_shown = True
                    self._line(what, counter, now)
            elif now - counter.last_line >= self.every_seconds:
                counter.end_shown = False
                self._line(what, counter, now)

    def finish(self, what: str) -> None:
        """The thing is over: its last line (plain) or its bar left as it stands (terminal), if it was long."""
        now = self._clock()
        with self._lock:
            counter = self._counters.get(what)
            if counter is None or counter.finished:
                return
            if self.terminal:
                if counter.task is not None or now - counter.started >= self.bar_after:
                    self._bar(what, counter, now)
                if self._bars is not None and counter.task is not None:
                    self._bars.stop_task(counter.task)
                    if all(c.finished or c is counter for c in self._counters.values()):
                        self._bars.stop()
                        self._bars = None
            elif not counter.end_shown and self._long(counter, now):
                self._line(what, counter, now)
            counter.finished = True

    def close(self) -> None:
        for what in list(self._counters):
            self.finish(what)
        with self._lock:
            if self._bars is not None:
                self._bars.stop()
                self._bars = None
            self.stream.flush()

    def _long(self, counter: _Counter, now: float) -> bool:
        """Worth an end line: a line was already shown, or it took at least the interval."""
        return counter.shown or now - counter.started >= self.every_seconds

    def _line(self, what: str, counter: _Counter, now: float) -> None:
        counter.last_line = now
        counter.shown = True
        self.stream.write(rate_line(what, counter.done, counter.total, now - counter.started, counter.detail) + "\n")
        self.stream.flush()

    def _bar(self, what: str, counter: _Counter, now: float) -> None:
        if self._bars is None:
            self._bars = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}/s"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                TextColumn("{task.fields[detail]}"),
                console=self._console or Console(file=self.stream), transient=False,
            )
            self._bars.start()
        if counter.task is None:
            counter.task = self._bars.add_task(what, total=counter.total or None, rate="0.0", detail="")
        elapsed = now - counter.started
        rate = f"{counter.done / elapsed:.1f}" if elapsed > 0 else "0.0"
        self._bars.update(counter.task, completed=counter.done, total=counter.total or None, rate=rate,
                          detail=counter.detail)

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
