"""Progress with an end, for every long operation: the one module they all report through.

Code doing long work opens a task and advances it; it never decides how progress is shown::

    with progress.task("subscriptions read from Commerce", total=len(ids)) as reading:
        for ... :
            reading.advance()

Where it goes is decided once per process (:func:`display`):

* on a terminal (stderr is a TTY): a ``rich`` bar per task with count, rate, elapsed time and ETA;
* elsewhere (a log file, CI, a pipe): one plain line per task every 10 s (``M365MOVE_PROGRESS_EVERY``
  seconds) and when it ends, on stderr; work over sooner shows nothing;
* inside a Jupyter kernel (a runbook cell): one output per task, updated in place, so the cell shows a live
  bar and the saved notebook keeps only its last state; ``m365move runbook run`` relays the same updates to
  its own terminal (see ``progress/kernel_relay.py``).

Progress never goes to stdout: ``--format json`` keeps stdout for the document alone.
A task's name says what it counts (``orders final``, ``subscriptions read``); its ``detail`` says where
the work is (``phase 1: placing, batch 2 of 5``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# The kernel's progress updates carry this mimetype, so ``runbook run`` can relay them to its terminal.
EVERY_ENV = "M365MOVE_PROGRESS_EVERY"  # seconds between plain progress lines (not on a terminal)


class Display(Protocol):
    """Where progress goes: ``update`` from any thread, ``close`` once the work is over."""

    def update(self, what: str, done: int, total: int, detail: str = "") -> None: ...

    def finish(self, what: str) -> None: ...


class Task:
    """One counted thing: ``advance`` / ``update`` from any thread; ``close`` (or the ``with``) ends it."""

    def __init__(self, what: str, total: int | None, detail: str, shown_on: Display) -> None:
        self.what = what
        self.total = total or 0
        self.detail = detail
        self.done = 0
        self._display = shown_on
        self._lock = threading.Lock()
        self._closed = False
        self._display.update(what, 0, self.total, detail)

    def advance(self, amount: int = 1) -> None:
        with self._lock:
            self.done += amount
            done, total, detail = self.done, self.total, self.detail
        self._display.update(self.what, done, total, detail)

    def update(self, done: int | None = None, *, total: int | None = None, detail: str | None = None) -> None:
        with self._lock:
            if done is not None:
                self.done = done
            if total is not None:
                self.total = total
            if detail is not None:
                self.detail = detail
            done_now, total_now, detail_now = self.done, self.total, self.detail
        self._display.update(self.what, done_now, total_now, detail_now)

    def counting(self, work: Callable[[T], R]) -> Callable[[T], R]:
        """``work`` that advances this task each time it returns (for ``pool.map``, which submits everything at once)."""

        def counted(item: T) -> R:
            result = work(item)
            self.advance()
            return result

        return counted

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._display.finish(self.what)

    def __enter__(self) -> Task:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Silent:
    def update(self, what: str, done: int, total: int, detail: str = "") -> None:
        return None

    def finish(self, what: str) -> None:
        return None


SILENT: Display = _Silent()
_chosen: Display | None = None
_choosing = threading.Lock()


def display() -> Display:
    """This process's display: the one set with :func:`use`, else chosen by where it runs (see the top)."""
    global _chosen
    with _choosing:
        if _chosen is None:
            _chosen = _default_display()
        return _chosen


def _default_display() -> Display:
    every = os.environ.get(EVERY_ENV, "")
    seconds = float(every) if every.replace(".", "", 1).isdigit() else None
    if _in_jupyter_kernel():
        from m365move.progress.notebook_display import NotebookDisplay

        return NotebookDisplay(2.0 if seconds is None else seconds, 2.0 if seconds is None else seconds)
    from m365move.progress.terminal_display import ProgressDisplay

    # stderr as it is when written to (tests replace it)
    return ProgressDisplay(every_seconds=10.0 if seconds is None else seconds)


def _in_jupyter_kernel() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    from IPython.core.getipython import get_ipython

    ipython = get_ipython()  # type: ignore[no-untyped-call]
    return ipython is not None and getattr(ipython, "kernel", None) is not None


@contextmanager
def use(shown_on: Display) -> Iterator[Display]:
    """Send progress to ``shown_on`` for the ``with`` (tests, a quiet runbook step, a relay)."""
    global _chosen
    with _choosing:
        before, _chosen = _chosen, shown_on
    try:
        yield shown_on
    finally:
        with _choosing:
            _chosen = before


def task(what: str, total: int | None = None, *, detail: str = "") -> Task:
    """Start counting ``what`` (a ``with`` ends it); ``total`` None when the end is not known yet, 0 when
    there is nothing to count (then nothing is shown)."""
    return Task(what, total, detail, SILENT if total == 0 else display())


def iterate(items: Iterable[T], what: str, total: int | None = None) -> Iterator[T]:
    """Yield ``items``, counting each one under ``what`` (in steps of 1/500 of the total: a tight loop over
    100,000 items must not pay for 100,000 display updates)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    step = max(1, (total or 0) // 500)
    with task(what, total) as counting:
        pending = 0
        for item in items:
            yield item
            pending += 1
            if pending >= step:
                counting.advance(pending)
                pending = 0
        if pending:
            counting.advance(pending)


def now() -> float:
    return time.monotonic()


@contextmanager
def reporting() -> Iterator[Callable[[str, int, int], None]]:
    """A ``(what, done, total)`` callback for code that reports that way; what it counted ends with the ``with``."""
    shown_on = display()
    seen: set[str] = set()

    def report(what: str, done: int, total: int) -> None:
        seen.add(what)
        shown_on.update(what, done, total)

    try:
        yield report
    finally:
        for what in sorted(seen):
            shown_on.finish(what)
