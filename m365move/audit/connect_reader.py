"""Reading what a Connect audit needs, in bulk: three paged Connect listings and Partner Center's migrations.

Connect is read with the filters its API declares (``product.id``, ``marketplace.id``, ``tiers.tier1.id`` on
``/assets``; ``type``, ``asset.product.id``, ``marketplace.id``, ``asset.tiers.tier1.id`` on ``/requests``),
ordered by ``created``, 1000 per page, each without the fields Connect lets a caller leave out that the audit does
not read (``select(-…)``, below): the CSP assets in scope (every status: a migrated one is terminated),
every request on the NCE products, and the cancel requests of the CSP products. The three listings run at the
same time, each on its own client (a ``ConnectClient`` keeps the last response, so it is not shared by threads).
Each page is decoded from the bytes Connect answered into only the fields the audit reads (``connect_pages``,
``connect_json``): decoding whole pages into dicts cost more CPU than everything else the audit does.

The NCE assets are not listed: every change to an asset in Connect is a request on it (purchase, change,
suspend, resume, cancel), and a request carries its asset, so the latest request on each NCE asset tells its
status and quantities (that listing is why the NCE requests are read whatever their type; only purchases
are migration purchases).

Partner Center (``GET /v1/migrations/newcommerce`` needs a tenant, a legacy subscription or an
``ExternalReferenceId``) is read one of two ways, ``lookups``:

- ``every-tenant`` (the default): once per customer tenant of the CSP assets that have a migration purchase or a
  cancel request (``CustomerTenantId`` lists the tenant's partner-led and Microsoft-led migrations alike), a
  few tenants at a time. Complete, and one call per tenant.
- ``where-needed``: the extension tags every migration of an NCE product with one ``externalReferenceId``
  (``purchase_fulfilment.migration_reference``), so our migrations are listed by those tags, 300 per call,
  while Connect is read.
  Microsoft-led migrations do not carry the tag, so a tenant is still read on its own where our tagged
  migrations do not account for it: a touched legacy subscription without a Completed tagged migration (not
  migrated yet, processing, failed: where Microsoft may migrate or have migrated), or a purchase whose stored
  migration id is not among them (an adopted Microsoft-led migration, one tagged before the tag was per product).
  What it cannot see: a Microsoft-led (or any untagged) migration of a subscription whose own tagged migration
  completed. Partner Center refuses to start a migration of a subscription that has one processing or completed,
  so only a platform fault or a hand-made state leaves one; the report's check says how many tenants were read.

Only the migrations of the in-scope CSP assets' legacy subscriptions are kept (the migrations of other
subscriptions matter to nobody). An asset that names no tenant is looked up per legacy subscription
(``CurrentSubscriptionId``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from connect.client import ConnectClient, R

from m365move import progress
from m365move.audit.connect_json import ASSET_PAGE, REQUEST_PAGE, Request
from m365move.audit.connect_pages import decoded_pages
from m365move.audit.connect_records import (
    ConnectSnapshot,
    CspAsset,
    MigrationPurchase,
    NceAsset,
    PcMigration,
    cancel_request,
    csp_asset,
    migration_purchase,
    nce_asset,
    pc_migration,
)
from m365move.connect import queries
from m365move.connect.purchase_fulfilment import migration_reference
from m365move.memory.cyclic_gc import cyclic_gc_paused
from m365move.partnercenter.client import PartnerCenterClient
from m365move.partnercenter.models import Migration

T = TypeVar("T")
J = TypeVar("J")
EVERY_TENANT = "every-tenant"
WHERE_NEEDED = "where-needed"
LOOKUPS = (EVERY_TENANT, WHERE_NEEDED)
LOOKUP_PATH = "Partner Center GET /v1/migrations/newcommerce"
LIST_PAGE = 300  # Partner Center answers a migration listing 300 at a time (the pages counted for the report)
# What each listing asks Connect to leave out (the negative selects Connect declares; nothing a check reads):
# a CSP asset's items are its seats and legacy subscriptions, an NCE request's asset items its quantities (the
# seat check), a cancel is only its id, status, times and asset id.
CSP_ASSET_LEFT_OUT = ("configuration",)
NCE_REQUEST_LEFT_OUT = ("activation_key", "template", "asset.configuration")
CANCEL_LEFT_OUT = ("activation_key", "template", "asset.configuration", "asset.items")


@dataclass(frozen=True)
class ConnectScope:
    csp_product_ids: tuple[str, ...]
    nce_product_ids: tuple[str, ...]
    marketplace_id: str | None = None
    reseller_id: str | None = None


class ConnectPlatform:
    """Reads a :class:`ConnectSnapshot`; ``partner_center`` None: the Partner Center checks say they did not run."""

    def __init__(self, client: ConnectClient, scope: ConnectScope, partner_center: PartnerCenterClient | None = None,
                 *, source: str = "Connect", workers: int = 8, page_size: int = queries.MAX_PAGE,
                 lookups: str = EVERY_TENANT, connect_workers: int = 3) -> None:
        if lookups not in LOOKUPS:
            raise ValueError(f"lookups is one of {', '.join(LOOKUPS)}, not {lookups!r}")
        self.client = client
        self.scope = scope
        self.partner_center = partner_center
        self.source = source
        self.workers = workers
        self.page_size = page_size
        self.lookups = lookups
        self.connect_workers = connect_workers  # the three Connect listings at once (1: one after another)
        self.calls: Counter[str] = Counter()
        self._counting = threading.Lock()
        # Wall seconds spent reading Connect and Partner Center.
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def read(self) -> ConnectSnapshot:
        scope = self.scope
        started = time.perf_counter()
        csp, nce = list(scope.csp_product_ids), list(scope.nce_product_ids)
        # where-needed: our tagged migrations are listed while Connect is read (the listing needs nothing of Connect).
        # The collector is paused while the pages become records (``cyclic_gc_paused``: the reading makes no cycles).
        with cyclic_gc_paused(), \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="m365move-audit-pc-tags") as tags, \
                ThreadPoolExecutor(max_workers=self.connect_workers, thread_name_prefix="m365move-audit-connect") as pool:
            tagged = (tags.submit(self._tagged_migrations)
                      if self.partner_center is not None and self.lookups == WHERE_NEEDED else None)
            listed_assets = pool.submit(self._list, "assets", R().product.id.oneof(csp), "tiers", CSP_ASSET_LEFT_OUT,
                                        ASSET_PAGE.decode, csp_asset)
            listed_nce = pool.submit(self._list, "requests", R().asset.product.id.oneof(nce), "asset.tiers",
                                     NCE_REQUEST_LEFT_OUT, REQUEST_PAGE.decode, nce_request_records)
            listed_cancels = pool.submit(self._list, "requests", R().type.eq("cancel") & R().asset.product.id.oneof(csp),
                                         "asset.tiers", CANCEL_LEFT_OUT, REQUEST_PAGE.decode, cancel_request)
            assets = listed_assets.result()
            nce_requests = listed_nce.result()
            cancels = listed_cancels.result()
            connect_done = time.perf_counter()
            tagged_migrations = tagged.result() if tagged is not None else []
        purchases = [purchase for purchase, _ in nce_requests if purchase is not None]
        # Each NCE asset as the latest request on it carries it (listed in ``created`` order: a later one overrides).
        nce_assets = {asset.id: asset for _, asset in nce_requests if asset is not None}
        migrations: list[PcMigration] = []
        tenants: frozenset[str] | None = None
        coverage = ""
        self.seconds["Connect"] += connect_done - started
        if self.partner_center is not None:
            # Partner Center's time counts from the end of Connect's reading: the tag listing ran alongside it.
            started = connect_done
            touched = {p.source_asset_id for p in purchases} | {c.asset_id for c in cancels}
            touched_assets = [a for a in assets if a.id in touched]
            if self.lookups == EVERY_TENANT:
                migrations = self._migrations(touched_assets)
                tenants = frozenset(a.tenant_id for a in touched_assets if a.tenant_id)
            else:
                migrations, tenants, coverage = self._migrations_where_needed(assets, touched_assets, purchases,
                                                                              tagged_migrations)
            self.seconds["Partner Center"] += time.perf_counter() - started
        return ConnectSnapshot(tuple(assets), tuple(purchases), tuple(cancels), nce_assets, tuple(migrations),
                               self.source, tenants, dict(self.calls), coverage)

    def _list(self, path: str, query: Any, tiers_field: str, left_out: tuple[str, ...],
              decode: Callable[[bytes], list[J]], record: Callable[[J], T]) -> list[T]:
        """Every object of the listing as ``record`` makes it, page by page: each page is decoded from its bytes
        into the few fields the audit reads (``connect_json``), and only the records stay in memory (a 10k
        estate's three listings are some 50 MB of JSON)."""
        if self.scope.marketplace_id:
            query &= R().marketplace.id.eq(self.scope.marketplace_id)
        if self.scope.reseller_id:
            query &= R(**{f"{tiers_field.replace('.', '__')}__tier1__id": self.scope.reseller_id})
        rql = queries.rql(query) + (f"&select({','.join('-' + f for f in left_out)})" if left_out else "")
        found: list[T] = []
        client = own_client(self.client)
        with progress.task(f"Connect {path} read") as reading:
            for page in decoded_pages(client, path, rql, decode, page_size=self.page_size, ordering="created"):
                self._count(f"Connect GET /{path}")
                found.extend(record(obj) for obj in page)
                reading.advance(len(page))
        return found

    def _count(self, what: str, n: int = 1) -> None:
        with self._counting:
            self.calls[what] += n

    def _migrations(self, assets: Sequence[CspAsset]) -> list[PcMigration]:
        """The migrations of the legacy subscriptions of ``assets``: one look-up per customer tenant, or per
        legacy subscription of an asset that names no tenant."""
        legacy = {i.legacy_subscription_id.lower() for a in assets for i in a.items if i.legacy_subscription_id}
        return _kept(self._lookups(assets), legacy)

    def _lookups(self, assets: Sequence[CspAsset]) -> list[list[Migration]]:
        """One look-up per customer tenant of ``assets`` (per legacy subscription where an asset names no tenant),
        ``workers`` at a time."""
        pc = self.partner_center
        assert pc is not None
        tenants = sorted({a.tenant_id for a in assets if a.tenant_id})
        untenanted = sorted({i.legacy_subscription_id for a in assets if not a.tenant_id for i in a.items
                             if i.legacy_subscription_id})
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="m365move-audit-pc") as pool, \
                progress.task("Partner Center look-ups", len(tenants) + len(untenanted)) as reading:
            found = list(pool.map(reading.counting(lambda tenant: pc.find_migrations(customer_tenant_id=tenant)), tenants))
            found += pool.map(reading.counting(pc.find_migrations), untenanted)
        self._count(LOOKUP_PATH, len(tenants) + len(untenanted))
        return found

    def _tagged_migrations(self) -> list[Migration]:
        """Every migration carrying the tag of one of the scope's NCE products (ours), 300 a call."""
        pc = self.partner_center
        assert pc is not None
        tagged: list[Migration] = []
        for product in sorted(set(self.scope.nce_product_ids)):
            found = pc.find_migrations(external_reference_id=migration_reference(product))
            self._count(f"{LOOKUP_PATH} by ExternalReferenceId", max(1, -(-len(found) // LIST_PAGE)))
            tagged += found
        return tagged

    def _migrations_where_needed(self, assets: Sequence[CspAsset], touched: Sequence[CspAsset],
                                 purchases: Sequence[MigrationPurchase],
                                 tagged: Sequence[Migration]) -> tuple[list[PcMigration], frozenset[str], str]:
        """Our migrations by their tags (``tagged``), then a look-up per tenant only where they do not account for
        it; returns the migrations, the tenants read one by one, and what that leaves unseen."""
        in_scope = {i.legacy_subscription_id.lower() for a in assets for i in a.items if i.legacy_subscription_id}
        ours = _kept([tagged], in_scope)
        needing = needs_a_look_up(touched, purchases, ours)
        looked_up = _kept(self._lookups(needing), {i.legacy_subscription_id.lower() for a in needing for i in a.items
                                                   if i.legacy_subscription_id})
        merged = {m.id: m for m in ours} | {m.id: m for m in looked_up}
        read = frozenset(a.tenant_id for a in needing if a.tenant_id)
        all_tenants = {a.tenant_id for a in touched if a.tenant_id}
        coverage = (f"our migrations listed by their tags; tenants read one by one where those do not account for "
                    f"every subscription: {len(read):,} of {len(all_tenants):,}. Not seen on the others: a Microsoft-led "
                    "migration of a subscription whose own migration completed (Partner Center refuses to start one; "
                    "read every tenant to rule it out)")
        return list(merged.values()), read, coverage


def own_client(client: ConnectClient) -> ConnectClient:
    """A client of its own for one thread, with the same endpoint, key and settings as ``client``."""
    return ConnectClient(client.api_key, endpoint=client.endpoint, use_specs=False, max_retries=client.max_retries,
                         default_headers=dict(client.default_headers or {}), logger=client.logger,
                         default_limit=client.default_limit, timeout=client.timeout)


def needs_a_look_up(touched: Sequence[CspAsset], purchases: Sequence[MigrationPurchase],
                    tagged: Sequence[PcMigration]) -> list[CspAsset]:
    """The touched CSP assets whose tenant must be read on its own: a legacy subscription of theirs without a
    Completed tagged migration, or a purchase whose stored migration is not a tagged one. The others are wholly
    accounted for by our own, tagged, completed migrations."""
    by_subscription: defaultdict[str, list[PcMigration]] = defaultdict(list)
    for migration in tagged:
        by_subscription[migration.legacy_subscription_id.lower()].append(migration)
    tagged_ids = {m.id for m in tagged}
    stored: defaultdict[str, set[str | None]] = defaultdict(set)
    for purchase in purchases:
        if purchase.source_asset_id and purchase.live:
            stored[purchase.source_asset_id].add(purchase.migration_id)
    needing = []
    for asset in touched:
        unaccounted = any(not any(m.status.lower() == "completed" for m in by_subscription.get(
            (item.legacy_subscription_id or "").lower(), [])) for item in asset.items)
        foreign = any(migration_id not in tagged_ids for migration_id in stored.get(asset.id, ()))
        if unaccounted or foreign:
            needing.append(asset)
    return needing


def _kept(found: Sequence[Sequence[Migration]], legacy: set[str]) -> list[PcMigration]:
    """The migrations of the legacy subscriptions ``legacy`` (lower case), each once."""
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


def nce_request_records(request: Request) -> tuple[MigrationPurchase | None, NceAsset | None]:
    """A request on an NCE product as the migration purchase it is (None: another type, or not a migration) and
    its NCE asset as the request carries it (None when it names none)."""
    purchase = migration_purchase(request) if request.type == "purchase" else None
    asset = request.asset
    return purchase, nce_asset(asset) if asset is not None and asset.id else None


def latest_nce_assets(requests: Sequence[dict[str, Any]]) -> dict[str, NceAsset]:
    """Each NCE asset as the latest request on it carries it (requests in ``created`` order, as listed)."""
    records = (nce_request_records(msgspec.convert(request, Request))[1] for request in requests)
    return {asset.id: asset for asset in records if asset is not None}  # a later request overrides an earlier one
