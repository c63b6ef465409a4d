"""Reading what a Connect audit needs, in bulk: four paged Connect listings and Partner Center's migrations.

Connect is read with the filters its API declares (``product.id``, ``marketplace.id``, ``tiers.tier1.id`` on
``/assets``; ``type``, ``asset.product.id``, ``marketplace.id``, ``asset.tiers.tier1.id`` on ``/requests``),
ordered by ``created``, 1000 per page: the CSP assets in scope (every status: a migrated one is terminated),
the NCE purchase requests, the cancel requests of the CSP products and the NCE assets. Partner Center is asked
once per legacy subscription of the CSP assets that have a migration purchase or a cancel request (the
migrations of untouched assets matter to nobody), a few at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from connect.client import ConnectClient, R

from m365move.audit.connect_records import (
    ConnectSnapshot,
    PcMigration,
    cancel_request,
    csp_asset,
    migration_purchase,
    nce_asset,
    pc_migration,
)
from m365move.connect import queries
from m365move.partnercenter.client import PartnerCenterClient


@dataclass(frozen=True)
class ConnectScope:
    csp_product_ids: tuple[str, ...]
    nce_product_ids: tuple[str, ...]
    marketplace_id: str | None = None
    reseller_id: str | None = None


class ConnectPlatform:
    """Reads a :class:`ConnectSnapshot`; ``partner_center`` None: the Partner Center checks say they did not run."""

    def __init__(self, client: ConnectClient, scope: ConnectScope, partner_center: PartnerCenterClient | None = None,
                 *, source: str = "Connect", workers: int = 8, page_size: int = queries.MAX_PAGE) -> None:
        self.client = client
        self.scope = scope
        self.partner_center = partner_center
        self.source = source
        self.workers = workers
        self.page_size = page_size
        self.calls: Counter[str] = Counter()

    def read(self) -> ConnectSnapshot:
        scope = self.scope
        assets = [csp_asset(a) for a in self._list("assets", R().product.id.oneof(list(scope.csp_product_ids)), "tiers")]
        purchases = [p for r in self._list("requests", R().type.eq("purchase")
                                           & R().asset.product.id.oneof(list(scope.nce_product_ids)), "asset.tiers")
                     if (p := migration_purchase(r)) is not None]
        cancels = [cancel_request(r) for r in self._list("requests", R().type.eq("cancel")
                                                          & R().asset.product.id.oneof(list(scope.csp_product_ids)),
                                                          "asset.tiers")]
        nce = {a.id: a for a in (nce_asset(x) for x in self._list("assets", R().product.id.oneof(list(scope.nce_product_ids)),
                                                                   "tiers"))}
        migrations: list[PcMigration] = []
        tenants: frozenset[str] | None = None
        if self.partner_center is not None:
            touched = {p.source_asset_id for p in purchases} | {c.asset_id for c in cancels}
            legacy = sorted({i.legacy_subscription_id for a in assets if a.id in touched for i in a.items
                             if i.legacy_subscription_id})
            migrations = self._migrations(legacy)
            tenants = frozenset(a.tenant_id for a in assets if a.id in touched and a.tenant_id)
        return ConnectSnapshot(tuple(assets), tuple(purchases), tuple(cancels), nce, tuple(migrations), self.source,
                               tenants, dict(self.calls))

    def _list(self, path: str, query: Any, tiers_field: str) -> list[dict[str, Any]]:
        if self.scope.marketplace_id:
            query &= R().marketplace.id.eq(self.scope.marketplace_id)
        if self.scope.reseller_id:
            query &= R(**{f"{tiers_field.replace('.', '__')}__tier1__id": self.scope.reseller_id})
        found = []
        for page in queries.fetch_pages(self.client, path, query, page_size=self.page_size, ordering="created"):
            self.calls[f"Connect GET /{path}"] += 1
            found.extend(page)
        return found

    def _migrations(self, legacy_subscription_ids: Sequence[str]) -> list[PcMigration]:
        pc = self.partner_center
        assert pc is not None
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="m365move-audit-pc") as pool:
            found = list(pool.map(pc.find_migrations, legacy_subscription_ids))
        self.calls["Partner Center GET /v1/migrations/newcommerce"] += len(legacy_subscription_ids)
        seen: dict[str, PcMigration] = {}
        for migrations in found:
            for migration in migrations:
                seen.setdefault(migration.id, pc_migration(migration.raw or {
                    "id": migration.id, "status": migration.status.value,
                    "currentSubscriptionId": migration.current_subscription_id,
                    "customerTenantId": migration.customer_tenant_id,
                    "newCommerceSubscriptionId": migration.new_commerce_subscription_id}))
        return list(seen.values())
