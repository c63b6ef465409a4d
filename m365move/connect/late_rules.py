"""The sweep's plan with Partner Center's late rules applied (``m365move/domain/migration_rules.py``).

A CSP item the domain planner would migrate is blocked instead when Microsoft would refuse its migration only
at the create, or after it: a business offer over 300 seats for the customer, an offer that needs a manual
purchase and cancellation, the last 24 hours of the legacy term. The operator sees the reason in the sweep's
plan (a dry run) before any purchase request exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import replace

from m365move.connect.catalog_mapping import MappedEstate
from m365move.connect.payloads import param_value
from m365move.domain.migration_rules import MigrationCandidate, late_rule_reasons
from m365move.domain.orders import OrderKind
from m365move.domain.reasons import Decision
from m365move.domain.subscription_plan import MigrationPlan


def apply_late_rules(plan: MigrationPlan, mapped: MappedEstate, *, manual_offers: frozenset[str] = frozenset(),
                     requested: Collection[str] = (), now: dt.datetime | None = None) -> MigrationPlan:
    """``plan`` with every migrating subscription that a late rule refuses turned into ``blocked``.

    ``requested``: subscriptions whose purchase exists already; they still count toward the customer's seats but
    are never blocked (their migration is under way, and the CSP asset's cancellation must still follow it).
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    candidates = []
    for subscription_plan in plan.migrating():
        asset, item = mapped.sources[subscription_plan.subscription_id]
        order = next((o for o in subscription_plan.orders if o.kind is OrderKind.SALES), None)
        if order is None:
            continue
        # The Microsoft customer (tenant): the cap counts across every asset of the customer the sweep sees.
        customer = param_value(asset, "ms_customer_id") or subscription_plan.customer_id
        candidates.append(MigrationCandidate(
            subscription_plan.subscription_id, str(customer).lower(), str(item.get("mpn") or item["id"]),
            order.nce_license, int(order.quantity or 0), _term_end(param_value(asset, "commitment_end_date"))))
    reasons = {k: v for k, v in late_rule_reasons(candidates, now=now, manual_offers=manual_offers).items()
               if k not in requested}
    if not reasons:
        return plan
    return replace(plan, subscriptions=tuple(
        replace(s, decision=Decision.BLOCKED, reasons=(*s.reasons, *reasons[s.subscription_id]), orders=())
        if s.subscription_id in reasons else s for s in plan.subscriptions))


def _term_end(text: str | None) -> dt.datetime | None:
    """The asset's ``commitment_end_date`` (a date or a date and time) as a UTC time; a bare date is its midnight."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
