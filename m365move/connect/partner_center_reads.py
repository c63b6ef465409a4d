"""What the sweep's late rules read from Partner Center: each customer's subscriptions, listed once per chunk.

Partner Center knows what Connect's assets may not say:
- the new-commerce seats a customer holds already (bought elsewhere, or migrated before): they count toward the
  300-seat cap of the business offers, with the seats being migrated;
- the legacy subscription's term end (``commitmentEndDate``), when the asset has no ``commitment_end_date``
  parameter: in its last 24 hours Microsoft refuses a migration that keeps the term;
- whether the legacy subscription is still active: one suspended or deleted was migrated already, and its seats
  are counted once, as the new-commerce subscription they became;
- which subscriptions are add-ons of which (``parentSubscriptionId``), for the bundles (``sweep_bundles``).

A customer's list is read once per chunk (one sweep task) and shared by its assets' threads.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable

from m365move.domain.migration_rules import SMB_PRODUCT_IDS, product_of
from m365move.partnercenter.client import PartnerCenterClient
from m365move.partnercenter.models import LegacySubscription


class PartnerCenterReads:
    """A customer's Partner Center subscriptions, read on first use and kept for the chunk."""

    def __init__(self, pc: PartnerCenterClient) -> None:
        self._pc = pc
        self._lock = threading.Lock()
        self._by_tenant: dict[str, list[LegacySubscription]] = {}

    def list_subscriptions(self, tenant_id: str) -> list[LegacySubscription]:
        """The customer's subscriptions (the client's call, once per tenant): ``sweep_bundles`` takes this object
        in place of the client."""
        key = tenant_id.lower()
        with self._lock:
            cached = self._by_tenant.get(key)
        if cached is None:
            cached = self._pc.list_subscriptions(tenant_id)
            with self._lock:
                self._by_tenant.setdefault(key, cached)
        return cached

    def held_seats(self, tenants: Iterable[str]) -> dict[tuple[str, str], int]:
        """(tenant, business-offer product id) -> new-commerce seats the customer holds (active subscriptions)."""
        held: defaultdict[tuple[str, str], int] = defaultdict(int)
        for tenant in sorted({t.lower() for t in tenants}):
            for subscription in self.list_subscriptions(tenant):
                product = product_of(subscription.offer_id)
                if (is_new_commerce(subscription) and product in SMB_PRODUCT_IDS
                        and subscription.status.lower() == "active"):
                    held[(tenant, product)] += subscription.quantity or 0
        return dict(held)

    def legacy(self, tenant_id: str, legacy_subscription_id: str) -> LegacySubscription | None:
        wanted = legacy_subscription_id.lower()
        return next((s for s in self.list_subscriptions(tenant_id) if s.id.lower() == wanted), None)


def is_new_commerce(subscription: LegacySubscription) -> bool:
    """New-commerce offer ids are ``ProductId:SkuId[:…]``; legacy ones are GUIDs."""
    return ":" in (subscription.offer_id or "")
