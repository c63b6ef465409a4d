"""A task ends inside the runner's limit (issue 27, "Task time").

The runner answers *retry* at its limit and leaves the handler's thread running; a handler that went on calling
Partner Center after that would act on a task Connect has already been told to send again. Here the runner's limit
is scaled down (the runner's own environment variable, which the handlers read too) and Partner Center answers
every call 503 with ``Retry-After``: the handler must answer *reschedule* before the limit and make no Partner Center
call after it, also later, from a thread the runner gave up on.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

from m365move.sandbox.faults import Faults
from m365move.sandbox.traffic import recording
from tests.runner.conftest import runner_rig

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

PURCHASE = "asset_purchase_request_processing"
LIMIT_SECONDS = 4
RETRY_AFTER_SECONDS = 2


class BusyPartnerCenter(httpx.BaseTransport):
    """Partner Center behind a gateway answering 503 with Retry-After to every call (the token is granted)."""

    def __init__(self) -> None:
        self.calls: list[float] = []  # monotonic time of each API call
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "token", "expires_in": 3600})
        with self._lock:
            self.calls.append(time.monotonic())
        return httpx.Response(503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, json={})


def test_a_task_under_a_scaled_down_limit_never_calls_partner_center_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKGROUND_TASK_MAX_EXECUTION_TIME", str(LIMIT_SECONDS))
    with runner_rig() as rig:
        rig.sweep()
        purchase = rig.requests(type="purchase", status="pending")[0]
        busy = BusyPartnerCenter()
        application = rig.runtime.handler.get_application()
        monkeypatch.setattr(application, "partner_center_transport", busy)
        started = time.monotonic()
        answer = rig.runtime.deliver(PURCHASE, purchase["id"])
        answered = time.monotonic()
        time.sleep(3 * RETRY_AFTER_SECONDS)  # a thread the runner gave up on would call again meanwhile

    assert answer.result == "reschedule", (answer.result, answer.message)
    assert answered - started < LIMIT_SECONDS
    assert busy.calls, "Partner Center was never called"
    assert max(busy.calls) < started + LIMIT_SECONDS, [round(t - started, 2) for t in busy.calls]
    assert rig.connect.requests[purchase["id"]]["status"] == "pending"  # nothing decided: it comes back later


def test_a_sweep_under_a_scaled_down_limit_answers_before_it_and_calls_nothing_after(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Scheduled tasks too: with every Connect answer 150 ms late, a 6 s limit cuts the pass; the execution answers
    before the limit (not *retry*), and no call of it (its worker threads included) reaches Connect afterwards."""
    monkeypatch.setenv("SCHEDULED_TASK_MAX_EXECUTION_TIME", "6")
    caplog.set_level(logging.INFO)
    with runner_rig(24, seed=21) as rig:
        rig.server.context.injector.replace(Faults(latency_ms=150))
        with recording() as traffic:
            answer = rig.sweep({"chunk_size": 4, "batch_size": 4})
            calls_at_answer = len(traffic.requests)
            time.sleep(2)
            calls_later = len(traffic.requests)
    assert answer.result != "retry", answer.message
    assert answer.runtime < 6
    assert calls_later == calls_at_answer
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "stopped before the runner's limit" in said or "time budget spent" in said  # the pass was cut
