"""Terminating in Commerce the subscriptions Partner Center shows already in new commerce (``terminate-in-commerce``).

One cancellation order per migrated source, carrying the new-commerce subscription id as the ``NceSubscriptionId``
attribute (recorded with the termination); its ``poNumber`` is a deterministic key (``m365move-reconcile:<id>``),
looked up before placing, so a repeated run (the CLI's ``reconcile --execute``, the reconcile runbook) never places
a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from m365move.commerce.models import OrderRequest
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.reconciliation import ReconciliationRow

PO_PREFIX = "m365move-reconcile:"
NCE_ATTRIBUTE = "NceSubscriptionId"


@dataclass(frozen=True, slots=True)
class Termination:
    subscription_id: str
    order_id: str
    placed_now: bool  # False: an earlier run placed it

    def line(self, nce_subscription_id: str) -> str:
        if not self.placed_now:
            return f"{self.subscription_id}: terminated already (order {self.order_id})"
        return (f"{self.subscription_id}: termination order {self.order_id} placed (new-commerce subscription "
                f"{nce_subscription_id} recorded)")


def terminate_migrated(rows: Iterable[ReconciliationRow], client: SimpleApiClient) -> list[Termination]:
    """A cancellation order for each row (once: an order already carrying its key is reported, not placed again)."""
    done = []
    for row in rows:
        po = f"{PO_PREFIX}{row.subscription_id}"
        placed = client.find_orders(subscription_id=row.subscription_id, po_number=po)
        if placed:
            done.append(Termination(row.subscription_id, placed[0].id, placed_now=False))
            continue
        order = client.place_order(OrderRequest.cancellation(
            customer_id=row.customer_id, po_number=po, subscription_id=row.subscription_id,
            attributes={NCE_ATTRIBUTE: row.nce_subscription_id}))
        done.append(Termination(row.subscription_id, order.id, placed_now=True))
    return done
