"""Microsoft's migration lifecycle against the Partner Center sandbox (issue 17): failures that may be retried and
failures that must be left to Microsoft, Microsoft-led migrations adopted, scheduled migrations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from m365move.connect.purchase_fulfilment import Action
from m365move.partnercenter.client import MigrationRejected
from m365move.partnercenter.models import MigrationStatus, NewMigration, ScheduleRequest, ScheduleStatus
from m365move.partnercenter.schedules import ScheduleAction, cancel_waiting, ensure_schedule
from tests.connect.lifecycle_rig import (
    ADDON,
    EPOCH,
    LEGACY,
    MIGRATION_SECONDS,
    OTHER,
    TENANT,
    lifecycle_rig,
    subscription,
)

MINUTE = 1 / 60


class TestFailedWithTheLegacySubscriptionActive:
    def test_retried_once_with_a_new_request_id_then_approved(self) -> None:
        with lifecycle_rig(subscription(migration_failures=["active"])) as rig:
            first = rig.fulfil()
            assert first.action is Action.RESCHEDULE and rig.state.created_for[LEGACY] == 1
            rig.advance_hours(MIGRATION_SECONDS / 3600)
            assert rig.pc.get_migration(TENANT, first.migration_id or "").status is MigrationStatus.FAILED
            assert rig.pc.get_subscription(TENANT, LEGACY).active

            retry = rig.fulfil()
            assert retry.action is Action.RESCHEDULE and retry.migration_id != first.migration_id
            assert rig.state.created_for[LEGACY] == 2
            first_id, second_id = rig.state.create_request_ids[LEGACY]
            assert first_id and second_id and first_id != second_id  # a new MS-RequestId for the retry
            assert rig.stored["nce_migration_id"] == retry.migration_id

            rig.advance_hours(MIGRATION_SECONDS / 3600)
            done = rig.fulfil()
            assert done.action is Action.APPROVE and done.migration_id == retry.migration_id
            assert rig.stored["nce_subscription_id"] == done.new_subscription_id
            assert rig.state.created_for[LEGACY] == 2
            assert len(rig.connect_calls("/approve")) == 1 and not rig.connect_calls("/fail")
            # Completed 2 minutes after the epoch: the new subscription can be cancelled for 168 hours from then.
            assert done.cancellable_until == datetime(2026, 12, 7, 8, 2, tzinfo=timezone.utc)
            assert "cancellable until 2026-12-07T08:02:00Z" in done.detail

    def test_a_second_failure_is_not_retried_again(self) -> None:
        with lifecycle_rig(subscription(migration_failures=["active", "active"])) as rig:
            rig.fulfil()
            rig.advance_hours(MIGRATION_SECONDS / 3600)
            rig.fulfil()
            rig.advance_hours(MIGRATION_SECONDS / 3600)
            outcome = rig.fulfil()
            assert outcome.action is Action.FAIL and "failed 2 times" in outcome.detail
            assert "support request" in outcome.detail
            assert rig.state.created_for[LEGACY] == 2
            # Redelivered: still no third create.
            assert rig.fulfil().action is Action.FAIL and rig.state.created_for[LEGACY] == 2


class TestFailedWithTheLegacySubscriptionSuspended:
    @pytest.mark.parametrize("resolution", ["complete", "revert"])
    def test_untouched_for_72_platform_hours(self, resolution: str) -> None:
        with lifecycle_rig(subscription(migration_failures=["suspended"], suspended_resolution=resolution)) as rig:
            first = rig.fulfil()
            rig.advance_hours(MIGRATION_SECONDS / 3600)
            failed_at = datetime.fromisoformat(EPOCH.replace("Z", "+00:00")) + timedelta(seconds=MIGRATION_SECONDS)

            waiting = rig.fulfil()
            assert waiting.action is Action.RESCHEDULE and waiting.migration_id == first.migration_id
            assert waiting.waiting_until == failed_at + timedelta(hours=72)
            assert "waiting for Microsoft" in waiting.detail and "2026-12-03T08:01:00Z" in waiting.detail
            assert rig.pc.get_subscription(TENANT, LEGACY).suspended
            # Partner Center itself refuses a second migration meanwhile (the subscription is not active).
            with pytest.raises(MigrationRejected):
                rig.pc.create_migration(TENANT, NewMigration(LEGACY, "P1Y", "Monthly", 12))

            for _ in range(4):  # 71 platform-hours of redeliveries: nothing created, nothing decided
                rig.advance_hours(71 / 4)
                outcome = rig.fulfil()
                assert outcome.action is Action.RESCHEDULE and outcome.waiting_until == waiting.waiting_until
                assert rig.state.created_for[LEGACY] == 1
                assert not rig.connect_calls("/approve") and not rig.connect_calls("/fail")

            rig.advance_hours(1 + MINUTE)
            after = rig.fulfil()
            if resolution == "complete":  # Microsoft completed the same migration: adopted, approved
                assert after.action is Action.APPROVE and after.migration_id == first.migration_id
                assert rig.state.created_for[LEGACY] == 1
            else:  # reverted: the legacy subscription is active again and the one retry is allowed
                assert after.action is Action.RESCHEDULE and after.migration_id != first.migration_id
                assert rig.state.created_for[LEGACY] == 2


class TestMicrosoftLedMigrations:
    def test_a_migration_microsoft_starts_at_term_end_is_adopted_without_a_create(self) -> None:
        with lifecycle_rig(subscription(microsoft_migrates_after_hours=10)) as rig:
            rig.advance_hours(10)
            (found,) = rig.pc.find_migrations(LEGACY)
            assert found.microsoft_led and found.raw["microsoftLed"] is True

            adopted = rig.fulfil()
            assert adopted.action is Action.RESCHEDULE and adopted.microsoft_led
            assert adopted.migration_id == found.id and "Microsoft-led" in adopted.detail
            assert rig.stored["nce_migration_id"] == found.id

            rig.advance_hours(MIGRATION_SECONDS / 3600)
            done = rig.fulfil()
            assert done.action is Action.APPROVE and done.microsoft_led and "adopted" in done.detail
            assert rig.stored["nce_subscription_id"] == done.new_subscription_id
            assert rig.state.created_for.get(LEGACY, 0) == 0  # no second create, ever

    def test_a_completed_microsoft_led_migration_wins_over_a_create(self) -> None:
        seeded = {"id": "0d9f5a0e-4f7c-4c8e-9a51-3b2f1e0d9c8b", "currentSubscriptionId": LEGACY,
                  "customerTenantId": TENANT, "status": "Completed",
                  "newCommerceSubscriptionId": "5e0c3a9f-2b1d-4c7e-8f6a-9d8c7b6a5f4e", "microsoftLed": True}
        with lifecycle_rig(subscription(), migrations=[seeded]) as rig:
            done = rig.fulfil()
            assert done.action is Action.APPROVE and done.microsoft_led
            assert rig.stored == {"nce_migration_id": seeded["id"], "nce_subscription_id": seeded["newCommerceSubscriptionId"]}
            assert rig.state.created_for.get(LEGACY, 0) == 0


class TestAddOnsWithTheirBase:
    def test_a_base_and_its_add_on_migrate_as_one_bundle(self) -> None:
        with lifecycle_rig(subscription(), subscription(ADDON, parent_id=LEGACY, quantity=4)) as rig:
            rig.addons = [{"subscription_id": ADDON, "quantity": 4}]
            started = rig.fulfil()
            assert started.action is Action.RESCHEDULE and rig.state.created_for == {LEGACY: 1}
            (migration,) = rig.pc.find_migrations(LEGACY)
            assert migration.raw["addOnMigrations"] == [{"currentSubscriptionId": ADDON, "quantity": 4,
                                                         "termDuration": "P1Y", "billingCycle": "Monthly"}]
            rig.advance_hours(MIGRATION_SECONDS / 3600)
            assert rig.fulfil().action is Action.APPROVE
            (done,) = rig.pc.find_migrations(LEGACY)
            assert done.raw["addOnMigrations"][0]["newCommerceSubscriptionId"]  # the add-on migrated with it

    def test_an_add_on_bought_in_the_last_30_days_holds_its_bundle(self) -> None:
        with lifecycle_rig(subscription(), subscription(ADDON, parent_id=LEGACY, quantity=4, active_days=12)) as rig:
            rig.addons = [{"subscription_id": ADDON, "quantity": 4}]
            held = rig.fulfil()
            assert held.action is Action.FAIL and rig.state.created_for == {}
            assert f"add-on {ADDON} holds its whole bundle" in held.detail
            assert "SubscriptionActiveForLessThanOneMonth" in held.detail
            (fail,) = rig.connect_calls("/fail")
            assert fail["reason"] == held.detail

    def test_partner_center_refuses_a_base_without_its_add_ons_and_an_add_on_alone(self) -> None:
        with lifecycle_rig(subscription(), subscription(ADDON, parent_id=LEGACY, quantity=4)) as rig:
            with pytest.raises(MigrationRejected, match="SubscriptionAddOnsPresent"):
                rig.pc.create_migration(TENANT, NewMigration(LEGACY, "P1Y", "Monthly", 12))
            with pytest.raises(MigrationRejected, match="migrates with its base"):
                rig.pc.create_migration(TENANT, NewMigration(ADDON, "P1Y", "Monthly", 4))
            assert rig.state.created_for == {}


class TestEligibilityBeforeOrdering:
    def test_the_last_24_hours_of_the_term_refuse_a_migration_that_keeps_the_term(self) -> None:
        with lifecycle_rig(subscription(term_end_hours=30)) as rig:
            rig.advance_hours(7)  # 23 hours left
            outcome = rig.fulfil()
            assert outcome.action is Action.FAIL and "SubscriptionTooCloseToTermEnd" in outcome.detail
            assert rig.state.created_for == {}
            # The same subscription may still migrate buying a full new term.
            assert rig.pc.validate(TENANT, LEGACY, NewMigration(LEGACY, "P1Y", "Monthly", 12,
                                                                purchase_full_term=True)).is_eligible


def _at(hours: float) -> datetime:
    return datetime.fromisoformat(EPOCH.replace("Z", "+00:00")) + timedelta(hours=hours)


class TestScheduledMigrations:
    def test_created_found_again_updated_cancelled(self) -> None:
        with lifecycle_rig(subscription()) as rig:
            wanted = ScheduleRequest(LEGACY, "P1Y", "Monthly", 12, target_date=_at(48))
            created = ensure_schedule(rig.pc, TENANT, wanted)
            assert created.action is ScheduleAction.CREATED and created.schedule.status is ScheduleStatus.CREATED
            assert created.schedule.target_date == _at(48)

            again = ensure_schedule(rig.pc, TENANT, wanted)  # a re-run: found, not duplicated
            assert again.action is ScheduleAction.UNCHANGED and again.schedule.id == created.schedule.id
            assert len(rig.pc.find_schedules(LEGACY)) == 1

            moved = ensure_schedule(rig.pc, TENANT, ScheduleRequest(LEGACY, "P1Y", "Annual", 10, target_date=_at(72)))
            assert moved.action is ScheduleAction.UPDATED and moved.schedule.id == created.schedule.id
            assert (moved.schedule.target_date, moved.schedule.billing_cycle, moved.schedule.quantity) == (
                _at(72), "Annual", 10)
            assert [s.id for s in rig.pc.find_schedules(customer_tenant_id=TENANT)] == [created.schedule.id]

            (cancelled,) = cancel_waiting(rig.pc, TENANT, LEGACY)
            assert cancelled.schedule.status is ScheduleStatus.CANCELLED
            rig.advance_hours(80)
            assert rig.pc.find_migrations(LEGACY) == []  # a cancelled schedule never fires
            assert cancel_waiting(rig.pc, TENANT, LEGACY) == []

    def test_a_schedule_fires_on_the_platform_clock(self) -> None:
        with lifecycle_rig(subscription(), subscription(OTHER, term_end_hours=30)) as rig:
            ensure_schedule(rig.pc, TENANT, ScheduleRequest(LEGACY, "P1Y", "Monthly", 12, target_date=_at(24),
                                                            external_reference_id=TENANT))
            renewal = ensure_schedule(rig.pc, TENANT, ScheduleRequest(OTHER, "P1M", "Monthly", 3,
                                                                       migrate_on_renewal=True)).schedule
            assert renewal.target_date is None and renewal.raw["subscriptionEndDate"] == "2026-12-01T14:00:00Z"

            rig.advance_hours(24 - MINUTE)
            assert rig.pc.find_migrations(LEGACY) == []
            rig.advance_hours(1.5 * MINUTE)
            (migration,) = rig.pc.find_migrations(LEGACY)
            fired = rig.pc.find_schedules(LEGACY)[0]
            assert fired.status is ScheduleStatus.COMPLETED and fired.new_commerce_migration_id == migration.id
            assert migration.status is MigrationStatus.PROCESSING and not migration.microsoft_led
            assert migration.raw["externalReferenceId"] == TENANT and migration.started_time == _at(24)
            assert rig.pc.find_migrations(OTHER) == []  # its renewal is later

            rig.advance_hours(6)
            (on_renewal,) = rig.pc.find_migrations(OTHER)
            assert on_renewal.raw["termDuration"] == "P1M" and on_renewal.raw["quantity"] == 3
            # The purchase that comes later adopts the scheduled migration instead of creating one.
            rig.advance_hours(1)
            assert rig.fulfil().action is Action.APPROVE and rig.state.created_for.get(LEGACY, 0) == 0

    def test_partner_center_refuses_what_it_refuses(self) -> None:
        with lifecycle_rig(subscription()) as rig:
            with pytest.raises(ValueError, match="target date or migrate-on-renewal"):
                ScheduleRequest(LEGACY, "P1Y", "Monthly", 12)
            past = ScheduleRequest(LEGACY, "P1Y", "Monthly", 12, target_date=_at(-1))
            with pytest.raises(MigrationRejected, match="not in the future"):
                rig.pc.create_schedule(TENANT, past)
            rig.pc.create_schedule(TENANT, ScheduleRequest(LEGACY, "P1Y", "Monthly", 12, target_date=_at(5)))
            with pytest.raises(MigrationRejected, match="already exists"):
                rig.pc.create_schedule(TENANT, ScheduleRequest(LEGACY, "P1Y", "Monthly", 12, target_date=_at(6)))
            (waiting,) = rig.pc.find_schedules(LEGACY)
            rig.advance_hours(6)  # fired: too late to change or cancel
            with pytest.raises(MigrationRejected, match="only a Created schedule"):
                rig.pc.update_schedule(TENANT, waiting.id,
                                       ScheduleRequest(LEGACY, "P1Y", "Monthly", 12, target_date=_at(9)))
