"""Named instants at which a test can kill or pause the executor (``M365MOVE_CRASH_AT=after-place:7``).

The crash test needs to kill the process at exact instants, such as between placing an order and
journaling it, which a timer alone hits only by luck. ``:stop`` at the end pauses the process
instead (SIGSTOP, as a VM pause would; the test sends SIGCONT): the fencing test lets another
worker take its claim over meanwhile. Unset, this costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal
import threading

ENV_VAR = "M365MOVE_CRASH_AT"
POINTS = ("before-place", "after-claim", "before-post", "post-leaving", "after-place", "after-journal", "after-poll")


class CrashPoints:
    def __init__(self, spec: str | None = None) -> None:
        spec = spec if spec is not None else os.environ.get(ENV_VAR, "")
        self._target: tuple[str, int] | None = None
        self._signal = signal.SIGKILL
        if spec:
            name, _, rest = spec.partition(":")
            count, _, action = rest.partition(":")
            if name not in POINTS or action not in ("", "kill", "stop"):
                raise ValueError(f"{ENV_VAR}: unknown crash point {spec!r}; one of {', '.join(POINTS)}[:N[:stop]]")
            self._target = (name, int(count or 1))
            self._signal = signal.SIGSTOP if action == "stop" else signal.SIGKILL
        self._hits = 0
        self._lock = threading.Lock()

    def reached(self, name: str) -> None:
        if self._target is None or name != self._target[0]:
            return
        with self._lock:
            self._hits += 1
            hit = self._hits == self._target[1]
        if hit:
            # To this very thread: it stops (or dies) right here. A signal to the process may be taken by
            # another thread first, and this one would run on for a moment (past the instant under test).
            signal.pthread_kill(threading.get_ident(), self._signal)
