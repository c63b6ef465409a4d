"""What the report reads from Connect, as the audit's records (``audit.connect_model``), with the client the
Reports runtime gives: the CSP assets in scope, every request on the NCE products (migration purchases, and the
NCE assets as their latest request carries them) and the cancel requests of the CSP products.

The same listings and the same reading of each object as ``m365move audit --connect-url`` (which decodes the
pages with msgspec, not available here): standard library and connect-openapi-client only, Python 3.8.
tests/connect_reports/test_report_runtime.py runs both on one Connect and compares what they find.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from connect.client import R

from .audit.connect_model import CancelRequest, ConnectSnapshot, CspAsset, CspItem, MigrationPurchase, NceAsset

# What each listing asks Connect to leave out (nothing the checks read), as the audit does.
CSP_ASSET_LEFT_OUT = ("configuration",)
NCE_REQUEST_LEFT_OUT = ("activation_key", "template", "asset.configuration")
CANCEL_LEFT_OUT = ("activation_key", "template", "asset.configuration", "asset.items")


def read_snapshot(client: Any, csp_products: Tuple[str, ...], nce_products: Tuple[str, ...],
                  source: str = "Connect Reports") -> ConnectSnapshot:
    """The audit's snapshot of Connect (Partner Center is not read from inside Connect)."""
    assets = [csp_asset(a) for a in _listing(client, "assets", R().product.id.oneof(list(csp_products)),
                                             CSP_ASSET_LEFT_OUT)]
    purchases = []  # type: List[MigrationPurchase]
    nce_assets = {}  # type: Dict[str, NceAsset]
    for request in _listing(client, "requests", R().asset.product.id.oneof(list(nce_products)), NCE_REQUEST_LEFT_OUT):
        purchase = migration_purchase(request) if request.get("type") == "purchase" else None
        if purchase is not None:
            purchases.append(purchase)
        asset = request.get("asset")
        if isinstance(asset, dict) and asset.get("id"):
            found = nce_asset(asset)
            nce_assets[found.id] = found  # listed in ``created`` order: the latest request on an asset wins
    cancels = [cancel_request(r) for r in _listing(
        client, "requests", R().type.eq("cancel") & R().asset.product.id.oneof(list(csp_products)), CANCEL_LEFT_OUT)]
    return ConnectSnapshot(tuple(assets), tuple(purchases), tuple(cancels), nce_assets, (), source)


def _listing(client: Any, path: str, query: Any, left_out: Tuple[str, ...]) -> Iterable[Dict[str, Any]]:
    return client.collection(path).filter(query).select(*("-" + f for f in left_out)).order_by("created")


def csp_asset(data: Dict[str, Any]) -> CspAsset:
    params = data.get("params")
    legacy = _json_object(param_value(params, "ms_subscription_ids"))
    items = tuple(
        CspItem(_id(i.get("id")), i.get("mpn") or "", quantity_of(i),
                _text(legacy.get(_id(i.get("id"))) or legacy.get(i.get("mpn") or "")))
        for i in _objects(data.get("items")) if quantity_of(i) > 0
    )
    tiers = data.get("tiers") if isinstance(data.get("tiers"), dict) else {}
    customer = tiers.get("customer") if isinstance(tiers.get("customer"), dict) else {}
    return CspAsset(
        _id(data.get("id")), data.get("status") or "", _ref(data.get("product")), _ref(data.get("marketplace")),
        _ref(tiers.get("tier1")), _text(customer.get("id")), _text(customer.get("name")),
        _text(param_value(params, "ms_customer_id")), items,
    )


def migration_purchase(data: Dict[str, Any]) -> Optional[MigrationPurchase]:
    """The request as a migration purchase; None for any other purchase (not ``NCEmigration``)."""
    asset = data.get("asset") if isinstance(data.get("asset"), dict) else {}
    params = asset.get("params")
    info = _json_object(param_value(params, "transaction_info_object"))
    if str(info.get("transaction_type", "")).lower() != "ncemigration":
        return None
    source = str(param_value(params, "migration_source") or "")
    source_asset, _, source_item = source.partition(":")
    items = _objects(asset.get("items"))
    return MigrationPurchase(
        _id(data.get("id")), data.get("status") or "", parse_iso_time(data.get("created")),
        parse_iso_time(data.get("updated")), _text(asset.get("external_id")) or (source_asset or None),
        source_item or None, _text(info.get("subscription_id")), _text(info.get("ms_customer_id")),
        _text(asset.get("id")), _text(items[0].get("mpn")) if items else None, sum(quantity_of(i) for i in items),
        _text(param_value(params, "nce_migration_id")), _text(param_value(params, "nce_subscription_id")),
        data.get("reason") or "",
    )


def cancel_request(data: Dict[str, Any]) -> CancelRequest:
    return CancelRequest(_id(data.get("id")), _ref(data.get("asset")) or "", data.get("status") or "",
                         parse_iso_time(data.get("created")), parse_iso_time(data.get("updated")))


def nce_asset(data: Dict[str, Any]) -> NceAsset:
    return NceAsset(_id(data.get("id")), data.get("status") or "",
                    tuple((i.get("mpn") or "", quantity_of(i)) for i in _objects(data.get("items"))))


def param_value(params: Any, param_id: str) -> Any:
    """A parameter's value (None when absent or empty); a structured value is returned as given."""
    for param in _objects(params):
        if param.get("id") == param_id:
            value = param.get("value")
            if value is None or value == "":
                structured = param.get("structured_value")
                return structured if structured not in (None, "", {}) else None
            return str(value)
    return None


def quantity_of(item: Dict[str, Any]) -> int:
    """Connect sends item quantities as strings (``"12"``, or ``"unlimited"``, which counts 0)."""
    quantity = item.get("quantity")
    try:
        return int(str(quantity if quantity is not None else "0").strip())
    except ValueError:
        return 0


def parse_iso_time(value: object) -> Optional[datetime]:
    """``value`` as an aware UTC datetime; None when absent, not a string, or not ISO-8601."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _objects(value: Any) -> List[Dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _json_object(raw: object) -> Dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(str(raw)) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: object) -> Optional[str]:
    return None if value in (None, "") else str(value)


def _id(value: object) -> str:
    return "" if value is None else str(value)


def _ref(node: Any) -> Optional[str]:
    return None if not isinstance(node, dict) or node.get("id") is None else str(node["id"])
