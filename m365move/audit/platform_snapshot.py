"""A platform state saved as JSON: audit again offline, or hand the audit a synthetic platform at scale.

The file (``version: 1``) holds ``source``, ``resellers`` (id → name), ``customers``, ``subscriptions``
(``products`` null when not read), ``orders`` and ``customers_read``, in the shapes of ``platform_state``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from m365move.audit.platform_state import (
    PlatformCustomer,
    PlatformOrder,
    PlatformScope,
    PlatformState,
    PlatformSubscription,
)
from m365move.errors import InputError
from m365move.files.atomic_files import write_text_atomically
from m365move.files.input_text import decode_input_text, parse_json_text, read_input_bytes

SNAPSHOT_VERSION = 1


def snapshot_document(state: PlatformState) -> dict[str, Any]:
    return {
        "version": SNAPSHOT_VERSION,
        "source": state.source,
        "resellers": dict(state.resellers),
        "customers": [{"id": c.id, "name": c.name, "reseller_id": c.reseller_id} for c in state.customers.values()],
        "subscriptions": [
            {"id": s.id, "customer_id": s.customer_id, "status": s.status,
             "products": None if s.products is None else [[m, q] for m, q in s.products]}
            for s in state.subscriptions.values()
        ],
        "orders": [
            {"id": o.id, "type": o.type, "customer_id": o.customer_id, "status": o.status, "po_number": o.po_number,
             "subscription_id": o.subscription_id, "created_at": o.created_at.isoformat() if o.created_at else None}
            for o in state.orders
        ],
        "customers_read": sorted(state.customers_read),
    }


def write_platform_snapshot(state: PlatformState, path: str | Path) -> Path:
    write_text_atomically(path, json.dumps(snapshot_document(state)))
    return Path(path)


def read_platform_snapshot(path: str | Path) -> PlatformState:
    """The state a snapshot file holds; InputError naming the file and the entry when it is malformed."""
    path = Path(path)
    # The shared reader: a device, a bad encoding, JSON nested thousands deep or a 5,000-digit number is one line.
    document = parse_json_text(decode_input_text(read_input_bytes(path), where=str(path)), where=str(path))
    if not isinstance(document, dict) or document.get("version") != SNAPSHOT_VERSION:
        raise InputError(f"not a platform snapshot: expected an object with version {SNAPSHOT_VERSION}", where=str(path))
    section = "customers"
    try:
        customers = {c["id"]: PlatformCustomer(c["id"], c["name"], c["reseller_id"]) for c in document["customers"]}
        section = "subscriptions"
        subscriptions = {
            s["id"]: PlatformSubscription(s["id"], s["customer_id"], s["status"],
                                          None if s["products"] is None else tuple((m, int(q)) for m, q in s["products"]))
            for s in document["subscriptions"]
        }
        section = "orders"
        orders = tuple(
            PlatformOrder(o["id"], o["type"], o["customer_id"], o["status"], o["po_number"], o["subscription_id"],
                          dt.datetime.fromisoformat(o["created_at"]) if o["created_at"] else None)
            for o in document["orders"]
        )
        section = "resellers"
        resellers = {str(k): str(v) for k, v in document["resellers"].items()}
        customers_read = frozenset(document.get("customers_read", customers))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InputError(f"malformed entry: {error.__class__.__name__}: {error}", where=f"{path}: {section}") from None
    return PlatformState(resellers, customers, subscriptions, orders, str(document.get("source") or path), customers_read)


class SnapshotPlatform:
    """A PlatformSource reading a snapshot file (the whole file: it was cut to the audit's scope when saved)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self, scope: PlatformScope) -> PlatformState:
        return read_platform_snapshot(self.path)
