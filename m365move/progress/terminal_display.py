"""Progress on stderr: rich's own ``Progress`` on a terminal, periodic plain lines elsewhere.

Which of the two is decided once, when the display is made, by rich's own terminal detection
(``Console(stderr=True).is_terminal``: a TTY, ``FORCE_COLOR``, ``TERM=dumb`` and the rest as rich reads them),
never again per update. While rich's live display runs, ``sys.stderr`` is rich's proxy for it, and that proxy
is no TTY: a display that asked the stream again on every update concluded "no terminal" after the bar's first
frame, so the bar stayed at 0 for a whole run while plain lines scrolled beneath it.

On a terminal: one rich task per counted thing ("subscriptions", "orders", "subscriptions read from Commerce"),
with rich's bar, count, rate, elapsed time and ETA (rich estimates rate and ETA from the updates themselves),
and the detail (``phase 1: placing, batch 2 of 5``). Elsewhere (a log file, CI, a pipe): one line per counted
thing every ``every_seconds`` and when it ends, so a long run is never silent and never floods its log. Work over
within ``bar_after`` (terminal) or ``every_seconds`` (plain) shows nothing: a quick step needs no progress.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Task as RichTask
from rich.text import Text

from m365move.progress.formatting import rate_line


def format_rate_line(what: str, done: int, total: int, elapsed: float, detail: str = "") -> str:
    """``subscriptions read: 1,200/5,000 (24%), 80.0/s, ETA 0:00:47``."""
    return rate_line(what, done, total, elapsed, detail)


class _Rate(ProgressColumn):
    """Items per second as rich estimates it (its speed over the last updates; the average once finished)."""

    def render(self, task: RichTask) -> Text:
        speed = task.finished_speed or task.speed or (task.completed / task.elapsed if task.elapsed else None)
        return Text(f"{speed:,.1f}/s" if speed else "-/s", style="progress.data.speed")


@dataclass
class _Row:
    started: float
    done: int = 0
    total: int = 0
    detail: str = ""
    task: TaskID | None = None
    last_line: float = 0.0
    shown: bool = False
    end_shown: bool = False


class RichBars:
    """rich's ``Progress`` on ``console``: a task per counted thing, started once it lasted ``bar_after``."""

    def __init__(self, console: Console, *, bar_after: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.bar_after = bar_after
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: dict[str, _Row] = {}
        self._progress: Progress | None = None

    def update(self, what: str, done: int, total: int, detail: str = "") -> None:
        now = self._clock()
        with self._lock:
            row = self._rows.get(what)
            if row is None:
                row = self._rows[what] = _Row(started=now)
            row.done, row.total, row.detail = done, total, detail
            if row.task is not None or now - row.started >= self.bar_after:
                self._draw(what, row)

    def finish(self, what: str) -> None:
        """The thing is over: its bar is left at its last count; the live display stops with the last bar."""
        with self._lock:
            row = self._rows.pop(what, None)
            if row is None or self._progress is None or row.task is None:
                return
            self._draw(what, row)
            self._progress.stop_task(row.task)
            if not any(r.task is not None for r in self._rows.values()):
                self._progress.stop()
                self._progress = None

    def close(self) -> None:
        for what in list(self._rows):
            self.finish(what)

    def _draw(self, what: str, row: _Row) -> None:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Rate(), TimeElapsedColumn(),
                TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[detail]}"),
                # stderr's lines (logging) go above the bars; stdout stays the command's own (--format json).
                console=self.console, refresh_per_second=4, redirect_stdout=False,
            )
            self._progress.start()
        if row.task is None:
            row.task = self._progress.add_task(what, total=row.total or None, detail=row.detail)
        self._progress.update(row.task, completed=row.done, total=row.total or None, detail=row.detail)


class PlainLines:
    """A line per counted thing every ``every_seconds`` and at its end, on ``stream`` (None: stderr as it is then)."""

    def __init__(self, stream: TextIO | None = None, *, every_seconds: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self.every_seconds = every_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: dict[str, _Row] = {}

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr

    def update(self, what: str, done: int, total: int, detail: str = "") -> None:
        now = self._clock()
        with self._lock:
            row = self._rows.get(what)
            if row is None:
                row = self._rows[what] = _Row(started=now, last_line=now)
            row.done, row.total, row.detail = done, total, detail
            if bool(total) and done >= total:
                if not row.end_shown and self._long(row, now):
                    row.end_shown = True
                    self._line(what, row, now)
            elif now - row.last_line >= self.every_seconds:
                row.end_shown = False
                self._line(what, row, now)

    def finish(self, what: str) -> None:
        now = self._clock()
        with self._lock:
            row = self._rows.pop(what, None)
            if row is not None and not row.end_shown and self._long(row, now):
                self._line(what, row, now)

    def close(self) -> None:
        for what in list(self._rows):
            self.finish(what)
        self.stream.flush()

    def _long(self, row: _Row, now: float) -> bool:
        """Worth an end line: a line was already shown, or it took at least the interval."""
        return row.shown or now - row.started >= self.every_seconds

    def _line(self, what: str, row: _Row, now: float) -> None:
        row.last_line, row.shown = now, True
        self.stream.write(rate_line(what, row.done, row.total, now - row.started, row.detail) + "\n")
        self.stream.flush()


class ProgressDisplay:
    """Bars or lines on ``stream`` (stderr when None), chosen here, once: ``terminal`` when given, else rich's
    terminal detection of the console it would draw on."""

    def __init__(self, stream: TextIO | None = None, *, every_seconds: float = 10.0, terminal: bool | None = None,
                 console: Console | None = None, bar_after: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        console = console or (Console(file=stream) if stream is not None else Console(stderr=True))
        self.terminal = console.is_terminal if terminal is None else terminal
        self._stream = stream
        self._shown: RichBars | PlainLines = (
            RichBars(console, bar_after=bar_after, clock=clock) if self.terminal
            else PlainLines(stream, every_seconds=every_seconds, clock=clock))

    @property
    def stream(self) -> TextIO:
        """Where it writes: the stream it was given, else standard error as it is now."""
        return self._stream or sys.stderr

    def update(self, what: str, done: int, total: int, detail: str = "") -> None:
        self._shown.update(what, done, total, detail)

    def finish(self, what: str) -> None:
        self._shown.finish(what)

    def close(self) -> None:
        self._shown.close()

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
