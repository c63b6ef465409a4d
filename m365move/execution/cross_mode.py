"""One source, one mode: a source with orders of the other mode (in the journal or on the platform) is blocked.

A New Subscription run killed after its sales order, then a Switch Plan run on the same source, would
leave the customer with two NCE subscriptions for one CSP subscription. Before a run journals its
intents, every source it is about to migrate is checked for the other mode's keys: in the journal
(an order placed, being placed or completed) and on the platform (an order carrying such a key that is
open or completed: it created, or will create, an NCE subscription). Either blocks the source with
``migrated-in-other-mode``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from m365move.domain.orders import MigrationMode
from m365move.domain.reasons import Reason, ReasonCode
from m365move.domain.subscription_plan import SubscriptionPlan
from m365move.execution.intents import IntentState
from m365move.execution.journal import TARGET_FREE_STATUSES, Journal
from m365move.execution.platform_orders import PlatformOrders
from m365move.text.warning_summary import per_subscription

log = logging.getLogger(__name__)

# Orders of these statuses created nothing and never will: they do not block the other mode.
_HARMLESS_STATUSES = TARGET_FREE_STATUSES


def key_prefix(mode: MigrationMode, subscription_id: str) -> str:
    """What every key of ``mode`` for this source starts with (see ``PlannedOrder.key``)."""
    tag = "NS" if mode is MigrationMode.NEW_SUBSCRIPTION else "SP"
    return f"M365MOVE-{tag}-{subscription_id}-"


def other_mode(mode: MigrationMode) -> MigrationMode:
    return MigrationMode.SWITCH_PLAN if mode is MigrationMode.NEW_SUBSCRIPTION else MigrationMode.NEW_SUBSCRIPTION


def other_mode_blocks(
    mode: MigrationMode, plans: Iterable[SubscriptionPlan], journal: Journal, platform: PlatformOrders | None
) -> dict[str, Reason]:
    """Sources among ``plans`` that the other mode has started or finished, with the reason that says so;
    ``platform`` is m365move's orders on Commerce for the plans' customers (None: the journal only)."""
    plans = list(plans)
    other = other_mode(mode)
    blocks: dict[str, Reason] = {}
    ids = [p.subscription_id for p in plans]
    for intent in journal.intents_of(ids, other):
        started = intent.state in (IntentState.PLACING, IntentState.PLACED) or (
            intent.state is IntentState.FINAL and intent.platform_status not in _HARMLESS_STATUSES)
        if started and intent.subscription_id not in blocks:
            blocks[intent.subscription_id] = _reason(
                intent.subscription_id, other,
                f"the journal holds its {intent.kind.value} order {intent.platform_order_id or '(being placed)'} "
                f"({intent.platform_status or intent.state.value})")
    if platform is None:
        return blocks
    for plan in plans:
        if plan.subscription_id in blocks:
            continue
        for order in platform.starting_with(key_prefix(other, plan.subscription_id)):
            if order.status not in _HARMLESS_STATUSES:
                blocks[plan.subscription_id] = _reason(
                    plan.subscription_id, other,
                    f"Commerce holds order {order.id} ({order.type}, {order.status}, poNumber {order.po_number})")
                break
    return blocks


def other_mode_reason(subscription_id: str, other: MigrationMode, evidence: str) -> Reason:
    """``migrated-in-other-mode`` for this source, with the evidence (logged)."""
    return _reason(subscription_id, other, evidence)


def _reason(subscription_id: str, other: MigrationMode, evidence: str) -> Reason:
    log.warning("subscription %s was migrated (or is being migrated) in %s mode: %s", subscription_id,
                other.value, evidence, extra=per_subscription(ReasonCode.MIGRATED_IN_OTHER_MODE.value, subscription_id))
    return Reason(
        ReasonCode.MIGRATED_IN_OTHER_MODE,
        f"subscription {subscription_id} was migrated or is being migrated in {other.value} mode: {evidence}; "
        f"complete it in {other.value} mode (m365move resume) instead of starting the other mode",
        subject=(subscription_id,),
    )
