"""What Partner Center says about a Commerce subscription's legacy Microsoft subscription, and what follows from it.

Microsoft migrated most legacy subscriptions itself through the 2024 and 2025 renewals (Microsoft-led migrations:
the legacy subscription is suspended for 90 days, then deleted). A Commerce sales order for such a source buys a
second new-commerce subscription and bills the customer twice, so the Commerce planner asks Partner Center first
(``m365move.partnercenter.migration_facts`` reads it) and these pure rules decide:

- a completed migration (Microsoft-led or by any partner), or a new-commerce subscription of the same product
  while the legacy one is no longer active: ``skip`` with ``migrated-by-microsoft`` and the new-commerce
  subscription id; the source is reconciled in Commerce, never ordered;
- a migration still processing, a failed one (Microsoft completes or reverts a failure that suspended the legacy
  subscription within 72 hours; one that left it active is Microsoft's to retry or the operator's to review), or
  a waiting migration schedule: ``blocked`` with ``customer-migration-in-progress``: ordering now would race it.

A Commerce subscription names its Microsoft counterpart in two custom attributes (``MicrosoftSubscriptionId`` and
``MicrosoftTenantId``); one without them cannot be looked up and is said so in the reconciliation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from m365move.domain.reasons import Reason, ReasonCode

SUBSCRIPTION_ATTRIBUTE = "MicrosoftSubscriptionId"
TENANT_ATTRIBUTE = "MicrosoftTenantId"
# The plan's finding when Partner Center was not asked (no credentials): said once, not per subscription.
NOT_CONSULTED_FINDING = "partner-center-not-consulted"
NOT_CONSULTED_MESSAGE = (
    "Partner Center was not consulted (PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_CLIENT_ID and "
    "PARTNER_CENTER_CLIENT_SECRET are not set): this plan cannot see Microsoft-led migrations, and a legacy "
    "subscription Microsoft already migrated would be ordered again (billed twice). Set the Partner Center "
    "credentials and plan again")
# The plan's finding listing the sources Partner Center shows migrated: reconcile them (``m365move reconcile``).
RECONCILE_FINDING = "reconcile-in-commerce"


def microsoft_ids(attributes: Mapping[str, str]) -> tuple[str, str] | None:
    """(customer tenant id, legacy subscription id) a Commerce subscription's custom attributes name, None when they
    do not name both."""
    legacy = (attributes.get(SUBSCRIPTION_ATTRIBUTE) or "").strip()
    tenant = (attributes.get(TENANT_ATTRIBUTE) or "").strip()
    return (tenant, legacy) if legacy and tenant else None


@dataclass(frozen=True, slots=True)
class MigrationRecord:
    """One new-commerce migration of the legacy subscription (``GET /v1/migrations/newcommerce``)."""

    id: str
    status: str  # Processing | Completed | Failed (Partner Center's words)
    microsoft_led: bool
    new_commerce_subscription_id: str | None = None


@dataclass(frozen=True, slots=True)
class WaitingSchedule:
    id: str
    when: str  # "on renewal (…)" or the target date


@dataclass(frozen=True, slots=True)
class NewCommerceSubscription:
    """A new-commerce subscription the tenant holds (``offerId`` ``ProductId:SkuId:…``)."""

    id: str
    offer_id: str
    quantity: int | None = None
    status: str = "active"
    # Until when it may be cancelled for a refund, as Partner Center says (None: it did not say).
    cancellation_allowed_until: dt.datetime | None = None

    @property
    def product_sku(self) -> str:
        return ":".join(self.offer_id.upper().split(":")[:2])


@dataclass(frozen=True, slots=True)
class LegacyFacts:
    """Partner Center's view of one Commerce subscription's legacy subscription."""

    tenant_id: str
    legacy_subscription_id: str
    legacy_status: str | None = None  # active | suspended | deleted; None: Partner Center does not list it
    migrations: tuple[MigrationRecord, ...] = ()
    waiting_schedules: tuple[WaitingSchedule, ...] = ()
    # The tenant's new-commerce subscriptions of a product the source's licences map to.
    same_product: tuple[NewCommerceSubscription, ...] = ()

    def completed(self) -> MigrationRecord | None:
        return next((m for m in self.migrations if m.status.lower() == "completed"), None)

    def unfinished(self) -> MigrationRecord | None:
        """The newest migration still processing, or failed without a completed one (Microsoft's to settle)."""
        for migration in reversed(self.migrations):
            if migration.status.lower() in ("processing", "failed"):
                return migration
        return None


@dataclass(frozen=True)
class PartnerCenterView:
    """Partner Center's answers for the planned sources; ``consulted`` False: nobody asked (no credentials)."""

    consulted: bool
    facts: Mapping[str, LegacyFacts] = field(default_factory=dict)  # Commerce subscription id -> facts
    unlinked: frozenset[str] = frozenset()  # Commerce subscriptions naming no Microsoft subscription
    # Every active new-commerce subscription of each customer tenant read (tenant id in lower case).
    new_commerce: Mapping[str, tuple[NewCommerceSubscription, ...]] = field(default_factory=dict)


NOT_CONSULTED = PartnerCenterView(consulted=False)


def _who(migration: MigrationRecord) -> str:
    return ("Microsoft-led migration" if migration.microsoft_led else "migration") + f" {migration.id}"


def migrated_reason(facts: LegacyFacts) -> Reason | None:
    """``migrated-by-microsoft`` when Partner Center shows the legacy subscription already in new commerce."""
    done = facts.completed()
    if done is not None:
        nce = done.new_commerce_subscription_id or "unknown"
        return Reason(ReasonCode.MIGRATED_BY_MICROSOFT,
                      f"Partner Center shows legacy subscription {facts.legacy_subscription_id} migrated ({_who(done)}, "
                      f"Completed) to new-commerce subscription {nce}: never order it again; reconcile it in Commerce "
                      "(m365move reconcile)", subject=(nce,))
    legacy_gone = facts.legacy_status is not None and facts.legacy_status.lower() in ("suspended", "deleted")
    if legacy_gone and facts.same_product and facts.unfinished() is None:
        nce_subscription = facts.same_product[0]
        return Reason(ReasonCode.MIGRATED_BY_MICROSOFT,
                      f"legacy subscription {facts.legacy_subscription_id} is {facts.legacy_status} in Partner Center "
                      f"and the customer holds new-commerce subscription {nce_subscription.id} "
                      f"({nce_subscription.offer_id}): already moved to new commerce; reconcile it in Commerce "
                      "(m365move reconcile)", subject=(nce_subscription.id,))
    return None


def in_progress_reason(facts: LegacyFacts) -> Reason | None:
    """``customer-migration-in-progress`` while a migration or a schedule of the legacy subscription is pending."""
    if facts.completed() is not None:
        return None
    running = facts.unfinished()
    if running is not None and running.status.lower() == "processing":
        return Reason(ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS,
                      f"Partner Center's {_who(running)} of legacy subscription {facts.legacy_subscription_id} is "
                      "Processing: an order now would buy a second new-commerce subscription; plan again once it "
                      "has completed", subject=(running.id,))
    if running is not None:
        suspended = (facts.legacy_status or "").lower() == "suspended"
        then = ("the legacy subscription is suspended: Microsoft completes or reverts the migration within 72 hours; "
                "plan again after that" if suspended else
                "the legacy subscription is still active: review the failure in Partner Center (retry it there, or "
                "plan again once no migration is pending)")
        return Reason(ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS,
                      f"Partner Center's {_who(running)} of legacy subscription {facts.legacy_subscription_id} Failed; "
                      f"{then}", subject=(running.id,))
    if facts.waiting_schedules:
        schedule = facts.waiting_schedules[0]
        return Reason(ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS,
                      f"Partner Center holds migration schedule {schedule.id} for legacy subscription "
                      f"{facts.legacy_subscription_id} ({schedule.when}): let it run, or cancel it (m365move schedules "
                      "cancel) before ordering in Commerce", subject=(schedule.id,))
    return None


def partner_center_reasons(view: PartnerCenterView, subscription_id: str) -> tuple[list[Reason], list[Reason]]:
    """(skip reasons, blocking reasons) Partner Center's view gives one Commerce subscription."""
    facts = view.facts.get(subscription_id)
    if facts is None:
        return [], []
    migrated = migrated_reason(facts)
    if migrated is not None:
        return [migrated], []
    pending = in_progress_reason(facts)
    return [], [pending] if pending is not None else []
