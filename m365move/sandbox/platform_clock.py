"""Platform time for the Connect and Partner Center emulations: real time, optionally sped up.

``time_scale`` platform seconds pass per real second, so a Partner Center limit of 100 creates per 5 minutes
(300 platform seconds) can be exercised in 3 real seconds at scale 100. The local event driver runs on the
same scale, so countdowns and ``Retry-After`` keep their meaning.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class PlatformClock:
    def __init__(self, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = float(time_scale)
        self._clock = clock
        self._start = clock()
        self._offset = 0.0

    def now(self) -> float:
        """Platform seconds since the sandbox started (plus any ``advance``)."""
        return (self._clock() - self._start) * self.time_scale + self._offset

    def advance(self, seconds: float) -> None:
        """Jump platform time forward (tests)."""
        self._offset += seconds
