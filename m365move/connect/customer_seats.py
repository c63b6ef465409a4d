"""The seat cap over all of a customer's assets, wherever the sweep's pages and chunks end.

Microsoft caps the business offers at 300 seats per customer (``late_rules``). The sweep plans a page of assets
at a time, and a customer's assets can fall on two pages or two chunks (two scheduled tasks): counting only the
page's seats would let each half pass the cap that the whole breaks, and the decision would depend on where the
pages end. So for every customer with a business-offer subscription on the page, the sweep reads all of that
customer's active CSP assets (the sweep's own filters, by ``tiers.customer.id`` — one read per 100 customers),
plans them as the page is planned, and counts their migrating seats too. A customer read once is kept for the
rest of the chunk (a chunk is one task: the assets do not change under it in a way the cap would notice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from connect.client import ConnectClient

from m365move.connect import queries
from m365move.connect.payloads import Json, nested_id
from m365move.domain.migration_rules import MigrationCandidate, is_smb_offer

# Migrating subscriptions of some assets (the page's planning applied to them) and the asset of each.
PlanCandidates = Callable[[list[Json]], tuple[list[MigrationCandidate], Mapping[str, Json]]]


class CustomerSeats:
    """The migrating subscriptions of whole customers, read from Connect once per customer and chunk."""

    def __init__(self, client: ConnectClient, filters: queries.AssetFilters, plan: PlanCandidates) -> None:
        self._client, self._filters, self._plan = client, filters, plan
        self._by_customer: dict[str, list[MigrationCandidate]] = {}

    def elsewhere(self, candidates: Iterable[MigrationCandidate],
                  asset_of: Mapping[str, Json]) -> list[MigrationCandidate]:
        """Every migrating subscription of the customers whose business-offer ``candidates`` (the page's) are
        counted by the cap; ``asset_of``: subscription id -> its CSP asset."""
        customers = sorted({c for c in (_customer(asset_of[k.subscription_id]) for k in candidates
                                         if is_smb_offer(k.nce_license)) if c})
        self._read([c for c in customers if c not in self._by_customer])
        return [candidate for c in customers for candidate in self._by_customer[c]]

    def _read(self, customers: Sequence[str]) -> None:
        if not customers:
            return
        assets = queries.customers_assets(self._client, self._filters, customers)
        candidates, asset_of = self._plan(assets)
        for customer in customers:
            self._by_customer[customer] = []
        for candidate in candidates:
            holder = _customer(asset_of[candidate.subscription_id])
            if holder is not None and holder in self._by_customer:
                self._by_customer[holder].append(candidate)


def _customer(asset: Json) -> str | None:
    return nested_id(asset, "tiers", "customer")
