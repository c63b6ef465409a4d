"""The ``m365move plan --format json`` contract (../shared/contracts/plan.schema.json)."""

from __future__ import annotations

from typing import Any

from m365move.domain.orders import PlannedOrder
from m365move.domain.preflight import Finding
from m365move.domain.subscription_plan import MigrationPlan, SubscriptionPlan


def plan_to_json(plan: MigrationPlan, findings: list[Finding]) -> dict[str, Any]:
    return {
        "mode": plan.mode.value,
        "summary": plan.summary(),
        "findings": [finding_to_json(f) for f in findings],
        "subscriptions": [subscription_to_json(s) for s in plan.subscriptions],
    }


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "subjects": list(finding.subjects),
        "affected_subscriptions": finding.affected_subscriptions,
        "message": finding.message,
    }


def subscription_to_json(sub: SubscriptionPlan) -> dict[str, Any]:
    return {
        "subscription_id": sub.subscription_id,
        "reseller_id": sub.reseller_id,
        "customer_id": sub.customer_id,
        "source_plan_id": sub.source_plan_id,
        "decision": sub.decision.value,
        "reasons": [{"code": r.code.value, "license": r.license, "message": r.message} for r in sub.reasons],
        "warnings": [{"code": w.code.value, "license": w.license, "message": w.message} for w in sub.warnings],
        "orders": [order_to_json(o) for o in sub.orders],
    }


def order_to_json(order: PlannedOrder) -> dict[str, Any]:
    return {
        "kind": order.kind.value,
        "license": order.license,
        "nce_license": order.nce_license,
        "plan_id": order.plan_id,
        "quantity": order.quantity,
        "subscription_period": order.subscription_period,
        "start_date": order.start_date.isoformat() if order.start_date else None,
        "expiration_date": order.expiration_date.isoformat() if order.expiration_date else None,
        "choice": order.choice.value if order.choice else None,
        "candidates": list(order.candidates),
    }
