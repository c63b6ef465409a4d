"""m365move's orders already on Commerce for a run's customers, read once before the run journals its intents.

Two checks need to know which keys the platform already holds, and both are about the past, not about
a worker racing this run (workers sharing a journal are kept apart by the journal's claims):

- the other mode's keys for a source block it (``cross_mode``);
- this mode's keys for an intent that the journal has as ``planned`` mean the journal was lost or is a
  different one (another workspace): the order is adopted instead of being placed a second time
  (``MigrationExecutor``).

SimpleAPI cannot filter orders on poNumber, so the orders are listed and matched here. The listing is
the cheaper of two: every order of the platform in pages of the client's page size, or the orders of
each customer of the run; the first page of the whole collection says how many pages that would be.
Either way the cost is per run, not per subscription, and only orders whose poNumber is one of
m365move's keys are kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from m365move.commerce.models import OrderInfo
from m365move.commerce.simpleapi_client import SimpleApiClient

# Every poNumber m365move writes starts with this (``PlannedOrder.key``).
KEY_PREFIX = "M365MOVE-"


class PlatformOrders:
    """The orders carrying an m365move key, by poNumber, and the number of requests it took to read them."""

    def __init__(self, by_po_number: dict[str, OrderInfo] | None = None, requests: int = 0,
                 all_by_po_number: dict[str, list[OrderInfo]] | None = None) -> None:
        self.by_po_number = by_po_number or {}
        self.requests = requests
        # Every order under each poNumber (one, unless the platform holds a duplicate).
        self.all_by_po_number = all_by_po_number or {k: [v] for k, v in self.by_po_number.items()}
        # "M365MOVE-NS-<source>-<kind>-..." indexed under every "M365MOVE-NS-<head>" where <head> ends before a
        # dash, so that a source id holding dashes is found too.
        self._by_head: defaultdict[str, list[OrderInfo]] = defaultdict(list)
        for po_number, order in self.by_po_number.items():
            for head in _heads(po_number):
                self._by_head[head].append(order)

    def get(self, po_number: str) -> OrderInfo | None:
        return self.by_po_number.get(po_number)

    def twice(self) -> dict[str, list[OrderInfo]]:
        """poNumbers under which the platform holds two or more orders, oldest first."""
        return {po: sorted(orders, key=_created) for po, orders in self.all_by_po_number.items() if len(orders) > 1}

    def starting_with(self, prefix: str) -> list[OrderInfo]:
        """Orders whose poNumber starts with ``prefix`` = ``M365MOVE-<NS|SP>-<source>-`` (one mode, one source)."""
        return [o for o in self._by_head.get(prefix.removesuffix("-"), ()) if (o.po_number or "").startswith(prefix)]


def read_platform_orders(client: SimpleApiClient, customer_ids: Collection[str]) -> PlatformOrders:
    """m365move's orders of these customers (the whole collection when that is fewer requests)."""
    customers = set(customer_ids)
    if not customers:
        return PlatformOrders()
    first, total = client.orders_page(0)
    page = max(1, client.page_size)
    pages = 1 if total is None else -(-total // page)
    found: dict[str, list[OrderInfo]] = defaultdict(list)
    if total is not None and pages <= len(customers):
        _add_ours(found, first, customers)
        requests = 1
        offset = len(first)
        while first and offset < total:
            items, _ = client.orders_page(offset)
            requests += 1
            if not items:
                break
            _add_ours(found, items, customers)
            offset += len(items)
    else:
        requests = 1
        for customer_id in sorted(customers):
            listed = client.list_orders(customer_id=customer_id)
            requests += max(1, -(-len(listed) // page))
            _add_ours(found, listed, None)
    # One order per poNumber for look-ups (the last listed, as before); every one of them for duplicates.
    return PlatformOrders({po: orders[-1] for po, orders in found.items()}, requests, dict(found))


def _add_ours(found: dict[str, list[OrderInfo]], orders: Iterable[OrderInfo], customers: Collection[str] | None) -> None:
    for o in orders:
        if (o.po_number and o.po_number.startswith(KEY_PREFIX)
                and (customers is None or o.customer_id is None or o.customer_id in customers)
                and all(o.id != other.id for other in found[o.po_number])):  # a page may repeat an item
            found[o.po_number].append(o)


def _created(order: OrderInfo) -> tuple[str, str]:
    return (order.creation_date.isoformat() if order.creation_date else "", order.id)


def _heads(po_number: str) -> list[str]:
    # "M365MOVE-NS-" is 12 characters; every dash after it may end the source id.
    start = len(KEY_PREFIX) + 3
    return [po_number[:i] for i, char in enumerate(po_number) if i > start and char == "-"]
