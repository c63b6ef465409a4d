"""Every task ends inside the runner's limit: a deadline below it that every Partner Center and Connect call obeys.

connect-extension-runner gives a handler 300 s (background), 120 s (interactive) or 12 h (scheduled); past that it
answers *retry* to Connect while the handler's thread keeps running, so a handler that waits on Partner Center
(503 with ``Retry-After``, a create slot) would go on calling it after Connect has been told to send the task again.
The handler therefore works to its own deadline, ``reserve`` seconds before the runner's limit: each call is given
at most the time left as its timeout, no call starts and no wait begins that would end after the deadline, and a
handler that runs out raises ``TaskOutOfTime`` and answers *reschedule* itself, before the limit, never after.

The limits are read as the runner reads them (the same environment variables, the same defaults), so a runner
configured with other limits, or a test that scales them down, moves the deadlines with them.
"""

from __future__ import annotations

import contextvars
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

BACKGROUND = "background"
INTERACTIVE = "interactive"
SCHEDULED = "scheduled"
# connect-extension-runner 43.x: connect/eaas/runner/constants.py and helpers.get_environment.
RUNNER_LIMITS = {BACKGROUND: 300, INTERACTIVE: 120, SCHEDULED: 12 * 3600}
RUNNER_LIMIT_VARIABLES = {BACKGROUND: "BACKGROUND_TASK_MAX_EXECUTION_TIME",
                          INTERACTIVE: "INTERACTIVE_TASK_MAX_EXECUTION_TIME",
                          SCHEDULED: "SCHEDULED_TASK_MAX_EXECUTION_TIME"}


class TaskOutOfTime(Exception):  # noqa: N818 - the name says what happened, like TimeoutError
    """The task's deadline has come (or a wait would pass it): answer *reschedule* now."""


def runner_limit(category: str) -> float:
    """The runner's limit for a task category, in seconds, as the runner itself reads it."""
    raw = os.environ.get(RUNNER_LIMIT_VARIABLES[category])
    try:
        return float(raw) if raw else float(RUNNER_LIMITS[category])
    except ValueError:
        return float(RUNNER_LIMITS[category])


def reserve_for(limit: float) -> float:
    """What is kept between the deadline and the runner's limit: a tenth of the limit, 1 to 30 seconds (the answer
    itself, the thread pool's hand-over, a call that ends exactly at the deadline)."""
    return min(30.0, max(1.0, limit / 10.0))


class TaskDeadline:
    """A point in (real, monotonic) time the task must be done by."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + seconds

    @classmethod
    def for_category(cls, category: str, clock: Callable[[], float] = time.monotonic) -> TaskDeadline:
        limit = runner_limit(category)
        return cls(limit - reserve_for(limit), clock)

    def remaining(self) -> float:
        return self._end - self._clock()

    def check(self, what: str) -> None:
        """Raise ``TaskOutOfTime`` when no time is left for ``what``."""
        if self.remaining() <= 0:
            raise TaskOutOfTime(f"no time left for {what} before the runner's limit")

    def timeout(self, what: str, default: float) -> float:
        """The timeout for one call: the call's own, or the time left when that is shorter."""
        self.check(what)
        return max(0.001, min(default, self.remaining()))

    def allow_wait(self, what: str, seconds: float) -> None:
        """Raise ``TaskOutOfTime`` unless a wait of ``seconds`` ends before the deadline."""
        if seconds >= self.remaining():
            raise TaskOutOfTime(f"waiting {seconds:.3g} s for {what} would pass the runner's limit")


_CURRENT: contextvars.ContextVar[TaskDeadline | None] = contextvars.ContextVar("m365move_task_deadline", default=None)


def current() -> TaskDeadline | None:
    """The deadline of the task running in this thread (None outside a handler)."""
    return _CURRENT.get()


@contextmanager
def working_to(deadline: TaskDeadline) -> Iterator[TaskDeadline]:
    """Make ``deadline`` the one Connect calls in this thread obey (``connect.client.with_retries``)."""
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)


def carried(function: Callable[P, T]) -> Callable[P, T]:
    """``function`` working to this thread's deadline in whatever thread runs it (a pool's threads do not inherit
    context variables): the sweep's workers obey the task's deadline as the handler's own thread does."""
    deadline = current()
    if deadline is None:
        return function

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with working_to(deadline):
            return function(*args, **kwargs)
    return run
