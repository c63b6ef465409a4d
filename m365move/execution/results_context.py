"""The columns of a results row that name things for a person: customer, reseller, source and target plans.

Ids come from the plan (or, for a source only the journal knows, from its intents); names from the
estate. Target plans are the plans of the orders that create NCE subscriptions (sales, change, migration),
in placing order, separated by ``;``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from m365move.domain.estate import Estate
from m365move.domain.orders import OrderKind
from m365move.domain.subscription_plan import SubscriptionPlan
from m365move.execution.intents import Intent

CONTEXT_COLUMNS = (
    "customer_id", "customer_name", "reseller_id", "reseller_name",
    "source_plan_id", "source_plan_name", "target_plan_ids", "target_plan_names",
)
_TARGET_KINDS = frozenset({OrderKind.SALES, OrderKind.CHANGE, OrderKind.MIGRATION})


def context_columns(estate: Estate, plan: SubscriptionPlan | None, intents: Sequence[Intent],
                    source_plans: Mapping[str, int]) -> dict[str, str]:
    """The named columns of one source subscription's row (empty where nothing is known)."""
    customer_id = plan.customer_id if plan else (intents[0].customer_id if intents else "")
    reseller_id = plan.reseller_id if plan else (intents[0].reseller_id if intents else "")
    source_plan_id = plan.source_plan_id if plan else source_plans.get(intents[0].subscription_id) if intents else None
    if plan is not None and plan.orders:
        targets = [o.plan_id for o in plan.orders if o.kind in _TARGET_KINDS and o.plan_id is not None]
    else:
        targets = [i.plan_id for i in intents if i.kind in _TARGET_KINDS and i.plan_id is not None]
    customer = estate.customers.get(customer_id)
    reseller = estate.resellers.get(reseller_id)
    return {
        "customer_id": customer_id,
        "customer_name": customer.name if customer else "",
        "reseller_id": reseller_id,
        "reseller_name": reseller.name if reseller else "",
        "source_plan_id": "" if source_plan_id is None else str(source_plan_id),
        "source_plan_name": _plan_name(estate, source_plan_id),
        "target_plan_ids": ";".join(str(t) for t in targets),
        "target_plan_names": ";".join(_plan_name(estate, t) for t in targets),
    }


def _plan_name(estate: Estate, plan_id: int | None) -> str:
    plan = estate.catalog.get(plan_id) if plan_id is not None else None
    return plan.name if plan else ""
