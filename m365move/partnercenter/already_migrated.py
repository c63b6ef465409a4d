"""Refuses to schedule (or start) the migration of a legacy subscription that already has one.

Microsoft migrates legacy subscriptions itself (Microsoft-led migrations, ``microsoftLed``), and another partner
or an earlier run may have migrated one too: Partner Center then holds a ``Completed`` migration (the legacy
subscription suspended, later deleted) or a ``Processing`` one. A schedule on top of it would fail at its date at
best; so ``m365move schedule`` asks first (``GET /v1/migrations/newcommerce?CurrentSubscriptionId=…``) and refuses.
A ``Failed`` migration refuses while the legacy subscription is suspended (Microsoft completes or reverts it within
72 hours); a failure that left it active may be retried, and is not refused.
"""

from __future__ import annotations

from m365move.errors import PlatformError
from m365move.partnercenter.client import PartnerCenterClient
from m365move.partnercenter.models import Migration, MigrationStatus


class AlreadyMigrated(PlatformError):
    """The legacy subscription is migrated, or migrating, in Partner Center (exit status 1: the platform refuses)."""

    def __init__(self, migration: Migration) -> None:
        self.migration = migration
        who = "Microsoft-led migration" if migration.microsoft_led else "migration"
        if migration.status is MigrationStatus.FAILED:
            state = (f"suspended after {who} {migration.id} Failed: Microsoft completes or reverts it within 72 "
                     "hours; nothing to schedule until then")
        elif migration.status is MigrationStatus.COMPLETED:
            state = (f"already migrated to new commerce ({who} {migration.id}, Completed, new-commerce subscription "
                     f"{migration.new_commerce_subscription_id or 'unknown'}): nothing to schedule; reconcile it "
                     "in the billing system (m365move reconcile)")
        else:
            state = (f"being migrated ({who} {migration.id}, {migration.status.value}): nothing to schedule; "
                     "look again once it has ended")
        super().__init__(f"legacy subscription {migration.current_subscription_id} is {state}")


def existing_migration(pc: PartnerCenterClient, tenant_id: str, legacy_subscription_id: str) -> Migration | None:
    """The subscription's completed migration, else one still processing, else a failed one that left the legacy
    subscription suspended; None when there is none of these."""
    found = pc.find_migrations(legacy_subscription_id)
    for status in (MigrationStatus.COMPLETED, MigrationStatus.PROCESSING):
        match = next((m for m in found if m.status is status), None)
        if match is not None:
            return match
    failed = [m for m in found if m.status is MigrationStatus.FAILED]
    if failed and pc.get_subscription(tenant_id, legacy_subscription_id).suspended:
        return failed[-1]
    return None


def refuse_if_migrated(pc: PartnerCenterClient, tenant_id: str, legacy_subscription_id: str) -> None:
    migration = existing_migration(pc, tenant_id, legacy_subscription_id)
    if migration is not None:
        raise AlreadyMigrated(migration)
