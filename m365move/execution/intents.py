"""An intent: one order the executor means to place, with its deterministic idempotency key.

Intents are journaled before anything is placed, so a resume works from what was decided then,
not from a re-plan of a platform that the first run has already changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from m365move.domain.orders import MigrationMode, OrderKind, PlannedOrder
from m365move.domain.subscription_plan import SubscriptionPlan


class IntentState(str, Enum):
    PLANNED = "planned"  # journaled, never sent
    PLACING = "placing"  # written just before POST: the order may or may not exist on the platform
    PLACED = "placed"  # the platform has it; its status is not final yet
    FINAL = "final"  # completed, error or cancelled on the platform


# First-phase orders must all complete before the second phase is placed.
SECOND_PHASE_KINDS = frozenset({OrderKind.CANCELLATION, OrderKind.MIGRATION})


@dataclass(frozen=True, slots=True)  # slots: a 100k run holds 300k of them
class Intent:
    key: str
    mode: MigrationMode
    subscription_id: str
    customer_id: str
    reseller_id: str
    seq: int
    kind: OrderKind
    license: str | None
    nce_license: str | None
    plan_id: int | None
    quantity: int | None
    subscription_period: str | None
    start_date: dt.date | None
    expiration_date: dt.date | None
    attributes: dict[str, str] = field(default_factory=dict)
    # Mutable progress, as journaled.
    state: IntentState = IntentState.PLANNED
    platform_order_id: str | None = None
    platform_status: str | None = None
    created_subscription_id: str | None = None
    # Raised when an order that ended in error is placed again; part of the poNumber from attempt 2 on.
    attempt: int = 1
    # The run that marked it "placing" (a journal shared by several workers) and the claim's generation, the
    # fencing token every claim raises (docs/execution-protocol.md).
    claimed_by: str | None = None
    claim_generation: int = 0
    # The platform's own words when the order was refused or ended in error.
    failure_message: str | None = None
    # Why a second-phase order is held back (seat-count-changed: ...), None when it may be placed.
    hold_reason: str | None = None
    # A cancellation: the source's seats read right before it was placed (JSON, licence -> seats).
    source_seats: str | None = None

    @property
    def po_number(self) -> str:
        """What the order carries on the platform: the key, plus the attempt once an earlier one failed."""
        return self.key if self.attempt == 1 else f"{self.key}-A{self.attempt}"

    @property
    def phase(self) -> int:
        return 2 if self.kind in SECOND_PHASE_KINDS else 1

    @property
    def completed(self) -> bool:
        return self.state is IntentState.FINAL and self.platform_status == "completed"

    @property
    def failed(self) -> bool:
        return self.state is IntentState.FINAL and self.platform_status != "completed"


def intents_for(
    mode: MigrationMode, plan: SubscriptionPlan, attributes: dict[str, str] | None = None
) -> list[Intent]:
    """The intents of one migrating subscription, in placing order."""
    return [
        _intent(mode, plan, seq, order, attributes or {})
        for seq, order in enumerate(plan.orders)
    ]


def _intent(mode: MigrationMode, plan: SubscriptionPlan, seq: int, order: PlannedOrder, attributes: dict[str, str]) -> Intent:
    return Intent(
        key=order.key(mode, plan.subscription_id),
        mode=mode,
        subscription_id=plan.subscription_id,
        customer_id=plan.customer_id,
        reseller_id=plan.reseller_id,
        seq=seq,
        kind=order.kind,
        license=order.license,
        nce_license=order.nce_license,
        plan_id=order.plan_id,
        quantity=order.quantity,
        subscription_period=order.subscription_period,
        start_date=order.start_date,
        expiration_date=order.expiration_date,
        attributes=dict(attributes),
    )
