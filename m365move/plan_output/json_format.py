"""The ``m365move plan --format json`` contract (its JSON Schema is tests/contracts/plan.schema.json)."""

from __future__ import annotations

from typing import IO, Any

import orjson

from m365move.domain.orders import PlannedOrder
from m365move.domain.preflight import Finding
from m365move.domain.price_comparison import PriceReport
from m365move.domain.reasons import PlanWarning
from m365move.domain.subscription_plan import MigrationPlan, SubscriptionPlan
from m365move.memory.cyclic_gc import cyclic_gc_paused
from m365move.plan_output.price_fields import pricing_to_json, totals_to_json


def plan_to_json(plan: MigrationPlan, findings: list[Finding], prices: PriceReport | None = None) -> dict[str, Any]:
    """The plan contract; with ``prices``, the price keys per subscription and ``price_totals`` too."""
    document = {
        "mode": plan.mode.value,
        "summary": plan.summary(),
        "findings": [finding_to_json(f) for f in findings],
        "subscriptions": [subscription_to_json(s, prices) for s in plan.subscriptions],
    }
    if prices is not None:
        document.update(totals_to_json(prices))
    return document


# Subscriptions are encoded this many at a time: the output never exists twice in memory as a whole.
_CHUNK = 2000


def write_plan_json(plan: MigrationPlan, findings: list[Finding], handle: IO[str],
                    prices: PriceReport | None = None) -> None:
    """The same document as ``plan_to_json``, written with orjson: one finding and one subscription per
    line (easy to grep and to diff; a 100k plan is written in a fraction of a second)."""
    with cyclic_gc_paused():
        handle.write('{\n "mode": ' + _text(plan.mode.value) + ',\n "summary": ' + _text(plan.summary()))
        if prices is not None:
            for key, value in totals_to_json(prices).items():
                handle.write(f',\n "{key}": ' + _text(value))
        handle.write(',\n "findings": [' + ",".join("\n  " + _text(finding_to_json(f)) for f in findings) + "\n ]")
        handle.write(',\n "subscriptions": [')
        subscriptions = plan.subscriptions
        for start in range(0, len(subscriptions), _CHUNK):
            chunk = subscriptions[start : start + _CHUNK]
            handle.write(("," if start else "")
                         + ",".join("\n  " + _text(subscription_to_json(s, prices)) for s in chunk))
        handle.write("\n ]\n}\n")


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "subjects": list(finding.subjects),
        "affected_subscriptions": finding.affected_subscriptions,
        "message": finding.message,
    }


def subscription_to_json(sub: SubscriptionPlan, prices: PriceReport | None = None) -> dict[str, Any]:
    document = {
        "subscription_id": sub.subscription_id,
        "reseller_id": sub.reseller_id,
        "customer_id": sub.customer_id,
        "source_plan_id": sub.source_plan_id,
        "decision": sub.decision.value,
        "reasons": [{"code": r.code.value, "license": r.license, "message": r.message} for r in sub.reasons],
        "warnings": [warning_to_json(w) for w in sub.warnings],
        "orders": [order_to_json(o) for o in sub.orders],
    }
    if prices is not None:
        document.update(pricing_to_json(prices.of(sub.subscription_id)))
    return document


def warning_to_json(warning: PlanWarning) -> dict[str, Any]:
    """A warning; `auto-renew-off` adds ``fate`` (cancelled-at-expiry, extended-service-term, ends-at-expiry)
    and ``fate_date`` (the target's expiry, null when not known yet)."""
    document: dict[str, Any] = {"code": warning.code.value, "license": warning.license, "message": warning.message}
    if warning.fate is not None:
        document["fate"] = warning.fate
        document["fate_date"] = warning.fate_date.isoformat() if warning.fate_date else None
    return document


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
