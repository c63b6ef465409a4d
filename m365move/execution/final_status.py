"""A source subscription's final status in a run, from its journaled intents (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Sequence

from m365move.domain.reasons import Decision
from m365move.execution.intents import Intent

FINAL_STATUSES = ("migrated", "partially-migrated", "failed", "skipped", "blocked", "pending")


def final_status(decision: Decision, intents: Sequence[Intent]) -> str:
    """migrated: every order completed; partially-migrated: orders exist on the platform but some ended
    in error; failed: an order was refused and none exists; pending: nothing failed, something is unfinished."""
    if decision is Decision.SKIP:
        return "skipped"
    if decision is Decision.BLOCKED or any(i.hold_reason and not i.completed for i in intents):
        return "blocked"  # by the plan, or by the platform while running (a cancellation held back)
    if intents and all(i.completed for i in intents):
        return "migrated"
    if any(i.failed for i in intents):
        return "partially-migrated" if any(i.platform_order_id for i in intents) else "failed"
    return "pending"
