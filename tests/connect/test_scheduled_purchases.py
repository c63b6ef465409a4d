"""A migration purchase that asks for a later migration (the sweep's ``migrate_at``) becomes one Partner Center
schedule per legacy subscription; the purchase waits for it, then follows the migration it made."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from m365move.connect.purchase_fulfilment import Action, ParameterProblem, parse_migration_purchase
from tests.connect.lifecycle_rig import EPOCH, LEGACY, MIGRATION_SECONDS, lifecycle_rig, purchase, subscription


def _at(hours: float) -> str:
    when = dt.datetime.fromisoformat(EPOCH.replace("Z", "+00:00")) + dt.timedelta(hours=hours)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class TestMigrateAtRenewal:
    def test_scheduled_once_then_followed_to_the_approval(self) -> None:
        # A renewal 100 days on: far enough that the real clock (the fulfilment's "has the date come") never reaches it.
        with lifecycle_rig(subscription(term_end_hours=24 * 100)) as rig:
            rig.schedule = {"migrateOnRenewal": True}
            first = rig.fulfil()
            assert first.action is Action.RESCHEDULE and "scheduled at the legacy subscription's renewal" in first.detail
            assert "created" in first.detail and _at(24 * 100) in first.detail
            again = rig.fulfil()  # a redelivery, or the next poll: the same schedule, not a second one
            assert "unchanged" in again.detail
            (schedule,) = rig.pc.find_schedules(LEGACY)
            assert schedule.migrate_on_renewal and rig.state.created_for == {}
            # The purchase asks for a date instead: the waiting schedule is updated, never duplicated.
            rig.schedule = {"targetDate": _at(24 * 50)}
            moved = rig.fulfil()
            assert "updated" in moved.detail and schedule.id in moved.detail
            assert [s.id for s in rig.pc.find_schedules(LEGACY)] == [schedule.id]
            # The date comes on the platform clock: Partner Center starts the migration; the purchase follows it.
            rig.advance_hours(24 * 50 + 30 / 3600)  # 30 s after it fired: still processing
            processing = rig.fulfil()
            assert processing.action is Action.RESCHEDULE and "is processing" in processing.detail
            rig.advance_hours(MIGRATION_SECONDS / 3600)
            done = rig.fulfil()
            assert done.action is Action.APPROVE and done.migration_id == processing.migration_id
            assert rig.state.created_for == {}  # no migration was created by the partner: the schedule made it
            assert len(rig.pc.find_migrations(LEGACY)) == 1

    def test_a_failed_schedule_fails_the_purchase_with_microsofts_reason(self) -> None:
        with lifecycle_rig(subscription(term_end_hours=24 * 100)) as rig:
            rig.schedule = {"migrateOnRenewal": True}
            rig.fulfil()
            rig.state.subscriptions[LEGACY]["ineligible"] = [3]  # a promotion appeared before the renewal
            rig.advance_hours(24 * 100 + 1)
            failed = rig.fulfil()
            assert failed.action is Action.FAIL and "schedule" in failed.detail
            assert "SubscriptionPromotionsPresent" in failed.detail
            assert rig.pc.find_migrations(LEGACY) == []

    def test_a_malformed_schedule_is_a_parameter_problem(self) -> None:
        for schedule, says in (({"targetDate": "next tuesday"}, "migration_schedule.targetDate"),
                               ({"migrateOnRenewal": True, "targetDate": _at(1)}, "one of them"),
                               ("renewal", "must be an object")):
            with pytest.raises(ParameterProblem, match=says):
                parse_migration_purchase(purchase(schedule=schedule))  # type: ignore[arg-type]
        timing = parse_migration_purchase(purchase(schedule={"targetDate": _at(5)}))
        assert timing is not None and timing.timing is not None and not timing.timing.on_renewal


class TestTheSweepsScheduleParameter:
    def test_migrate_at_renewal_schedules_each_subscription_once(self) -> None:
        import json

        from m365move.connect.payloads import param_value
        from tests.connect.sandbox_fixtures import connect_rig

        def renewals_far_away(section: dict[str, Any]) -> None:
            for customer in section["partner_center"]["customers"]:
                for legacy in customer["subscriptions"]:
                    legacy["term_end_hours"] = 24 * 365  # the platform clock never gets there in this test

        with connect_rig(4, n_resellers=1, pending_resellers=0, microsoft_led=0, change=renewals_far_away) as rig:
            for _ in range(2):  # the sweep and the fulfilment twice: nothing is duplicated
                rig.driver.run_schedule({"migrate_at": "renewal"})
                rig.driver.deliver_pending()
            purchases = rig.requests(type="purchase")
            legacy_ids = [json.loads(param_value(p, "transaction_info_object") or "{}") for p in purchases]
            assert purchases and all(info["migration_schedule"] == {"migrateOnRenewal": True} for info in legacy_ids)
            assert len({info["subscription_id"] for info in legacy_ids}) == len(purchases)
            schedules = list(rig.partner_center.schedules.values())
            assert sorted(s["currentSubscriptionId"] for s in schedules) == sorted(i["subscription_id"] for i in legacy_ids)
            assert all(s["status"] == "Created" and s["migrateOnRenewal"] for s in schedules)
            assert rig.partner_center.created_for == {} and all(p["status"] == "pending" for p in purchases)

    def test_a_bad_migrate_at_is_bad_input(self) -> None:
        from m365move.connect.sweep import SweepParameters
        from m365move.errors import InputError

        assert SweepParameters.from_schedule({"migrate_at": "2027-02-01"}).migration_schedule() == {
            "targetDate": "2027-02-01T00:00:00Z"}
        assert SweepParameters.from_schedule({"migrate_at": "now"}).migration_schedule() is None
        with pytest.raises(InputError, match="migrate_at 'someday'"):
            SweepParameters.from_schedule({"migrate_at": "someday"})
