"""The plan for one source subscription, and for a whole run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from m365move.domain.orders import MigrationMode, PlannedOrder
from m365move.domain.reasons import Decision, PlanWarning, Reason


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    subscription_id: str
    reseller_id: str
    customer_id: str
    source_plan_id: int
    decision: Decision
    reasons: tuple[Reason, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()
    orders: tuple[PlannedOrder, ...] = ()


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    mode: MigrationMode
    subscriptions: tuple[SubscriptionPlan, ...]

    def summary(self) -> dict[str, int]:
        counts = Counter(s.decision for s in self.subscriptions)
        return {d.value: counts.get(d, 0) for d in Decision}

    def migrating(self) -> tuple[SubscriptionPlan, ...]:
        return tuple(s for s in self.subscriptions if s.decision is Decision.MIGRATE)
