"""The undo plan's rules: Partner Center's window when given, an estimate marked so when not, by window end."""

from __future__ import annotations

import datetime as dt

from m365move.domain.undo_plan import CancellationWindow, CreatedSubscription, build_undo_plan

NOW = dt.datetime(2026, 12, 8, 12, 0, tzinfo=dt.timezone.utc)


def created(subscription_id: str, hours_ago: float, *, kind: str = "sales",
            cancelled_by: str | None = None) -> CreatedSubscription:
    return CreatedSubscription(subscription_id=subscription_id, source_subscription_id="3000001", customer_id="2000001",
                               mode="new-subscription" if kind == "sales" else "switch-plan", order_kind=kind,
                               order_id=f"O{subscription_id}", nce_license="CFQ7TTC0LH18:0001", quantity=3,
                               completed_at=NOW - dt.timedelta(hours=hours_ago), legacy_cancelled_by=cancelled_by)


class TestWindows:
    def test_partner_centers_date_is_used_as_given(self) -> None:
        """Not completion + 168 h: the date Partner Center gives."""
        given = NOW + dt.timedelta(hours=3)
        plan = build_undo_plan("R1", [created("9001", 1)], {"9001": CancellationWindow("T", "N1", given)}, NOW,
                               partner_center_consulted=True)
        (entry,) = plan.entries
        assert entry.window_end == given and entry.window_source == "partner-center"
        assert entry.as_dict()["cancellationAllowedUntilDate"] == "2026-12-08T15:00:00Z"
        assert entry.as_dict()["nce_subscription_id"] == "N1"

    def test_without_a_date_the_window_is_an_estimate_and_marked(self) -> None:
        plan = build_undo_plan("R1", [created("9001", 10)], {"9001": CancellationWindow("T", "N1", None)}, NOW,
                               partner_center_consulted=True)
        (entry,) = plan.entries
        assert entry.window_source == "estimate" and entry.window_end == NOW + dt.timedelta(hours=158)
        assert "estimated" in entry.undo_text() and plan.as_json()["estimated_windows"] == 1

    def test_passed_windows_are_left_out_and_named(self) -> None:
        plan = build_undo_plan("R1", [created("9001", 200), created("9002", 1)],
                               {"9002": CancellationWindow("T", "N2", NOW - dt.timedelta(seconds=1))}, NOW,
                               partner_center_consulted=True)
        assert plan.entries == () and plan.outside_window == ("9001", "9002")

    def test_ordered_by_window_end_the_most_urgent_first(self) -> None:
        windows = {"9001": CancellationWindow("T", "N1", NOW + dt.timedelta(hours=50)),
                   "9002": CancellationWindow("T", "N2", NOW + dt.timedelta(hours=5))}
        plan = build_undo_plan("R1", [created("9001", 1), created("9002", 1), created("9003", 160)], windows, NOW,
                               partner_center_consulted=True)
        assert [e.created.subscription_id for e in plan.entries] == ["9002", "9003", "9001"]


class TestWhatHappensToTheLegacySubscription:
    def test_new_subscription_mode_before_the_cancellation(self) -> None:
        plan = build_undo_plan("R1", [created("9001", 1)], {}, NOW, partner_center_consulted=False)
        assert "still active" in plan.entries[0].legacy_text()

    def test_new_subscription_mode_after_the_cancellation(self) -> None:
        plan = build_undo_plan("R1", [created("9001", 1, cancelled_by="777")], {}, NOW, partner_center_consulted=False)
        text = plan.entries[0].legacy_text()
        assert "cancelled by order 777" in text and "does not restore it" in text

    def test_switch_plan_has_none_to_return_to(self) -> None:
        plan = build_undo_plan("R1", [created("3000001", 1, kind="change")], {}, NOW, partner_center_consulted=False)
        assert "none to return to" in plan.entries[0].legacy_text()
