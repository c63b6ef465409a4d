"""What a Connect run did, per CSP asset, read from Connect's requests: the final report of ``connect run-events``.

The report says what was done, not what a new plan would do: an asset's purchase requests (a base migrated with its
add-ons is one purchase, one bundle), their statuses, and its cancel request. Only an asset nothing was requested
for is described by a dry-run sweep, with Partner Center as the real sweep has it (bundles, held seats, term ends),
so a skip or a block reads as the sweep decided it. The run is settled only when no asset waits for a next step:
no purchase still open, no cancel request pending, and none still to be made (``cancel-due``: every purchase
approved, the CSP asset not cancelled yet).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from connect.client import ConnectClient, R

from m365move.connect import queries
from m365move.connect.payloads import nested_id, param_value
from m365move.connect.purchase_marker import age_key, keeper
from m365move.connect.settings import ExtensionSettings
from m365move.connect.sweep import AssetOutcome, AssetStatus, SweepParameters, SweepReport, run_sweep
from m365move.partnercenter.client import PartnerCenterClient

Json = dict[str, Any]
# An asset in one of these still has a step to come: the run is not settled.
UNSETTLED = frozenset({AssetStatus.REQUESTED, AssetStatus.CANCEL_REQUESTED, AssetStatus.CANCEL_DUE})
_CLOSED = ("failed", "revoked")


def what_was_done(client: ConnectClient, settings: ExtensionSettings,
                  partner_center: PartnerCenterClient | None) -> SweepReport:
    """Every CSP asset (active or terminated) with what its requests in Connect say; an asset nothing was requested
    for, as a dry-run sweep (never creating anything) decides it."""
    query = R().product.id.oneof(list(settings.csp_product_ids)) & R().status.oneof(["active", "terminated"])
    assets = queries.fetch_all(client, "assets", query, page_size=1000)
    asset_ids = [str(a["id"]) for a in assets]
    requests = queries.migration_and_cancel_requests(client, settings.nce_product_ids, asset_ids)
    purchases = _standing_purchases(requests)
    cancels = _cancels(requests)
    report = SweepReport()
    untouched: list[str] = []
    for asset in assets:
        asset_id = str(asset["id"])
        outcome = _outcome(asset_id, purchases.get(asset_id, []), cancels.get(asset_id))
        if outcome is None:
            untouched.append(asset_id)
        else:
            report.outcomes.append(outcome)
    if untouched:
        dry = replace(settings, dry_run=True)
        planned = run_sweep(client, dry, SweepParameters(), logging.getLogger(__name__), partner_center).by_asset()
        wanted = set(untouched)
        report.outcomes.extend(o for a, o in planned.items() if a in wanted)
        report.outcomes.extend(AssetOutcome(a, AssetStatus.SKIPPED, ("not active: nothing to migrate",))
                               for a in untouched if a not in planned)
    report.outcomes.sort(key=lambda o: o.asset_id)
    return report


def settled(report: SweepReport, driver_settled: bool) -> bool:
    """The driver saw nothing move, and no asset waits for a next step."""
    return driver_settled and not any(o.status in UNSETTLED for o in report.outcomes)


def _outcome(asset_id: str, purchases: Sequence[Json], cancel: Json | None) -> AssetOutcome | None:
    ids = tuple(str(p["id"]) for p in purchases)
    bundles = tuple(b for p in purchases if (b := _bundle(p)))
    if cancel is not None:
        status = AssetStatus.MIGRATED if cancel.get("status") == "approved" else AssetStatus.CANCEL_REQUESTED
        return AssetOutcome(asset_id, status, bundles, ids, str(cancel["id"]))
    if not purchases:
        return None
    failed = [p for p in purchases if p.get("status") == "failed"]
    if failed:
        reasons = tuple(f"purchase {p['id']} failed: {p.get('reason') or 'no reason given'}" for p in failed)
        return AssetOutcome(asset_id, AssetStatus.TARGET_FAILED, reasons + bundles, ids)
    if any(p.get("status") != "approved" for p in purchases):
        waiting = tuple(f"purchase {p['id']} is {p.get('status')}" for p in purchases if p.get("status") != "approved")
        return AssetOutcome(asset_id, AssetStatus.REQUESTED, waiting + bundles, ids)
    return AssetOutcome(asset_id, AssetStatus.CANCEL_DUE,
                        ("every purchase approved: the CSP asset's cancel request is still to be made (the next "
                         "sweep makes it)", *bundles), ids)


def _standing_purchases(requests: Sequence[Json]) -> dict[str, list[Json]]:
    """Per CSP asset, the purchase that stands for each of its items (the oldest open one, else the newest closed
    one: a younger duplicate failed as such is not the item's purchase)."""
    by_marker: dict[tuple[str, str], list[Json]] = defaultdict(list)
    for request in requests:
        if request.get("type") == "purchase":
            asset = request.get("asset") or {}
            by_marker[(str(asset.get("external_id")), str(asset.get("external_uid")))].append(request)
    standing: dict[str, list[Json]] = defaultdict(list)
    for (asset_id, _), group in sorted(by_marker.items()):
        kept = keeper(group)
        standing[asset_id].append(kept if kept is not None else max(group, key=age_key))
    return standing


def _cancels(requests: Sequence[Json]) -> dict[str, Json]:
    """Per CSP asset, its live cancel request (a failed or revoked one is as if none were made)."""
    found: dict[str, Json] = {}
    for request in sorted((r for r in requests if r.get("type") == "cancel"), key=age_key):
        if request.get("status") not in _CLOSED:
            found[nested_id(request, "asset") or ""] = request
    return found


def _bundle(purchase: Json) -> str | None:
    """How many legacy subscriptions one purchase migrates, when it carries add-ons (``transaction_info_object``)."""
    raw = param_value(purchase.get("asset") or {}, "transaction_info_object")
    try:
        info: Mapping[str, Any] = json.loads(raw) if isinstance(raw, str) else raw or {}
    except ValueError:
        return None
    addons = info.get("addons") if isinstance(info, Mapping) else None
    if not addons:
        return None
    return (f"bundle: purchase {purchase['id']} migrates legacy subscription {info.get('subscription_id')} with "
            f"{len(addons)} add-on(s) ({', '.join(str(a.get('subscription_id')) for a in addons)}) as one")
