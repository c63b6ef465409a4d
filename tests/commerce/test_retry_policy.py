"""Which failures are retried, which make an order uncertain, and how long the client waits."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from m365move.commerce import RetryPolicy
from m365move.commerce.retry_policy import Verdict, parse_retry_after, verdict_for_error, verdict_for_status

REQUEST = httpx.Request("POST", "http://x/orders")


class TestVerdicts:
    @pytest.mark.parametrize(
        ("status", "idempotent", "verdict"),
        [
            (429, True, Verdict.RETRY),
            (503, True, Verdict.RETRY),
            (500, True, Verdict.RETRY),
            (429, False, Verdict.RETRY),
            (502, True, Verdict.RETRY),
            (504, True, Verdict.RETRY),
            # A gateway error on a POST may come after the order was created: look it up, never resend blindly.
            (502, False, Verdict.UNCERTAIN),
            (503, False, Verdict.UNCERTAIN),
            (500, False, Verdict.UNCERTAIN),
            (504, False, Verdict.UNCERTAIN),
            (400, False, None),
            (404, True, None),
            (200, True, None),
        ],
    )
    def test_status(self, status: int, idempotent: bool, verdict: Verdict | None) -> None:
        assert verdict_for_status(status, idempotent=idempotent) is verdict

    @pytest.mark.parametrize(
        ("error", "idempotent", "verdict"),
        [
            (httpx.ConnectError("refused", request=REQUEST), False, Verdict.RETRY),
            (httpx.ConnectTimeout("slow", request=REQUEST), False, Verdict.RETRY),
            (httpx.ReadTimeout("slow", request=REQUEST), True, Verdict.RETRY),
            (httpx.ReadTimeout("slow", request=REQUEST), False, Verdict.UNCERTAIN),
            (httpx.RemoteProtocolError("closed", request=REQUEST), False, Verdict.UNCERTAIN),
            (httpx.ReadError("reset", request=REQUEST), False, Verdict.UNCERTAIN),
            (httpx.ReadError("reset", request=REQUEST), True, Verdict.RETRY),
        ],
    )
    def test_transport_errors(self, error: httpx.TransportError, idempotent: bool, verdict: Verdict) -> None:
        assert verdict_for_error(error, idempotent=idempotent) is verdict


class TestDelays:
    def test_full_jitter_within_exponential_ceiling(self) -> None:
        top = RetryPolicy(base_delay=0.5, max_delay=4, random=lambda: 0.999999)
        bottom = RetryPolicy(base_delay=0.5, max_delay=4, random=lambda: 0.0)
        assert [round(top.delay(a), 3) for a in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
        assert all(bottom.delay(a) == 0 for a in range(5))

    def test_retry_after_is_a_floor(self) -> None:
        policy = RetryPolicy(random=lambda: 0.5)
        assert 7 <= policy.delay(0, retry_after=7) < 7.1
        assert policy.gives_up_on(500) and not policy.gives_up_on(60)

    def test_parse_retry_after(self) -> None:
        now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
        assert parse_retry_after("3") == 3
        assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30
        assert parse_retry_after(None) is None and parse_retry_after("soon") is None
