"""A handler error and a refused migration each end the task once, with the reason where people look (issue 12).

Under the runner an escaping exception is *retry* (an endless loop of the same failure), so the handlers end
every failure themselves: a purchase is failed with the reason on the request (the reseller sees it) and the
task ends; the runner's count then skips any redelivery (the request is no longer pending); Partner Center is
asked nothing more. A scheduled sweep that hits an error fails its task with the reason and leaves the stored
position where it was, so the next execution redoes that chunk, once.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from m365move.connect.sweep_schedule import PROGRESS_KEY
from tests.runner.conftest import SCHEDULE_ID, RunnerRig, runner_rig

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

PURCHASE = "asset_purchase_request_processing"


def _partner_center_calls(rig: RunnerRig) -> int:
    routes: dict[str, int] = rig.server.context.stats.snapshot()["requests"]
    return sum(n for route, n in routes.items() if "/partnercenter" in route and "oauth2" not in route)


def _moves(rig: RunnerRig, request_id: str) -> list[tuple[str, str]]:
    """The request's status changes after it was created."""
    return [(was, now) for rid, was, now in rig.connect.transitions if rid == request_id and was]


def test_a_handler_error_fails_the_request_once_with_the_reason(rig: RunnerRig,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    rig.sweep()
    purchase = rig.requests(type="purchase", status="pending")[0]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("migrationId")

    monkeypatch.setattr("extension.events.fulfil_purchase", broken)
    answer = rig.runtime.deliver(PURCHASE, purchase["id"])
    assert answer.result == "success", answer.message  # the task ended: neither retry nor reschedule
    stored = rig.connect.requests[purchase["id"]]
    assert stored["status"] == "failed"
    assert stored["reason"] == "m365move could not process this request: KeyError: 'migrationId'"
    monkeypatch.undo()
    before = _partner_center_calls(rig)
    for _ in range(3):  # Connect delivers it again: the runner skips, the handler is not called
        assert rig.runtime.deliver(PURCHASE, purchase["id"]).result == "skip"
    assert _partner_center_calls(rig) == before
    assert _moves(rig, purchase["id"]) == [("pending", "failed")]


def test_a_refused_migration_fails_the_request_once_with_microsofts_reason() -> None:
    def ineligible(section: dict[str, Any]) -> None:
        for customer in section["partner_center"]["customers"]:
            for subscription in customer["subscriptions"]:
                subscription["ineligible"] = [3]

    with runner_rig(change=ineligible) as rig:
        rig.sweep()
        purchase = rig.requests(type="purchase", status="pending")[0]
        answer = rig.runtime.deliver(PURCHASE, purchase["id"])
        assert answer.result == "success", answer.message
        stored = rig.connect.requests[purchase["id"]]
        assert stored["status"] == "failed" and "SubscriptionPromotionsPresent" in stored["reason"]
        assert sum(rig.partner_center.created_for.values()) == 0  # refused at validation: nothing was created
        before = _partner_center_calls(rig)
        for _ in range(3):
            assert rig.runtime.deliver(PURCHASE, purchase["id"]).result == "skip"
        assert _partner_center_calls(rig) == before  # no retry loop: Partner Center is not asked again
        assert _moves(rig, purchase["id"]) == [("pending", "failed")]


def test_an_error_in_a_sweep_chunk_fails_the_task_once_and_keeps_the_position(rig: RunnerRig,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("unreadable asset")

    monkeypatch.setattr("m365move.connect.sweep_schedule.sweep_chunk", broken)
    answer = rig.sweep({"chunk_size": 2})
    assert answer.result == "fail"
    assert answer.message == "m365move could not process this request: ValueError: unreadable asset"
    assert rig.connect.take_triggered() == []  # no next chunk, no loop
    assert PROGRESS_KEY not in rig.connect.schedules[SCHEDULE_ID]["parameter"]  # the position did not move
    monkeypatch.undo()
    # The next execution (the schedule's next recurrence) sweeps that chunk, and the rest of the pass.
    answer = rig.runtime.deliver("scheduled_execution", SCHEDULE_ID)
    assert answer.result == "success" and rig.requests(type="purchase")
    assert rig.connect.schedules[SCHEDULE_ID]["parameter"][PROGRESS_KEY]["chunk"] == 2  # 4 assets, 2 per chunk


def _set_customer(rig: RunnerRig, request_id: str, tenant_id: str) -> None:
    """The purchase names another Microsoft customer (one Partner Center does not have under the partner)."""
    params = rig.connect.requests[request_id]["asset"]["params"]
    info = next(p for p in params if p["id"] == "transaction_info_object")
    info["value"] = json.dumps({**json.loads(info["value"]), "ms_customer_id": tenant_id})


def test_a_partner_center_404_fails_the_request_once_with_microsofts_code_and_message(rig: RunnerRig) -> None:
    rig.sweep()
    purchase = rig.requests(type="purchase", status="pending")[0]
    _set_customer(rig, purchase["id"], "0badc0de-0000-4000-8000-000000000404")
    answer = rig.runtime.deliver(PURCHASE, purchase["id"])
    assert answer.result == "success", (answer.result, answer.message)  # ended: not rescheduled, not retried
    stored = rig.connect.requests[purchase["id"]]
    assert stored["status"] == "failed"
    assert "HTTP 404, code 600010" in stored["reason"] and "not found for customer" in stored["reason"], stored["reason"]
    before = _partner_center_calls(rig)
    for _ in range(3):
        assert rig.runtime.deliver(PURCHASE, purchase["id"]).result == "skip"
    assert _partner_center_calls(rig) == before
    assert _moves(rig, purchase["id"]) == [("pending", "failed")]


def test_an_endpoint_without_a_scheme_fails_the_request_once_with_the_reason(rig: RunnerRig) -> None:
    rig.sweep()
    purchase = rig.requests(type="purchase", status="pending")[0]
    runtime = rig.with_variables(PARTNER_CENTER_ENDPOINT=rig.server.url.split("://", 1)[1] + "/partnercenter")
    answer = runtime.deliver(PURCHASE, purchase["id"])
    assert answer.result == "success", (answer.result, answer.message)
    stored = rig.connect.requests[purchase["id"]]
    assert stored["status"] == "failed" and "PARTNER_CENTER_ENDPOINT" in stored["reason"], stored["reason"]
    assert runtime.deliver(PURCHASE, purchase["id"]).result == "skip"
    assert _moves(rig, purchase["id"]) == [("pending", "failed")]
