"""New-commerce subscriptions Partner Center holds that no Commerce subscription bills: the other half of reconciling.

Microsoft bills the partner for every new-commerce subscription of its customers. Microsoft-led migrations (and
purchases made outside Commerce) create such subscriptions without any Commerce order, so after 2024-2025 a partner
can pay Microsoft for subscriptions it never invoices. A Commerce subscription bills a new-commerce one when its
``MicrosoftSubscriptionId`` attribute names it and it is not ended (``terminated``, ``removed``). For each one left
over the row says what to do: bill it in Commerce (import it: a subscription on the NCE plan holding its licence), or,
when it was bought by mistake and Partner Center still allows it (``cancellationAllowedUntilDate``), cancel it there.
The new-commerce subscriptions the reconciliation already names (``terminate-in-commerce``: record it on the
terminated Commerce subscription) are left to that row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from m365move.domain.estate import Subscription
from m365move.domain.microsoft_migrations import SUBSCRIPTION_ATTRIBUTE, PartnerCenterView, microsoft_ids

BILL_IN_COMMERCE = "bill-in-commerce"
ENDED_STATUSES = frozenset({"terminated", "removed"})
COLUMNS = ("tenant_id", "customer_id", "nce_subscription_id", "offer_id", "quantity", "cancellationAllowedUntilDate",
           "action", "detail")


@dataclass(frozen=True, slots=True)
class UnbilledRow:
    tenant_id: str
    customer_id: str  # the Commerce customer of the tenant ("" when no Commerce subscription names the tenant)
    nce_subscription_id: str
    offer_id: str
    quantity: int | None
    cancellation_allowed_until: dt.datetime | None
    action: str
    detail: str

    def as_dict(self) -> dict[str, object]:
        until = self.cancellation_allowed_until
        return {"tenant_id": self.tenant_id, "customer_id": self.customer_id,
                "nce_subscription_id": self.nce_subscription_id, "offer_id": self.offer_id, "quantity": self.quantity,
                "cancellationAllowedUntilDate": until.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
                .replace("+00:00", "Z") if until else "", "action": self.action, "detail": self.detail}


def unbilled_rows(subscriptions: Iterable[Subscription], view: PartnerCenterView, now: dt.datetime,
                  already_named: Iterable[str] = ()) -> list[UnbilledRow]:
    """The new-commerce subscriptions of the tenants ``view`` read that no live Commerce subscription names, by
    tenant then id; ``already_named``: new-commerce ids a reconciliation row already deals with."""
    billed = {nce.lower() for nce in already_named}
    customer_of: dict[str, str] = {}
    for subscription in subscriptions:
        ids = microsoft_ids(subscription.custom_attributes)
        if ids is None:
            continue
        customer_of.setdefault(ids[0].lower(), subscription.customer_id)
        if subscription.status.lower() not in ENDED_STATUSES:
            billed.add(subscription.custom_attributes[SUBSCRIPTION_ATTRIBUTE].strip().lower())
    rows = []
    for tenant in sorted(view.new_commerce):
        for nce in sorted(view.new_commerce[tenant], key=lambda n: n.id):
            if nce.id.lower() in billed:
                continue
            until = nce.cancellation_allowed_until
            cancel = (f"; or, if it was bought by mistake, cancel it in Partner Center before its "
                      f"cancellationAllowedUntilDate {until.isoformat(timespec='minutes')} (a refund), after which it "
                      "runs to its term's end" if until is not None and until > now else "")
            customer = customer_of.get(tenant, "")
            who = f"customer {customer}" if customer else f"tenant {tenant} (no Commerce customer names it)"
            rows.append(UnbilledRow(
                tenant, customer, nce.id, nce.offer_id, nce.quantity, until, BILL_IN_COMMERCE,
                f"Partner Center bills the partner for new-commerce subscription {nce.id} ({nce.offer_id}, "
                f"{nce.quantity if nce.quantity is not None else '?'} seats) of {who}, and no Commerce subscription "
                f"bills it: import it into Commerce (a subscription on the NCE plan holding {nce.product_sku}, with "
                f"{SUBSCRIPTION_ATTRIBUTE} {nce.id}){cancel}"))
    return rows
