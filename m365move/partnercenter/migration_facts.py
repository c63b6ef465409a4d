"""Reads what Partner Center knows of a Commerce estate's legacy subscriptions, before anything is ordered.

For every planned source that names its Microsoft subscription (``MicrosoftSubscriptionId`` and
``MicrosoftTenantId`` custom attributes): its migrations, looked up by current subscription id (Microsoft-led or by
any partner); and per customer tenant, once: the waiting migration schedules and the subscriptions (the legacy
subscription's own status, and the new-commerce subscriptions of the products the source's licences map to).
The rules that follow from the answers are pure (``m365move.domain.microsoft_migrations``).

A failed read is not taken as "nothing migrated": it raises, and the plan is not made (ordering blind is the very
double billing this guards against).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from m365move import progress
from m365move.domain.estate import Estate, Subscription
from m365move.domain.microsoft_migrations import (
    LegacyFacts,
    MigrationRecord,
    NewCommerceSubscription,
    PartnerCenterView,
    WaitingSchedule,
    microsoft_ids,
)
from m365move.partnercenter.client import PartnerCenterClient
from m365move.partnercenter.models import LegacySubscription, Migration, Schedule, ScheduleStatus

# Look-ups in flight at once: Partner Center's listings are cheap but slow (a few hundred ms each).
LOOKUP_WORKERS = 8


def read_partner_center_view(pc: PartnerCenterClient, estate: Estate, subscriptions: Iterable[Subscription],
                             *, workers: int = LOOKUP_WORKERS) -> PartnerCenterView:
    """Partner Center's answers for ``subscriptions`` (the planned sources)."""
    linked: dict[str, tuple[str, str]] = {}
    unlinked: set[str] = set()
    products: dict[str, frozenset[str]] = {}
    for subscription in subscriptions:
        ids = microsoft_ids(subscription.custom_attributes)
        if ids is None:
            unlinked.add(subscription.id)
            continue
        linked[subscription.id] = ids
        products[subscription.id] = frozenset(
            nce.upper() for r in subscription.resources if r.quantity > 0
            if (nce := estate.license_mapping.nce_for(r.mpn)) is not None)
    tenants = sorted({tenant.lower() for tenant, _ in linked.values()})
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        listed = dict(zip(tenants, pool.map(pc.list_subscriptions, tenants), strict=True))
        waiting = dict(zip(tenants, pool.map(lambda t: pc.find_schedules(customer_tenant_id=t), tenants), strict=True))
        legacy_ids = [legacy for _, legacy in linked.values()]
        migrations = dict(zip(legacy_ids, progress.iterate(pool.map(pc.find_migrations, legacy_ids), "legacy subscriptions "
                                                                   "looked up in Partner Center"), strict=True))
    schedules_of = _waiting_by_subscription(s for found in waiting.values() for s in found)
    facts: dict[str, LegacyFacts] = {}
    for subscription_id, (tenant, legacy) in linked.items():
        of_tenant = listed[tenant.lower()]
        own = next((s for s in of_tenant if s.id.lower() == legacy.lower()), None)
        facts[subscription_id] = LegacyFacts(
            tenant_id=tenant, legacy_subscription_id=legacy, legacy_status=own.status.lower() if own else None,
            migrations=tuple(_record(m) for m in migrations[legacy]),
            waiting_schedules=tuple(schedules_of.get(legacy.lower(), ())),
            same_product=tuple(_new_commerce(s) for s in of_tenant
                               if _is_new_commerce(s) and _product_sku(s.offer_id) in products[subscription_id]))
    new_commerce = {tenant: tuple(_new_commerce(s) for s in found if _is_new_commerce(s))
                    for tenant, found in listed.items()}
    return PartnerCenterView(consulted=True, facts=facts, unlinked=frozenset(unlinked), new_commerce=new_commerce)


def _record(migration: Migration) -> MigrationRecord:
    return MigrationRecord(migration.id, migration.status.value, migration.microsoft_led,
                           migration.new_commerce_subscription_id)


def _waiting_by_subscription(schedules: Iterable[Schedule]) -> dict[str, list[WaitingSchedule]]:
    found: defaultdict[str, list[WaitingSchedule]] = defaultdict(list)
    for schedule in schedules:
        if schedule.status is ScheduleStatus.CREATED:
            when = ("on renewal" if schedule.migrate_on_renewal else f"at {schedule.raw.get('targetDate')}")
            found[schedule.current_subscription_id.lower()].append(WaitingSchedule(schedule.id, when))
    return found


def _is_new_commerce(subscription: LegacySubscription) -> bool:
    """New-commerce offer ids are ``ProductId:SkuId:…``; legacy ones are GUIDs."""
    return ":" in (subscription.offer_id or "") and subscription.status.lower() == "active"


def _product_sku(offer_id: str | None) -> str:
    return ":".join((offer_id or "").upper().split(":")[:2])


def _new_commerce(subscription: LegacySubscription) -> NewCommerceSubscription:
    return NewCommerceSubscription(subscription.id, subscription.offer_id or "", subscription.quantity,
                                   subscription.status.lower(), subscription.cancellation_allowed_until)
