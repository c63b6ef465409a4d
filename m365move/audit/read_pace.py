"""The live audit's pace: as fast as the platform answers, slower as soon as it says so (AIMD on 429).

The audit only reads, and GET is idempotent, so it has no fixed client-side rate by default (``migrate`` keeps
its 20 writes per second): its ``concurrency`` requests in flight go as fast as Commerce answers them. When
Commerce throttles (429), the pace

- holds every request back until the ``Retry-After`` the platform asked for (not only the one throttled: the
  others would be refused too), and
- halves its rate: from the rate it was answered at lately, or from its current rate if that is lower
  (multiplicative decrease), never below ``floor``; once per congestion (the other requests that were in
  flight meet the same 429 and do not halve it again);

then climbs back by ``increase`` requests per second each second without a 429 (additive increase), up to
``cap`` (``--rate-limit``) when one is given. 5xx answers and dropped connections are retried with jittered
backoff by the client (``RetryPolicy``), which also waits out the throttled request's own ``Retry-After``.

:class:`PacedTransport` applies the pace to every request an httpx client sends, so the Commerce client itself
is unchanged (it is given the transport and no rate limit of its own).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import httpx

from m365move.commerce.retry_policy import parse_retry_after

# How many recent answers tell the rate the platform is answering at.
_WINDOW = 64


class ReadPace:
    """Thread-safe AIMD pacing of requests; ``cap`` None means no fixed ceiling (start unpaced).

    ``wait`` before each request, ``answered`` after each answer. ``rate`` is the current pace in requests per
    second, None while unpaced (no 429 seen and no cap).
    """

    def __init__(
        self,
        cap: float | None = None,
        *,
        floor: float = 1.0,
        increase: float = 5.0,
        default_retry_after: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if cap is not None and cap <= 0:
            raise ValueError(f"cap must be positive or None, not {cap}")
        self.cap = cap
        self.floor = min(floor, cap) if cap else floor
        self.increase = increase
        self.default_retry_after = default_retry_after
        self.rate: float | None = cap
        self.throttled = 0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = clock()  # when the next request may leave at the current rate
        self._paused_until = 0.0
        self._answers: deque[float] = deque(maxlen=_WINDOW)
        self._raised_at = clock()
        self._settled_at = 0.0  # 429s before this answer requests sent before the last decrease

    def wait(self) -> float:
        """Block until this request may leave; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until)
            if self.rate is not None:
                # Reserve a slot under the lock, sleep outside it: callers queue fairly.
                start = max(start, self._next_slot)
                self._next_slot = start + 1.0 / self.rate
            wait = start - now
        if wait > 0:
            self._sleep(wait)
        return max(0.0, wait)

    def answered(self, status: int, retry_after: str | None = None) -> None:
        """Adapt to one answer: a 429 slows down, anything else lets the rate climb back."""
        with self._lock:
            now = self._clock()
            if status == 429:
                self.throttled += 1
                pause = parse_retry_after(retry_after)
                self._paused_until = max(self._paused_until, now + (self.default_retry_after if pause is None else pause))
                self._next_slot = max(self._next_slot, self._paused_until)
                self._raised_at = self._paused_until
                if now < self._settled_at:
                    return  # the requests in flight when it last slowed down: one decrease per congestion
                known = [r for r in (self.rate, self._answered_rate()) if r is not None]
                self.rate = max(self.floor, min(known) / 2 if known else self.floor)
                self._settled_at = self._paused_until + 1.0
                return
            self._answers.append(now)
            if self.rate is not None and now - self._raised_at >= 1.0:
                # Additive increase, once per second: ``increase`` more requests per second.
                steps = int(now - self._raised_at)
                self.rate += self.increase * steps
                self._raised_at += steps
                if self.cap is not None:
                    self.rate = min(self.rate, self.cap)

    def _answered_rate(self) -> float | None:
        if len(self._answers) < 2:
            return None
        span = self._answers[-1] - self._answers[0]
        return (len(self._answers) - 1) / span if span > 0 else None


class PacedTransport(httpx.BaseTransport):
    """An httpx transport that paces every request with a :class:`ReadPace` and tells it each answer."""

    def __init__(self, pace: ReadPace, inner: httpx.BaseTransport | None = None) -> None:
        self.pace = pace
        # The Commerce client's own pool size (its ``limits`` apply only when it builds the transport itself).
        self._inner = inner or httpx.HTTPTransport(limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.pace.wait()
        response = self._inner.handle_request(request)
        self.pace.answered(response.status_code, response.headers.get("Retry-After"))
        return response

    def close(self) -> None:
        self._inner.close()
