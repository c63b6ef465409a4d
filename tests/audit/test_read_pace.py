"""The live audit's pace: unpaced until Commerce throttles, then AIMD honouring Retry-After; and against the sandbox,
a throttling Commerce slows the audit down without failing it or changing its findings."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from m365move.audit.audit_report import platform_scope
from m365move.audit.platform_state import CommercePlatform
from m365move.audit.read_pace import PacedTransport, ReadPace
from m365move.audit.sources import read_journal
from m365move.commerce.credentials import CommerceCredentials
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.sandbox.faults import Faults
from tests.audit.sandbox_audit import migrate_on_sandbox
from tests.execution.sandbox_run import sandbox_on, use_credentials


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def answer_at(pace: ReadPace, clock: FakeClock, count: int, per_second: float, status: int = 200) -> None:
    for _ in range(count):
        pace.wait()
        clock.now += 1 / per_second
        pace.answered(status)


def test_unpaced_until_throttled_then_halves_from_the_rate_it_was_answered_at() -> None:
    clock = FakeClock()
    pace = ReadPace(clock=clock, sleep=clock.sleep)
    answer_at(pace, clock, 100, per_second=200)
    assert pace.rate is None and clock.slept == []  # no fixed client-side rate
    pace.answered(429, "2")
    assert pace.rate == pytest.approx(100, rel=0.05) and pace.throttled == 1
    # Every request waits out the Retry-After, not only the throttled one.
    assert pace.wait() == pytest.approx(2.0)


def test_one_decrease_per_congestion_then_additive_increase_up_to_the_cap() -> None:
    clock = FakeClock()
    pace = ReadPace(cap=50, increase=5, clock=clock, sleep=clock.sleep)
    assert pace.rate == 50
    for _ in range(8):  # the 8 requests in flight all meet the same 429
        pace.answered(429, "1")
    assert pace.rate == 25 and pace.throttled == 8
    pace.wait()
    answer_at(pace, clock, 100, per_second=25)  # 4 s of answers at the slowed pace
    assert 25 < pace.rate <= 50
    answer_at(pace, clock, 400, per_second=50)
    assert pace.rate == 50  # never above the cap


def test_paced_requests_are_spaced_at_the_rate() -> None:
    clock = FakeClock()
    pace = ReadPace(cap=10, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        pace.wait()
    assert clock.now - 100.0 == pytest.approx(1.0)
    with pytest.raises(ValueError):
        ReadPace(cap=0)


def test_the_transport_tells_the_pace_every_answer() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={})])
    pace = ReadPace()
    transport = PacedTransport(pace, httpx.MockTransport(lambda request: next(answers)))
    with httpx.Client(transport=transport, base_url="http://commerce") as client:
        assert client.get("/subscriptions/1").status_code == 429
        assert client.get("/subscriptions/1").status_code == 200
    assert pace.throttled == 1 and pace.rate is not None


def test_a_throttling_commerce_slows_the_read_down_and_the_state_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_credentials(monkeypatch)
    migrated = migrate_on_sandbox(tmp_path, failing=())
    scope = platform_scope(read_journal(migrated.journal))
    states = []
    for faults in (Faults(), Faults(rate_429=0.3, retry_after_seconds=0, seed=7)):
        with sandbox_on(migrated.estate, faults, state_file=migrated.state_file) as server:
            pace = ReadPace()
            with SimpleApiClient(server.url, CommerceCredentials.sandbox(), transport=PacedTransport(pace),
                                 rate_limit_per_second=None, max_retries=8) as client:
                states.append(CommercePlatform(client).read(scope))
                throttled = client.stats.throttled
        assert (throttled > 0) == (faults.rate_429 > 0) and pace.throttled == throttled
    calm, throttled_state = states
    assert throttled_state.subscriptions == calm.subscriptions and throttled_state.orders == calm.orders
