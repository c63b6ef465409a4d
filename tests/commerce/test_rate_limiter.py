"""The client-side token bucket."""

from __future__ import annotations

import threading
import time

import pytest

from m365move.commerce import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class TestSpacing:
    def test_requests_spaced_by_the_rate(self) -> None:
        """At 10/s with no burst, each call after the first waits until 0.1 s after the previous one."""
        t = FakeTime()
        limiter = RateLimiter(10, clock=t.clock, sleep=t.sleep)
        starts = []
        for _ in range(5):
            limiter.acquire()
            starts.append(t.now)
        assert starts == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])

    def test_burst_then_rate(self) -> None:
        t = FakeTime()
        limiter = RateLimiter(2, burst=3, clock=t.clock, sleep=t.sleep)
        waits = [limiter.acquire() for _ in range(5)]
        assert waits[:3] == [0, 0, 0] and waits[3:] == pytest.approx([0.5, 0.5])

    def test_idle_time_refills_up_to_burst_only(self) -> None:
        t = FakeTime()
        limiter = RateLimiter(1, burst=2, clock=t.clock, sleep=t.sleep)
        limiter.acquire()
        t.now += 100
        assert [limiter.acquire() for _ in range(3)] == pytest.approx([0, 0, 1])

    def test_threads_share_the_limit(self) -> None:
        """Four threads, twenty calls at 100/s: together they take at least 0.19 s."""
        limiter = RateLimiter(100)
        started = time.monotonic()
        threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(5)]) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert time.monotonic() - started >= 0.19

    def test_rejects_nonsense(self) -> None:
        with pytest.raises(ValueError):
            RateLimiter(0)
