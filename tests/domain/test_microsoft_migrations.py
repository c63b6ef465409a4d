"""The pure rules of Partner Center's view: what a migration, a schedule or a new-commerce subscription decides."""

from __future__ import annotations

from m365move.domain.microsoft_migrations import (
    LegacyFacts,
    MigrationRecord,
    NewCommerceSubscription,
    PartnerCenterView,
    WaitingSchedule,
    partner_center_reasons,
)
from m365move.domain.reasons import ReasonCode
from m365move.domain.reconciliation import REVIEW, TERMINATE, WAIT, reconciliation_rows_for

TENANT, LEGACY = "t-1", "l-1"


def decide(facts: LegacyFacts) -> tuple[list[ReasonCode], list[ReasonCode], str | None]:
    view = PartnerCenterView(consulted=True, facts={"3000001": facts})
    skips, blocks = partner_center_reasons(view, "3000001")
    rows = reconciliation_rows_for([("3000001", "2000001")], view)
    return [r.code for r in skips], [r.code for r in blocks], rows[0].action if rows else None


def test_a_completed_migration_by_any_partner_skips_and_names_the_new_subscription() -> None:
    facts = LegacyFacts(TENANT, LEGACY, "suspended", (MigrationRecord("m-1", "Failed", False),
                                                      MigrationRecord("m-2", "Completed", False, "nce-1")))
    assert decide(facts) == ([ReasonCode.MIGRATED_BY_MICROSOFT], [], TERMINATE)
    view = PartnerCenterView(consulted=True, facts={"3000001": facts})
    assert "nce-1" in partner_center_reasons(view, "3000001")[0][0].message


def test_a_suspended_legacy_beside_a_new_commerce_subscription_of_its_product_is_migrated() -> None:
    nce = NewCommerceSubscription("nce-9", "CFQ7TTC0LH18:0001:0001", 10)
    assert decide(LegacyFacts(TENANT, LEGACY, "suspended", same_product=(nce,)))[0] == [ReasonCode.MIGRATED_BY_MICROSOFT]
    # beside an active legacy subscription it is only named for review: the order goes ahead
    assert decide(LegacyFacts(TENANT, LEGACY, "active", same_product=(nce,))) == ([], [], REVIEW)


def test_a_pending_migration_or_schedule_blocks() -> None:
    processing = LegacyFacts(TENANT, LEGACY, "active", (MigrationRecord("m-1", "Processing", True),))
    assert decide(processing) == ([], [ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS], WAIT)
    failed_suspended = LegacyFacts(TENANT, LEGACY, "suspended", (MigrationRecord("m-1", "Failed", True),))
    assert decide(failed_suspended) == ([], [ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS], WAIT)
    failed_active = LegacyFacts(TENANT, LEGACY, "active", (MigrationRecord("m-1", "Failed", True),))
    assert decide(failed_active) == ([], [ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS], REVIEW)
    scheduled = LegacyFacts(TENANT, LEGACY, "active", waiting_schedules=(WaitingSchedule("s-1", "on renewal"),))
    assert decide(scheduled) == ([], [ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS], WAIT)


def test_nothing_in_partner_center_decides_nothing() -> None:
    assert decide(LegacyFacts(TENANT, LEGACY, "active")) == ([], [], None)
    assert partner_center_reasons(PartnerCenterView(consulted=True), "3000001") == ([], [])
