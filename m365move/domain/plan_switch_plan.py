"""Switch Plan mode (DESIGN §2.3): a change order to the upgrade-path plan, then add-on migration orders."""

from __future__ import annotations

from m365move.domain.catalog import ResourceRole, ServicePlan
from m365move.domain.estate import Estate, Subscription
from m365move.domain.orders import OrderKind, PlannedOrder
from m365move.domain.plan_new_subscription import license_need
from m365move.domain.reasons import PlanWarning, Reason
from m365move.domain.scope_rules import licensed_resources
from m365move.domain.target_plans import TargetPlanFinder


def plan_switch_plan_orders(
    estate: Estate, subscription: Subscription, plan: ServicePlan, finder: TargetPlanFinder
) -> tuple[list[PlannedOrder], list[Reason], list[PlanWarning]]:
    """The change order first; migration orders carry the source's start and expiration dates."""
    orders: list[PlannedOrder] = []
    problems: list[Reason] = []
    warnings: list[PlanWarning] = []
    licences = licensed_resources(subscription, plan)
    # The skip rules guarantee exactly one base licence; place it first whatever the resource order.
    licences.sort(key=lambda item: item[2] is not ResourceRole.BASE)
    for csp_license, quantity, role in licences:
        need = license_need(estate, subscription, csp_license)
        if isinstance(need, Reason):
            problems.append(need)
            continue
        if role is ResourceRole.BASE:
            target = finder.upgrade_path_target(need, plan)
        else:
            target, found_warnings = finder.new_subscription_target(need, plan)
            warnings.extend(found_warnings)
        if isinstance(target, Reason):
            problems.append(target)
            continue
        is_base = role is ResourceRole.BASE
        orders.append(
            PlannedOrder(
                kind=OrderKind.CHANGE if is_base else OrderKind.MIGRATION,
                license=csp_license,
                nce_license=need.nce_license,
                plan_id=target.plan_id,
                quantity=quantity,
                subscription_period=str(need.subscription_period),
                # The change order keeps the dates (from_old_start_date); add-ons copy them.
                start_date=None if is_base else subscription.start_date,
                expiration_date=None if is_base else subscription.expiration_date,
                choice=target.choice,
                candidates=target.candidates,
            )
        )
    return orders, problems, warnings
