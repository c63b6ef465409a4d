"""The New Subscription sweep (DESIGN §4): plan every active CSP asset, create one NCE purchase request per CSP
item, and only when every target request is approved, the cancel request of the CSP asset.

Stateless and idempotent: Connect is the record. Each migration purchase carries the CSP asset id as
``asset.external_id`` and a uuid5 of (CSP asset, CSP item) as ``asset.external_uid``; before creating anything
the sweep reads the purchase and cancel requests of the whole page of assets (one call per 100 assets, not per
asset) and creates only what is missing, through ``request_creation`` (one look-up per 100 sources under their
locks right before the creates, POSTs that are never repeated).

``sweep_chunk`` sweeps the assets after a ``SweepCursor`` (oldest ``created`` first), at most ``limit`` of them;
the scheduled sweep runs one chunk per task (``sweep_schedule``), ``run_sweep`` a whole pass in one call.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from connect.client import ConnectClient

from m365move import progress
from m365move.connect import queries
from m365move.connect.catalog_mapping import MappedEstate, NceCatalog, map_assets
from m365move.connect.client import ConnectApiError
from m365move.connect.create_guard import ensure_fulfilment_possible
from m365move.connect.customer_seats import CustomerSeats
from m365move.connect.late_rules import apply_late_rules, migration_candidates
from m365move.connect.mca import mca_problem
from m365move.connect.partner_center_reads import PartnerCenterReads
from m365move.connect.payloads import Json, legacy_subscription_of, nested_id, param_value
from m365move.connect.purchase_marker import age_key, duplicate_reason, keeper, younger_duplicates
from m365move.connect.request_creation import Settle, create_all_once, source_key
from m365move.connect.requests_api import RequestNotPending, cancel_request_body, fail_asset_request
from m365move.connect.settings import ExtensionSettings
from m365move.connect.sweep_bundles import Target, bundle_targets
from m365move.connect.sweep_cursor import SweepCursor
from m365move.connect.task_deadline import carried
from m365move.domain.migration_rules import MigrationCandidate
from m365move.domain.orders import MigrationMode, OrderKind, PlannedOrder
from m365move.domain.planner import Selection, plan_migration
from m365move.domain.reasons import Decision, Reason, ReasonCode
from m365move.domain.subscription_plan import MigrationPlan, SubscriptionPlan
from m365move.errors import InputError, PlatformError
from m365move.partnercenter.client import PartnerCenterClient

# The most CSP assets one chunk may take (a first pass creates ~1.4 requests per asset: 2,000 assets are ~2,800
# creates, still below the runner's 300 s at 100 ms per create).
MAX_CHUNK = 2000
_UID_NAMESPACE = uuid.UUID("0b7f3f5e-93a4-4f0e-8d55-4b0c4a8e6a11")
MIGRATION_SOURCE_PARAM = "migration_source"
# The schedule parameter's keys: the operator's, and ``progress``, the position the sweep keeps there itself.
PARAMETER_KEYS = frozenset({"products", "marketplace", "reseller", "expiration_date", "batch_size", "concurrency",
                            "chunk_size", "migrate_at", "progress"})


class AssetStatus(str, Enum):
    SKIPPED = "skipped"                    # out of scope by rule (domain skip codes)
    BLOCKED = "blocked"                    # an operator can fix it (tier config, mapping, …)
    PLANNED = "planned"                    # dry run: what would be requested
    REQUESTED = "requested"                # purchase requests exist, not all approved yet
    TARGET_FAILED = "target-failed"        # a purchase failed: no cancel, an operator decides
    CANCEL_REQUESTED = "cancel-requested"  # every target approved; the CSP asset's cancel is pending
    # Every target approved and no cancel request yet (a run's report, ``run_report``: the next sweep creates it).
    CANCEL_DUE = "cancel-due"
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
    # CSP assets one scheduled task sweeps (Connect delivers the next chunk as a new task). A chunk's time is
    # mostly its creates (about 1.3 per asset on a first pass); 200 assets stay far below the runner's 300 s even
    # on a slow Connect (benchmarks/sweep_chunks.py measures the chunks of a 10,000-asset pass). No decision
    # depends on where pages or chunks end (each asset's own MCA parameters; the seat cap counts all of the
    # customer's assets, customer_seats), so any chunk size sweeps as one pass does.
    chunk_size: int = 200
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
        """The schedule's parameter; a key the sweep does not know is refused (a typo such as ``{"dry": true}`` would
        otherwise be silently ignored). ``progress`` is the sweep's own position (``sweep_schedule``)."""
        if parameter is not None and not isinstance(parameter, Mapping):
            raise InputError("the schedule parameter must be a JSON object such as {\"chunk_size\": 200}",
                             where="schedule parameter")
        p = dict(parameter or {})
        unknown = sorted(set(p) - PARAMETER_KEYS)
        if unknown:
            raise InputError(f"unknown key(s) {', '.join(unknown)}; the sweep takes {', '.join(sorted(PARAMETER_KEYS))}",
                             where="schedule parameter")
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
                chunk_size=max(1, min(int(p.get("chunk_size", 200)), MAX_CHUNK)),
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
    duplicates_failed: list[str] = field(default_factory=list)  # younger duplicate purchases this sweep failed

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


@dataclass
class SweepChunk:
    """What one chunk did and where the pass stands after it."""

    report: SweepReport
    cursor: SweepCursor


def run_sweep(client: ConnectClient, settings: ExtensionSettings, parameters: SweepParameters,
              logger: logging.Logger | logging.LoggerAdapter[Any],
              partner_center: PartnerCenterClient | None = None) -> SweepReport:
    """One pass over the selected CSP assets in one call; safe to run any number of times. With ``partner_center``,
    a base and its add-ons become one purchase (``sweep_bundles``); without, each CSP item is its own purchase.

    Under the runner the scheduled sweep goes chunk by chunk instead (``sweep_chunk``, ``sweep_schedule``); a pass
    in one call is what a local run and the benchmarks compare the chunks with.
    """
    chunk = sweep_chunk(client, settings, parameters, SweepCursor().starting(dt.datetime.now(dt.timezone.utc)),
                        limit=None, partner_center=partner_center)
    logger.info("New Subscription sweep: %s; %d requests created", chunk.report.counts(), chunk.report.created)
    return chunk.report


def sweep_chunk(client: ConnectClient, settings: ExtensionSettings, parameters: SweepParameters,
                cursor: SweepCursor, *, limit: int | None,
                partner_center: PartnerCenterClient | None = None, settle: Settle | None = None) -> SweepChunk:
    """Sweep the next ``limit`` CSP assets after ``cursor`` (None: to the end); the cursor after them."""
    if not settings.nce_product_ids:
        raise InputError("no NCE product configured", where="variable NCE_PRODUCT_IDS")
    product_ids = parameters.product_ids or settings.csp_product_ids
    if not product_ids:
        raise InputError("no CSP product configured", where="variable CSP_PRODUCT_IDS")
    if parameters.migrate_at is not None and not settings.fulfil_migrations:
        raise InputError("migrate_at schedules the migrations in Partner Center, which this extension does only when "
                         "it fulfils them; set FULFIL_MIGRATIONS=true or drop migrate_at", where="schedule parameter")
    ensure_fulfilment_possible(settings, partner_center)
    catalog = load_nce_catalog(client, settings.nce_product_ids)
    filters = queries.AssetFilters(product_ids, parameters.marketplace_id, parameters.reseller_id)
    pages = queries.AssetPages(client, filters, cursor.remaining_filter(), limit=limit, page_size=parameters.batch_size)
    # The seat cap counts each customer's seats on every page, not only this one's (read once per chunk).
    seats = CustomerSeats(client, filters, functools.partial(_plan_candidates, catalog, settings, parameters))
    report = SweepReport()
    read: list[Json] = []
    with ThreadPoolExecutor(max_workers=parameters.concurrency, thread_name_prefix="m365move-sweep") as pool, \
            progress.task("CSP assets swept") as swept:
        for page in pages:
            report.outcomes.extend(_sweep_page(client, settings, parameters, catalog, page, pool, seats,
                                               partner_center, settle or settings.settle(), report))
            read.extend({"id": a["id"], "events": a.get("events")} for a in page)
            swept.advance(len(page))
    return SweepChunk(report, cursor.after(read, complete=pages.complete, created_requests=report.created))


def _plan_page(catalog: NceCatalog, settings: ExtensionSettings, parameters: SweepParameters,
               assets: list[Json]) -> tuple[MappedEstate, MigrationPlan]:
    """The domain plan of some CSP assets (before the late rules); each asset is decided on its own data."""
    mapped = map_assets(assets, catalog, settings.license_mapping, settings.plans_mapping, settings.mca_parameters)
    plan = plan_migration(mapped.estate, MigrationMode.NEW_SUBSCRIPTION, plans_mapping=mapped.plans_mapping,
                          selection=Selection(expiration_date=parameters.expiration_date))
    return mapped, plan


def _plan_candidates(catalog: NceCatalog, settings: ExtensionSettings, parameters: SweepParameters,
                     assets: list[Json]) -> tuple[list[MigrationCandidate], dict[str, Json]]:
    """What the late rules count of some assets planned as a page is: migrating subscriptions, and their assets."""
    mapped, plan = _plan_page(catalog, settings, parameters, assets)
    return migration_candidates(plan, mapped), {k: a for k, (a, _) in mapped.sources.items()}


def _sweep_page(client: ConnectClient, settings: ExtensionSettings, parameters: SweepParameters,
                catalog: NceCatalog, assets: list[Json], pool: ThreadPoolExecutor, seats: CustomerSeats,
                partner_center: PartnerCenterClient | None = None, settle: Settle | None = None,
                report: SweepReport | None = None) -> list[AssetOutcome]:
    mapped, plan = _plan_page(catalog, settings, parameters, assets)
    asset_ids = list(dict.fromkeys(str(mapped.sources[p.subscription_id][0]["id"]) for p in plan.subscriptions))
    # The page's purchase and cancel requests in one read (per 100 assets), not one read each.
    requests = queries.migration_and_cancel_requests(client, settings.nce_product_ids, asset_ids)
    purchases = _purchases_by_marker(client, settings, requests, report)
    # Rules Partner Center enforces only at the create (seat cap, manual offers, term end) block before any request.
    requested = {key for key, (a, i) in mapped.sources.items() if external_uid(str(a["id"]), str(i["id"])) in purchases}
    elsewhere = seats.elsewhere(migration_candidates(plan, mapped), {k: a for k, (a, _) in mapped.sources.items()})
    # Partner Center's view of the page's customers (held seats, term ends, add-ons), each listed once.
    reads = PartnerCenterReads(partner_center) if partner_center is not None else None
    plan = apply_late_rules(plan, mapped, manual_offers=settings.manual_migration_offers, requested=requested,
                            elsewhere=elsewhere, partner_center=reads)
    by_asset: dict[str, list[SubscriptionPlan]] = {}
    for subscription_plan in plan.subscriptions:
        asset, _ = mapped.sources[subscription_plan.subscription_id]
        by_asset.setdefault(str(asset["id"]), []).append(subscription_plan)
    cancels = {nested_id(r, "asset") or "": r for r in requests
               if r.get("type") == "cancel" and r.get("status") not in ("failed", "revoked")}
    assets_by_id = {str(a["id"]): a for a in assets}
    work = [(assets_by_id[a], plans) for a, plans in by_asset.items()]
    schedule = parameters.migration_schedule()

    def decide(w: tuple[Json, list[SubscriptionPlan]]) -> AssetOutcome | _Creates:
        return _sweep_asset(settings, catalog, mapped, w[0], w[1], purchases, cancels, schedule, reads)

    decided = list(pool.map(carried(decide), work))
    # The page's creates together: one look-up per 100 sources under their locks, then the POSTs.
    bodies = [b for d in decided if isinstance(d, _Creates) for b in d.bodies]
    made = create_all_once(client, bodies, functools.partial(_open_requests, client, settings), pool, settle)
    return [d.outcome(made) if isinstance(d, _Creates) else d for d in decided]


def _purchases_by_marker(client: ConnectClient, settings: ExtensionSettings, requests: Sequence[Json],
                         report: SweepReport | None) -> dict[str, Json]:
    """The purchase that stands for each marker (``purchase_marker``: the oldest open one, else the newest closed
    one). Younger open duplicates (two runner instances created for one item) are failed here unless dry run."""
    groups: dict[str, list[Json]] = {}
    for request in requests:
        if request.get("type") == "purchase":
            groups.setdefault(str(request["asset"].get("external_uid")), []).append(request)
    standing: dict[str, Json] = {}
    for marker, group in groups.items():
        kept = keeper(group)
        standing[marker] = kept if kept is not None else max(group, key=age_key)
        if kept is None or settings.dry_run:
            continue
        for duplicate in younger_duplicates(group):
            try:
                fail_asset_request(client, str(duplicate["id"]), duplicate_reason(str(duplicate["id"]), kept))
            except RequestNotPending:
                continue  # it moved on meanwhile (the fulfilment failed it first)
            if report is not None:
                report.duplicates_failed.append(str(duplicate["id"]))
    return standing


@dataclass(frozen=True, slots=True)
class _Creates:
    """An asset whose next step is creating requests (its purchases, or its cancel once all are approved)."""

    asset_id: str
    request_ids: tuple[str, ...]  # its purchase requests that exist already
    bodies: tuple[Json, ...]
    cancel: bool = False

    def outcome(self, made: Mapping[str, tuple[Json, int] | ConnectApiError]) -> AssetOutcome:
        results = [made[source_key(b)] for b in self.bodies]
        errors = tuple(str(r) for r in results if isinstance(r, ConnectApiError))
        if errors:
            return AssetOutcome(self.asset_id, AssetStatus.ERROR, errors, self.request_ids)
        created = sum(r[1] for r in results if not isinstance(r, ConnectApiError))
        ids = [str(r[0]["id"]) for r in results if not isinstance(r, ConnectApiError)]
        if self.cancel:
            return AssetOutcome(self.asset_id, AssetStatus.CANCEL_REQUESTED, (), self.request_ids, ids[0], created)
        return AssetOutcome(self.asset_id, AssetStatus.REQUESTED, (), self.request_ids + tuple(ids), None, created)


def _sweep_asset(settings: ExtensionSettings, catalog: NceCatalog, mapped: MappedEstate, asset: Json,
                 plans: list[SubscriptionPlan], purchases: Mapping[str, Json], cancels: Mapping[str, Json],
                 schedule: Json | None = None,
                 partner_center: PartnerCenterReads | None = None) -> AssetOutcome | _Creates:
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
        if not legacy_subscription_of(asset, csp_item):
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
        # Any asset, even of one item: Partner Center may list add-ons of its subscription that Connect does not.
        if partner_center is not None and targets:
            bundled = bundle_targets(
                partner_center, str(param_value(asset, "ms_customer_id")), targets,
                {str(c["id"]): legacy_subscription_of(asset, c) or "" for c, _, _ in targets},
                lambda item_id: external_uid(asset_id, item_id) in purchases)
            if bundled.held:
                return AssetOutcome(asset_id, AssetStatus.BLOCKED, bundled.held)
            targets, addons = bundled.targets, bundled.addons
    except PlatformError as error:
        if len(targets) > 1:  # a lone item goes on unbundled: a refusal names any add-on (addon-holds-bundle)
            return AssetOutcome(asset_id, AssetStatus.ERROR, (str(error),))
    return _advance(settings, catalog, asset, targets, purchases, cancels.get(asset_id), schedule, addons)


def _advance(settings: ExtensionSettings, catalog: NceCatalog, asset: Json, targets: list[tuple[Json, PlannedOrder, Json]],
             purchases: Mapping[str, Json], cancel: Json | None, schedule: Json | None = None,
             addons: Mapping[str, list[tuple[Target, str]]] | None = None) -> AssetOutcome | _Creates:
    """The asset's state from the page's requests, or the requests to create next."""
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
    if missing:
        bodies = tuple(purchase_body(asset, c, o, n, catalog.connection_for(nested_id(n, "product") or "", asset) or "",
                                     schedule, addons.get(str(c["id"]), []))
                       for c, o, n in missing)
        return _Creates(asset_id, request_ids, bodies)
    if any(r is not None and r.get("status") != "approved" for r in existing.values()):
        return AssetOutcome(asset_id, AssetStatus.REQUESTED, (), request_ids)
    # Every target request exists and is approved: now, and only now, the CSP asset may be cancelled.
    if settings.dry_run:
        return AssetOutcome(asset_id, AssetStatus.PLANNED, ("would request the cancellation of the CSP asset",), request_ids)
    return _Creates(asset_id, request_ids, (cancel_request_body(asset),), cancel=True)


def _open_requests(client: ConnectClient, settings: ExtensionSettings, keys: Sequence[str]) -> dict[str, Json]:
    """The look-up before creating: open (not failed or revoked) purchase and cancel requests by source key."""
    uids = [k.split(":", 1)[1] for k in keys if k.startswith("purchase:")]
    asset_ids = [k.split(":", 1)[1] for k in keys if k.startswith("cancel:")]
    found: dict[str, Json] = {}
    for request in queries.purchases_by_uids(client, settings.nce_product_ids, uids) if uids else ():
        if request.get("status") not in ("failed", "revoked"):
            found[f"purchase:{request['asset'].get('external_uid')}"] = request
    for request in queries.cancel_requests(client, asset_ids) if asset_ids else ():
        if request.get("status") not in ("failed", "revoked"):
            found[f"cancel:{nested_id(request, 'asset')}"] = request
    return found


def _with_addons(addons: Mapping[str, list[tuple[Target, str]]], csp_item: Json) -> str:
    riding = addons.get(str(csp_item["id"]), [])
    return f" with its add-ons {', '.join(str(c['id']) for (c, _, _), _ in riding)}" if riding else ""


def _reason_text(reason: Reason, asset: Json, settings: ExtensionSettings) -> str:
    """``code: message``; for the MCA, what exactly is missing on the asset (the planner only knows "not accepted")."""
    if reason.code is ReasonCode.MCA_NOT_ACCEPTED:
        return f"{reason.code.value}: {mca_problem(asset, settings.mca_parameters) or reason.message}"
    return f"{reason.code.value}: {reason.message}"


def purchase_body(asset: Json, csp_item: Json, order: PlannedOrder, nce_item: Json, connection_id: str,
                  schedule: Json | None = None, addons: Sequence[tuple[Target, str]] = ()) -> Json:
    """The NCE purchase request for one CSP item, with the NCE connector's documented migration parameters."""
    asset_id, item_id = str(asset["id"]), str(csp_item["id"])
    info: dict[str, Any] = {
        "transaction_type": "NCEmigration",
        "ms_customer_id": param_value(asset, "ms_customer_id"),
        "csp_order_id": param_value(asset, "csp_order_id") or "",
        "subscription_id": legacy_subscription_of(asset, csp_item),
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
