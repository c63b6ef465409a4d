"""Builds a domain ``Estate`` from a live Commerce (through the client) plus a catalog export file.

SimpleAPI lacks what the planner needs about plans (resources and their roles, delegation, per-reseller
upgrade paths), resellers' tier configuration and the licence mapping: those come from a catalog
export in the estate file's schema (``version: 1`` with ``commerce.plans``, ``commerce.resellers``
(their ``tier_config``) and ``commerce.license_mappings``), read once per run. Resellers, customers,
subscriptions and open orders come from Commerce.

Choices:
- a reseller missing from the catalog export has tier config ``missing`` (its subscriptions are
  ``blocked``, an operator can fix that; assuming ``active`` could migrate unprepared resellers);
- a customer's MCA acceptance is the ``mcaAccepted`` attribute when Commerce has it, else the catalog
  export's ``commerce.customers`` entry, else accepted (SimpleAPI has no such field);
- a subscription is a trial when its plan lists its subscription period as a trial period
  (``ServicePlan.subscriptionPeriods[].trial``; SimpleAPI has no trial flag on subscriptions), read once
  from ``GET /plans``; its start date is ``creationDate`` (SimpleAPI has no start date);
- open orders are listed by status, then read by id (``OrderDetailed``): list items do not say which
  subscription an order is on;
- a subscription on a plan the export does not list is not a Microsoft 365 subscription of this
  catalog and is left out; one holding a product its plan does not list in the export is left out too
  and reported in ``skipped`` (the export is stale: re-export it), never guessed at.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from m365move import progress
from m365move.commerce.models import PlanInfo, ProductQuantity, SubscriptionInfo
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.estate import Estate
from m365move.domain.money import checked_amount, checked_currency
from m365move.errors import InputError
from m365move.estate import typed
from m365move.estate.catalog_file import parse_catalog, to_estate_document
from m365move.estate.id_rules import SubscriptionStatus
from m365move.estate.loader import build_estate, read_structured_file
from m365move.estate.platform_identity import PlatformIdentity, check_same_platform, identity_of
from m365move.estate.schema import (
    CommerceSection,
    CustomerEntry,
    EstateDocument,
    OpenOrderEntry,
    PlanEntry,
    ResellerEntry,
    SubscriptionEntry,
    SubscriptionResourceEntry,
    UnitPriceEntry,
)

log = logging.getLogger("m365move.commerce")

_OPEN_ORDER_STATUSES = ("submitted", "processing")


@dataclass(frozen=True)
class LiveEstate:
    """The estate read from Commerce, the document it was built from, and the subscriptions left out."""

    estate: Estate
    document: EstateDocument
    skipped: tuple[tuple[str, str], ...]  # (subscription id, why)
    platform: PlatformIdentity | None = None  # the instance it was read from


def load_catalog(path: str | Path) -> EstateDocument:
    """Read a catalog file (``m365move catalog export``, completed by hand) or a whole estate file.

    Only plans, resellers, customers and licence mappings are used. A catalog with fields still to be
    completed (``null``) is an InputError naming the first gap.
    """
    path = Path(path)
    raw = read_structured_file(path)
    if not isinstance(raw, dict):
        raise InputError("a catalog export is a mapping with 'version: 1' and 'commerce.plans'", where=str(path))
    try:
        document = typed.convert(raw, EstateDocument)
    except typed.Invalid:
        document = to_estate_document(parse_catalog(raw, str(path)), str(path))
    if not document.commerce.plans:
        raise InputError("the catalog export lists no plans", where=f"{path}: commerce.plans")
    return document


# Up to this many customers, their subscriptions are listed customer by customer (SimpleAPI's customerId filter)
# rather than paging through every subscription of the platform.
_LIST_PER_CUSTOMER = 50


def read_estate(
    client: SimpleApiClient, catalog_path: str | Path, *, workers: int = 8,
    reseller_ids: Collection[str] | None = None, customer_ids: Collection[str] | None = None,
) -> LiveEstate:
    """Read resellers, customers, subscriptions (with details) and open orders; ``workers`` parallel detail reads.

    ``reseller_ids`` / ``customer_ids`` (the command's filters) narrow what is read where SimpleAPI allows it:
    customers by ``resellerId``, subscriptions by ``customerId`` (for a few customers), and only the selected
    customers' subscriptions are read in detail (one request each, the bulk of a live read). The estate then holds
    only those customers' subscriptions; a plan selects the same ones."""
    catalog = load_catalog(catalog_path)
    plans = {p.id: p for p in catalog.commerce.plans}
    tier = {r.id: r.tier_config for r in catalog.commerce.resellers}
    listed_resellers = client.list_resellers()
    # A catalog exported from another instance (ids that collide, names that do not) is refused before anything else.
    platform = identity_of(((r.id, r.name) for r in listed_resellers), client.base_url)
    exported_from = identity_of((r.id, r.name) for r in catalog.commerce.resellers) if catalog.commerce.resellers else None
    check_same_platform(exported_from, platform, what="catalog", where=str(catalog_path))
    resellers = [
        ResellerEntry(id=r.id, name=r.name, tier_config=tier.get(r.id, "missing")) for r in listed_resellers
    ]
    known_resellers = {r.id for r in resellers}
    mca = {c.id: c.mca_accepted for c in catalog.commerce.customers}
    customers = []
    listed_customers = ([c for r in sorted(reseller_ids) for c in client.list_customers(reseller_id=r)]
                        if reseller_ids else client.list_customers())
    for c in listed_customers:
        if customer_ids is not None and c.id not in customer_ids:
            continue
        if c.reseller_id is None or c.reseller_id not in known_resellers:
            log.warning("customer %s: reseller %s is not visible to this user; left out", c.id, c.reseller_id)
            continue
        accepted = c.mca_accepted
        customers.append(
            CustomerEntry(
                id=c.id,
                reseller_id=c.reseller_id,
                name=c.name,
                mca_accepted=accepted if accepted is not None else mca.get(c.id, True),
            )
        )
    known_customers = {c.id for c in customers}
    narrowed = reseller_ids is not None or customer_ids is not None
    listing = (
        (s for c in sorted(known_customers) for s in client.iter_subscriptions(customer_id=c))
        if narrowed and len(known_customers) <= _LIST_PER_CUSTOMER else client.iter_subscriptions()
    )
    basics = [s for s in progress.iterate(listing, "subscriptions listed from Commerce")
              if s.customer_id in known_customers]
    trial_plans = {p.id: p for p in client.list_plans() if p.trial_periods}
    listed_open = [o for status in _OPEN_ORDER_STATUSES for o in client.list_orders(status=status)]
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="m365move-read") as pool, \
            progress.task("subscriptions read from Commerce", len(basics)) as reading, \
            progress.task("open orders read from Commerce", len(listed_open)) as reading_orders:
        detailed = list(pool.map(reading.counting(lambda s: s if s.has_details else client.get_subscription(s.id)),
                                 basics))
        open_detailed = list(pool.map(reading_orders.counting(lambda o: client.get_order(o.id)), listed_open))
    subscriptions, skipped = _subscriptions(detailed, plans, trial_plans)
    open_orders = [
        OpenOrderEntry(id=o.id, subscription_id=o.subscription_id, type=o.type, status=o.status)
        for o in open_detailed
        if o.subscription_id and not o.is_final
    ]
    document = EstateDocument(
        version=1,
        commerce=CommerceSection(
            resellers=resellers,
            customers=customers,
            plans=[_visible(p, known_resellers) for p in catalog.commerce.plans],
            subscriptions=subscriptions,
            license_mappings=list(catalog.commerce.license_mappings),
            orders=open_orders,
        ),
    )
    if skipped:
        log.warning("%d subscriptions left out (first: %s: %s)", len(skipped), *skipped[0])
    estate = build_estate(document, f"Commerce at {client.base_url} with catalog {catalog_path}")
    return LiveEstate(estate, document, tuple(skipped), platform)


def _visible(plan: PlanEntry, resellers: set[str]) -> PlanEntry:
    # Delegation to a reseller this user cannot see is irrelevant here and would fail cross-checking.
    return typed.replace(plan, delegated_to=[r for r in plan.delegated_to if r in resellers])


def _unit_price(product: ProductQuantity) -> UnitPriceEntry | None:
    """The subscription's own price of one seat, when Commerce gives a readable one (else its plan's is used)."""
    price = product.unit_price
    if price is None:
        return None
    try:
        return UnitPriceEntry(amount=checked_amount(price.amount), currency=checked_currency(price.currency))
    except ValueError:
        return None


def _subscriptions(
    detailed: Iterable[SubscriptionInfo], plans: dict[int, PlanEntry], trial_plans: dict[int, PlanInfo]
) -> tuple[list[SubscriptionEntry], list[tuple[str, str]]]:
    result: list[SubscriptionEntry] = []
    skipped: list[tuple[str, str]] = []
    for s in detailed:
        plan = plans.get(s.plan_id) if s.plan_id is not None else None
        if plan is None:
            skipped.append((s.id, f"plan {s.plan_id} is not in the catalog export"))
            continue
        listed = {r.mpn.upper() for r in plan.resources}
        unknown = [p.mpn for p in s.products if p.mpn.upper() not in listed]
        if unknown:
            skipped.append((s.id, f"holds {unknown[0]}, which the catalog export does not list for plan {plan.id}"))
            continue
        if s.billing_period is None or s.subscription_period is None:
            skipped.append((s.id, "Commerce gave no billing or subscription period"))
            continue
        result.append(
            SubscriptionEntry(
                id=s.id,
                customer_id=s.customer_id or "",
                plan_id=plan.id,
                status=cast(SubscriptionStatus, s.status),  # SimpleAPI's enum: the estate's statuses include it
                trial=plan.id in trial_plans and trial_plans[plan.id].is_trial(s.subscription_period),
                billing_period=str(s.billing_period),
                subscription_period=str(s.subscription_period),
                start_date=s.creation_date,
                expiration_date=s.expiration_date,
                resources=[SubscriptionResourceEntry(mpn=p.mpn, quantity=p.quantity, unit_price=_unit_price(p))
                           for p in s.products],
                custom_attributes=dict(s.attributes),
                auto_renew=s.renewal_status,
            )
        )
    return result, skipped
