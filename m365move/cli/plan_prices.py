"""The plan's price and term columns: from Commerce's order estimate on a live read, else the plans' prices."""

from __future__ import annotations

import argparse
import sys

from m365move.domain.estate import Estate
from m365move.domain.price_comparison import PlanPrices, PriceReport, compare_prices
from m365move.domain.subscription_plan import MigrationPlan


def plan_prices(args: argparse.Namespace, plan: MigrationPlan, estate: Estate) -> PriceReport:
    """Prices of every planned subscription. A plan read live from Commerce (``--catalog`` with
    ``--commerce-url``) asks Commerce's order estimate for the targets; a plan from an estate file uses the
    prices its plans list."""
    if not (getattr(args, "catalog", None) and getattr(args, "commerce_url", None)):
        return compare_prices(plan, estate, PlanPrices())
    # Imported here: `plan --estate` should not pay for the HTTP client.
    from m365move.commerce.credentials import load_credentials
    from m365move.commerce.order_estimates import EstimatedPrices
    from m365move.commerce.simpleapi_client import SimpleApiClient

    with SimpleApiClient(args.commerce_url, load_credentials(), max_retries=6,
                         rate_limit_per_second=getattr(args, "rate_limit", 20.0) or None) as client:
        book = EstimatedPrices(client, workers=getattr(args, "concurrency", 8))
        book.prefetch(plan, estate.catalog)
        report = compare_prices(plan, estate, book)
    if book.calls:
        print(f"prices: {book.calls} order estimates from Commerce"
              + (f", {book.refused} refused (the plans' prices used there)" if book.refused else ""), file=sys.stderr)
    return report
