"""One CSV row per source subscription: decision, reason codes and the orders in placing order."""

from __future__ import annotations

from typing import IO

from m365move.domain.price_comparison import PriceReport
from m365move.domain.subscription_plan import MigrationPlan
from m365move.files.spreadsheet_csv import FormulaSafeWriter
from m365move.plan_output.price_fields import PRICE_COLUMNS, pricing_to_csv

PLAN_CSV_COLUMNS = (
    "subscription_id", "reseller_id", "customer_id", "source_plan_id", "mode", "decision",
    "reason_codes", "reasons", "warning_codes", "orders",
)


def write_plan_csv(plan: MigrationPlan, handle: IO[str], prices: PriceReport | None = None) -> None:
    """One row per subscription; with ``prices``, the price and term columns (``PRICE_COLUMNS``) at the end."""
    columns = PLAN_CSV_COLUMNS + (PRICE_COLUMNS if prices is not None else ())
    writer = FormulaSafeWriter(handle, columns, lineterminator="\n")
    for sub in plan.subscriptions:
        extra = pricing_to_csv(prices.of(sub.subscription_id)) if prices is not None else ()
        writer.writerow(
            (
                sub.subscription_id,
                sub.reseller_id,
                sub.customer_id,
                sub.source_plan_id,
                plan.mode.value,
                sub.decision.value,
                ";".join(r.code.value for r in sub.reasons),
                " | ".join(r.message for r in sub.reasons),
                ";".join(w.code.value for w in sub.warnings),
                ";".join(
                    f"{o.kind.value}:{o.plan_id}x{o.quantity}" if o.plan_id is not None else o.kind.value
                    for o in sub.orders
                ),
                *extra,
            )
        )
