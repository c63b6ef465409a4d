"""The client-side create limit: slots now, bookings in later windows, Partner Center's 429 still wins."""

from __future__ import annotations

from typing import Any

from connect.client.testing import ConnectClientMocker
from connect.eaas.core.enums import ResultType

from m365move.partnercenter.limits import CreateLimiter
from tests.extension.fakes import LEGACY, TENANT, FakePartnerCenter
from tests.extension.test_handlers import REQUEST_ID, app_for, purchase


class TestCreateLimiter:
    def test_slots_then_bookings_in_later_windows(self) -> None:
        limiter = CreateLimiter(2, 300.0)
        assert [limiter.acquire(k, 10.0).wait for k in ("a", "b")] == [0.0, 0.0]
        # The window opened at 10 (the first create): c and d wait for the next one, e for the one after.
        assert [limiter.acquire(k, 20.0).wait for k in ("c", "d", "e")] == [290.0, 290.0, 590.0]
        assert limiter.acquire("c", 20.0).wait == 290.0  # asking again keeps the booking, no second slot
        assert limiter.acquire("c", 310.0).wait == 0.0  # its window is open: the booked slot is its own
        assert limiter.acquire("x", 311.0).wait == 299.0  # d's booking still holds the window's other slot

    def test_unused_slots_and_cancelled_bookings_are_given_back(self) -> None:
        limiter = CreateLimiter(1, 300.0)
        grant = limiter.acquire("a", 0.0)
        assert limiter.acquire("b", 1.0).wait == 299.0
        limiter.unused(grant)  # a found a Microsoft-led migration: no create
        limiter.cancel("b")
        assert limiter.acquire("c", 2.0).wait == 0.0

    def test_the_next_window_never_opens_before_partner_centers(self) -> None:
        """Partner Center's window opens when the first create arrives: ours moves to that create's answer."""
        limiter = CreateLimiter(1, 300.0)
        grant = limiter.acquire("a", 0.0)
        limiter.sent(grant, 4.0)
        assert limiter.acquire("b", 5.0).wait == 299.0

    def test_a_429_closes_the_window_until_retry_after(self) -> None:
        limiter = CreateLimiter(10, 300.0)
        grant = limiter.acquire("a", 0.0)
        limiter.throttled(grant, 1.0, 320.0)  # Partner Center counts differently: its window ends at 321
        assert limiter.acquire("a", 2.0).wait == 319.0

    def test_an_unclaimed_booking_is_given_to_others_after_the_grace(self) -> None:
        limiter = CreateLimiter(1, 300.0)
        limiter.acquire("a", 0.0)
        assert limiter.acquire("b", 1.0).wait == 299.0  # b never comes back
        assert limiter.acquire("c", 300.0 + limiter.grace + 1).wait == 0.0


class TestFulfilmentUnderTheLimit:
    def test_a_booked_task_is_rescheduled_before_any_partner_center_call(self, mocker: ConnectClientMocker) -> None:
        mocker.requests[REQUEST_ID].update(return_value={})
        pc = FakePartnerCenter(complete_after_gets=5)
        first = app_for(pc, PARTNER_CENTER_CREATE_LIMIT="1/300").handle_asset_purchase_request(purchase())
        assert first.status == ResultType.RESCHEDULE and pc.created == 1  # created, processing
        calls = len(pc.calls)
        response = app_for(pc, PARTNER_CENTER_CREATE_LIMIT="1/300").handle_asset_purchase_request(other_purchase())
        assert response.status == ResultType.RESCHEDULE
        assert 240 <= response.countdown < 300  # back shortly before the next window opens
        assert len(pc.calls) == calls and pc.created == 1  # no look-up, no validation, no create spent

    def test_without_a_limit_only_429s_hold_creates_back(self, mocker: ConnectClientMocker) -> None:
        mocker.requests[REQUEST_ID].update(return_value={})
        mocker.requests["PR-2"].update(return_value={})
        pc = FakePartnerCenter(complete_after_gets=5)
        for request in (purchase(), other_purchase()):
            app_for(pc, PARTNER_CENTER_CREATE_LIMIT="").handle_asset_purchase_request(request)
        assert pc.created == 2


def other_purchase() -> dict[str, Any]:
    """A second migration purchase, of another legacy subscription of another customer (two concurrent requests
    of one customer would wait for each other)."""
    other = purchase()
    other["id"] = "PR-2"
    info = other["asset"]["params"][-1]
    info["value"] = info["value"].replace(LEGACY, "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee").replace(
        TENANT, "cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee")
    return other
