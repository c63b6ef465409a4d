# Copied from m365move/audit/connect_checks.py by `python -m m365move.audit.report_copy`: edit the original, not this.
"""The Connect audit's checks: each CSP asset against its NCE purchase and cancel requests, the NCE assets
that resulted and Partner Center's migrations. Pure: a snapshot and "now" in, statuses and findings out.

Codes mean what they mean for Commerce (``findings.py``): ``duplicate-target`` (two live purchases, or two
live migrations, for one CSP item), ``cancelled-before-targets-completed`` (the cancel request was created
before the last purchase of the asset was approved), ``seat-mismatch`` (NCE asset quantity vs the CSP
item's), ``target-missing`` (an approved purchase without an active NCE asset), ``orphan-target`` (a
migration purchase, or a partner-led Partner Center migration, no CSP asset in scope accounts for),
``stuck-migration`` (a purchase or cancel request still open, or a migration still Processing, past the
threshold); and two Connect needs: ``microsoft-led-duplicate`` and ``approved-migration-failed``.

The Connect report (``connect_reports/``) runs these same checks from a copy (see ``connect_model``): standard
library and Python 3.8 only here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from .connect_model import CancelRequest, ConnectSnapshot, CspAsset, MigrationPurchase, PcMigration
from .findings import AnomalyCode, CheckOutcome, Finding, sort_findings
from .cyclic_gc import cyclic_gc_paused

CONNECT = "Connect"
# An asset's state in Connect, in the report's order.
CONNECT_STATUSES = ("migrated", "partially-migrated", "failed", "pending", "not-migrated")
_OPEN = frozenset({"pending", "inquiring", "tiers_setup", "draft", "scheduled"})


@dataclass(frozen=True)
class AssetStatus:
    asset_id: str
    status: str
    customer_id: str | None
    reseller_id: str | None
    purchases: int
    cancel_request: str | None
    detail: str = ""


@dataclass(frozen=True)
class ConnectAudit:
    statuses: dict[str, AssetStatus]
    findings: tuple[Finding, ...]
    checks: tuple[CheckOutcome, ...]
    source: str
    requests_made: dict[str, int] = field(default_factory=dict)

    def status_counts(self) -> dict[str, int]:
        counts = Counter(s.status for s in self.statuses.values())
        return {status: counts[status] for status in CONNECT_STATUSES}


def audit_connect(
    snapshot: ConnectSnapshot, now: dt.datetime, stuck_after: dt.timedelta = dt.timedelta(hours=24)
) -> ConnectAudit:
    with cyclic_gc_paused():  # tens of thousands of kept values, no cycles among them
        return _audited(snapshot, now, stuck_after)


def _audited(snapshot: ConnectSnapshot, now: dt.datetime, stuck_after: dt.timedelta) -> ConnectAudit:
    assets = {a.id: a for a in snapshot.csp_assets}
    purchases: defaultdict[str, list[MigrationPurchase]] = defaultdict(list)
    orphans: list[MigrationPurchase] = []
    for purchase in snapshot.purchases:
        if purchase.source_asset_id in assets:
            purchases[purchase.source_asset_id].append(purchase)
        elif purchase.live:
            orphans.append(purchase)
    cancels: defaultdict[str, list[CancelRequest]] = defaultdict(list)
    for cancel in snapshot.cancels:
        cancels[cancel.asset_id].append(cancel)
    migrations: defaultdict[str, list[PcMigration]] = defaultdict(list)
    for migration in snapshot.migrations:
        migrations[migration.legacy_subscription_id.lower()].append(migration)

    found: dict[str, list[Finding]] = defaultdict(list)
    checked: Counter[str] = Counter()
    statuses: dict[str, AssetStatus] = {}
    for asset in snapshot.csp_assets:
        mine, my_cancels = purchases.get(asset.id, []), cancels.get(asset.id, [])
        statuses[asset.id] = _status(asset, mine, my_cancels)
        if not mine and not my_cancels:
            continue
        checked["duplicates"] += len(asset.items)
        found["duplicates"] += _duplicates(asset, mine, migrations)
        found["microsoft"] += _microsoft_led(asset, mine, migrations)
        checked["cancellations"] += bool(my_cancels)
        found["cancellations"] += _early_cancel(asset, mine, my_cancels)
        for purchase in (p for p in mine if p.approved):
            checked["seats"] += 1
            found["seats"] += _seats(asset, purchase, snapshot)
            checked["migrations"] += 1
            found["migrations"] += _failed_migration(asset, purchase, migrations, snapshot.tenants_read)
        found["stuck"] += _stuck(asset, mine, my_cancels, migrations, now, stuck_after)
    found["orphans"] += [_orphan_purchase(p) for p in orphans]
    found["orphans"] += _orphan_migrations(snapshot, purchases, migrations)

    checks = (
        CheckOutcome("Connect: one purchase and one migration per CSP item", checked["duplicates"],
                     len(found["duplicates"]) + len(found["microsoft"]),
                     "; ".join(n for n in ("Microsoft-led migrations included", snapshot.partner_center_coverage) if n)),
        CheckOutcome("Connect: cancel requested after every purchase was approved", checked["cancellations"],
                     len(found["cancellations"])),
        CheckOutcome("Connect: NCE seats equal CSP seats", checked["seats"], len(found["seats"])),
        CheckOutcome("Connect: approved purchases have a completed migration", checked["migrations"],
                     len(found["migrations"]),
                     "" if snapshot.tenants_read is not None else "not run: Partner Center not read"),
        CheckOutcome("Connect: every migration purchase has a CSP asset in scope", len(snapshot.purchases),
                     len(found["orphans"])),
        CheckOutcome("Connect: nothing open past the threshold", sum(1 for s in statuses.values() if s.status == "pending"),
                     len(found["stuck"]), f"open {stuck_after.total_seconds() / 3600:.1f} h or longer"),
    )
    everything = sort_findings(f for group in found.values() for f in group)
    return ConnectAudit(statuses, tuple(everything), checks, snapshot.source, dict(snapshot.requests_made))


def _status(asset: CspAsset, purchases: Sequence[MigrationPurchase], cancels: Sequence[CancelRequest]) -> AssetStatus:
    live = [p for p in purchases if p.live]
    cancel = next((c for c in cancels if c.live), None)
    covered = {p.source_key for p in live if p.approved}
    wanted = {i.id for i in asset.items}
    if cancel is not None and cancel.status == "approved" and live and all(p.approved for p in live):
        status = "migrated"
    elif any(p.status == "failed" for p in purchases) and not live:
        status = "failed"
    elif any(p.status == "failed" for p in purchases):
        status = "partially-migrated"
    elif live or cancel is not None:
        status = "pending"
    else:
        status = "not-migrated"
    detail = f"{len(covered & wanted) or len([p for p in live if p.approved])} of {len(wanted)} items approved" if live else ""
    return AssetStatus(asset.id, status, asset.customer_id, asset.reseller_id, len(purchases),
                       cancel.id if cancel else None, detail)


def _finding(code: AnomalyCode, asset: CspAsset, message: str, advice: str | None = None, **ids: str | None) -> Finding:
    return Finding(code, message, asset.id, asset.customer_id, asset.reseller_id,
                   {k: v for k, v in ids.items() if v}, advice, CONNECT)


def _duplicates(asset: CspAsset, purchases: Sequence[MigrationPurchase],
                migrations: dict[str, list[PcMigration]]) -> list[Finding]:
    findings = []
    by_item: defaultdict[str, list[MigrationPurchase]] = defaultdict(list)
    for purchase in purchases:
        if purchase.live:
            by_item[purchase.source_key].append(purchase)
    for item, found in sorted(by_item.items()):
        if len(found) > 1:
            findings.append(_finding(
                AnomalyCode.DUPLICATE_TARGET, asset,
                f"CSP item {item} has {len(found)} live NCE purchases: "
                + ", ".join(f"{p.id} ({p.status}, {p.quantity} × {p.nce_mpn})" for p in found),
                "keep the first purchase; fail the others while pending, or cancel their NCE assets within 7 days",
                item=item, requests=",".join(p.id for p in found)))
    for csp_item in asset.items:
        ours = [m for m in migrations.get((csp_item.legacy_subscription_id or "").lower(), [])
                if m.status.lower() != "failed" and not m.microsoft_led]
        if len(ours) > 1:
            findings.append(_finding(
                AnomalyCode.DUPLICATE_TARGET, asset,
                f"legacy subscription {csp_item.legacy_subscription_id} (CSP item {csp_item.id}) has {len(ours)} "
                "partner-led migrations: " + ", ".join(f"{m.id} ({m.status})" for m in ours),
                item=csp_item.id, migrations=",".join(m.id for m in ours)))
    return findings


def _microsoft_led(asset: CspAsset, purchases: Sequence[MigrationPurchase],
                   migrations: dict[str, list[PcMigration]]) -> list[Finding]:
    findings = []
    for item in asset.items:
        found = [m for m in migrations.get((item.legacy_subscription_id or "").lower(), []) if m.status.lower() != "failed"]
        microsoft = [m for m in found if m.microsoft_led]
        ours = [m for m in found if not m.microsoft_led]
        requests = [p for p in purchases if p.live and (p.source_item_id == item.id or (
            p.source_item_id is None and p.legacy_subscription_id == item.legacy_subscription_id))
            and p.migration_id not in {m.id for m in microsoft}]
        if microsoft and (ours or requests):
            findings.append(_finding(
                AnomalyCode.MICROSOFT_LED_DUPLICATE, asset,
                f"legacy subscription {item.legacy_subscription_id} (CSP item {item.id}) was migrated by Microsoft "
                f"({microsoft[0].id}, {microsoft[0].status}, new subscription {microsoft[0].new_subscription_id or '-'}) "
                "and by us: " + ", ".join([f"purchase {p.id} ({p.status})" for p in requests]
                                          + [f"migration {m.id} ({m.status})" for m in ours]),
                item=item.id, microsoft_migration=microsoft[0].id,
                requests=",".join(p.id for p in requests), migrations=",".join(m.id for m in ours)))
    return findings


def _early_cancel(asset: CspAsset, purchases: Sequence[MigrationPurchase], cancels: Sequence[CancelRequest]) -> list[Finding]:
    cancel = min((c for c in cancels if c.live), key=lambda c: c.created or dt.datetime.max.replace(tzinfo=dt.timezone.utc),
                 default=None)
    if cancel is None:
        return []
    # The purchases the cancellation had to wait for: those requested before it (one made later is no target it
    # skipped; if it duplicates one, the duplicate check says so).
    live = [p for p in purchases if p.live and not (p.created and cancel.created and p.created > cancel.created)]
    covered = {p.source_key for p in live if p.approved} | {
        i.id for i in asset.items for p in live if p.approved and p.legacy_subscription_id == i.legacy_subscription_id}
    problems = [f"CSP item {i.id} had no approved purchase" for i in asset.items if i.id not in covered]
    problems += [f"purchase {p.id} is {p.status}" for p in live if not p.approved]
    late = [p for p in live if p.approved and cancel.created and p.updated and p.updated > cancel.created]
    problems += [f"purchase {p.id} was approved only at {_time(p.updated)}" for p in late]
    if not problems:
        return []
    still_open = len(problems) > len(late)
    advice = None if still_open else (
        "every purchase has been approved since: the customer has its NCE seats now; do not reinstate the CSP asset "
        "(it would bill twice), record the gap in the sign-off")
    if still_open and cancel.status in _OPEN:
        advice = (f"fail cancel request {cancel.id} while it is still {cancel.status}, then let the sweep finish the "
                  "purchases; it requests the cancellation again once every one is approved")
    return [_finding(AnomalyCode.CANCELLED_BEFORE_TARGETS_COMPLETED, asset,
                     f"cancel request {cancel.id} ({cancel.status}) was created at {_time(cancel.created)} while "
                     + "; ".join(problems), advice, cancel_request=cancel.id)]


def _seats(asset: CspAsset, purchase: MigrationPurchase, snapshot: ConnectSnapshot) -> list[Finding]:
    item = next((i for i in asset.items if i.id == purchase.source_item_id), None) or next(
        (i for i in asset.items if i.legacy_subscription_id and i.legacy_subscription_id == purchase.legacy_subscription_id),
        None)
    nce = snapshot.nce_assets.get(purchase.nce_asset_id or "")
    if nce is None or nce.status not in ("active", "suspended"):
        return [_finding(AnomalyCode.TARGET_MISSING, asset,
                         f"purchase {purchase.id} was approved but its NCE asset {purchase.nce_asset_id or '-'} is "
                         + ("not in Connect" if nce is None else nce.status),
                         request=purchase.id, nce_asset=purchase.nce_asset_id)]
    if item is None:
        return []
    seats = nce.seats(purchase.nce_mpn)
    if seats == item.quantity:
        return []
    return [_finding(AnomalyCode.SEAT_MISMATCH, asset,
                     f"CSP item {item.id} ({item.mpn}): {item.quantity} CSP seats, {seats} on NCE asset {nce.id}",
                     request=purchase.id, nce_asset=nce.id, item=item.id, csp_seats=str(item.quantity),
                     nce_seats=str(seats))]


def _failed_migration(asset: CspAsset, purchase: MigrationPurchase, migrations: dict[str, list[PcMigration]],
                      tenants_read: frozenset[str] | None) -> list[Finding]:
    if tenants_read is None:
        return []
    found = migrations.get((purchase.legacy_subscription_id or "").lower(), [])
    ours = [m for m in found if m.id == purchase.migration_id] or [m for m in found if not m.microsoft_led]
    if not ours or any(m.status.lower() == "completed" for m in ours) or any(m.microsoft_led for m in found):
        return []  # no migration of ours: fulfilled by the vendor's connector; Microsoft-led: its own finding
    failed = [m for m in ours if m.status.lower() in ("failed", "cancelled")]
    if not failed:
        return []
    return [_finding(AnomalyCode.APPROVED_MIGRATION_FAILED, asset,
                     f"purchase {purchase.id} is approved but Partner Center migration {failed[0].id} of legacy "
                     f"subscription {purchase.legacy_subscription_id} is {failed[0].status}",
                     request=purchase.id, migration=failed[0].id, nce_asset=purchase.nce_asset_id)]


def _stuck(asset: CspAsset, purchases: Sequence[MigrationPurchase], cancels: Sequence[CancelRequest],
           migrations: dict[str, list[PcMigration]], now: dt.datetime, threshold: dt.timedelta) -> list[Finding]:
    findings = []
    for purchase in purchases:
        if purchase.status in _OPEN and purchase.created and now - purchase.created >= threshold:
            running = [m for m in migrations.get((purchase.legacy_subscription_id or "").lower(), [])
                       if m.id == purchase.migration_id]
            where = f"; Partner Center migration {running[0].id} is {running[0].status}" if running else (
                "; no Partner Center migration yet" if not purchase.migration_id else "")
            findings.append(_finding(
                AnomalyCode.STUCK_MIGRATION, asset,
                f"purchase {purchase.id} {purchase.status} since {_time(purchase.created)} ({_hours(now - purchase.created)})"
                f"{where}",
                "look at the request in Connect and the migration in Partner Center; an inquiring request waits for "
                "the reseller, a Processing migration past 72 h goes to Microsoft support",
                request=purchase.id, migration=purchase.migration_id))
    for cancel in cancels:
        if cancel.status in _OPEN and cancel.created and now - cancel.created >= threshold:
            findings.append(_finding(
                AnomalyCode.STUCK_MIGRATION, asset,
                f"cancel request {cancel.id} {cancel.status} since {_time(cancel.created)} ({_hours(now - cancel.created)})",
                "the CSP vendor's connector has not processed the cancellation: look at it in Connect",
                cancel_request=cancel.id))
    return findings


def _orphan_purchase(purchase: MigrationPurchase) -> Finding:
    return Finding(AnomalyCode.ORPHAN_TARGET,
                   f"migration purchase {purchase.id} ({purchase.status}) names CSP asset {purchase.source_asset_id or '-'}, "
                   "which is not a CSP asset in scope", purchase.source_asset_id,
                   ids={k: v for k, v in (("request", purchase.id), ("nce_asset", purchase.nce_asset_id)) if v},
                   platform=CONNECT)


def _orphan_migrations(snapshot: ConnectSnapshot, purchases: dict[str, list[MigrationPurchase]],
                       migrations: dict[str, list[PcMigration]]) -> list[Finding]:
    """Partner-led migrations of an in-scope CSP item that no purchase accounts for (placed outside Connect)."""
    findings = []
    known = {p.migration_id for found in purchases.values() for p in found if p.migration_id}
    requested = {(p.legacy_subscription_id or "").lower() for found in purchases.values() for p in found if p.live}
    for asset in snapshot.csp_assets:
        for item in asset.items:
            key = (item.legacy_subscription_id or "").lower()
            for migration in migrations.get(key, []):
                if migration.microsoft_led or migration.id in known or key in requested or migration.status.lower() == "failed":
                    continue
                findings.append(_finding(
                    AnomalyCode.ORPHAN_TARGET, asset,
                    f"partner-led migration {migration.id} ({migration.status}) of legacy subscription "
                    f"{item.legacy_subscription_id} has no NCE purchase in Connect",
                    "find who started it; if it stands, record the NCE subscription in Connect (a purchase), else cancel it",
                    item=item.id, migration=migration.id, new_subscription=migration.new_subscription_id))
    return findings


def _time(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "?"


def _hours(value: dt.timedelta) -> str:
    hours = value.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"
