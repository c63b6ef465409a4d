"""``catalog export``: everything SimpleAPI exposes about the catalog, as a catalog file to complete by hand.

Read: resellers (``GET /resellers``), plans with their periods and ``planSwitches`` (``GET /plans``,
then ``GET /plans/{id}``), and every subscription in detail (``GET /subscriptions`` then
``GET /subscriptions/{id}``) for the MPNs each plan's subscriptions hold and the resellers selling it.
Not in SimpleAPI, so left ``null`` for a person to complete: resource roles, the plan's application,
delegation, per-reseller upgrade paths and the resellers' tier-config state.

A previous catalog (``previous``) carries what was completed by hand over to the new export: roles by
MPN, application, delegation, upgrade paths, tier configs, customers and licence mappings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from m365move.commerce.models import PlanInfo, SubscriptionInfo
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.licenses import normalize_offer_id
from m365move.estate.catalog_file import (
    CatalogCommerce,
    CatalogDocument,
    CatalogPlan,
    CatalogReseller,
    CatalogResource,
)
from m365move.estate.schema import LicenseMappingEntry

# (what is being counted, how many done, how many in all)
ProgressHook = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ExportReport:
    document: CatalogDocument
    subscriptions_read: int
    plans_without_subscriptions: int


def export_catalog(
    client: SimpleApiClient,
    *,
    previous: CatalogDocument | None = None,
    license_mappings: list[LicenseMappingEntry] | None = None,
    workers: int = 8,
    progress: ProgressHook | None = None,
) -> ExportReport:
    def tick(what: str, done: int, total: int) -> None:
        if progress is not None:
            progress(what, done, total)

    resellers = client.list_resellers()
    customers = client.list_customers()
    reseller_of = {c.id: c.reseller_id for c in customers}
    listed = client.list_plans()
    plans: list[PlanInfo] = []
    for plan in listed:
        plans.append(client.get_plan(plan.id))  # only the detail has planSwitches
        tick("plans", len(plans), len(listed))
    basics = list(client.iter_subscriptions())
    detailed: list[SubscriptionInfo] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="m365move-export") as pool:
        for s in pool.map(lambda s: s if s.has_details else client.get_subscription(s.id), basics):
            detailed.append(s)
            if len(detailed) % 50 == 0 or len(detailed) == len(basics):
                tick("subscriptions", len(detailed), len(basics))

    mpns: dict[int, dict[str, str]] = defaultdict(dict)  # plan → normalised mpn → mpn as Commerce writes it
    sellers: dict[int, set[str]] = defaultdict(set)
    for s in detailed:
        if s.plan_id is None:
            continue
        for product in s.products:
            mpns[s.plan_id].setdefault(normalize_offer_id(product.mpn), product.mpn)
        reseller = reseller_of.get(s.customer_id or "")
        if reseller:
            sellers[s.plan_id].add(reseller)

    before_plans = {p.id: p for p in previous.commerce.plans} if previous else {}
    before_tiers = {r.id: r.tier_config for r in previous.commerce.resellers} if previous else {}
    exported_plans = [_plan(p, mpns.get(p.id, {}), sellers.get(p.id, set()), before_plans.get(p.id)) for p in plans]
    document = CatalogDocument(
        version=1,
        commerce=CatalogCommerce(
            resellers=[CatalogReseller(id=r.id, name=r.name, tier_config=before_tiers.get(r.id)) for r in resellers],
            customers=list(previous.commerce.customers) if previous else [],
            plans=exported_plans,
            license_mappings=(
                license_mappings if license_mappings is not None
                else list(previous.commerce.license_mappings) if previous else []
            ),
        ),
    )
    return ExportReport(document, len(detailed), sum(1 for p in plans if p.id not in mpns))


def _plan(info: PlanInfo, mpns: dict[str, str], sold_by: set[str], before: CatalogPlan | None) -> CatalogPlan:
    roles = {normalize_offer_id(r.mpn): r for r in before.resources} if before else {}
    resources = [CatalogResource(mpn=mpn, role=roles[key].role if key in roles else None) for key, mpn in mpns.items()]
    # Resources completed by hand that no subscription holds today (e.g. NCE target plans) are kept.
    resources += [r for key, r in roles.items() if key not in mpns]
    return CatalogPlan(
        id=info.id,
        name=info.name,
        application=before.application if before else None,
        resources=sorted(resources, key=lambda r: r.mpn.upper()),
        billing_period=str(info.billing_period) if info.billing_period else None,
        subscription_periods=sorted({str(p) for p in info.subscription_periods}),
        delegated_to=before.delegated_to if before else None,
        upgrade_paths=before.upgrade_paths if before else None,
        switches=sorted({s.plan_id for s in info.switches}),
        sold_by=sorted(sold_by),
    )
