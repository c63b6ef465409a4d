"""The platform as the audit sees it, the interface that provides it, and the Commerce (SimpleAPI) reader.

The audit core takes a :class:`PlatformState`, never a client: tests and the scale benchmark hand it
one built in memory (:class:`InMemoryPlatform`); a live audit reads Commerce with
:class:`CommercePlatform`, which reads the collections in bulk (orders created since the first audited
run, all subscriptions; pages of the client's page size fetched in parallel once the first page told the
total) or per customer when that takes fewer requests, and reads by id only what SimpleAPI's lists lack:
subscription details of the subscriptions whose seats are checked (product quantities; not the sources a
journal cancelled, whose seats it read right before: see ``PlatformScope.known_seats``) and live
cancellation orders the audited journals did not place (the subscription each cancels: ``Order`` list
items have no ``subscriptionId``, ``OrderDetailed`` has; the journal knows it for its own).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from m365move.audit.records import parse_po_number
from m365move.commerce.errors import CommerceNotFound
from m365move.commerce.models import OrderInfo, SubscriptionInfo
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.estate import typed


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
    # When the first audited run started: older orders are not the runs' (None: read every order).
    orders_since: dt.datetime | None = None
    # Cancellation orders the journals placed: platform order id -> the subscription the POST cancelled.
    journaled_cancellations: Mapping[str, str] = field(default_factory=dict)
    # Sources a journal cancelled (completed), with the seats the executor read right before placing the
    # cancellation: a source the platform lists as cancelled cannot have changed since, so it is not read again.
    journaled_source_seats: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)

    @property
    def seat_subscription_ids(self) -> frozenset[str]:
        """Every subscription whose products and quantities matter (read in detail unless the journal knows them)."""
        return self.target_subscription_ids | self.source_subscription_ids

    def known_seats(self, listed: Mapping[str, PlatformSubscription]) -> dict[str, PlatformSubscription]:
        """The sources whose seats the journal holds: cancelled by a journal after the seat check read them, and
        listed as cancelled now (SimpleAPI changes nothing on a terminated subscription). Any other source, e.g.
        one reinstated since, or cancelled by a journal written before ``source_seats`` existed, is read."""
        known = {}
        for sub, seats in self.journaled_source_seats.items():
            now = listed.get(sub)
            if (now is not None and now.status in CANCELLED_STATUSES and sub in self.source_subscription_ids
                    and sub not in self.target_subscription_ids):
                known[sub] = PlatformSubscription(now.id, now.customer_id, now.status, seats)
        return known


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


# Subscription statuses of a cancelled subscription (SimpleAPI's, and the sandbox's "cancelled").
CANCELLED_STATUSES = frozenset({"terminated", "removed", "cancelled"})

# Orders are read from this long before the first run started (clocks of hosts and platform differ).
ORDERS_MARGIN = dt.timedelta(hours=1)

Item = TypeVar("Item")
Kept = TypeVar("Kept")
Progress = Callable[[str, int, int], None]  # (what, done, total), e.g. ProgressDisplay.update


class CommercePlatform:
    """Commerce through SimpleAPI, in bulk: collections paged in parallel, detail reads only for seat checks.

    ``workers`` requests are in flight at once (the client's rate limit still applies); ``progress`` is
    told how many orders, subscriptions and details were read.
    """

    def __init__(
        self, client: SimpleApiClient, *, workers: int = 8, read_seats: bool = True, progress: Progress | None = None
    ) -> None:
        self.client = client
        self.workers = max(1, workers)
        self.read_seats = read_seats
        self.progress = progress

    def read(self, scope: PlatformScope) -> PlatformState:
        client = self.client
        resellers = {r.id: r.name for r in client.list_resellers()}
        customers = {c.id: PlatformCustomer(c.id, c.name, c.reseller_id) for c in client.list_customers()}
        customer_ids = sorted(scope.customer_ids)
        audited = set(customer_ids)
        since = scope.orders_since - ORDERS_MARGIN if scope.orders_since else None
        # Each page is cut to the audit's scope and converted as it arrives: holding every listed model of the whole
        # platform (most of its subscriptions belong to customers not audited) cost about 20 KB per audited
        # subscription of the audit's peak memory.
        def audited_order(order: OrderInfo) -> OrderInfo | None:
            return order if order.customer_id in audited else None

        def audited_subscription(info: SubscriptionInfo) -> PlatformSubscription | None:
            keep = info.customer_id in audited or info.id in scope.subscription_ids
            return _subscription(info) if keep else None

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            found_orders, _ = self._collection(
                pool, "orders read", lambda offset: client.orders_page(offset, created_from=since),
                lambda c: client.list_orders(customer_id=c, created_from=since), customer_ids, audited_order,
            )
            found_subscriptions, per_customer = self._collection(
                pool, "subscriptions read", lambda offset: client.subscriptions_page(offset),
                lambda c: list(client.iter_subscriptions(customer_id=c)), customer_ids, audited_subscription,
            )
            subscriptions = {s.id: s for s in found_subscriptions}
            del found_subscriptions
            if per_customer and scope.subscription_ids - subscriptions.keys():
                # Sources the journal knows no customer of (skipped or blocked rows of a results file): one listing.
                subscriptions |= {s.id: _subscription(s) for s in client.iter_subscriptions()
                                  if s.id in scope.subscription_ids}
            if self.read_seats:
                known = scope.known_seats(subscriptions)
                subscriptions |= known
                wanted = sorted(scope.seat_subscription_ids - known.keys())
                for n, detail in enumerate(pool.map(self._details, wanted), 1):
                    self._tell("subscription details read", n, len(wanted))
                    if detail is not None:
                        subscriptions[detail.id] = _subscription(detail)
            # Live cancellations read by id for the subscription they cancel.
            with_subscription = _with_subscription(client, scope.journaled_cancellations)
            orders = tuple(pool.map(lambda o: _order(with_subscription(o)), found_orders))
        return PlatformState(resellers, customers, subscriptions, orders, f"Commerce SimpleAPI at {client.base_url}",
                             frozenset(customer_ids))

    def _collection(
        self, pool: ThreadPoolExecutor, what: str, page: Callable[[int], tuple[list[Item], int | None]],
        of_customer: Callable[[str], list[Item]], customer_ids: Sequence[str], keep: Callable[[Item], Kept | None],
    ) -> tuple[list[Kept], bool]:
        """The whole collection in bulk, or per customer when there are fewer customers than pages, each item
        as ``keep`` converts it (dropped when None); and whether it was read per customer (then it holds only
        those customers' items)."""
        def kept(found: list[Item]) -> list[Kept]:
            return [k for k in map(keep, found) if k is not None]

        first, total = page(0)
        if total is None:  # no total told: page on until a short page
            items = kept(first)
            listed = len(first)
            while first and len(first) >= self.client.page_size:
                first, _ = page(listed)
                listed += len(first)
                items += kept(first)
                self._tell(what, listed, 0)
            return items, False
        if not first:
            return [], False
        step = len(first)  # the platform may cap the page size below the one asked for
        pages = -(-total // step)
        if len(customer_ids) < pages - 1:
            items = []
            for n, found in enumerate(pool.map(lambda c: kept(of_customer(c)), customer_ids), 1):
                items += found
                self._tell(f"{what} (per customer)", n, len(customer_ids))
            return items, True
        items = kept(first)
        listed = len(first)
        self._tell(what, listed, total)
        # Cut in the worker, so that pages answered before their turn wait converted, not as listed.
        for count, found in pool.map(lambda offset: _counted(kept, page(offset)[0]), range(step, total, step)):
            listed += count
            items += found
            self._tell(what, listed, total)
        return items, False

    def _tell(self, what: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(what, done, total)

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


def _with_subscription(client: SimpleApiClient, journaled: Mapping[str, str]) -> Callable[[OrderInfo], OrderInfo]:
    """A live cancellation with the subscription it cancels; other list items as listed.

    A cancellation the journal placed needs no read: the platform answered our POST cancelling subscription X
    with this order id, and the listed poNumber names X too (both must agree). Any other live cancellation
    (placed by hand, or by a journal not audited) is read by id (``OrderDetailed`` has ``subscriptionId``).
    """
    def read(order: OrderInfo) -> OrderInfo:
        if order.type != "cancellation" or order.status in ("error", "cancelled"):
            return order
        subscription = journaled.get(order.id)
        key = parse_po_number(order.po_number)
        if subscription and key and key.kind == "cancellation" and key.subscription_id == subscription:
            return typed.replace(order, subscription_id=subscription)
        return client.get_order(order.id)
    return read


def _counted(kept: Callable[[list[Item]], list[Kept]], found: list[Item]) -> tuple[int, list[Kept]]:
    return len(found), kept(found)


def _subscription(info: SubscriptionInfo) -> PlatformSubscription:
    products = tuple((p.mpn, p.quantity) for p in info.products) if info.has_details else None
    return PlatformSubscription(info.id, info.customer_id, info.status, products)


def _order(info: OrderInfo) -> PlatformOrder:
    created = info.creation_date
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    return PlatformOrder(info.id, info.type, info.customer_id, info.status, info.po_number, info.subscription_id, created)
