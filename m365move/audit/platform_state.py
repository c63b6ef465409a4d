"""The platform as the audit sees it, the interface that provides it, and the Commerce (SimpleAPI) reader.

The audit core takes a :class:`PlatformState`, never a client: tests and the scale benchmark hand it
one built in memory (:class:`InMemoryPlatform`); a live audit reads Commerce with
:class:`CommercePlatform`, which lists per customer (``list_orders(customer_id=…)``,
``iter_subscriptions(customer_id=…)``) and reads by id only what SimpleAPI's lists lack: subscription details
of the migration targets (product quantities) and live cancellation orders (the subscription each cancels:
``Order`` list items have no ``subscriptionId``, ``OrderDetailed`` has).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from m365move.commerce.errors import CommerceNotFound
from m365move.commerce.models import OrderInfo, SubscriptionInfo
from m365move.commerce.simpleapi_client import SimpleApiClient


@dataclass(frozen=True, slots=True)
class PlatformCustomer:
    id: str
    name: str
    reseller_id: str | None


@dataclass(frozen=True, slots=True)
class PlatformSubscription:
    id: str
    customer_id: str | None
    status: str
    # (mpn, quantity); None when the products were not read (SimpleAPI lists leave them out).
    products: tuple[tuple[str, int], ...] | None = None

    def seats(self, mpn: str) -> int:
        return sum(q for m, q in self.products or () if m.upper() == mpn.upper())


@dataclass(frozen=True, slots=True)
class PlatformOrder:
    id: str
    type: str
    customer_id: str | None
    status: str
    po_number: str | None
    # Change/cancellation: the subscription ordered on; sales/migration: the one created, once completed.
    subscription_id: str | None
    created_at: dt.datetime | None

    @property
    def live(self) -> bool:
        """Whether the order stands (or may still stand): not ended in error, not cancelled."""
        return self.status not in ("error", "cancelled")


@dataclass(frozen=True)
class PlatformScope:
    """What to read: the audited customers and subscriptions, and the subscriptions whose quantities matter:
    the targets, and the New Subscription sources they must match."""

    customer_ids: frozenset[str]
    subscription_ids: frozenset[str]
    target_subscription_ids: frozenset[str]
    source_subscription_ids: frozenset[str] = frozenset()

    @property
    def seat_subscription_ids(self) -> frozenset[str]:
        """Every subscription to read in detail (products and quantities)."""
        return self.target_subscription_ids | self.source_subscription_ids


@dataclass(frozen=True)
class PlatformState:
    resellers: Mapping[str, str]  # id -> name
    customers: Mapping[str, PlatformCustomer]
    subscriptions: Mapping[str, PlatformSubscription]
    orders: tuple[PlatformOrder, ...]
    source: str
    # Customers whose subscriptions and orders were listed: a missing one only means something for these.
    customers_read: frozenset[str] = field(default=frozenset())


class PlatformSource(Protocol):
    """Anything that can tell the audit what the platform holds now."""

    def read(self, scope: PlatformScope) -> PlatformState: ...


class InMemoryPlatform:
    """A platform state given whole (tests, the benchmark, an earlier snapshot)."""

    def __init__(self, state: PlatformState) -> None:
        self.state = state

    def read(self, scope: PlatformScope) -> PlatformState:
        return self.state


class CommercePlatform:
    """Commerce through SimpleAPI: list endpoints per customer, detail reads only for migration targets."""

    def __init__(self, client: SimpleApiClient, *, workers: int = 8, read_seats: bool = True) -> None:
        self.client = client
        self.workers = workers
        self.read_seats = read_seats

    def read(self, scope: PlatformScope) -> PlatformState:
        client = self.client
        resellers = {r.id: r.name for r in client.list_resellers()}
        customers = {c.id: PlatformCustomer(c.id, c.name, c.reseller_id) for c in client.list_customers()}
        customer_ids = sorted(scope.customer_ids)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            order_lists = list(pool.map(lambda c: client.list_orders(customer_id=c), customer_ids))
            order_lists = [list(pool.map(_with_subscription(client), found)) for found in order_lists]
            subscription_lists = list(pool.map(lambda c: list(client.iter_subscriptions(customer_id=c)), customer_ids))
            subscriptions = {s.id: _subscription(s) for found in subscription_lists for s in found}
            if scope.subscription_ids - subscriptions.keys():
                # Sources the journal knows no customer of (skipped or blocked rows of a results file): one listing.
                subscriptions |= {s.id: _subscription(s) for s in client.iter_subscriptions()
                                  if s.id in scope.subscription_ids}
            if self.read_seats:
                wanted = sorted(scope.seat_subscription_ids)
                for detail in pool.map(self._details, wanted):
                    if detail is not None:
                        subscriptions[detail.id] = _subscription(detail)
        orders = tuple(_order(o) for found in order_lists for o in found)
        return PlatformState(resellers, customers, subscriptions, orders, f"Commerce SimpleAPI at {client.base_url}",
                             frozenset(customer_ids))

    def _details(self, subscription_id: str) -> SubscriptionInfo | None:
        try:
            return self.client.get_subscription(subscription_id)
        except CommerceNotFound:
            return None


def platform_state_of(
    resellers: Mapping[str, str],
    customers: Iterable[PlatformCustomer],
    subscriptions: Iterable[PlatformSubscription],
    orders: Iterable[PlatformOrder],
    *,
    source: str = "in memory",
    customers_read: Iterable[str] | None = None,
) -> PlatformState:
    """A PlatformState from plain lists; by default every customer counts as read in full."""
    by_id = {c.id: c for c in customers}
    listed = frozenset(by_id if customers_read is None else customers_read)
    return PlatformState(dict(resellers), by_id, {s.id: s for s in subscriptions}, tuple(orders), source, listed)


def _with_subscription(client: SimpleApiClient) -> Callable[[OrderInfo], OrderInfo]:
    """A live cancellation read by id, for the subscription it cancels; other list items as listed."""
    def read(order: OrderInfo) -> OrderInfo:
        if order.type == "cancellation" and order.status not in ("error", "cancelled"):
            return client.get_order(order.id)
        return order
    return read


def _subscription(info: SubscriptionInfo) -> PlatformSubscription:
    products = tuple((p.mpn, p.quantity) for p in info.products) if info.has_details else None
    return PlatformSubscription(info.id, info.customer_id, info.status, products)


def _order(info: OrderInfo) -> PlatformOrder:
    created = info.creation_date
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    return PlatformOrder(info.id, info.type, info.customer_id, info.status, info.po_number, info.subscription_id, created)
