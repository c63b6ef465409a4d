"""Planned orders and how each target plan was chosen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

# SimpleAPI order statuses after which an order never changes (submitted and processing are open).
FINAL_ORDER_STATUSES = frozenset({"completed", "error", "cancelled"})


class MigrationMode(str, Enum):
    NEW_SUBSCRIPTION = "new-subscription"
    SWITCH_PLAN = "switch-plan"


class OrderKind(str, Enum):
    SALES = "sales"
    CHANGE = "change"
    MIGRATION = "migration"
    CANCELLATION = "cancellation"


class Choice(str, Enum):
    """How a target plan was chosen (DESIGN §2.4)."""

    LARGEST_ID = "largest-id"
    PLANS_MAPPING = "plans-mapping"
    UPGRADE_PATH = "upgrade-path"


@dataclass(frozen=True, slots=True)
class TargetPlan:
    """A chosen target plan; ``candidates`` lists every qualifying plan, largest id first."""

    plan_id: int
    choice: Choice
    candidates: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """One order to place, in placing order; the cancellation carries no licence or plan."""

    kind: OrderKind
    license: str | None = None
    nce_license: str | None = None
    plan_id: int | None = None
    quantity: int | None = None
    subscription_period: str | None = None
    start_date: dt.date | None = None
    expiration_date: dt.date | None = None
    choice: Choice | None = None
    candidates: tuple[int, ...] = ()

    def key(self, mode: MigrationMode, subscription_id: str) -> str:
        """Deterministic idempotency key: mode, source subscription, licence and order kind."""
        mode_tag = "NS" if mode is MigrationMode.NEW_SUBSCRIPTION else "SP"
        return f"M365MOVE-{mode_tag}-{subscription_id}-{self.kind.value}-{self.license or 'SOURCE'}"
