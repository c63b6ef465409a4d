"""Reconciliation: the journal against the platform, one check per rule a reviewer signs off.

- every migrated licence: the NCE seats on the platform equal the CSP seats journaled, and the seats the New
  Subscription source holds now or held when cancelled (``seat-mismatch``, ``target-missing``);
- every cancelled source: all its targets completed before the cancellation was placed
  (``cancelled-before-targets-completed``);
- no licence of a source has two live targets (``duplicate-target``);
- no sales/migration order for an audited customer lacks a journaled source (``orphan-target``);
- nothing stays ``partially-migrated`` or ``pending`` longer than allowed (``stuck-migration``).

Pure: it takes records, statuses, a platform state (or None: platform checks are then reported as not
run) and the time "now".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from m365move.audit.findings import AnomalyCode, CheckOutcome, Finding, sort_findings
from m365move.audit.platform_state import CANCELLED_STATUSES, PlatformOrder, PlatformState, PlatformSubscription
from m365move.audit.records import CREATING_KINDS, TARGET_KINDS, IntentRecord, parse_po_number
from m365move.audit.summary import UNFINISHED, SubscriptionStatus

# Statuses of a subscription that no longer bills (Commerce: a cancellation order made it "terminated").


@dataclass(frozen=True)
class ReconciliationOptions:
    stuck_after: dt.timedelta = dt.timedelta(hours=24)
    # SimpleAPI order dates have whole seconds: a cancellation "at 12:00:00" may have been placed at 12:00:00.9.
    platform_time_resolution: dt.timedelta = dt.timedelta(seconds=1)
    # Orders placed this long before the first audited run still count as possible targets (clocks differ).
    clock_skew: dt.timedelta = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Unfinished:
    subscription_id: str
    status: str
    customer_id: str | None
    reseller_id: str | None
    waiting_since: dt.datetime | None
    waited: dt.timedelta | None
    failure_message: str = ""


@dataclass(frozen=True)
class Reconciliation:
    findings: tuple[Finding, ...]
    checks: tuple[CheckOutcome, ...]
    unfinished: tuple[Unfinished, ...] = field(default=())


def reconcile(
    intents_by_sub: Mapping[str, Sequence[IntentRecord]],
    statuses: Mapping[str, SubscriptionStatus],
    platform: PlatformState | None,
    now: dt.datetime,
    options: ReconciliationOptions = ReconciliationOptions(),
    *,
    known_intents: Sequence[IntentRecord] = (),
    orders_since: dt.datetime | None = None,
) -> Reconciliation:
    """Every check over the audited subscriptions (``statuses`` is the scope after filters).

    ``known_intents``: every journaled intent, in or out of scope, so an order of another subscription
    is never taken for an orphan; ``orders_since``: orders older than the first run are not targets.
    """
    scoped = {sub: list(intents_by_sub.get(sub, ())) for sub in statuses}
    findings: list[Finding] = []
    checks: list[CheckOutcome] = []
    for outcome, found in (
        seat_check(scoped, statuses, platform),
        cancellation_check(scoped, platform, options.platform_time_resolution),
        duplicate_check(scoped, platform),
        orphan_check(scoped, platform, known_intents or [i for v in intents_by_sub.values() for i in v], orders_since),
    ):
        checks.append(outcome)
        findings.extend(found)
    unfinished, stuck = stuck_check(statuses, now, options.stuck_after)
    checks.append(CheckOutcome("stuck migrations", len(unfinished), len(stuck),
                               f"waiting {_duration(options.stuck_after)} or longer"))
    findings.extend(stuck)
    owners = {sub: (s.customer_id, s.reseller_id) for sub, s in statuses.items()}
    return Reconciliation(tuple(sort_findings(_owned(f, owners) for f in findings)), tuple(checks), tuple(unfinished))


def seat_check(
    scoped: Mapping[str, Sequence[IntentRecord]], statuses: Mapping[str, SubscriptionStatus], platform: PlatformState | None
) -> tuple[CheckOutcome, list[Finding]]:
    """Every completed target holds the seats journaled for it, and, in New Subscription mode, as many seats as
    the source holds now (or held when it was cancelled): a source that grew after its sales order and was then
    cancelled lost the difference, whatever the journal says."""
    name = "NCE seats equal CSP seats"
    if platform is None:
        return CheckOutcome(name, 0, 0, "not run: no platform state"), []
    findings: list[Finding] = []
    checked = unread = 0
    for sub, intents in scoped.items():
        migrated = statuses[sub].status == "migrated"
        source = platform.subscriptions.get(sub)
        for intent in intents:
            target_id = intent.target_subscription_id
            if intent.kind not in TARGET_KINDS or not intent.completed or intent.quantity is None or target_id is None:
                continue
            source_seats = _source_seats(intent, source)
            if not migrated and source_seats is None:
                continue
            target = platform.subscriptions.get(target_id)
            if target is None:
                if migrated and intent.customer_id in platform.customers_read:
                    checked += 1
                    findings.append(Finding(
                        AnomalyCode.TARGET_MISSING,
                        f"target subscription {target_id} ({intent.kind} order {intent.platform_order_id}) "
                        "is not on the platform",
                        sub, ids=_ids(target_subscription=target_id, order=intent.platform_order_id, license=intent.license),
                    ))
                elif migrated:
                    unread += 1
                continue
            if target.products is None:
                unread += 1
                continue
            checked += 1
            nce_seats = target.seats(intent.nce_license) if intent.nce_license else sum(q for _, q in target.products)
            if migrated and nce_seats != intent.quantity:
                findings.append(Finding(
                    AnomalyCode.SEAT_MISMATCH,
                    f"licence {intent.license}: {intent.quantity} CSP seats, {nce_seats} NCE seats "
                    f"on subscription {target_id}",
                    sub, ids=_ids(target_subscription=target_id, license=intent.license, nce_license=intent.nce_license,
                                  csp_seats=str(intent.quantity), nce_seats=str(nce_seats)),
                ))
            elif source is not None and source_seats is not None and source_seats != nce_seats:
                findings.append(_source_seats_finding(sub, intent, target_id, source.status, source_seats, nce_seats))
    note = f"{unread} target(s) without quantities read" if unread else ""
    return CheckOutcome(name, checked, len(findings), note), findings


def _source_seats(intent: IntentRecord, source: PlatformSubscription | None) -> int | None:
    """The seats of the intent's licence on its New Subscription source now; None when unknown or not comparable
    (in Switch Plan mode the source becomes the target, and its add-ons move to their own subscriptions)."""
    if intent.mode != "new-subscription" or intent.kind != "sales" or not intent.license:
        return None
    if source is None or source.products is None:
        return None
    return source.seats(intent.license)


def _source_seats_finding(
    sub: str, intent: IntentRecord, target_id: str, source_status: str, source_seats: int, nce_seats: int
) -> Finding:
    difference = source_seats - nce_seats
    ids = _ids(target_subscription=target_id, license=intent.license, nce_license=intent.nce_license,
               csp_seats=str(source_seats), nce_seats=str(nce_seats), migrated_seats=str(intent.quantity))
    if source_status in CANCELLED_STATUSES:
        message = (f"licence {intent.license}: the source held {source_seats} seats when it was cancelled, NCE "
                   f"subscription {target_id} holds {nce_seats} (the sales order was for {intent.quantity})")
        if difference > 0:
            message += f": {difference} seats lost"
            advice = (f"add the {difference} missing seats to NCE subscription {target_id} now; do not reinstate the "
                      f"source: its {nce_seats} migrated seats are live on NCE (reinstating bills them twice)")
        else:
            advice = (f"reduce NCE subscription {target_id} to {source_seats} seats with the reseller, or record "
                      "why the customer holds more; the source was correctly cancelled, do not reinstate it")
    else:
        message = (f"licence {intent.license}: the source now holds {source_seats} seats, NCE subscription {target_id} "
                   f"holds {nce_seats}: the seat count changed since the sales order (seat-count-changed)")
        change = f"add {difference}" if difference > 0 else f"remove {-difference}"
        advice = (f"do not cancel the source yet: align the seats first ({change} on NCE subscription {target_id}, "
                  f"or bring the source back to {nce_seats}), then m365move resume")
    return Finding(AnomalyCode.SEAT_MISMATCH, message, sub, ids=ids, advice=advice)


def cancellation_check(
    scoped: Mapping[str, Sequence[IntentRecord]], platform: PlatformState | None, resolution: dt.timedelta
) -> tuple[CheckOutcome, list[Finding]]:
    """A source is cancelled when the journal placed a cancellation or the platform has a live one on it.

    Judged from the final state across modes: the cancellation is early when one of the targets *of the mode
    that cancelled* had not completed before it. A later run in the other mode (a stale estate) whose orders
    the platform refused on the cancelled source does not make a correct cancellation early.
    """
    platform_cancellations: defaultdict[str, list[PlatformOrder]] = defaultdict(list)
    platform_orders: dict[str, PlatformOrder] = {}
    if platform is not None:
        for order in platform.orders:
            platform_orders[order.id] = order
            if order.type == "cancellation" and order.live and order.subscription_id:
                platform_cancellations[order.subscription_id].append(order)
    findings: list[Finding] = []
    checked = 0
    for sub, intents in scoped.items():
        journaled = [i for i in intents if i.kind == "cancellation" and (i.placing_at or i.platform_order_id)]
        on_platform = platform_cancellations.get(sub, [])
        if not journaled and not on_platform:
            continue
        checked += 1
        times = [i.placing_at for i in journaled if i.placing_at] + [o.created_at + resolution for o in on_platform
                                                                      if o.created_at]
        cancelled_at = min(times) if times else None
        modes = {i.mode for i in journaled}
        problems, still_open = _early_cancellation_problems(intents, cancelled_at, platform_orders, modes)
        if problems:
            order_ids = [i.platform_order_id for i in journaled if i.platform_order_id] + [o.id for o in on_platform]
            advice = None if still_open else (
                "the targets have completed since: the customer was without those licences in between and has them "
                "now; do not reinstate the source (it would bill the seats twice), record the gap in the sign-off")
            findings.append(Finding(
                AnomalyCode.CANCELLED_BEFORE_TARGETS_COMPLETED,
                f"cancelled{' at ' + _time(cancelled_at) if cancelled_at else ''} while " + "; ".join(problems),
                sub, ids=_ids(cancellation_orders=",".join(dict.fromkeys(order_ids))), advice=advice,
            ))
    return CheckOutcome("cancellations after every target completed", checked, len(findings)), findings


def _early_cancellation_problems(
    intents: Sequence[IntentRecord], cancelled_at: dt.datetime | None, platform_orders: Mapping[str, PlatformOrder],
    modes: Collection[str],
) -> tuple[list[str], bool]:
    """What had not completed when the source was cancelled, and whether any of it is still not completed.

    ``modes``: the modes whose journaled cancellation cancelled it (their targets are the ones that count);
    empty for a cancellation found on the platform only, where each licence needs one target completed in time.
    """
    targets = [i for i in intents if i.kind in TARGET_KINDS]
    relevant = [i for i in targets if i.mode in modes] if modes else targets
    if not relevant:
        return [f"no {' or '.join(sorted(modes)) + ' ' if modes else ''}target order was journaled"], True
    problems: list[str] = []
    still_open = False
    by_licence: defaultdict[str, list[IntentRecord]] = defaultdict(list)
    for target in relevant:
        by_licence[(target.license or "").upper()].append(target)
    for group in by_licence.values():
        found: list[tuple[str, bool]] = []
        for target in group:
            label = f"{target.kind} order {target.platform_order_id or '(not placed)'} for {target.license}"
            on_platform = platform_orders.get(target.platform_order_id or "")
            if not target.completed:
                found.append((f"{label} was {target.platform_status or target.state}", True))
            elif on_platform is not None and on_platform.status != "completed":
                found.append((f"{label} is {on_platform.status} on the platform", True))
            elif cancelled_at and target.finished_at and target.finished_at > cancelled_at:
                found.append((f"{label} completed only at {_time(target.finished_at)}", False))
            else:
                found = []  # this licence had a target completed in time
                break
        problems += [text for text, _ in found]
        still_open = still_open or any(open_ for _, open_ in found)
    return problems, still_open


def duplicate_check(
    scoped: Mapping[str, Sequence[IntentRecord]], platform: PlatformState | None
) -> tuple[CheckOutcome, list[Finding]]:
    """Two live targets for one (source, licence): across modes in the journal, or two orders on the platform."""
    evidence: defaultdict[tuple[str, str], dict[str, str]] = defaultdict(dict)  # order id (or key) -> how it reads
    for sub, intents in scoped.items():
        keys: defaultdict[str, list[IntentRecord]] = defaultdict(list)
        for intent in intents:
            if intent.kind in TARGET_KINDS and intent.license and intent.state != "planned" and not intent.failed:
                keys[intent.license.upper()].append(intent)
        for license, found in keys.items():
            if len(found) > 1:
                for i in found:
                    label = f"{i.mode} {i.kind} order {i.platform_order_id or '-'}"
                    evidence[(sub, license)][i.platform_order_id or i.key] = label
    if platform is not None:
        by_target: defaultdict[tuple[str, str], list[PlatformOrder]] = defaultdict(list)
        for order in platform.orders:
            parsed = parse_po_number(order.po_number)
            if order.type in CREATING_KINDS and order.live and parsed and parsed.subscription_id in scoped:
                by_target[(parsed.subscription_id, parsed.license.upper())].append(order)
        for target, orders in by_target.items():
            if len(orders) > 1:
                for o in orders:
                    evidence[target].setdefault(o.id, f"{o.type} order {o.id} ({o.status})")
    findings = [
        Finding(AnomalyCode.DUPLICATE_TARGET,
                f"licence {license} has {len(items)} live targets: " + ", ".join(items[k] for k in sorted(items)),
                sub, ids=_ids(license=license, orders=",".join(sorted(items))))
        for (sub, license), items in sorted(evidence.items())
    ]
    licences = sum(len({i.license for i in v if i.kind in TARGET_KINDS}) for v in scoped.values())
    return CheckOutcome("one target per licence", licences, len(findings)), findings


def orphan_check(
    scoped: Mapping[str, Sequence[IntentRecord]],
    platform: PlatformState | None,
    known_intents: Sequence[IntentRecord],
    since: dt.datetime | None,
) -> tuple[CheckOutcome, list[Finding]]:
    name = "every target has a journaled source"
    if platform is None:
        return CheckOutcome(name, 0, 0, "not run: no platform state"), []
    customers = {i.customer_id for intents in scoped.values() for i in intents}
    known_po = {po for i in known_intents for po in i.po_numbers}
    known_ids = {i.platform_order_id for i in known_intents if i.platform_order_id}
    findings: list[Finding] = []
    checked = 0
    for order in platform.orders:
        if order.type not in CREATING_KINDS or not order.live or order.customer_id not in customers:
            continue
        if since is not None and order.created_at is not None and order.created_at < since:
            continue
        checked += 1
        if order.id in known_ids or (order.po_number and order.po_number in known_po):
            continue
        parsed = parse_po_number(order.po_number)
        why = ("carries an m365move poNumber that no audited journal holds (another journal?)" if parsed
               else "was placed outside m365move")
        findings.append(Finding(
            AnomalyCode.ORPHAN_TARGET,
            f"{order.type} order {order.id} ({order.status}) {why}",
            parsed.subscription_id if parsed else None,
            order.customer_id,
            customer.reseller_id if (customer := platform.customers.get(order.customer_id or "")) else None,
            ids=_ids(order=order.id, po_number=order.po_number, created_subscription=order.subscription_id),
        ))
    return CheckOutcome(name, checked, len(findings), "orders since the first audited run"), findings


def stuck_check(
    statuses: Mapping[str, SubscriptionStatus], now: dt.datetime, threshold: dt.timedelta
) -> tuple[list[Unfinished], list[Finding]]:
    unfinished: list[Unfinished] = []
    findings: list[Finding] = []
    for sub, status in statuses.items():
        if status.status not in UNFINISHED:
            continue
        waited = now - status.last_activity if status.last_activity else None
        unfinished.append(Unfinished(sub, status.status, status.customer_id, status.reseller_id, status.last_activity, waited,
                                     status.failure_message))
        if waited is None or waited >= threshold:
            since = "since an unknown time" if waited is None else f"since {_time(status.last_activity)} ({_duration(waited)})"
            why = f"; the platform said: {status.failure_message}" if status.failure_message else ""
            findings.append(Finding(
                AnomalyCode.STUCK_MIGRATION, f"{status.status} {since}; last run {status.last_run_id}{why}", sub,
                ids=_ids(run=status.last_run_id),
            ))
    unfinished.sort(key=lambda u: (u.waiting_since is not None, u.waiting_since or now))
    return unfinished, findings


def _owned(finding: Finding, owners: Mapping[str, tuple[str | None, str | None]]) -> Finding:
    customer, reseller = owners.get(finding.subscription_id or "", (None, None))
    return Finding(finding.code, finding.message, finding.subscription_id, finding.customer_id or customer,
                   finding.reseller_id or reseller, finding.ids, finding.advice, finding.platform)


def _ids(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}


def _time(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "?"


def _duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "?"
    hours = value.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"
