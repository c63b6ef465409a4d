"""Turning a journaled intent into the SimpleAPI order that carries its key as ``poNumber``."""

from __future__ import annotations

from m365move.commerce.models import MigrationProgram, OrderRequest
from m365move.domain.orders import OrderKind
from m365move.domain.period import Period
from m365move.execution.intents import Intent


def order_request(intent: Intent, migration_program: MigrationProgram = "count") -> OrderRequest:
    """The order of ``intent``; a migration order (Switch Plan add-on) runs under ``migration_program``."""
    period = Period.parse(intent.subscription_period) if intent.subscription_period else None
    customer, po, attributes = intent.customer_id, intent.po_number, intent.attributes
    if intent.kind is OrderKind.CANCELLATION:
        return OrderRequest.cancellation(customer_id=customer, po_number=po, subscription_id=intent.subscription_id,
                                         attributes=attributes)
    assert intent.plan_id is not None, f"{intent.key} has no target plan"
    if intent.kind is OrderKind.CHANGE:
        return OrderRequest.change(customer_id=customer, po_number=po, subscription_id=intent.subscription_id,
                                   plan_id=intent.plan_id, subscription_period=period, attributes=attributes)
    assert intent.nce_license and intent.quantity is not None and period, f"{intent.key} lacks licence or period"
    if intent.kind is OrderKind.SALES:
        return OrderRequest.sales(customer_id=customer, po_number=po, plan_id=intent.plan_id, mpn=intent.nce_license,
                                  quantity=intent.quantity, subscription_period=period, attributes=attributes)
    assert intent.start_date and intent.expiration_date, f"{intent.key} lacks the source's dates"
    return OrderRequest.migration(customer_id=customer, po_number=po, plan_id=intent.plan_id, mpn=intent.nce_license,
                                  quantity=intent.quantity, subscription_period=period, start_date=intent.start_date,
                                  expiration_date=intent.expiration_date, migration_program=migration_program,
                                  attributes=attributes)
