"""Named instants at which a test can kill the executor (``M365MOVE_CRASH_AT=after-place:7``).

The crash test needs to kill the process at exact instants, such as between placing an order and
journaling it, which a timer alone hits only by luck. Unset, this costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal
import threading

ENV_VAR = "M365MOVE_CRASH_AT"
POINTS = ("before-place", "after-place", "after-journal", "after-poll")


class CrashPoints:
    def __init__(self, spec: str | None = None) -> None:
        spec = spec if spec is not None else os.environ.get(ENV_VAR, "")
        self._target: tuple[str, int] | None = None
        if spec:
            name, _, count = spec.partition(":")
            if name not in POINTS:
                raise ValueError(f"{ENV_VAR}: unknown crash point {name!r}; one of {', '.join(POINTS)}")
            self._target = (name, int(count or 1))
        self._hits = 0
        self._lock = threading.Lock()

    def reached(self, name: str) -> None:
        if self._target is None or name != self._target[0]:
            return
        with self._lock:
            self._hits += 1
            if self._hits == self._target[1]:
                os.kill(os.getpid(), signal.SIGKILL)
