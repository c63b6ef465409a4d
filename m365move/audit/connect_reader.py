"""Reading what a Connect audit needs, in bulk: three paged Connect listings and Partner Center's migrations.

Connect is read with the filters its API declares (``product.id``, ``marketplace.id``, ``tiers.tier1.id`` on
``/assets``; ``type``, ``asset.product.id``, ``marketplace.id``, ``asset.tiers.tier1.id`` on ``/requests``),
ordered by ``created``, 1000 per page: the CSP assets in scope (every status: a migrated one is terminated),
every request on the NCE products, and the cancel requests of the CSP products.

The NCE assets are not listed: every change to an asset in Connect is a request on it (purchase, change,
suspend, resume, cancel), and a request carries its asset, so the latest request on each NCE asset tells its
status and quantities (that listing is why the NCE requests are read whatever their type; only purchases
are migration purchases).

Partner Center is asked once per customer tenant of the CSP assets that have a migration purchase or a
cancel request (``CustomerTenantId``, which lists the tenant's partner-led and Microsoft-led migrations
alike), a few tenants at a time; only the migrations of those assets' legacy subscriptions are kept (the
migrations of untouched subscriptions matter to nobody). An asset that names no tenant is looked up per
legacy subscription (``CurrentSubscriptionId``).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from connect.client import ConnectClient, R

from m365move import progress
from m365move.audit.connect_records import (
    ConnectSnapshot,
    CspAsset,
    NceAsset,
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
        # Wall seconds spent reading Connect and Partner Center.
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def read(self) -> ConnectSnapshot:
        scope = self.scope
        started = time.perf_counter()
        assets = [csp_asset(a) for a in self._list("assets", R().product.id.oneof(list(scope.csp_product_ids)), "tiers")]
        nce_requests = self._list("requests", R().asset.product.id.oneof(list(scope.nce_product_ids)), "asset.tiers")
        purchases = [p for r in nce_requests if r.get("type") == "purchase" and (p := migration_purchase(r)) is not None]
        cancels = [cancel_request(r) for r in self._list("requests", R().type.eq("cancel")
                                                          & R().asset.product.id.oneof(list(scope.csp_product_ids)),
                                                          "asset.tiers")]
        nce = latest_nce_assets(nce_requests)
        migrations: list[PcMigration] = []
        tenants: frozenset[str] | None = None
        self.seconds["Connect"] += time.perf_counter() - started
        if self.partner_center is not None:
            started = time.perf_counter()
            touched = {p.source_asset_id for p in purchases} | {c.asset_id for c in cancels}
            touched_assets = [a for a in assets if a.id in touched]
            migrations = self._migrations(touched_assets)
            tenants = frozenset(a.tenant_id for a in touched_assets if a.tenant_id)
            self.seconds["Partner Center"] += time.perf_counter() - started
        return ConnectSnapshot(tuple(assets), tuple(purchases), tuple(cancels), nce, tuple(migrations), self.source,
                               tenants, dict(self.calls))

    def _list(self, path: str, query: Any, tiers_field: str) -> list[dict[str, Any]]:
        if self.scope.marketplace_id:
            query &= R().marketplace.id.eq(self.scope.marketplace_id)
        if self.scope.reseller_id:
            query &= R(**{f"{tiers_field.replace('.', '__')}__tier1__id": self.scope.reseller_id})
        found = []
        with progress.task(f"Connect {path} read") as reading:
            for page in queries.fetch_pages(self.client, path, query, page_size=self.page_size, ordering="created"):
                self.calls[f"Connect GET /{path}"] += 1
                found.extend(page)
                reading.advance(len(page))
        return found

    def _migrations(self, assets: Sequence[CspAsset]) -> list[PcMigration]:
        """The migrations of the legacy subscriptions of ``assets``: one look-up per customer tenant, or per
        legacy subscription of an asset that names no tenant."""
        pc = self.partner_center
        assert pc is not None
        legacy = {i.legacy_subscription_id.lower() for a in assets for i in a.items if i.legacy_subscription_id}
        tenants = sorted({a.tenant_id for a in assets if a.tenant_id})
        untenanted = sorted({i.legacy_subscription_id for a in assets if not a.tenant_id for i in a.items
                             if i.legacy_subscription_id})
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="m365move-audit-pc") as pool, \
                progress.task("Partner Center look-ups", len(tenants) + len(untenanted)) as reading:
            found = list(pool.map(reading.counting(lambda tenant: pc.find_migrations(customer_tenant_id=tenant)), tenants))
            found += pool.map(reading.counting(pc.find_migrations), untenanted)
        self.calls["Partner Center GET /v1/migrations/newcommerce"] += len(tenants) + len(untenanted)
        seen: dict[str, PcMigration] = {}
        for migrations in found:
            for migration in migrations:
                if migration.current_subscription_id.lower() not in legacy:
                    continue  # another subscription of the tenant: not one these assets migrate
                seen.setdefault(migration.id, pc_migration(migration.raw or {
                    "id": migration.id, "status": migration.status.value,
                    "currentSubscriptionId": migration.current_subscription_id,
                    "customerTenantId": migration.customer_tenant_id,
                    "newCommerceSubscriptionId": migration.new_commerce_subscription_id}))
        return list(seen.values())


def latest_nce_assets(requests: Sequence[dict[str, Any]]) -> dict[str, NceAsset]:
    """Each NCE asset as the latest request on it carries it (requests in ``created`` order, as listed)."""
    latest: dict[str, dict[str, Any]] = {}
    for request in requests:
        asset = request.get("asset") or {}
        if asset.get("id"):
            latest[str(asset["id"])] = asset  # a later request overrides an earlier one
    return {asset_id: nce_asset(asset) for asset_id, asset in latest.items()}
