"""The sandbox's Commerce: resellers, customers, plans, subscriptions and orders, seeded from an estate.

Time advances lazily: every call first moves due orders ``submitted -> processing -> completed|error``
and applies the effects of completed ones, so no background thread is needed and a test can move the
clock forward (``advance_clock``) instead of sleeping. Orders waiting for their next step sit in a heap
by due time, so a call looks only at the orders that are due. With a state file every change appends
the records it touched (``state_log``); a file that exists at start replaces the estate's seed, so a
restarted server loses nothing.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import msgspec

from m365move.domain.microsoft_migrations import TENANT_ATTRIBUTE
from m365move.domain.period import Period
from m365move.errors import InputError
from m365move.estate import typed
from m365move.estate.loader import FINAL_ORDER_STATUSES
from m365move.estate.schema import CustomerEntry, EstateDocument, PlanEntry, ResellerEntry
from m365move.sandbox.commerce_estimates import EstimateLine, estimate_lines
from m365move.sandbox.faults import FaultInjector
from m365move.sandbox.nce_connector import CancellationRefused, NceConnector
from m365move.sandbox.state_log import StateLog, read_state

ORDER_TYPES = ("sales", "change", "migration", "cancellation")
# Commerce's own wording for a switch that keeps the subscription's dates (DESIGN §2.3).
KEEP_DATES = "from_old_start_date"
# A trial runs on the plan's trial subscription period (SimpleAPI's ServicePlan.subscriptionPeriods[].trial);
# 30 days is Microsoft's trial length.
TRIAL_PERIOD = "30 day"
# The migration programs CloudBlue Commerce (21.6+) offers for add-on migration orders: the migrated period
# counts towards the subscription's billing, or it does not. SimpleAPI types migrationProgram as free text.
MIGRATION_PROGRAMS = ("count_migration_billing_period", "do_not_count_migration_billing_period")
# Commerce's internal status code of a completed order (the spec's example of statusCode).
COMPLETED_STATUS_CODE = "CP"
_FIRST_NEW_ID = 9_000_001
_STATE_VERSION = 1

T = TypeVar("T")


class OrderRejected(ValueError):
    """The platform refuses an order outright (HTTP 400): nothing was created."""


class ProductLine(msgspec.Struct):
    mpn: str
    quantity: int
    # A seeded subscription's own price of one seat (the estate's unit_price); else its plan's price is served.
    unit_price: str | None = None
    currency: str | None = None


class SubscriptionRecord(msgspec.Struct, kw_only=True):
    id: str
    customer_id: str
    plan_id: int
    status: str
    trial: bool = False
    billing_period: str
    subscription_period: str
    start_date: dt.date | None = None
    expiration_date: dt.date | None = None
    creation_date: dt.date | None = None
    products: list[ProductLine]
    attributes: dict[str, str] = {}
    # SimpleAPI's renewalStatus: whether the subscription renews at expiry.
    auto_renew: bool = True

    def copy(self) -> SubscriptionRecord:
        """A copy the caller may change (its lists and mappings are its own)."""
        return typed.replace(self, products=[typed.replace(p) for p in self.products], attributes=dict(self.attributes))


class OrderRecord(msgspec.Struct, kw_only=True):
    id: str
    order_number: str
    type: str
    customer_id: str
    po_number: str | None = None
    status: str
    creation_time: dt.datetime
    provisioning_time: dt.datetime | None = None
    # Change and cancellation: the subscription ordered on. Sales and migration: the subscription the
    # order created, once it completed (the spec's "ID of the subscription created from the order").
    subscription_id: str | None = None
    plan_id: int | None = None
    products: list[ProductLine] = []
    subscription_period: str | None = None
    start_date: dt.date | None = None
    expiration_date: dt.date | None = None
    upgrade_start_type: str | None = None
    migration_program: str | None = None
    migration_date: dt.date | None = None
    autorenewal: bool | None = None
    attributes: dict[str, str] = {}
    # Commerce's internal status: COMPLETED_STATUS_CODE, or the reason the order failed.
    status_code: str | None = None
    # Sandbox bookkeeping: when the order moves on (epoch seconds; None = never, for seeded orders),
    # and how it ends.
    processing_at: float | None = None
    final_at: float | None = None
    fate: Literal["completed", "error"] = "completed"
    failure_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL_ORDER_STATUSES

    def copy(self) -> OrderRecord:
        """A copy the caller may change (its lists and mappings are its own)."""
        return typed.replace(self, products=[typed.replace(p) for p in self.products], attributes=dict(self.attributes))


class _Snapshot(msgspec.Struct, kw_only=True):
    version: int = _STATE_VERSION
    clock_offset: float = 0.0
    next_id: int = _FIRST_NEW_ID
    resellers: list[ResellerEntry]
    customers: list[CustomerEntry]
    plans: list[PlanEntry]
    subscriptions: list[SubscriptionRecord]
    orders: list[OrderRecord]


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """The filters ``GET /orders`` declares (all optional; every given one must match)."""

    customer_id: str | None = None
    subscription_id: str | None = None
    order_number: str | None = None
    status: str | None = None
    status_code: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None

    def matches(self, order: OrderRecord) -> bool:
        return (
            (self.customer_id is None or order.customer_id == self.customer_id)
            and (self.order_number is None or order.order_number == self.order_number)
            and (self.status is None or order.status == self.status)
            and (self.status_code is None or order.status_code == self.status_code)
            and (self.created_from is None or order.creation_time >= self.created_from)
            and (self.created_to is None or order.creation_time <= self.created_to)
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int


class CommerceState:
    """All Commerce data of the sandbox behind one lock; records handed out are copies."""

    def __init__(
        self,
        snapshot: _Snapshot,
        *,
        injector: FaultInjector | None = None,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        connector: NceConnector | None = None,
    ) -> None:
        self._lock = threading.RLock()
        # Provisions completed orders in Partner Center (None: Commerce alone, nothing linked).
        self._connector = connector
        self._injector = injector or FaultInjector()
        self._state_file = state_file
        self._log: StateLog | None = None
        # Records changed since the last line was appended to the state file.
        self._changed_orders: set[str] = set()
        self._changed_subscriptions: set[str] = set()
        # (due epoch seconds, numeric order key, order id) of every order with a step still to take.
        self._due: list[tuple[float, tuple[int, str], str]] = []
        self._clock = clock
        self._offset = snapshot.clock_offset
        self._next_id = snapshot.next_id
        self.resellers = {r.id: r for r in snapshot.resellers}
        self.customers = {c.id: c for c in snapshot.customers}
        self.plans = {p.id: p for p in snapshot.plans}
        self._subscriptions: dict[str, SubscriptionRecord] = {}
        self._subscription_order: list[str] = []
        self._subscriptions_by_customer: defaultdict[str, list[str]] = defaultdict(list)
        self._trial_plans: set[int] = set()
        for subscription in snapshot.subscriptions:
            self._add_subscription(subscription)
        self._orders: dict[str, OrderRecord] = {}
        self._order_ids: list[str] = []
        # Creation times (epoch seconds) parallel to _order_ids: while they never go down (orders are created in
        # time order), ``creationTimeFrom`` finds its first order by bisection instead of a scan of every order.
        self._order_times: list[float] = []
        self._order_times_sorted = True
        self._orders_by_customer: defaultdict[str, list[str]] = defaultdict(list)
        self._orders_by_subscription: defaultdict[str, list[str]] = defaultdict(list)
        self._open_orders: set[str] = set()
        for order in snapshot.orders:
            self._add_order(order)
        self._changed_orders.clear()
        self._changed_subscriptions.clear()

    # ---- construction and persistence -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        document: EstateDocument,
        *,
        injector: FaultInjector | None = None,
        state_file: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        connector: NceConnector | None = None,
    ) -> CommerceState:
        """Seed from the estate, or resume from ``state_file`` when it exists (the file wins)."""
        path = Path(state_file) if state_file is not None else None
        if path is not None and path.exists():
            snapshot = _read_snapshot(path)
        else:
            snapshot = _seed_snapshot(document)
        state = cls(snapshot, injector=injector, state_file=path, clock=clock, connector=connector)
        if path is not None:
            with state._lock:
                # The whole state once (this also compacts the changes the previous run appended).
                state._log = StateLog(path, state.snapshot_json().encode())
        return state

    def _save(self) -> None:
        """Append what changed since the last save: cost in proportion to the change, not the estate."""
        if self._log is None:
            return
        orders = [typed.to_builtins(self._orders[i]) for i in sorted(self._changed_orders, key=_numeric_key)]
        subscriptions = [typed.to_builtins(self._subscriptions[i])
                         for i in sorted(self._changed_subscriptions, key=_numeric_key)]
        self._changed_orders.clear()
        self._changed_subscriptions.clear()
        self._log.append({"clock_offset": self._offset, "next_id": self._next_id,
                          "orders": orders, "subscriptions": subscriptions})

    def snapshot_json(self) -> str:
        """The whole state as JSON (what the state file holds)."""
        with self._lock:
            snapshot = _Snapshot(
                clock_offset=self._offset,
                next_id=self._next_id,
                resellers=list(self.resellers.values()),
                customers=list(self.customers.values()),
                plans=list(self.plans.values()),
                subscriptions=[self._subscriptions[i] for i in self._subscription_order],
                orders=[self._orders[i] for i in self._order_ids],
            )
            return msgspec.json.encode(snapshot).decode()

    # ---- time -------------------------------------------------------------------------------------

    def now(self) -> float:
        return self._clock() + self._offset

    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.now(), dt.timezone.utc).date()

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock forward (tests, demos) and process what became due."""
        with self._lock:
            self._offset += seconds
            self._advance()
            self._save()

    def _advance(self) -> None:
        now = self.now()
        due = self._due
        if not due or due[0][0] > now:
            return
        ready: list[tuple[tuple[int, str], str]] = []
        while due and due[0][0] <= now:
            _, key, order_id = heapq.heappop(due)
            ready.append((key, order_id))
        for _, order_id in sorted(ready):  # in id order, as the platform processes them
            order = self._orders[order_id]
            if order.status == "submitted" and order.processing_at is not None and now >= order.processing_at:
                order.status = "processing"
                order.provisioning_time = _utc(now)
                self._changed_orders.add(order_id)
            if order.status == "processing" and order.final_at is not None and now >= order.final_at:
                self._finish(order)
                self._open_orders.discard(order_id)
                self._changed_orders.add(order_id)
            self._schedule(order)
        if self._changed_orders or self._changed_subscriptions:
            self._save()

    def _schedule(self, order: OrderRecord) -> None:
        """Put an open order in the heap at the time of its next step (seeded orders never move)."""
        if order.status == "submitted" and order.processing_at is not None:
            at = order.processing_at
        elif order.status == "processing" and order.final_at is not None:
            at = order.final_at
        else:
            return
        heapq.heappush(self._due, (at, _numeric_key(order.id), order.id))

    # ---- reads ------------------------------------------------------------------------------------

    def list_resellers(self, offset: int, limit: int) -> Page[ResellerEntry]:
        with self._lock:
            return _page(list(self.resellers.values()), offset, limit)

    def list_customers(self, offset: int, limit: int, reseller_id: str | None = None) -> Page[CustomerEntry]:
        with self._lock:
            items = [c for c in self.customers.values() if reseller_id is None or c.reseller_id == reseller_id]
            return _page(items, offset, limit)

    def list_plans(self, offset: int, limit: int) -> Page[PlanEntry]:
        with self._lock:
            return _page(sorted(self.plans.values(), key=lambda p: p.id), offset, limit)

    def get_plan(self, plan_id: int) -> PlanEntry | None:
        with self._lock:
            return self.plans.get(plan_id)

    def list_subscriptions(
        self, offset: int, limit: int, *, customer_id: str | None = None, status: str | None = None
    ) -> Page[SubscriptionRecord]:
        with self._lock:
            self._advance()
            ids: Sequence[str] = (
                self._subscription_order
                if customer_id is None
                else self._subscriptions_by_customer.get(customer_id, [])
            )
            if status is None:
                return _copies(_page_of_ids(ids, self._subscriptions, offset, limit))
            items = [self._subscriptions[i] for i in ids if self._subscriptions[i].status == status]
            return _copies(_page(items, offset, limit))

    def get_subscription(self, subscription_id: str) -> SubscriptionRecord | None:
        with self._lock:
            self._advance()
            found = self._subscriptions.get(subscription_id)
            return found.copy() if found else None

    def list_orders(self, offset: int, limit: int, where: OrderFilter | None = None) -> Page[OrderRecord]:
        """Orders matching ``where``; ``subscription_id`` finds the orders on a subscription (change,
        cancellation) and the one that created it (sales, migration), as SimpleAPI's filter does."""
        where = where or OrderFilter()
        with self._lock:
            self._advance()
            ids: Iterable[str] = self._order_ids
            if where.subscription_id is not None:
                ids = self._orders_by_subscription.get(where.subscription_id, [])
            elif where.customer_id is not None:
                ids = self._orders_by_customer.get(where.customer_id, [])
            elif where.created_from is not None and self._order_times_sorted:
                ids = self._order_ids[bisect.bisect_left(self._order_times, where.created_from.timestamp()):]
                if where == OrderFilter(created_from=where.created_from):
                    # Every order from there on matches: page the ids (the audit's bulk read) instead of matching
                    # each order for every page.
                    return _copies(_page_of_ids(ids, self._orders, offset, limit))
            items = [o for o in (self._orders[i] for i in ids) if where.matches(o)]
            return _copies(_page(items, offset, limit))

    def offers_trial(self, plan_id: int) -> bool:
        """Whether the plan lists the trial period: some subscription on it is a trial."""
        with self._lock:
            return plan_id in self._trial_plans

    def get_order(self, order_id: str) -> OrderRecord | None:
        with self._lock:
            self._advance()
            found = self._orders.get(order_id)
            return found.copy() if found else None

    # ---- orders -----------------------------------------------------------------------------------

    def place_order(self, order: dict[str, Any]) -> OrderRecord:
        """Check and record an order (an OrderDetailed body); OrderRejected when the platform would refuse it."""
        with self._lock:
            self._advance()
            record = self._new_order(order)
            related = {record.subscription_id} if record.subscription_id else set()
            # Our executor's poNumber names the source subscription (M365MOVE-NS-<id>-...): a sales order
            # of a migration is "for" that source even though it carries no subscriptionId.
            related |= set((record.po_number or "").split("-"))
            if self._injector.order_fails(related):
                record.fate = "error"
                record.failure_reason = "the order failed at the vendor (sandbox fault injection)"
            seconds = self._injector.order_processing_seconds()
            record.processing_at = self.now() + seconds / 2
            record.final_at = self.now() + seconds
            self._add_order(record)
            self._save()
            return record.copy()

    def estimate_order(self, body: dict[str, Any]) -> tuple[OrderRecord, list[EstimateLine]]:
        """What a sales or migration order would cost (POST /orders/estimate): checked as ``place_order`` checks
        it, priced from the plan's prices, and never recorded (no id taken, nothing saved)."""
        with self._lock:
            self._advance()
            record = self._new_order(body, order_id=0)
            if record.type not in ("sales", "migration"):
                raise OrderRejected(f"the sandbox estimates sales and migration orders, not {record.type} orders")
            try:
                lines = estimate_lines(self.plans[record.plan_id or 0], ((p.mpn, p.quantity) for p in record.products),
                                       record.subscription_period)
            except ValueError as problem:
                raise OrderRejected(str(problem)) from None
            return record.copy(), lines

    def _new_order(self, body: dict[str, Any], *, order_id: int | None = None) -> OrderRecord:
        kind = body.get("type", "sales")
        if kind not in ORDER_TYPES:
            raise OrderRejected(f"order type {kind!r} is not supported; use one of {', '.join(ORDER_TYPES)}")
        customer_id = _text(body.get("customerId"))
        customer = self.customers.get(customer_id or "")
        if customer is None:
            raise OrderRejected(f"customer {customer_id!r} does not exist")
        products = [_product_line(p) for p in body.get("products") or []]
        record = OrderRecord(
            id=str(self._take_id() if order_id is None else order_id),
            order_number="",
            type=kind,
            customer_id=customer.id,
            po_number=_text(body.get("poNumber")),
            status="submitted",
            creation_time=_utc(self.now()),
            subscription_id=_text(body.get("subscriptionId")),
            plan_id=_plan_id(body.get("planId")),
            products=products,
            subscription_period=_order_period(body),
            start_date=_date(body.get("startDate"), "startDate"),
            expiration_date=_date(body.get("expirationDate"), "expirationDate"),
            upgrade_start_type=_text(body.get("upgradeStartType")),
            migration_program=_text(body.get("migrationProgram")),
            migration_date=_date(body.get("migrationDate"), "migrationDate"),
            autorenewal=body.get("autorenewal"),
            attributes={str(k): str(v) for k, v in (body.get("attributes") or {}).items()},
        )
        record.order_number = f"SO{int(record.id):09d}"
        if kind in ("sales", "migration"):
            record.subscription_id = None  # filled with the new subscription when the order completes
            self._check_new_subscription(record, customer)
            if kind == "sales" and record.subscription_period is None:
                # Commerce never guesses a new subscription's period from the plan (which may offer several).
                raise OrderRejected("a sales order needs subscriptionPeriod (at the top level or on its product)")
        else:
            self._check_existing_subscription(record, customer)
        return record

    def _check_new_subscription(self, order: OrderRecord, customer: CustomerEntry) -> None:
        plan = self._plan_for(order)
        if customer.reseller_id not in plan.delegated_to:
            raise OrderRejected(f"plan {plan.id} is not delegated to reseller {customer.reseller_id}")
        if not order.products:
            raise OrderRejected("a sales or migration order needs 'products' with an mpn and a quantity")
        mpns = {r.mpn.upper() for r in plan.resources}
        for product in order.products:
            if product.mpn.upper() not in mpns:
                raise OrderRejected(f"product {product.mpn} is not a resource of plan {plan.id}")
            if product.quantity <= 0:
                raise OrderRejected(f"quantity of {product.mpn} must be positive, not {product.quantity}")
        _check_period(order, plan)
        if order.type == "migration":
            if order.start_date is None or order.expiration_date is None:
                raise OrderRejected("a migration order needs 'startDate' and 'expirationDate'")
            if order.migration_program not in MIGRATION_PROGRAMS:
                raise OrderRejected(
                    f"migrationProgram {order.migration_program!r} is not a migration program; "
                    f"use one of {', '.join(MIGRATION_PROGRAMS)}"
                )

    def _check_existing_subscription(self, order: OrderRecord, customer: CustomerEntry) -> None:
        subscription = self._subscriptions.get(order.subscription_id or "")
        if subscription is None:
            raise OrderRejected(f"subscription {order.subscription_id!r} does not exist")
        if subscription.customer_id != customer.id:
            raise OrderRejected(f"subscription {subscription.id} does not belong to customer {customer.id}")
        if subscription.status in ("terminated", "removed"):
            raise OrderRejected(f"subscription {subscription.id} is {subscription.status}")
        busy = [o for o in self._orders_by_subscription.get(subscription.id, []) if o in self._open_orders]
        if busy:
            raise OrderRejected(f"subscription {subscription.id} has order {busy[0]} in progress; wait for it")
        if order.type == "change":
            plan = self._plan_for(order)
            targets = self.plans[subscription.plan_id].upgrade_paths.get(customer.reseller_id, ())
            if plan.id not in targets:
                raise OrderRejected(
                    f"plan {plan.id} is not an upgrade path of plan {subscription.plan_id} "
                    f"for reseller {customer.reseller_id}"
                )
            _check_period(order, plan)

    def _plan_for(self, order: OrderRecord) -> PlanEntry:
        if order.plan_id is None:
            raise OrderRejected(f"a {order.type} order needs 'planId'")
        plan = self.plans.get(order.plan_id)
        if plan is None:
            raise OrderRejected(f"plan {order.plan_id} does not exist")
        return plan

    def _finish(self, order: OrderRecord) -> None:
        order.status = order.fate
        order.status_code = order.failure_reason if order.fate == "error" else COMPLETED_STATUS_CODE
        if order.fate == "completed":
            try:
                self._apply(order)
            except OrderRejected as problem:
                # The world changed between placing and completing (e.g. the source was cancelled).
                order.status = "error"
                order.status_code = str(problem)

    def _apply(self, order: OrderRecord) -> None:
        if order.type in ("sales", "migration"):
            plan = self.plans[order.plan_id or 0]
            period = order.subscription_period or plan.subscription_periods[0]
            start = order.start_date if order.type == "migration" else self.today()
            expiration = order.expiration_date if order.type == "migration" else _add_period(start, period)
            new = SubscriptionRecord(
                id=str(self._take_id()),
                customer_id=order.customer_id,
                plan_id=plan.id,
                status="active",
                billing_period=plan.billing_period,
                subscription_period=period,
                start_date=start,
                expiration_date=expiration,
                # A migrated subscription keeps its history: SimpleAPI's creationDate is its original start.
                creation_date=start if order.type == "migration" else self.today(),
                products=[typed.replace(p) for p in order.products],
                attributes=self._provision(order.customer_id, order.products),
            )
            self._add_subscription(new)
            order.subscription_id = new.id
            self._orders_by_subscription[new.id].append(order.id)
            return
        subscription = self._subscriptions[order.subscription_id or ""]
        if subscription.status in ("terminated", "removed"):
            raise OrderRejected(f"subscription {subscription.id} is {subscription.status}")
        self._changed_subscriptions.add(subscription.id)
        if order.type == "cancellation":
            if self._connector is not None:
                try:
                    self._connector.cancel(subscription.attributes, _utc(self.now()))
                except CancellationRefused as refused:
                    raise OrderRejected(str(refused)) from None
            subscription.status = "terminated"
            return
        self._switch_plan(subscription, order)
        linked = self._provision(subscription.customer_id, subscription.products)
        if linked and self._connector is not None:
            # Switched to new commerce: the legacy subscription is suspended, the Commerce one names the new one.
            self._connector.cancel(subscription.attributes, _utc(self.now()))
            subscription.attributes = {**subscription.attributes, **linked}

    def _provision(self, customer_id: str, products: list[ProductLine]) -> dict[str, str]:
        """The attributes naming the new-commerce subscription the connector bought for these products ({} none)."""
        if self._connector is None:
            return {}
        tenant = next((self._subscriptions[i].attributes.get(TENANT_ATTRIBUTE)
                       for i in self._subscriptions_by_customer.get(customer_id, [])
                       if self._subscriptions[i].attributes.get(TENANT_ATTRIBUTE)), None)
        return self._connector.provision(tenant, [(p.mpn, p.quantity) for p in products], _utc(self.now()))

    def _switch_plan(self, subscription: SubscriptionRecord, order: OrderRecord) -> None:
        source = self.plans[subscription.plan_id]
        target = self.plans[order.plan_id or 0]
        source_base = {r.mpn.upper() for r in source.resources if r.role == "base"}
        target_base = [r.mpn for r in target.resources if r.role == "base"]
        if not target_base:
            raise OrderRejected(f"plan {target.id} has no base licence to switch to")
        ordered = {p.mpn.upper(): p.quantity for p in order.products}
        quantity = ordered.get(target_base[0].upper()) or sum(
            p.quantity for p in subscription.products if p.mpn.upper() in source_base
        )
        # A switch leaves only the target's base licence: add-ons move to their own subscriptions.
        subscription.products = [ProductLine(mpn=target_base[0], quantity=quantity)]
        subscription.plan_id = target.id
        subscription.billing_period = target.billing_period
        if order.subscription_period:
            subscription.subscription_period = order.subscription_period
        if order.upgrade_start_type not in (None, KEEP_DATES):
            subscription.start_date = self.today()
            subscription.expiration_date = _add_period(self.today(), subscription.subscription_period)

    # ---- bookkeeping ------------------------------------------------------------------------------

    def _take_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def _add_subscription(self, subscription: SubscriptionRecord) -> None:
        self._subscriptions[subscription.id] = subscription
        self._changed_subscriptions.add(subscription.id)
        self._subscription_order.append(subscription.id)
        self._subscriptions_by_customer[subscription.customer_id].append(subscription.id)
        if subscription.trial:
            self._trial_plans.add(subscription.plan_id)

    def _add_order(self, order: OrderRecord) -> None:
        self._orders[order.id] = order
        self._changed_orders.add(order.id)
        self._order_ids.append(order.id)
        created = order.creation_time.timestamp()
        if self._order_times and created < self._order_times[-1]:
            self._order_times_sorted = False
        self._order_times.append(created)
        self._orders_by_customer[order.customer_id].append(order.id)
        if order.subscription_id:
            self._orders_by_subscription[order.subscription_id].append(order.id)
        if order.is_open:
            self._open_orders.add(order.id)
            self._schedule(order)


# ---- seeding and loading --------------------------------------------------------------------------


def _seed_snapshot(document: EstateDocument) -> _Snapshot:
    commerce = document.commerce
    subscriptions = [
        SubscriptionRecord(
            id=s.id,
            customer_id=s.customer_id,
            plan_id=s.plan_id,
            status=s.status,
            trial=s.trial,
            billing_period=s.billing_period,
            subscription_period=s.subscription_period,
            start_date=s.start_date,
            expiration_date=s.expiration_date,
            creation_date=s.start_date,
            products=[ProductLine(mpn=r.mpn, quantity=r.quantity,
                                  unit_price=str(r.unit_price.amount) if r.unit_price else None,
                                  currency=r.unit_price.currency if r.unit_price else None) for r in s.resources],
            attributes=dict(s.custom_attributes),
            auto_renew=s.auto_renew,
        )
        for s in commerce.subscriptions
    ]
    customer_of = {s.id: s.customer_id for s in commerce.subscriptions}
    # Orders in the estate are stuck on the platform (they block their subscription): they never move.
    orders = [
        OrderRecord(
            id=o.id,
            order_number=f"SO{o.id}",
            type=o.type,
            customer_id=customer_of.get(o.subscription_id, ""),
            status=o.status,
            creation_time=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
            subscription_id=o.subscription_id,
        )
        for o in commerce.orders
    ]
    numeric = [int(x) for x in [*customer_of, *(o.id for o in orders)] if x.isdigit()]
    return _Snapshot(
        next_id=max([_FIRST_NEW_ID - 1, *numeric]) + 1,
        resellers=list(commerce.resellers),
        customers=list(commerce.customers),
        plans=list(commerce.plans),
        subscriptions=subscriptions,
        orders=orders,
    )


def _read_snapshot(path: Path) -> _Snapshot:
    try:
        return typed.convert(read_state(path), _Snapshot)
    except (OSError, ValueError) as error:
        raise InputError(
            f"not a sandbox state file ({str(error).splitlines()[0]})",
            where=str(path),
            hint="delete it to start again from the estate",
        ) from None


# ---- small helpers --------------------------------------------------------------------------------


def _page(items: list[T], offset: int, limit: int) -> Page[T]:
    return Page(items[offset : offset + limit], len(items))


def _page_of_ids(ids: Sequence[str], by_id: dict[str, T], offset: int, limit: int) -> Page[T]:
    return Page([by_id[i] for i in ids[offset : offset + limit]], len(ids))


_R = TypeVar("_R", SubscriptionRecord, OrderRecord)


def _copies(page: Page[_R]) -> Page[_R]:
    return Page([item.copy() for item in page.items], page.total)


def _numeric_key(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (0, text)


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).replace(microsecond=0)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _plan_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        raise OrderRejected(f"planId {value!r} is not a plan id") from None


def _date(value: Any, field: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise OrderRejected(f"{field} {value!r} is not a date (YYYY-MM-DD)") from None


def _product_line(value: Any) -> ProductLine:
    if not isinstance(value, dict) or not value.get("mpn"):
        raise OrderRejected("each product needs an 'mpn'")
    quantity = value.get("quantity", 1)
    if not isinstance(quantity, (int, float)) or isinstance(quantity, bool) or quantity != int(quantity):
        raise OrderRejected(f"quantity of {value['mpn']} must be a whole number, not {quantity!r}")
    return ProductLine(mpn=str(value["mpn"]), quantity=int(quantity))


def _period_text(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    try:
        return str(Period(int(value["duration"]), str(value["type"])))
    except (KeyError, ValueError, TypeError):
        raise OrderRejected(
            f"subscriptionPeriod {value!r} is not a period such as {{type: month, duration: 1}}"
        ) from None


def _order_period(body: dict[str, Any]) -> str | None:
    """The order's subscription period: top-level ``subscriptionPeriod``, else the first product's."""
    top = _period_text(body.get("subscriptionPeriod"))
    if top:
        return top
    for product in body.get("products") or []:
        if isinstance(product, dict):
            found = _period_text(product.get("subscriptionPeriod"))
            if found:
                return found
    return None


def _check_period(order: OrderRecord, plan: PlanEntry) -> None:
    if order.subscription_period and order.subscription_period not in plan.subscription_periods:
        raise OrderRejected(f"plan {plan.id} does not offer the subscription period {order.subscription_period}")


def _add_period(start: dt.date | None, period_text: str) -> dt.date | None:
    if start is None:
        return None
    period = Period.parse(period_text)
    if period.unit == "day":
        return start + dt.timedelta(days=period.duration)
    months = period.duration * (12 if period.unit == "year" else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    for day in (start.day, 30, 29, 28):  # the 31st of a shorter month is its last day
        try:
            return dt.date(year, month, min(start.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")
