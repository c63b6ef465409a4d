"""Skip rules (out of scope by rule) and account-level blockers, shared by both planners."""

from __future__ import annotations

from collections.abc import Set

from m365move.domain.catalog import APP_CSP_CONNECT_EXTENSION, ResourceRole, ServicePlan
from m365move.domain.estate import Estate, Subscription
from m365move.domain.orders import MigrationMode
from m365move.domain.reasons import Reason, ReasonCode


def licensed_resources(
    subscription: Subscription, plan: ServicePlan
) -> list[tuple[str, int, ResourceRole]]:
    """The subscription's CSP licences with quantity > 0 as (offer id, quantity, role)."""
    result = []
    for resource in subscription.resources:
        role = plan.role_of(resource.mpn)
        if role is not None and role.is_license and resource.quantity > 0:
            result.append((resource.mpn, resource.quantity, role))
    return result


def skip_reasons(
    subscription: Subscription, plan: ServicePlan, mode: MigrationMode, already_migrated: Set[str]
) -> list[Reason]:
    """Every skip code that applies; when any does, the subscription is skipped and nothing else is checked."""
    reasons: list[Reason] = []
    if not subscription.active:
        reasons.append(Reason(ReasonCode.NOT_ACTIVE, f"status is {subscription.status}, not active"))
    if subscription.trial:
        reasons.append(Reason(ReasonCode.TRIAL, "trial subscription"))
    licences = licensed_resources(subscription, plan)
    if not licences:
        reasons.append(
            Reason(ReasonCode.NO_CSP_LICENSE, "no base or add-on licence with quantity > 0")
        )
    others = [
        r.mpn for r in subscription.resources
        if r.quantity > 0 and plan.role_of(r.mpn) is ResourceRole.OTHER
    ]
    if others:
        reasons.append(
            Reason(
                ReasonCode.MIXED_RESOURCES,
                f"holds non-licence resources {', '.join(others)} with quantity > 0",
            )
        )
    if mode is MigrationMode.SWITCH_PLAN:
        if plan.application == APP_CSP_CONNECT_EXTENSION:
            reasons.append(
                Reason(
                    ReasonCode.SWITCH_UNSUPPORTED,
                    "Switch Plan mode is not supported for csp_connect_extension; use New Subscription mode",
                )
            )
        bases = [mpn for mpn, _, role in licences if role is ResourceRole.BASE]
        if len(bases) != 1:
            reasons.append(
                Reason(
                    ReasonCode.BASE_LICENSE_COUNT,
                    f"Switch Plan needs exactly one base licence with quantity > 0, found {len(bases)}",
                )
            )
    if subscription.id in already_migrated:
        reasons.append(Reason(ReasonCode.ALREADY_MIGRATED, "the journal shows it fully migrated"))
    return reasons


def account_blockers(estate: Estate, subscription: Subscription) -> list[Reason]:
    """Blockers of the reseller, the customer and open platform orders (reported before licences)."""
    reasons: list[Reason] = []
    reseller = estate.reseller_of(subscription)
    if not reseller.tier_config_active:
        reasons.append(
            Reason(
                ReasonCode.TIER_CONFIG_INCOMPLETE,
                f"tier config of reseller {reseller.id} ({reseller.name}) is {reseller.tier_config}, "
                "not active; complete it in Connect",
                subject=(reseller.id,),
            )
        )
    customer = estate.customer_of(subscription)
    if not customer.mca_accepted:
        reasons.append(
            Reason(
                ReasonCode.MCA_NOT_ACCEPTED,
                f"customer {customer.id} ({customer.name}) has not accepted the Microsoft Customer "
                "Agreement; have them accept it",
                subject=(customer.id,),
            )
        )
    if subscription.id in estate.open_order_subscriptions:
        reasons.append(
            Reason(
                ReasonCode.INCOMPLETE_ORDER,
                f"subscription {subscription.id} has an order still open; let it finish or cancel it",
                subject=(subscription.id,),
            )
        )
    return reasons
