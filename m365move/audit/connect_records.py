"""What a Connect audit reads, as plain values: CSP assets, the NCE purchase and cancel requests made for them,
the NCE assets that resulted, and Partner Center's migrations. Parsed from Connect's and Partner Center's JSON.

The extension keeps no journal (Connect is its record): a migration purchase names its CSP source by
``asset.external_id`` (the CSP asset) and the ``migration_source`` parameter (``<asset>:<item>``), and its
``transaction_info_object`` names the legacy Microsoft subscription; fulfilment stores the Partner Center
migration id (``nce_migration_id``) and the new-commerce subscription id (``nce_subscription_id``). Connect's
objects come as the structs of ``connect_json`` (only the fields read here), Partner Center's as dicts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from m365move.audit.connect_json import Asset, Party, Ref, Request, Tiers, param_value, quantity_of
from m365move.text.iso_time import parse_iso_time

Json = dict[str, Any]
CLOSED_REQUEST_STATUSES = frozenset({"failed", "revoked"})  # a request in these states changed nothing


@dataclass(frozen=True, slots=True)
class CspItem:
    id: str
    mpn: str
    quantity: int
    legacy_subscription_id: str | None


@dataclass(frozen=True, slots=True)
class CspAsset:
    id: str
    status: str
    product_id: str | None
    marketplace_id: str | None
    reseller_id: str | None
    customer_id: str | None
    customer_name: str | None
    tenant_id: str | None
    items: tuple[CspItem, ...]


@dataclass(frozen=True, slots=True)
class MigrationPurchase:
    """An NCE purchase request carrying ``transaction_type: NCEmigration``."""

    id: str
    status: str
    created: dt.datetime | None
    updated: dt.datetime | None
    source_asset_id: str | None
    source_item_id: str | None
    legacy_subscription_id: str | None
    tenant_id: str | None
    nce_asset_id: str | None
    nce_mpn: str | None
    quantity: int
    migration_id: str | None
    new_subscription_id: str | None
    reason: str

    @property
    def live(self) -> bool:
        return self.status not in CLOSED_REQUEST_STATUSES

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    @property
    def source_key(self) -> str:
        """Which CSP item it migrates: the item id when the request says, else the legacy subscription."""
        return self.source_item_id or f"subscription {self.legacy_subscription_id or '?'}"


@dataclass(frozen=True, slots=True)
class CancelRequest:
    id: str
    asset_id: str
    status: str
    created: dt.datetime | None
    updated: dt.datetime | None

    @property
    def live(self) -> bool:
        return self.status not in CLOSED_REQUEST_STATUSES


@dataclass(frozen=True, slots=True)
class NceAsset:
    id: str
    status: str
    quantities: tuple[tuple[str, int], ...]  # (mpn, quantity)

    def seats(self, mpn: str | None) -> int:
        return sum(q for m, q in self.quantities if mpn is None or m.upper() == mpn.upper())


@dataclass(frozen=True, slots=True)
class PcMigration:
    id: str
    status: str  # Processing | Completed | Failed | Cancelled
    legacy_subscription_id: str
    tenant_id: str | None
    new_subscription_id: str | None
    microsoft_led: bool


@dataclass(frozen=True)
class ConnectSnapshot:
    """Everything one Connect audit read, and from where."""

    csp_assets: tuple[CspAsset, ...]
    purchases: tuple[MigrationPurchase, ...]
    cancels: tuple[CancelRequest, ...]
    nce_assets: Mapping[str, NceAsset]
    migrations: tuple[PcMigration, ...]
    source: str
    # Tenants whose Partner Center migrations were listed (None: Partner Center was not read).
    tenants_read: frozenset[str] | None = None
    requests_made: Mapping[str, int] = field(default_factory=dict)
    # How Partner Center was read when not every tenant was, and what that leaves unseen ("" when every one was).
    partner_center_coverage: str = ""


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
