"""When to retry a platform call, and how long to wait: exponential backoff with full jitter, honouring Retry-After.

The rule that matters: a call that is not idempotent (POST /orders) is never repeated when the
platform may have acted on it. Gateways lie: a 502, 503 or 504 (like a 500, a timeout or a dropped
connection) can come after the platform created the order, so the caller gets ``UNCERTAIN`` and must
look the order up by its key before anything else. Only an answer that proves nothing was processed
may resend a POST: a 429 (throttled before processing) or a connection that was never made.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import httpx


class Verdict(str, Enum):
    RETRY = "retry"
    UNCERTAIN = "uncertain"  # the call may have taken effect: do not repeat it blindly
    FAIL = "fail"


_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers that prove the platform processed nothing, so even an order can be resent. Not 502/503/504: a
# proxy in front of Commerce answers those also when the order went through and only its answer was lost.
_REFUSED_BEFORE_PROCESSING = frozenset({429})


def verdict_for_status(status: int, *, idempotent: bool) -> Verdict | None:
    """RETRY/UNCERTAIN for a retryable status, None when the status is not a transient failure."""
    if status not in _RETRY_STATUSES:
        return None
    if idempotent or status in _REFUSED_BEFORE_PROCESSING:
        return Verdict.RETRY
    return Verdict.UNCERTAIN


def verdict_for_error(error: httpx.TransportError, *, idempotent: bool) -> Verdict:
    """Connecting failed: nothing was sent, retry. Anything later may have reached the platform."""
    if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Verdict.RETRY
    if isinstance(error, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)):
        return Verdict.RETRY if idempotent else Verdict.UNCERTAIN
    return Verdict.FAIL


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` retries after the first attempt; waits grow as base * 2^attempt, capped, fully jittered."""

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A server asking for a longer pause than this is treated as down rather than waited for.
    max_retry_after: float = 120.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (attempt counts from 0)."""
        ceiling = min(self.max_delay, self.base_delay * (2.0**attempt))
        jittered = float(self.random()) * ceiling
        if retry_after is None:
            return jittered
        # Never earlier than the server asked; the jitter on top spreads clients that were told the same.
        return min(retry_after, self.max_retry_after) + jittered * 0.1

    def gives_up_on(self, retry_after: float | None) -> bool:
        return retry_after is not None and retry_after > self.max_retry_after
