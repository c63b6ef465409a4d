"""Plans a migration run: scope, selection, decisions and orders for every source subscription."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence, Set
from dataclasses import dataclass

from m365move import progress
from m365move.domain.auto_renew import auto_renew_warnings
from m365move.domain.estate import Estate, Subscription
from m365move.domain.licenses import PlansMapping
from m365move.domain.microsoft_migrations import partner_center_reasons
from m365move.domain.orders import MigrationMode, PlannedOrder
from m365move.domain.plan_new_subscription import plan_new_subscription_orders
from m365move.domain.plan_switch_plan import plan_switch_plan_orders
from m365move.domain.reasons import Decision, PlanWarning, Reason
from m365move.domain.scope_rules import account_blockers, skip_reasons
from m365move.domain.subscription_plan import MigrationPlan, SubscriptionPlan
from m365move.domain.target_plans import TargetPlanFinder
from m365move.memory.cyclic_gc import cyclic_gc_paused


@dataclass(frozen=True, slots=True)
class Selection:
    """Which source subscriptions a run covers; None means no filter on that dimension."""

    subscription_ids: frozenset[str] | None = None
    reseller_ids: frozenset[str] | None = None
    customer_ids: frozenset[str] | None = None
    expiration_date: dt.date | None = None

    def selects(self, estate: Estate, subscription: Subscription) -> bool:
        if self.subscription_ids is not None and subscription.id not in self.subscription_ids:
            return False
        if self.customer_ids is not None and subscription.customer_id not in self.customer_ids:
            return False
        if self.reseller_ids is not None and estate.reseller_of(subscription).id not in self.reseller_ids:
            return False
        return self.expiration_date is None or subscription.expiration_date == self.expiration_date


def source_subscriptions(estate: Estate, selection: Selection) -> list[Subscription]:
    """Subscriptions on CSP plans that the selection covers (NCE-plan subscriptions are targets, not sources)."""
    catalog = estate.catalog
    return [
        s for s in estate.subscriptions
        if not catalog[s.plan_id].is_nce and selection.selects(estate, s)
    ]


def plan_migration(
    estate: Estate,
    mode: MigrationMode,
    *,
    plans_mapping: PlansMapping | None = None,
    selection: Selection | None = None,
    already_migrated: Set[str] = frozenset(),
    today: dt.date | None = None,
) -> MigrationPlan:
    """Decide every selected source subscription; deterministic for the same input. ``today`` dates the
    expiry of new targets in `auto-renew-off` warnings (without it they say "at the end of its first term")."""
    finder = TargetPlanFinder(estate.catalog, plans_mapping)
    with cyclic_gc_paused():
        plans = [
            plan_subscription(estate, mode, s, finder, already_migrated, today)
            for s in progress.iterate(source_subscriptions(estate, selection or Selection()), "subscriptions planned")
        ]
    return MigrationPlan(mode, tuple(plans))


def plan_subscription(
    estate: Estate,
    mode: MigrationMode,
    subscription: Subscription,
    finder: TargetPlanFinder,
    already_migrated: Set[str] = frozenset(),
    today: dt.date | None = None,
) -> SubscriptionPlan:
    """One subscription's decision: skip rules first, then every blocker, else its orders."""
    plan = estate.catalog[subscription.plan_id]
    reseller_id = estate.reseller_of(subscription).id
    skips = skip_reasons(subscription, plan, mode, already_migrated)
    # Partner Center's view (Microsoft-led migrations): a migrated source is skipped, a pending one blocked.
    migrated, pending = partner_center_reasons(estate.partner_center, subscription.id)
    skips.extend(migrated)
    if skips:
        return _decided(subscription, reseller_id, plan.id, Decision.SKIP, skips)
    blockers = account_blockers(estate, subscription) + pending
    if mode is MigrationMode.NEW_SUBSCRIPTION:
        orders, problems, warnings = plan_new_subscription_orders(estate, subscription, plan, finder)
    else:
        orders, problems, warnings = plan_switch_plan_orders(estate, subscription, plan, finder)
    blockers.extend(problems)
    if not subscription.auto_renew:
        # A warning, never a blocker: the targets renew as the source does (decision record auto-renew-off-fate).
        warnings = [*warnings, *auto_renew_warnings(estate.catalog, orders, subscription.expiration_date, today)]
    if blockers:
        return _decided(subscription, reseller_id, plan.id, Decision.BLOCKED, blockers, warnings)
    return _decided(subscription, reseller_id, plan.id, Decision.MIGRATE, (), warnings, orders)


def _decided(
    subscription: Subscription,
    reseller_id: str,
    plan_id: int,
    decision: Decision,
    reasons: Sequence[Reason] = (),
    warnings: Sequence[PlanWarning] = (),
    orders: Sequence[PlannedOrder] = (),
) -> SubscriptionPlan:
    return SubscriptionPlan(
        subscription.id, reseller_id, subscription.customer_id, plan_id,
        decision, tuple(reasons), tuple(warnings), tuple(orders),
    )
