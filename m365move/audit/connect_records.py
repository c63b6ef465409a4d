"""What a Connect audit reads, as plain values: CSP assets, the NCE purchase and cancel requests made for them,
the NCE assets that resulted, and Partner Center's migrations. Parsed from Connect's and Partner Center's JSON.

The extension keeps no journal (Connect is its record): a migration purchase names its CSP source by
``asset.external_id`` (the CSP asset) and the ``migration_source`` parameter (``<asset>:<item>``), and its
``transaction_info_object`` names the legacy Microsoft subscription; fulfilment stores the Partner Center
migration id (``nce_migration_id``) and the new-commerce subscription id (``nce_subscription_id``). Connect's
objects come as the structs of ``connect_json`` (only the fields read here), Partner Center's as dicts. The
records themselves are ``connect_model``'s (shared with the Connect report, which builds them from dicts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from m365move.audit.connect_json import Asset, Party, Ref, Request, Tiers, param_value, quantity_of
from m365move.audit.connect_model import (
    CLOSED_REQUEST_STATUSES,
    CancelRequest,
    ConnectSnapshot,
    CspAsset,
    CspItem,
    MigrationPurchase,
    NceAsset,
    PcMigration,
)
from m365move.text.iso_time import parse_iso_time

__all__ = ["CLOSED_REQUEST_STATUSES", "CancelRequest", "ConnectSnapshot", "CspAsset", "CspItem", "Json",
           "MigrationPurchase", "NceAsset", "PcMigration", "cancel_request", "csp_asset", "migration_purchase",
           "nce_asset", "pc_migration"]

Json = dict[str, Any]


def csp_asset(data: Asset) -> CspAsset:
    legacy = _json_object(param_value(data.params, "ms_subscription_ids"))
    items = tuple(
        CspItem(_id(i.id), i.mpn or "", quantity_of(i), _text(legacy.get(_id(i.id)) or legacy.get(i.mpn or "")))
        for i in data.items or () if quantity_of(i) > 0
    )
    tiers = data.tiers or Tiers()
    customer = tiers.customer or Party()
    return CspAsset(
        _id(data.id), data.status or "", _ref(data.product), _ref(data.marketplace), _ref(tiers.tier1),
        _text(customer.id), _text(customer.name), _text(param_value(data.params, "ms_customer_id")), items,
    )


def migration_purchase(data: Request) -> MigrationPurchase | None:
    """The request as a migration purchase; None for any other purchase (not ``NCEmigration``)."""
    asset = data.asset or Asset()
    info = _json_object(param_value(asset.params, "transaction_info_object"))
    if str(info.get("transaction_type", "")).lower() != "ncemigration":
        return None
    source = str(param_value(asset.params, "migration_source") or "")
    source_asset, _, source_item = source.partition(":")
    items = asset.items or []
    return MigrationPurchase(
        _id(data.id), data.status or "", parse_iso_time(data.created), parse_iso_time(data.updated),
        _text(asset.external_id) or (source_asset or None), source_item or None,
        _text(info.get("subscription_id")), _text(info.get("ms_customer_id")), _text(asset.id),
        _text(items[0].mpn) if items else None, sum(quantity_of(i) for i in items),
        _text(param_value(asset.params, "nce_migration_id")), _text(param_value(asset.params, "nce_subscription_id")),
        data.reason or "",
    )


def cancel_request(data: Request) -> CancelRequest:
    return CancelRequest(_id(data.id), _ref(data.asset) or "", data.status or "",
                         parse_iso_time(data.created), parse_iso_time(data.updated))


def nce_asset(data: Asset) -> NceAsset:
    return NceAsset(_id(data.id), data.status or "", tuple((i.mpn or "", quantity_of(i)) for i in data.items or ()))


def pc_migration(data: Mapping[str, Any]) -> PcMigration:
    led = data.get("microsoftLed")
    microsoft_led = led is True or str(led).lower() == "true" or str(data.get("migrationType", "")).lower() == "microsoftled"
    return PcMigration(str(data["id"]), str(data.get("status") or ""), str(data.get("currentSubscriptionId") or ""),
                       _text(data.get("customerTenantId")), _text(data.get("newCommerceSubscriptionId")), microsoft_led)


def _json_object(raw: object) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(str(raw)) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def _id(value: object) -> str:
    return "" if value is None else str(value)


def _ref(node: Asset | Ref | None) -> str | None:
    return None if node is None or node.id is None else str(node.id)
