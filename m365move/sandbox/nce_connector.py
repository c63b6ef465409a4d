"""The sandbox's stand-in for Commerce's Microsoft NCE connector: what a completed Commerce order does in Partner Center.

On the real platforms a Commerce order on a new-commerce plan is provisioned by the Microsoft connector: a sales or
migration order (and a switch to an NCE plan) buys a new-commerce subscription in Partner Center, and a cancellation
order cancels the Microsoft subscription behind the Commerce one. Partner Center refuses to cancel a new-commerce
subscription after its ``cancellationAllowedUntilDate`` (168 hours after purchase), so such a cancellation order ends
in ``error`` with Partner Center's words; a cancelled legacy subscription is suspended.

The Commerce subscription names its Microsoft subscription in the custom attributes ``MicrosoftSubscriptionId`` and
``MicrosoftTenantId`` (the project's convention, ``domain.microsoft_migrations``); the connector writes them on the
subscriptions it provisions. The customer's tenant is the one its other subscriptions name; a customer naming none,
or one Partner Center does not know, is provisioned without a link (the new subscription names no Microsoft
subscription).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from m365move.domain.microsoft_migrations import SUBSCRIPTION_ATTRIBUTE, TENANT_ATTRIBUTE
from m365move.sandbox.partnercenter_state import PartnerCenterProblem, PartnerCenterState


class CancellationRefused(Exception):
    """Partner Center refused the cancellation (e.g. its window has passed): the Commerce order ends in error."""


class NceConnector:
    """Provisions Commerce's new-commerce subscriptions in the sandbox's Partner Center."""

    def __init__(self, partner_center: PartnerCenterState, nce_licences: Iterable[str]) -> None:
        self.partner_center = partner_center
        # MPNs of new-commerce licences (``ProductId:SkuId``, upper case): a plan holding one is a new-commerce plan.
        self.nce_licences = frozenset(m.upper() for m in nce_licences)

    def provision(self, tenant_id: str | None, mpns: Iterable[tuple[str, int]], at: dt.datetime) -> dict[str, str]:
        """Buy the new-commerce subscription of an order on an NCE plan (``mpns``: licence, seats): the attributes
        to write on the Commerce subscription (none when the order is not new commerce or the tenant is unknown)."""
        nce = [(mpn, seats) for mpn, seats in mpns if mpn.upper() in self.nce_licences]
        if not nce or not tenant_id or not self.partner_center.knows_tenant(tenant_id):
            return {}
        mpn, seats = nce[0]
        subscription_id = self.partner_center.purchase(tenant_id, f"{mpn.upper()}:0001", seats, at)
        return {SUBSCRIPTION_ATTRIBUTE: subscription_id, TENANT_ATTRIBUTE: tenant_id}

    def cancel(self, attributes: dict[str, str], at: dt.datetime) -> None:
        """Cancel the Microsoft subscription a Commerce subscription names; CancellationRefused when Partner Center
        refuses. A subscription naming none (or one Partner Center does not hold) has nothing to cancel there."""
        subscription_id = (attributes.get(SUBSCRIPTION_ATTRIBUTE) or "").strip()
        tenant_id = (attributes.get(TENANT_ATTRIBUTE) or "").strip()
        if not subscription_id or not tenant_id:
            return
        try:
            self.partner_center.cancel_subscription(tenant_id, subscription_id, at)
        except PartnerCenterProblem as problem:
            if problem.status == 404:
                return
            raise CancellationRefused(f"Partner Center refused the cancellation: {problem.description}") from None
