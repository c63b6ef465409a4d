"""Scheduled migrations, one per legacy subscription.

Partner Center keeps one waiting (``Created``) schedule per subscription and refuses a second, so scheduling is a
look-up first: a waiting schedule is updated to what is asked (or left alone when it already says that), never
duplicated; only a subscription without one gets a new schedule. Migrating on renewal
(``migrateOnRenewal``) avoids a mid-term change: the migration starts when the legacy term ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from m365move.partnercenter.client import PartnerCenterClient, schedule_request_id
from m365move.partnercenter.models import Schedule, ScheduleRequest, ScheduleStatus


class ScheduleAction(str, Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ScheduleOutcome:
    action: ScheduleAction
    schedule: Schedule


def waiting_schedules(pc: PartnerCenterClient, legacy_subscription_id: str) -> list[Schedule]:
    return [s for s in pc.find_schedules(legacy_subscription_id) if s.status is ScheduleStatus.CREATED]


def ensure_schedule(pc: PartnerCenterClient, tenant_id: str, wanted: ScheduleRequest) -> ScheduleOutcome:
    """Make the subscription's waiting schedule say ``wanted``: create it, update it, or leave it as it is. A create
    carries the ``MS-RequestId`` of the subscription's next schedule (one more than it has had): the same in every
    process that intends it."""
    schedules = pc.find_schedules(wanted.current_subscription_id)
    waiting = [s for s in schedules if s.status is ScheduleStatus.CREATED]
    if not waiting:
        request_id = schedule_request_id(tenant_id, wanted.current_subscription_id, len(schedules))
        return ScheduleOutcome(ScheduleAction.CREATED, pc.create_schedule(tenant_id, wanted, request_id=request_id))
    current = waiting[0]
    if _says(current, wanted):
        return ScheduleOutcome(ScheduleAction.UNCHANGED, current)
    return ScheduleOutcome(ScheduleAction.UPDATED, pc.update_schedule(tenant_id, current.id, wanted))


def schedule_action(pc: PartnerCenterClient, wanted: ScheduleRequest) -> tuple[ScheduleAction, Schedule | None]:
    """What ``ensure_schedule`` would do (read only: the dry run) and the waiting schedule it would act on."""
    waiting = waiting_schedules(pc, wanted.current_subscription_id)
    if not waiting:
        return ScheduleAction.CREATED, None
    current = waiting[0]
    return (ScheduleAction.UNCHANGED if _says(current, wanted) else ScheduleAction.UPDATED), current


def cancel_waiting(pc: PartnerCenterClient, tenant_id: str, legacy_subscription_id: str) -> list[ScheduleOutcome]:
    """Cancel the subscription's waiting schedules (normally one); none waiting is not an error."""
    return [ScheduleOutcome(ScheduleAction.CANCELLED, pc.cancel_schedule(tenant_id, s.id))
            for s in waiting_schedules(pc, legacy_subscription_id)]


def _says(schedule: Schedule, wanted: ScheduleRequest) -> bool:
    return (schedule.migrate_on_renewal == wanted.migrate_on_renewal
            and schedule.target_date == wanted.target_date
            and schedule.term_duration == wanted.term_duration
            and schedule.billing_cycle == wanted.billing_cycle
            and schedule.quantity == wanted.quantity
            and (schedule.raw.get("purchaseFullTerm") is True) == wanted.purchase_full_term)
