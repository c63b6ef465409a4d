"""The create limit's mirror after a 429: closed for the Retry-After Partner Center gave, not for its whole window."""

from __future__ import annotations

import pytest

from m365move.partnercenter.limits import CreateLimiter


def test_a_429_holds_creates_for_its_retry_after_not_for_the_rest_of_the_window() -> None:
    limiter = CreateLimiter(100, 300.0)
    first = limiter.acquire("a", 0.0)
    limiter.sent(first, 0.1)
    limiter.throttled(limiter.acquire("b", 10.0), 10.0, 7.0)  # Partner Center: 429, Retry-After: 7
    assert limiter.acquire("c", 12.0).wait == pytest.approx(5.0)  # booked into the window opening at 17 s
    assert limiter.acquire("d", 17.5).wait == 0.0  # not 293 s later
    assert limiter.acquire("c", 17.6).wait == 0.0  # the booked task's slot is there


def test_a_429_longer_than_the_window_moves_every_window_after_it() -> None:
    limiter = CreateLimiter(2, 60.0)
    limiter.sent(limiter.acquire("a", 0.0), 0.1)
    limiter.sent(limiter.acquire("b", 0.2), 0.3)
    booked = limiter.acquire("c", 1.0)  # full: booked into the next window
    assert booked.wait == pytest.approx(59.0, abs=0.5)
    limiter.throttled(None, 2.0, 120.0)
    assert limiter.acquire("c", 3.0).wait == pytest.approx(119.0, abs=0.01)
