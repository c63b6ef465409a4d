"""New Subscription mode (DESIGN §2.2): one sales order per CSP licence, then the cancellation."""

from __future__ import annotations

from m365move.domain.catalog import ServicePlan
from m365move.domain.estate import Estate, Subscription
from m365move.domain.orders import OrderKind, PlannedOrder, TargetPlan
from m365move.domain.reasons import PlanWarning, Reason, ReasonCode
from m365move.domain.scope_rules import licensed_resources
from m365move.domain.target_plans import LicenseNeed, TargetPlanFinder


def license_need(estate: Estate, subscription: Subscription, csp_license: str) -> LicenseNeed | Reason:
    """What a CSP licence needs from its target, or `unmapped-license`."""
    nce = estate.license_mapping.nce_for(csp_license)
    if nce is None:
        return Reason(
            ReasonCode.UNMAPPED_LICENSE,
            f"CSP offer {csp_license} has no licence mapping row; add it to the licence mapping CSV",
            csp_license,
            (csp_license,),
        )
    return LicenseNeed(
        csp_license,
        nce,
        subscription.billing_period,
        subscription.subscription_period,
        estate.reseller_of(subscription).id,
    )


def plan_new_subscription_orders(
    estate: Estate, subscription: Subscription, plan: ServicePlan, finder: TargetPlanFinder
) -> tuple[list[PlannedOrder], list[Reason], list[PlanWarning]]:
    """Sales orders then the cancellation, or every licence's most specific problem."""
    orders: list[PlannedOrder] = []
    problems: list[Reason] = []
    warnings: list[PlanWarning] = []
    for csp_license, quantity, _role in licensed_resources(subscription, plan):
        need = license_need(estate, subscription, csp_license)
        if isinstance(need, Reason):
            problems.append(need)
            continue
        target, found_warnings = finder.new_subscription_target(need, plan)
        warnings.extend(found_warnings)
        if isinstance(target, Reason):
            problems.append(target)
            continue
        orders.append(_licence_order(OrderKind.SALES, need, quantity, target))
    orders.append(PlannedOrder(OrderKind.CANCELLATION))
    return orders, problems, warnings


def _licence_order(kind: OrderKind, need: LicenseNeed, quantity: int, target: TargetPlan) -> PlannedOrder:
    return PlannedOrder(
        kind=kind,
        license=need.csp_license,
        nce_license=need.nce_license,
        plan_id=target.plan_id,
        quantity=quantity,
        subscription_period=str(need.subscription_period),
        choice=target.choice,
        candidates=target.candidates,
    )
