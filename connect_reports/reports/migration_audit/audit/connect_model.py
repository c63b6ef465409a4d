# Copied from m365move/audit/connect_model.py by `python -m m365move.audit.report_copy`: edit the original, not this.
"""The records a Connect audit judges: CSP assets, the NCE purchase and cancel requests made for them, the NCE
assets that resulted, and Partner Center's migrations, as plain values.

Shared with the Connect report (``connect_reports/``), which runs in Connect's Reports runtime (Python 3.8, the
standard library and connect-openapi-client only): this module, ``connect_checks``, ``findings`` and
``m365move/memory/cyclic_gc.py`` are copied there (``python -m m365move.audit.report_copy``; a test keeps the copy current),
so they import only the standard library and each other, and keep to Python 3.8 (no ``slots=True``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

CLOSED_REQUEST_STATUSES = frozenset({"failed", "revoked"})  # a request in these states changed nothing


@dataclass(frozen=True)
class CspItem:
    # dataclass(slots=True) is Python 3.10+: the slots by hand
    __slots__ = ("id", "mpn", "quantity", "legacy_subscription_id")
    id: str
    mpn: str
    quantity: int
    legacy_subscription_id: str | None


@dataclass(frozen=True)
class CspAsset:
    # dataclass(slots=True) is Python 3.10+: the slots by hand
    __slots__ = (
        "id", "status", "product_id", "marketplace_id", "reseller_id", "customer_id", "customer_name", "tenant_id",
        "items"
    )
    id: str
    status: str
    product_id: str | None
    marketplace_id: str | None
    reseller_id: str | None
    customer_id: str | None
    customer_name: str | None
    tenant_id: str | None
    items: tuple[CspItem, ...]


@dataclass(frozen=True)
class MigrationPurchase:
    """An NCE purchase request carrying ``transaction_type: NCEmigration``."""

    # dataclass(slots=True) is Python 3.10+: the slots by hand
    __slots__ = (
        "id", "status", "created", "updated", "source_asset_id", "source_item_id", "legacy_subscription_id",
        "tenant_id", "nce_asset_id", "nce_mpn", "quantity", "migration_id", "new_subscription_id", "reason"
    )
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


@dataclass(frozen=True)
class CancelRequest:
    # dataclass(slots=True) is Python 3.10+: the slots by hand
    __slots__ = ("id", "asset_id", "status", "created", "updated")
    id: str
    asset_id: str
    status: str
    created: dt.datetime | None
    updated: dt.datetime | None

    @property
    def live(self) -> bool:
        return self.status not in CLOSED_REQUEST_STATUSES


@dataclass(frozen=True)
class NceAsset:
    # dataclass(slots=True) is Python 3.10+: the slots by hand
    __slots__ = ("id", "status", "quantities")
    id: str
    status: str
    quantities: tuple[tuple[str, int], ...]  # (mpn, quantity)

    def seats(self, mpn: str | None) -> int:
        return sum(q for m, q in self.quantities if mpn is None or m.upper() == mpn.upper())


@dataclass(frozen=True)
class PcMigration:
    # dataclass(slots=True) is Python 3.10+: the slots by hand
    __slots__ = ("id", "status", "legacy_subscription_id", "tenant_id", "new_subscription_id", "microsoft_led")
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
