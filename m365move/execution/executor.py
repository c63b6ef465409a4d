"""The executor (DESIGN §3): place → poll → place the second phase only when allowed → poll.

Per batch of source subscriptions:
  1. place every first-phase order (New Subscription: the sales orders; Switch Plan: the change order),
  2. poll them to a final status (per-order timeout),
  3. place second-phase orders only for sources whose first-phase orders all completed (the
     cancellation; or the add-on migration orders),
  4. poll those.

Idempotency: an intent is claimed (journaled ``placing``) before its POST, so a crash between the POST
and its journaling is resolved by a platform look-up (matched on ``poNumber`` = the intent key) after the
next claim. An intent still ``planned`` was never sent by a worker of this journal and needs no look-up;
what a lost or different journal may have placed is in the run's one read of m365move's orders on the
platform (``platform_orders``), taken before the run journaled anything.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from m365move.commerce.errors import CommerceApiError, OrderPlacementUncertain
from m365move.commerce.models import MigrationProgram, OrderInfo
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.orders import OrderKind
from m365move.domain.reasons import ReasonCode
from m365move.errors import JournalError, PlatformError
from m365move.execution.commit_deadline import default_commit_deadline
from m365move.execution.crash_points import CrashPoints
from m365move.execution.cross_mode import key_prefix, other_mode, other_mode_reason
from m365move.execution.intents import Intent, IntentState
from m365move.execution.journal import TARGET_FREE_STATUSES, Journal, claim_lease_seconds
from m365move.execution.order_requests import order_request
from m365move.execution.platform_orders import PlatformOrders
from m365move.execution.run_progress import Progress
from m365move.execution.seat_check import compare_seats, hold_reason, read_source_seats, seats_text
from m365move.execution.subscription_work import SubscriptionWork
from m365move.text.warning_summary import per_subscription

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

HEARTBEAT_SECONDS = 10.0
# How long a fence (the proof that the claim is still ours) is good for: the POST must leave within it. Never more
# than a quarter of the lease, so that the proof is fresh long before anyone may judge the claim stale.
FENCE_FRESH_SECONDS = 5.0
# POSTs of one order per run when each answer is uncertain and each look-up, until the commit deadline, finds nothing.
UNCERTAIN_ROUNDS = 8
# Look-ups while waiting for the commit deadline: the first after the settle, then at most this far apart.
LOOK_UP_EVERY_SECONDS = 10.0


class ClaimLost(Exception):
    """Raised right before a POST when the claim is not proved (taken over, or its lease ran out): nothing is sent."""


def _clock() -> float:
    # Counts a suspended or paused machine too (CLOCK_MONOTONIC may not), so a stale fence is seen as stale.
    return time.clock_gettime(time.CLOCK_BOOTTIME) if hasattr(time, "CLOCK_BOOTTIME") else time.monotonic()


def failure_message(order: OrderInfo) -> str | None:
    """The platform's reason for an order that ended in error (None for others)."""
    return order.failure_message  # the client's reading of the spec field (statusCode of an order in error)


# Orders whose completion creates a subscription (its id is the order's subscriptionId once completed).
_CREATING_KINDS = frozenset({OrderKind.SALES, OrderKind.MIGRATION})
# A look-up lists orders created since the journal first held the intent, less this much: the platform's clock
# and this host's may differ. A day of one customer's orders is bounded by its activity, not by its size.
LOOK_UP_CLOCK_MARGIN = dt.timedelta(days=1)


@dataclass(frozen=True)
class ExecutionOptions:
    concurrency: int = 8
    order_timeout: float = 600.0
    poll_interval: float = 5.0
    batch_size: int = 200
    # Switch Plan add-on migration orders: the operator's migration program (SimpleAPI migrationProgram).
    migration_program: MigrationProgram = "count"
    # After an uncertain POST, wait this long before the first look-up (a gateway may still be forwarding it).
    uncertain_settle_seconds: float = 1.0
    # The platform's commit deadline: a request it received is committed within this many seconds or never. An
    # order whose POST got no certain answer is looked up again until this has passed since the POST left, and
    # only then sent again (docs/decisions/commit-deadline.md).
    commit_deadline_seconds: float = field(default_factory=default_commit_deadline)


class MigrationExecutor:
    def __init__(
        self,
        client: SimpleApiClient,
        journal: Journal,
        run_id: str,
        options: ExecutionOptions,
        *,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        crash_points: CrashPoints | None = None,
        sleep: Callable[[float], None] = time.sleep,
        platform: PlatformOrders | None = None,
        before_placing: Callable[[SubscriptionWork], bool] | None = None,
    ) -> None:
        self.client = client
        # m365move's orders on the platform when the run started (what a lost or other journal placed).
        self.platform = platform or PlatformOrders()
        # migrate --plan: is the source still as the reviewed plan saw it? (plan_drift; False holds its orders)
        self.before_placing = before_placing
        self.journal = journal
        self.run_id = run_id
        self.options = options
        self.progress = progress or Progress(0)
        self.stop = stop or threading.Event()
        self.crash = crash_points or CrashPoints()
        self._sleep = sleep
        self.interrupted = False
        # Set when a journal write failed (e.g. a full disk): nothing more is placed.
        self.journal_failed = threading.Event()
        # Platform creation time of each order placed or adopted and not final yet: polling lists orders since.
        self._created_at: dict[str, dt.datetime] = {}

    def execute(self, works: Sequence[SubscriptionWork]) -> None:
        """Run every batch; after a stop request, finish the batch in flight and return."""
        finished = threading.Event()
        beating = threading.Thread(target=self._heartbeat, args=(finished,), name="journal-heartbeat", daemon=True)
        beating.start()
        try:
            self.progress.expect(works, self.options.batch_size)  # subscriptions and orders ahead, batch N of M
            with ThreadPoolExecutor(max_workers=max(1, self.options.concurrency)) as pool:
                for start in range(0, len(works), self.options.batch_size):
                    if self.stop.is_set():
                        self.interrupted = True
                        return
                    self._run_batch(pool, works[start:start + self.options.batch_size])
        finally:
            finished.set()
            beating.join()

    def _heartbeat(self, finished: threading.Event) -> None:
        """Tell workers sharing the journal that this run is alive (its claims are not to be taken over)."""
        while not finished.wait(min(HEARTBEAT_SECONDS, claim_lease_seconds() / 4)):
            try:
                self.journal.heartbeat(self.run_id)
            except Exception as error:  # noqa: BLE001 - a missed beat must not stop the migration
                log.warning("journal heartbeat failed: %s", error)

    def _run_batch(self, pool: ThreadPoolExecutor, batch: Sequence[SubscriptionWork]) -> None:
        for phase in (1, 2):
            if phase == 2:
                batch = [w for w in batch if w.first_phase_completed()]
            self.progress.phase(f"phase {phase}: placing")
            _each(pool, self.options.concurrency, batch, functools.partial(self._place_phase, phase=phase))
            self.progress.phase(f"phase {phase}: polling")
            self._poll(pool, [(w, i) for w in batch for i in w.phase(phase) if i.state is IntentState.PLACED])

    # ---- placing ----------------------------------------------------------------------------------

    def _place_phase(self, work: SubscriptionWork, phase: int) -> None:
        todo = [i for i in work.phase(phase) if i.state in (IntentState.PLANNED, IntentState.PLACING)]
        if not todo or self.journal_failed.is_set():
            return  # a journal that cannot record a claim must not see another POST
        try:
            self._place_all(work, todo)
        except JournalError:
            self.journal_failed.set()
            self.stop.set()
            raise

    def _place_all(self, work: SubscriptionWork, todo: list[Intent]) -> None:
        try:
            if self.before_placing is not None:
                if not self.before_placing(work):
                    self.progress.count("refused: changed-since-plan")
                    return
                keys = {i.key for i in todo}
                todo = [i for i in work.intents if i.key in keys]  # as the check left them (held or released)
            if any(i.state is IntentState.PLANNED for i in todo):
                todo = self._recheck_platform(work, todo)
            for intent in todo:
                if intent.hold_reason and intent.kind is not OrderKind.CANCELLATION:
                    continue  # held by migrate --plan (changed-since-plan): a reviewed plan releases it
                # "planned": never sent by a worker of this journal; the run's platform read says whether another
                # journal placed it. "placing" is looked up by _place, after its claim.
                known = self.platform.get(intent.po_number) if intent.state is IntentState.PLANNED else None
                if known is not None:
                    self._adopt(work, intent, self.client.get_order(known.id))
                    continue
                if intent.kind is OrderKind.CANCELLATION:
                    intent = self._check_seats(work, intent)
                    if intent.hold_reason:
                        continue
                self._place(work, intent)
        except PlatformError as error:
            # Still failing after the client's retries: this subscription stays as journaled (a "placing"
            # intent is checked on the platform next time); the others go on.
            log.warning("subscription %s left for a resume: %s", work.subscription_id, error,
                        extra=per_subscription("left-for-resume", work.subscription_id))
            self.progress.count("left for resume")

    def _recheck_platform(self, work: SubscriptionWork, todo: list[Intent]) -> list[Intent]:
        """Right before any order of any attempt is first sent for a source, the platform's orders of its customer
        are read again (the journal is not the only memory: another workspace may have worked on it since the run
        started). An open or completed order of the other mode for the source holds every order back
        (``migrated-in-other-mode``, journaled as the intents' hold reason); an open or completed order of one of
        these keys, under any attempt, is adopted instead of placing another target. Returns what is left to place."""
        mode = todo[0].mode
        orders = self.client.list_orders(customer_id=work.customer_id)
        theirs = key_prefix(other_mode(mode), work.subscription_id)
        for order in orders:
            if (order.po_number or "").startswith(theirs) and order.status not in TARGET_FREE_STATUSES:
                reason = other_mode_reason(work.subscription_id, other_mode(mode),
                                           f"Commerce holds order {order.id} ({order.type}, {order.status}, poNumber "
                                           f"{order.po_number})")
                text = f"{reason.code.value}: {reason.message}"
                for intent in todo:
                    if intent.state is IntentState.PLANNED and intent.hold_reason != text:
                        self.journal.hold(intent.key, text)
                        work.replace(replace(intent, hold_reason=text))
                self.progress.count("held: migrated-in-other-mode")
                return []
        left = []
        for intent in todo:
            if intent.hold_reason and intent.hold_reason.startswith(_OTHER_MODE_HOLD):
                self.journal.hold(intent.key, None)  # the other mode's order ended without a target meanwhile
                intent = replace(intent, hold_reason=None)
                work.replace(intent)
            existing = [o for o in orders if intent.state is IntentState.PLANNED and _same_key(o.po_number, intent.key)
                        and o.status not in TARGET_FREE_STATUSES]
            if existing:
                self._adopt(work, intent, self.client.get_order(existing[0].id))
                continue
            left.append(intent)
        return left

    def _check_seats(self, work: SubscriptionWork, cancellation: Intent) -> Intent:
        """Hold the cancellation back (journaled, with the reason) while the source's seats differ from the
        completed NCE subscriptions'; release it once they match."""
        seats = read_source_seats(self.client, work.subscription_id)
        differences = compare_seats(seats, work.phase(1))
        reason = hold_reason(differences) if differences else None
        if reason != cancellation.hold_reason:
            self.journal.hold(cancellation.key, reason)
            cancellation = replace(cancellation, hold_reason=reason)
            work.replace(cancellation)
        if reason:
            log.warning("subscription %s not cancelled: %s", work.subscription_id, reason,
                        extra=per_subscription(ReasonCode.SEAT_COUNT_CHANGED.value, work.subscription_id))
            self.progress.count("held: seat-count-changed")
            return cancellation
        # Journaled with the order once placed (no extra write): the audit's "held when cancelled" seats.
        return replace(cancellation, source_seats=seats_text(seats))

    def _look_up(self, work: SubscriptionWork, intent: Intent) -> OrderInfo | None:
        """The platform's order under the intent's poNumber, if any, read with the filters SimpleAPI declares so
        that the cost does not grow with the customer: orders created since the journal first held the intent,
        and for an order on the source (change, cancellation) only that subscription's orders. A sales or
        migration order names the subscription it created, not its source, so those are found by customer."""
        recorded = self.journal.recorded_at(intent.key)
        since = recorded - LOOK_UP_CLOCK_MARGIN if recorded is not None else None
        if intent.kind in _CREATING_KINDS:
            found = self.client.find_orders(customer_id=work.customer_id, po_number=intent.po_number,
                                            created_from=since)
        else:
            found = self.client.find_orders(subscription_id=intent.subscription_id, po_number=intent.po_number,
                                            created_from=since)
        return found[0] if found else None

    def _adopt(self, work: SubscriptionWork, intent: Intent, order: OrderInfo) -> None:
        log.info("order %s for %s already on the platform (%s): not placing again", order.id, intent.key, order.status)
        self._record_placed(work, intent, order)
        self.progress.count("found on platform")

    def _place(self, work: SubscriptionWork, intent: Intent) -> None:
        """Claim (the journal judges a holder stale, on its own clock, in the claim itself), look up when someone may
        already have sent it (until the commit deadline has passed after that POST), fence, POST; an uncertain
        answer means look up again before anything else (docs/execution-protocol.md walks through each step)."""
        for _ in range(UNCERTAIN_ROUNDS):
            self.crash.reached("before-place")
            may_exist = intent.state is IntentState.PLACING  # a POST may have been sent under this key
            generation = self.journal.claim(intent, self.run_id)
            if generation is None:
                if self.journal.other_mode_started(intent):
                    # The other mode started on this source after this run's planning check: leave it to that
                    # mode; the source stays pending and the next run blocks it with migrated-in-other-mode.
                    log.warning("order %s not placed: the other mode started on subscription %s", intent.key,
                                intent.subscription_id)
                    self.progress.count("other mode started")
                    return
                self.progress.count("placed by another worker")  # live elsewhere, or it changed since we read it
                return
            intent = replace(intent, state=IntentState.PLACING, claimed_by=self.run_id, claim_generation=generation)
            work.replace(intent)
            self.crash.reached("after-claim")
            if may_exist:
                # Look up only after claiming: no one else can send it from now on. Whatever was sent before under
                # this poNumber left by the journal's sent-until instant; the platform commits it within its deadline.
                try:
                    found = self._look_up_until_deadline(work, intent)
                except ClaimLost:
                    log.warning("order %s: claim taken over by another worker while looking it up", intent.key)
                    self.progress.count("claim lost")
                    return
                if found is not None:
                    self._adopt(work, intent, found)
                    return
            try:
                order = self.client.place_order(order_request(intent, self.options.migration_program),
                                                before_send=self._fence(intent))
            except ClaimLost:
                current = self.journal.intent(intent.key)
                if (current is not None and current.state is IntentState.PLACING and current.claimed_by == self.run_id
                        and current.claim_generation == intent.claim_generation):
                    # Still ours, but its lease ran out before the fence (this worker stalled): others may have
                    # judged it stale, so it is proved again by a new claim (compare-and-set) rather than renewed.
                    log.info("order %s: claim not proved in time, claiming again", intent.key)
                    intent = current
                    continue
                log.warning("order %s: claim taken over by another worker; not placing it", intent.key)
                self.progress.count("claim lost")
                return
            except OrderPlacementUncertain as error:
                # The POST may have created it, now or later: the next round looks it up until the commit deadline.
                log.info("order %s uncertain (%s): looking it up", intent.key, error)
                self.progress.count("placement uncertain")
                continue
            except CommerceApiError as error:
                # Commerce refused the order (validation): final, nothing exists; a re-run may try again.
                log.warning("Commerce refused order %s: %s", intent.key, error,
                            extra=per_subscription("order-refused", intent.subscription_id))
                self.journal.mark_status(intent.key, "rejected", failure_message=error.platform_message)
                work.replace(replace(intent, state=IntentState.FINAL, platform_status="rejected",
                                     failure_message=error.platform_message))
                self.progress.count("rejected")
                return
            self.crash.reached("after-place")
            self._record_placed(work, intent, order)
            self.progress.count("placed")
            self.crash.reached("after-journal")
            return
        # Still uncertain after every round: it stays "placing", so the next run looks it up first.
        log.warning("order %s still uncertain after %d attempts: left for a resume", intent.key, UNCERTAIN_ROUNDS)
        self.progress.count("left for resume")

    def _look_up_until_deadline(self, work: SubscriptionWork, intent: Intent) -> OrderInfo | None:
        """The order under the intent's poNumber, looked up until the platform's commit deadline has passed after
        the last POST that may have been sent under it (database clock, ``Journal.commit_wait``): a look-up before
        that proves nothing, the platform may commit it later. The claim is renewed between look-ups; ClaimLost
        when another worker took it over meanwhile."""
        deadline = self.options.commit_deadline_seconds
        pause = max(self.options.uncertain_settle_seconds, 0.05)
        while True:
            wait = self.journal.commit_wait(intent.key, deadline)  # before the look-up it qualifies
            found = self._look_up(work, intent)
            if found is not None or wait is None or wait <= 0:
                return found
            self.progress.count("looked up again (commit deadline)")
            self._sleep(min(pause, wait))
            pause = min(LOOK_UP_EVERY_SECONDS, pause * 2)
            if not self.journal.renew(intent.key, self.run_id, intent.claim_generation):
                raise ClaimLost(intent.key)

    def _fence(self, intent: Intent) -> Callable[[], None]:
        """What runs right before the POST leaves: prove the claim is still ours and live (one journal transaction),
        and that this proof is fresh when the request goes (a pause in between could outlast the lease)."""
        fresh_for = min(FENCE_FRESH_SECONDS, claim_lease_seconds() / 4)

        def check() -> None:
            self.crash.reached("before-post")
            for _ in range(3):
                proved = _clock()
                if not self.journal.fence(intent.key, self.run_id, intent.claim_generation, send_window=fresh_for):
                    raise ClaimLost(intent.key)
                if _clock() - proved < fresh_for:
                    self.crash.reached("post-leaving")
                    return
            raise ClaimLost(intent.key)  # this process keeps stalling: let a healthy worker take it

        return check

    def _record_placed(self, work: SubscriptionWork, intent: Intent, order: OrderInfo) -> None:
        if order.creation_date is not None and not order.is_final:
            self._created_at[order.id] = order.creation_date
        created = order.subscription_id if intent.kind in _CREATING_KINDS and order.completed else None
        message = failure_message(order)
        if not self.journal.mark_placed(intent, order.id, order.status, created, message,
                                        source_seats=intent.source_seats):
            # Another worker moved the intent since this one read or claimed it (took the claim over, journaled or
            # retried it): its journal row stands; the order is on the platform for that worker's look-up.
            log.warning("order %s for %s not journaled by this worker: the intent moved on meanwhile", order.id,
                        intent.key)
            self.progress.count("journal moved on")
            current = self.journal.intent(intent.key)
            if current is not None:
                work.replace(current)
            return
        work.replace(replace(_placed(intent, order, created), failure_message=message))

    # ---- polling ----------------------------------------------------------------------------------

    def _poll(self, pool: ThreadPoolExecutor, active: Iterable[tuple[SubscriptionWork, Intent]]) -> None:
        waiting = list(active)
        deadline = time.monotonic() + self.options.order_timeout
        while waiting:
            listed = self._listed(waiting)
            results = _each(pool, self.options.concurrency, waiting, functools.partial(self._poll_once, listed=listed))
            waiting = [item for item, final in zip(waiting, results, strict=True) if not final]
            if not waiting:
                return
            if time.monotonic() >= deadline:
                for _, intent in waiting:
                    log.warning("order %s not final after %.0f s: left pending", intent.platform_order_id,
                                self.options.order_timeout)
                self.progress.count("timed out", len(waiting))
                return
            self._sleep(self.options.poll_interval)

    def _listed(self, waiting: Sequence[tuple[SubscriptionWork, Intent]]) -> dict[str, OrderInfo]:
        """The statuses of the waiting orders from ``GET /orders`` pages (orders created since the oldest of them,
        on the platform's clock, as its answers said) when that is fewer requests than one read per order.
        Orders it does not cover are read by id."""
        created = [self._created_at[i.platform_order_id] for _, i in waiting if i.platform_order_id in self._created_at]
        if len(created) < 2:
            return {}
        since = min(created)
        try:
            first, total = self.client.orders_page(0, created_from=since)
            listed = {o.id: o for o in first}
            if total is None or -(-total // max(1, self.client.page_size)) > len(created):
                return listed  # the platform is busier than this batch: read the rest by id
            offset = len(first)
            while first and offset < total:
                page, _ = self.client.orders_page(offset, created_from=since)
                if not page:
                    break
                listed.update((o.id, o) for o in page)
                offset += len(page)
            return listed
        except PlatformError as error:
            log.warning("listing orders to poll them failed, reading them one by one: %s", error)
            return {}

    def _poll_once(self, item: tuple[SubscriptionWork, Intent], listed: dict[str, OrderInfo]) -> bool:
        work, intent = item
        current = next(i for i in work.intents if i.key == intent.key)
        assert current.platform_order_id is not None
        order = listed.get(current.platform_order_id)
        if order is not None and not order.is_final:
            return False
        try:
            if order is None or (current.kind in _CREATING_KINDS and order.completed):
                # A list item does not name the subscription a completed sales or migration order created.
                order = self.client.get_order(current.platform_order_id)
        except PlatformError as error:
            log.warning("polling order %s failed, will poll again: %s", current.platform_order_id, error)
            return False
        if not order.is_final:
            return False
        self._created_at.pop(current.platform_order_id, None)
        created = order.subscription_id if current.kind in _CREATING_KINDS and order.completed else None
        message = failure_message(order)
        self.journal.mark_status(current.key, order.status, created, message)
        work.replace(replace(current, state=IntentState.FINAL, platform_status=order.status,
                             created_subscription_id=created or current.created_subscription_id,
                             failure_message=message or current.failure_message))
        self.progress.count(order.status)
        self.crash.reached("after-poll")
        return True


def _each(pool: ThreadPoolExecutor, threads: int, items: Sequence[T], task: Callable[[T], R]) -> list[R]:
    """``task(item)`` for every item on up to ``threads`` of the pool's threads; the results in the items' order.

    Each thread takes the next item itself, so there is one hand-off per thread rather than one future per item
    (``pool.map``): waking a worker, and the caller, for each of a batch's subscriptions cost about a tenth of the
    migration's CPU. As with ``pool.map``, the first exception is raised once the threads stopped, and no item is
    started after it (or after the caller was interrupted)."""
    results: list[Any] = [None] * len(items)
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(items)):
        todo.put(index)
    halted = threading.Event()

    def drain() -> None:
        while not halted.is_set():
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results[index] = task(items[index])
            except BaseException:
                halted.set()
                raise

    futures = [pool.submit(drain) for _ in range(max(1, min(threads, len(items))))]
    try:
        for future in futures:
            future.exception()  # waits; the first exception is raised below, after every thread stopped
    except BaseException:
        halted.set()  # interrupted (a second Ctrl+C): no new item starts; those in flight finish
        raise
    for future in futures:
        future.result()
    return results


_OTHER_MODE_HOLD = "migrated-in-other-mode:"


def _same_key(po_number: str | None, key: str) -> bool:
    """Whether a poNumber is ``key`` under any attempt (``key`` or ``key-A<n>``)."""
    if not po_number or not po_number.startswith(key):
        return False
    rest = po_number[len(key):]
    return rest == "" or (rest.startswith("-A") and rest[2:].isdigit())


def _placed(intent: Intent, order: OrderInfo, created: str | None) -> Intent:
    state = IntentState.FINAL if order.is_final else IntentState.PLACED
    return replace(intent, state=state, platform_order_id=order.id, platform_status=order.status,
                   created_subscription_id=created)
