"""After every executed run: the platform's orders listed by key; a key with two live orders is a duplicate.

The protocol places each key once (claims, fences, look-ups until the commit deadline), but a platform can
commit a request later than its documented deadline, and Commerce has no conditional create. So the run
does not take its own word for it: once it has placed its orders it reads m365move's orders of its
customers again (``read_platform_orders``) and looks for a poNumber of its intents under which Commerce
holds two orders that are not in error or cancelled. Each is named in the results (reasons
``duplicate-target: ...``), in the journal (``runs.duplicates``), in ``runs show`` and in the run's report,
with what to do: cancel the younger before it completes (Commerce refuses a cancellation of a completed
order only after the NCE cancellation window; the sooner the cheaper). The run ends with exit status 6.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from m365move.commerce.models import OrderInfo
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.execution.intents import Intent
from m365move.execution.journal import TARGET_FREE_STATUSES
from m365move.execution.platform_orders import read_platform_orders

# The reason code of a source whose key the platform holds twice (the audit's code for the same harm).
DUPLICATE_CODE = "duplicate-target"
_ATTEMPT = re.compile(r"-A\d+$")


@dataclass(frozen=True)
class DuplicateOrders:
    """Two or more live orders on the platform under one poNumber of this run, oldest first."""

    po_number: str
    subscription_id: str
    orders: tuple[OrderInfo, ...]

    @property
    def younger(self) -> tuple[OrderInfo, ...]:
        return self.orders[1:]

    def message(self) -> str:
        listed = ", ".join(f"{o.id} (created {_when(o)}, {o.status})" for o in self.orders)
        younger = ", ".join(o.id for o in self.younger)
        return (f"{DUPLICATE_CODE}: poNumber {self.po_number} has {len(self.orders)} orders on Commerce: {listed}; "
                f"cancel the younger ({younger}) before it completes, keep {self.orders[0].id}")

    def as_json(self) -> dict[str, Any]:
        return {"po_number": self.po_number, "subscription_id": self.subscription_id,
                "orders": [{"id": o.id, "status": o.status, "created": _when(o)} for o in self.orders],
                "cancel": [o.id for o in self.younger], "keep": self.orders[0].id}


def find_duplicate_orders(client: SimpleApiClient, intents: Iterable[Intent]) -> list[DuplicateOrders]:
    """The run's keys that the platform holds twice (live orders only: an order in error or cancelled made
    nothing), read from m365move's orders of the intents' customers."""
    sources: dict[str, str] = {}
    customers: set[str] = set()
    for intent in intents:
        sources[intent.key] = intent.subscription_id
        customers.add(intent.customer_id)
    if not sources:
        return []
    platform = read_platform_orders(client, customers)
    found = []
    for po_number, orders in sorted(platform.twice().items()):
        key = po_number if po_number in sources else _ATTEMPT.sub("", po_number)
        live = tuple(o for o in orders if o.status not in TARGET_FREE_STATUSES)
        if key in sources and len(live) > 1:
            found.append(DuplicateOrders(po_number, sources[key], live))
    return found


def by_subscription(duplicates: Iterable[DuplicateOrders]) -> Mapping[str, list[DuplicateOrders]]:
    grouped: dict[str, list[DuplicateOrders]] = {}
    for duplicate in duplicates:
        grouped.setdefault(duplicate.subscription_id, []).append(duplicate)
    return grouped


def _when(order: OrderInfo) -> str:
    return order.creation_date.isoformat(timespec="seconds") if order.creation_date else "?"
