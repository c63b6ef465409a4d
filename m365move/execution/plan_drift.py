"""``migrate --plan``: right before a source's first order, is it still the subscription the plan was made for?

A reviewed plan is applied hours or days after it was made. Meanwhile someone may have switched the
subscription to another plan, moved it to another customer, changed its seats or suspended it: the orders
reviewed for it are then wrong (a change order that moves a subscription a second time, a sales order for
seats it no longer has). So each source is read again from the platform (one ``GET /subscriptions/{id}``)
right before its first order, and compared with what the plan file recorded of it (``source``: customer,
plan, status, licences and their seats). Any difference refuses that source with ``changed-since-plan``,
naming each difference: its orders are held in the journal and never sent; the others go on.

A held source stays held for later runs too (a plain ``migrate`` or ``resume`` does not place its orders);
a new plan reviewed and applied with ``migrate --plan`` re-checks it and releases it when it matches.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from m365move.domain.estate import Subscription
from m365move.domain.reasons import ReasonCode
from m365move.execution.intents import IntentState
from m365move.text.warning_summary import per_subscription

if TYPE_CHECKING:  # not imported by `plan --output`, which needs only SourceState (and no HTTP client)
    from m365move.commerce.simpleapi_client import SimpleApiClient
    from m365move.execution.journal import Journal

log = logging.getLogger(__name__)

CODE = ReasonCode.CHANGED_SINCE_PLAN.value


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a plan recorded of a source subscription, as the platform showed it: the fields its orders depend on."""

    customer_id: str
    plan_id: int | None
    status: str
    seats: Mapping[str, int]  # licence (MPN, upper-cased) -> seats, licences with seats only

    @classmethod
    def of(cls, subscription: Subscription) -> SourceState:
        return cls(subscription.customer_id, subscription.plan_id, subscription.status,
                   _seats((r.mpn, r.quantity) for r in subscription.resources))

    def to_json(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "plan_id": self.plan_id, "status": self.status,
                "seats": dict(sorted(self.seats.items()))}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> SourceState:
        seats = value.get("seats") or {}
        return cls(str(value["customer_id"]), None if value.get("plan_id") is None else int(value["plan_id"]),
                   str(value["status"]), {str(k).upper(): int(v) for k, v in seats.items()})


def _seats(pairs: Any) -> dict[str, int]:
    seats: dict[str, int] = {}
    for mpn, quantity in pairs:
        if quantity:
            seats[mpn.upper()] = seats.get(mpn.upper(), 0) + int(quantity)
    return seats


def differences(planned: SourceState, now: SourceState) -> list[str]:
    """Each field that differs, in words ("plan 5011 → 6004"); empty when the source is as planned."""
    found = []
    if now.customer_id != planned.customer_id:
        found.append(f"customer {planned.customer_id} → {now.customer_id}")
    if now.plan_id != planned.plan_id:
        found.append(f"plan {planned.plan_id} → {now.plan_id}")
    if now.status != planned.status:
        found.append(f"status {planned.status} → {now.status}")
    gone, added = set(planned.seats) - set(now.seats), set(now.seats) - set(planned.seats)
    if gone or added:
        found.append("licences " + ", ".join([*(f"-{m}" for m in sorted(gone)), *(f"+{m}" for m in sorted(added))]))
    for mpn in sorted(set(planned.seats) & set(now.seats)):
        if planned.seats[mpn] != now.seats[mpn]:
            found.append(f"seats of {mpn} {planned.seats[mpn]} → {now.seats[mpn]}")
    return found


def refusal(subscription_id: str, found: list[str]) -> str:
    """The hold reason journaled on the source's orders and shown in its results row."""
    return (f"{CODE}: subscription {subscription_id} changed on the platform since the plan was reviewed "
            f"({'; '.join(found)}); nothing was placed for it: plan again, review, then `migrate --plan`")


class PlanDriftCheck:
    """The executor's check before a source's first order (``MigrationExecutor(before_placing=...)``)."""

    def __init__(self, client: SimpleApiClient, journal: Journal, planned: Mapping[str, SourceState]) -> None:
        self.client = client
        self.journal = journal
        self.planned = planned

    def __call__(self, work: Any) -> bool:
        """True when the source may go on; False after holding its unsent orders with the refusal."""
        planned = self.planned.get(work.subscription_id)
        if planned is None:
            return True  # carried on from the journal (not in this plan): its own run decided it
        if any(i.phase == 1 and i.state is not IntentState.PLANNED for i in work.intents):
            return True  # its orders are under way: the plan is being applied (seat_check guards the cancellation)
        unsent = [i for i in work.intents if i.state is IntentState.PLANNED]
        if not unsent:
            return True
        from m365move.commerce.errors import CommerceNotFound

        try:
            info = self.client.get_subscription(work.subscription_id)
            now = SourceState(str(info.customer_id or ""), info.plan_id, info.status,
                              _seats((p.mpn, p.quantity) for p in info.products))
            found = differences(planned, now)
        except CommerceNotFound:
            found = ["the subscription no longer exists"]
        reason = refusal(work.subscription_id, found) if found else None
        for intent in unsent:
            if intent.hold_reason != reason:
                self.journal.hold(intent.key, reason)
                work.replace(replace(intent, hold_reason=reason))
        if reason:
            log.warning("%s", reason, extra=per_subscription(CODE, work.subscription_id))
        return reason is None
