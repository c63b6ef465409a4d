"""The New Subscription sweep (DESIGN §4): plan every active CSP asset, create one NCE purchase request per CSP
item, and only when every target request is approved, the cancel request of the CSP asset.

Stateless and idempotent: Connect is the record. Each migration purchase carries the CSP asset id as
``asset.external_id`` and a uuid5 of (CSP asset, CSP item) as ``asset.external_uid``; before creating anything
the sweep reads the purchase and cancel requests of the whole page of assets (one call per 100 assets, not per
asset) and creates only what is missing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from connect.client import ConnectClient

from m365move import progress
from m365move.connect import queries
from m365move.connect.catalog_mapping import MappedEstate, NceCatalog, map_assets
from m365move.connect.client import ConnectApiError, never_repeating
from m365move.connect.late_rules import apply_late_rules
from m365move.connect.mca import mca_problem
from m365move.connect.payloads import Json, nested_id, param_value
from m365move.connect.requests_api import cancel_request_body, create_request
from m365move.connect.settings import ExtensionSettings
from m365move.connect.source_locks import source_lock
from m365move.connect.sweep_bundles import Target, bundle_targets
from m365move.domain.orders import MigrationMode, OrderKind, PlannedOrder
from m365move.domain.planner import Selection, plan_migration
from m365move.domain.reasons import Decision, Reason, ReasonCode
from m365move.domain.subscription_plan import SubscriptionPlan
from m365move.errors import InputError, PlatformError
from m365move.partnercenter.client import PartnerCenterClient

_UID_NAMESPACE = uuid.UUID("0b7f3f5e-93a4-4f0e-8d55-4b0c4a8e6a11")
MIGRATION_SOURCE_PARAM = "migration_source"


class AssetStatus(str, Enum):
    SKIPPED = "skipped"                    # out of scope by rule (domain skip codes)
    BLOCKED = "blocked"                    # an operator can fix it (tier config, mapping, …)
    PLANNED = "planned"                    # dry run: what would be requested
    REQUESTED = "requested"                # purchase requests exist, not all approved yet
    TARGET_FAILED = "target-failed"        # a purchase failed: no cancel, an operator decides
    CANCEL_REQUESTED = "cancel-requested"  # every target approved; the CSP asset's cancel is pending
    MIGRATED = "migrated"                  # the cancel request is approved
    ERROR = "error"                        # a platform call failed; the next sweep retries


@dataclass(frozen=True, slots=True)
class SweepParameters:
    """The schedule's parameter: filters, batch size, concurrency (all optional)."""

    product_ids: tuple[str, ...] = ()
    marketplace_id: str | None = None
    reseller_id: str | None = None
    expiration_date: dt.date | None = None
    batch_size: int = 100
    concurrency: int = 4
    # When the purchases' migrations happen: None now; "renewal" at the legacy term's end; else an ISO date.
    migrate_at: str | None = None

    def migration_schedule(self) -> Json | None:
        """The ``migration_schedule`` a purchase carries (Partner Center's own field names), None to migrate now."""
        if self.migrate_at is None:
            return None
        if self.migrate_at == "renewal":
            return {"migrateOnRenewal": True}
        return {"targetDate": f"{self.migrate_at}T00:00:00Z"}

    @classmethod
    def from_schedule(cls, parameter: Mapping[str, Any] | None) -> SweepParameters:
        p = dict(parameter or {})
        products = p.get("products") or ()
        if isinstance(products, str):
            products = [x.strip() for x in products.split(",") if x.strip()]
        expiration = p.get("expiration_date")
        try:
            return cls(
                product_ids=tuple(products),
                marketplace_id=p.get("marketplace") or None,
                reseller_id=p.get("reseller") or None,
                expiration_date=dt.date.fromisoformat(expiration) if expiration else None,
                batch_size=max(1, min(int(p.get("batch_size", 100)), queries.MAX_PAGE)),
                concurrency=max(1, min(int(p.get("concurrency", 4)), 32)),
                migrate_at=_migrate_at(p.get("migrate_at")),
            )
        except (TypeError, ValueError) as error:
            raise InputError(f"bad schedule parameter: {error}", where="schedule parameter") from None


def _migrate_at(raw: Any) -> str | None:
    """``now`` (or nothing), ``renewal`` or a date YYYY-MM-DD."""
    text = str(raw or "").strip().lower()
    if text in ("", "now"):
        return None
    if text == "renewal":
        return text
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"migrate_at {raw!r} is not now, renewal or a date YYYY-MM-DD") from None


@dataclass(frozen=True, slots=True)
class AssetOutcome:
    asset_id: str
    status: AssetStatus
    reasons: tuple[str, ...] = ()
    purchase_requests: tuple[str, ...] = ()
    cancel_request: str | None = None
    created: int = 0  # requests this sweep created for the asset


@dataclass
class SweepReport:
    outcomes: list[AssetOutcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = Counter(o.status.value for o in self.outcomes)
        return dict(sorted(counts.items()))

    @property
    def created(self) -> int:
        return sum(o.created for o in self.outcomes)

    def by_asset(self) -> dict[str, AssetOutcome]:
        return {o.asset_id: o for o in self.outcomes}


def external_uid(asset_id: str, item_id: str) -> str:
    """The identity of the one purchase request a CSP item may ever get."""
    return str(uuid.uuid5(_UID_NAMESPACE, f"{asset_id}:{item_id}"))


def load_nce_catalog(client: ConnectClient, nce_product_ids: tuple[str, ...]) -> NceCatalog:
    """Items of every NCE product, where they are listed, and the active tier configs (once per sweep)."""
    items = {product: queries.product_items(client, product) for product in nce_product_ids}
    connections = {product: queries.product_connections(client, product) for product in nce_product_ids}
    return NceCatalog.from_connect(items, queries.listings(client, nce_product_ids),
                                   queries.active_tier_configs(client, nce_product_ids), connections)


def run_sweep(client: ConnectClient, settings: ExtensionSettings, parameters: SweepParameters,
              logger: logging.Logger | logging.LoggerAdapter[Any],
              partner_center: PartnerCenterClient | None = None) -> SweepReport:
    """One pass over the selected CSP assets; safe to run any number of times. With ``partner_center``, a base and
    its add-ons become one purchase (``sweep_bundles``); without, each CSP item is its own purchase."""
    if not settings.nce_product_ids:
        raise InputError("no NCE product configured", where="variable NCE_PRODUCT_IDS")
    product_ids = parameters.product_ids or settings.csp_product_ids
    if not product_ids:
        raise InputError("no CSP product configured", where="variable CSP_PRODUCT_IDS")
    if parameters.migrate_at is not None and not settings.fulfil_migrations:
        raise InputError("migrate_at schedules the migrations in Partner Center, which this extension does only when "
                         "it fulfils them; set FULFIL_MIGRATIONS=true or drop migrate_at", where="schedule parameter")
    catalog = load_nce_catalog(client, settings.nce_product_ids)
    filters = queries.AssetFilters(product_ids, parameters.marketplace_id, parameters.reseller_id)
    report = SweepReport()
    with ThreadPoolExecutor(max_workers=parameters.concurrency, thread_name_prefix="m365move-sweep") as pool, \
            progress.task("CSP assets swept") as swept:
        for page in queries.active_assets(client, filters, page_size=parameters.batch_size):
            report.outcomes.extend(_sweep_page(client, settings, parameters, catalog, page, pool, partner_center))
            swept.advance(len(page))
    logger.info("New Subscription sweep: %s; %d requests created", report.counts(), report.created)
    return report


def _sweep_page(client: ConnectClient, settings: ExtensionSettings, parameters: SweepParameters,
                catalog: NceCatalog, assets: list[Json], pool: ThreadPoolExecutor,
                partner_center: PartnerCenterClient | None = None) -> list[AssetOutcome]:
    mapped = map_assets(assets, catalog, settings.license_mapping, settings.plans_mapping, settings.mca_parameters)
    plan = plan_migration(mapped.estate, MigrationMode.NEW_SUBSCRIPTION, plans_mapping=mapped.plans_mapping,
                          selection=Selection(expiration_date=parameters.expiration_date))
    asset_ids = list(dict.fromkeys(str(mapped.sources[p.subscription_id][0]["id"]) for p in plan.subscriptions))
    # The page's purchase and cancel requests in one read (per 100 assets), not one read each.
    requests = queries.migration_and_cancel_requests(client, settings.nce_product_ids, asset_ids)
    purchases = {str(r["asset"].get("external_uid")): r for r in requests if r.get("type") == "purchase"}
    # Rules Partner Center enforces only at the create (seat cap, manual offers, term end) block before any request.
    requested = {key for key, (a, i) in mapped.sources.items() if external_uid(str(a["id"]), str(i["id"])) in purchases}
    plan = apply_late_rules(plan, mapped, manual_offers=settings.manual_migration_offers, requested=requested)
    by_asset: dict[str, list[SubscriptionPlan]] = {}
    for subscription_plan in plan.subscriptions:
        asset, _ = mapped.sources[subscription_plan.subscription_id]
        by_asset.setdefault(str(asset["id"]), []).append(subscription_plan)
    cancels = {nested_id(r, "asset") or "": r for r in requests
               if r.get("type") == "cancel" and r.get("status") not in ("failed", "revoked")}
    assets_by_id = {str(a["id"]): a for a in assets}
    work = [(assets_by_id[a], plans) for a, plans in by_asset.items()]
    schedule = parameters.migration_schedule()
    return list(pool.map(lambda w: _sweep_asset(client, settings, catalog, mapped, w[0], w[1], purchases, cancels,
                                                schedule, partner_center), work))


def _sweep_asset(client: ConnectClient, settings: ExtensionSettings, catalog: NceCatalog, mapped: MappedEstate, asset: Json,
                 plans: list[SubscriptionPlan], purchases: Mapping[str, Json], cancels: Mapping[str, Json],
                 schedule: Json | None = None, partner_center: PartnerCenterClient | None = None) -> AssetOutcome:
    asset_id = str(asset["id"])
    blocked = [p for p in plans if p.decision is Decision.BLOCKED]
    migrating = [p for p in plans if p.decision is Decision.MIGRATE]
    if blocked:
        reasons = tuple(dict.fromkeys(_reason_text(r, asset, settings) for p in blocked for r in p.reasons))
        return AssetOutcome(asset_id, AssetStatus.BLOCKED, reasons)
    if not migrating:
        reasons = tuple(dict.fromkeys(r.code.value for p in plans for r in p.reasons))
        return AssetOutcome(asset_id, AssetStatus.SKIPPED, reasons)
    targets: list[tuple[Json, PlannedOrder, Json]] = []  # (CSP item, sales order, NCE item)
    problems: list[str] = []
    for p in migrating:
        _, csp_item = mapped.sources[p.subscription_id]
        for order in p.orders:
            if order.kind is OrderKind.SALES and order.plan_id is not None:
                targets.append((csp_item, order, mapped.nce_items[order.plan_id]))
        if not _legacy_subscription(asset, csp_item):
            problems.append(f"missing-legacy-subscription: CSP item {csp_item['id']} has no Microsoft subscription id "
                            "in the asset parameter ms_subscription_ids")
    for _, _, nce_item in targets:
        product = nested_id(nce_item, "product") or ""
        if catalog.connection_for(product, asset) is None:
            problems.append(f"no-nce-connection: NCE product {product} has no connection on hub "
                            f"{nested_id(asset, 'connection', 'hub')} of the CSP asset")
    if not param_value(asset, "ms_customer_id"):
        problems.append("missing-customer-tenant: the asset parameter ms_customer_id is empty")
    if problems:
        return AssetOutcome(asset_id, AssetStatus.BLOCKED, tuple(problems))
    try:
        addons: Mapping[str, list[tuple[Target, str]]] = {}
        if partner_center is not None and len(targets) > 1:
            bundled = bundle_targets(
                partner_center, str(param_value(asset, "ms_customer_id")), targets,
                {str(c["id"]): _legacy_subscription(asset, c) or "" for c, _, _ in targets},
                lambda item_id: external_uid(asset_id, item_id) in purchases)
            if bundled.held:
                return AssetOutcome(asset_id, AssetStatus.BLOCKED, bundled.held)
            targets, addons = bundled.targets, bundled.addons
        return _advance(client, settings, catalog, asset, targets, purchases, cancels.get(asset_id), schedule, addons)
    except PlatformError as error:
        return AssetOutcome(asset_id, AssetStatus.ERROR, (str(error),))


def _advance(client: ConnectClient, settings: ExtensionSettings, catalog: NceCatalog, asset: Json,
             targets: list[tuple[Json, PlannedOrder, Json]],
             purchases: Mapping[str, Json], cancel: Json | None, schedule: Json | None = None,
             addons: Mapping[str, list[tuple[Target, str]]] | None = None) -> AssetOutcome:
    addons = addons or {}
    asset_id = str(asset["id"])
    existing = {str(csp_item["id"]): purchases.get(external_uid(asset_id, str(csp_item["id"]))) for csp_item, _, _ in targets}
    request_ids = tuple(str(r["id"]) for r in existing.values() if r is not None)
    if cancel is not None:
        status = AssetStatus.MIGRATED if cancel.get("status") == "approved" else AssetStatus.CANCEL_REQUESTED
        return AssetOutcome(asset_id, status, (), request_ids, str(cancel["id"]))
    failed = [r for r in existing.values() if r is not None and r.get("status") == "failed"]
    if failed:
        reasons = tuple(f"purchase {r['id']} failed: {r.get('reason') or 'no reason given'}" for r in failed)
        return AssetOutcome(asset_id, AssetStatus.TARGET_FAILED, reasons, request_ids)
    missing = [(c, o, n) for c, o, n in targets if existing[str(c["id"])] is None]
    if missing and settings.dry_run:
        when = "" if schedule is None else (" to migrate at the legacy renewal" if schedule.get("migrateOnRenewal")
                                            else f" to migrate on {schedule['targetDate'][:10]}")
        planned = tuple(f"would request {o.quantity} × {n['id']} for CSP item {c['id']}{_with_addons(addons, c)}{when}"
                        for c, o, n in missing)
        return AssetOutcome(asset_id, AssetStatus.PLANNED, planned, request_ids)
    created = 0
    new_ids = list(request_ids)
    for csp_item, order, nce_item in missing:
        connection = catalog.connection_for(nested_id(nce_item, "product") or "", asset) or ""
        uid = external_uid(asset_id, str(csp_item["id"]))
        request, made = create_once(client, purchase_body(asset, csp_item, order, nce_item, connection, schedule,
                                                                  addons.get(str(csp_item["id"]), [])),
                                    functools.partial(_purchase_by_uid, client, settings, uid))
        new_ids.append(str(request["id"]))
        created += made
    if created or any(r is not None and r.get("status") != "approved" for r in existing.values()):
        return AssetOutcome(asset_id, AssetStatus.REQUESTED, (), tuple(new_ids), None, created)
    # Every target request exists and is approved: now, and only now, the CSP asset may be cancelled.
    if settings.dry_run:
        return AssetOutcome(asset_id, AssetStatus.PLANNED, ("would request the cancellation of the CSP asset",), request_ids)
    cancel_created, made = create_once(client, cancel_request_body(asset), lambda: _open_cancel(client, asset_id))
    return AssetOutcome(asset_id, AssetStatus.CANCEL_REQUESTED, (), request_ids, str(cancel_created["id"]), made)


def create_once(client: ConnectClient, body: Json, existing: Callable[[], Json | None]) -> tuple[Json, int]:
    """Create a request unless ``existing()`` finds it: (request, 1 when created now).

    Under the source's lock (a second delivery of the same task, still running in this process, waits here), the
    look-up comes right before the create, and the create goes through a client that never repeats the POST. A
    create whose answer was lost is looked up again: found, it is the answer; not found, the error stands and
    the next sweep looks up first again.
    """
    source = str(body["asset"].get("external_uid") or body["asset"].get("id"))
    with source_lock(f"{body['type']}:{source}"):
        found = existing()
        if found is not None:
            return found, 0
        try:
            return create_request(never_repeating(client), body), 1
        except ConnectApiError as error:
            if error.status_code is not None and error.status_code < 500:
                raise
            found = existing()
            if found is None:
                raise
            return found, 0


def _purchase_by_uid(client: ConnectClient, settings: ExtensionSettings, uid: str) -> Json | None:
    found = [r for r in queries.purchases_by_uid(client, settings.nce_product_ids, uid)
             if r.get("status") not in ("failed", "revoked")]
    return found[0] if found else None


def _open_cancel(client: ConnectClient, asset_id: str) -> Json | None:
    found = [r for r in queries.cancel_requests(client, [asset_id]) if r.get("status") not in ("failed", "revoked")]
    return found[0] if found else None


def _with_addons(addons: Mapping[str, list[tuple[Target, str]]], csp_item: Json) -> str:
    riding = addons.get(str(csp_item["id"]), [])
    return f" with its add-ons {', '.join(str(c['id']) for (c, _, _), _ in riding)}" if riding else ""


def _reason_text(reason: Reason, asset: Json, settings: ExtensionSettings) -> str:
    """``code: message``; for the MCA, what exactly is missing on the asset (the planner only knows "not accepted")."""
    if reason.code is ReasonCode.MCA_NOT_ACCEPTED:
        return f"{reason.code.value}: {mca_problem(asset, settings.mca_parameters) or reason.message}"
    return f"{reason.code.value}: {reason.message}"


def _legacy_subscription(asset: Json, csp_item: Json) -> str | None:
    """The Microsoft (legacy CSP) subscription behind a CSP item, from the asset parameter ``ms_subscription_ids``."""
    raw = param_value(asset, "ms_subscription_ids")
    if not raw:
        return None
    try:
        mapping = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(mapping, dict):
        return None
    value = mapping.get(str(csp_item["id"])) or mapping.get(str(csp_item.get("mpn", "")))
    return str(value) if value else None


def purchase_body(asset: Json, csp_item: Json, order: PlannedOrder, nce_item: Json, connection_id: str,
                  schedule: Json | None = None, addons: Sequence[tuple[Target, str]] = ()) -> Json:
    """The NCE purchase request for one CSP item, with the NCE connector's documented migration parameters."""
    asset_id, item_id = str(asset["id"]), str(csp_item["id"])
    info: dict[str, Any] = {
        "transaction_type": "NCEmigration",
        "ms_customer_id": param_value(asset, "ms_customer_id"),
        "csp_order_id": param_value(asset, "csp_order_id") or "",
        "subscription_id": _legacy_subscription(asset, csp_item),
        "purchaseFullTerm": False,
        # The base's add-ons migrate with it (one Partner Center migration); their NCE items are ordered here too.
        # A purchase orders items of one product: an add-on item of another NCE product rides in ``addons[]`` only.
        "addons": [{"subscription_id": legacy, "quantity": int(o.quantity or 0),
                    **({"item_id": str(n["id"])} if nested_id(n, "product") == nested_id(nce_item, "product") else {})}
                   for (_, o, n), legacy in addons],
    }
    if schedule is not None:
        # Migrate later through a Partner Center schedule (at renewal or on a date), one per legacy subscription.
        info["migration_schedule"] = schedule
    body: Json = {
        "type": "purchase",
        "asset": {
            "external_id": asset_id,
            "external_uid": external_uid(asset_id, item_id),
            "product": {"id": nested_id(nce_item, "product")},
            "connection": {"id": connection_id},
            "tiers": asset.get("tiers") or {},
            "items": [{"id": nce_item["id"], "quantity": int(order.quantity or 0)},
                      *({"id": n["id"], "quantity": int(o.quantity or 0)} for (_, o, n), _ in addons
                        if nested_id(n, "product") == nested_id(nce_item, "product"))],
            "params": [
                {"id": "transaction_info_object", "value": json.dumps(info, separators=(",", ":"))},
                {"id": "microsoft_domain", "value": param_value(asset, "microsoft_domain") or ""},
                {"id": "transaction_id", "value": str(uuid.uuid5(_UID_NAMESPACE, f"transaction:{asset_id}:{item_id}"))},
                {"id": MIGRATION_SOURCE_PARAM, "value": f"{asset_id}:{item_id}"},
            ],
        },
    }
    marketplace = nested_id(asset, "marketplace")
    if marketplace:
        body["marketplace"] = {"id": marketplace}
    return body
