"""Connect CSP and NCE items as the domain's plans and subscriptions, so the domain planner decides (DESIGN §2).

The same rules as Commerce, one copy of them:

- every NCE item is a service plan holding its MPN (``ProductId:SkuId``) with billing period = the item's
  period and one subscription period = its commitment (``monthly`` × 12 = ``1 year``);
- every CSP item of an asset is a source subscription with one licence (the item's MPN, a CSP offer id);
- "largest id" is the largest Connect item id (``item_number`` keeps Connect's order);
- a reseller is a tier-1 account *in one marketplace*: its tier config counts as active when it is active
  for every NCE product listed in that marketplace, and an NCE item is "delegated" to it when its product is
  listed there.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from m365move.connect.mca import McaParameters, mca_problem
from m365move.connect.payloads import Json, nested_id, param_value, quantity_of
from m365move.connect.settings import PlansMappingEntry
from m365move.domain.catalog import APP_MICROSOFT365, Catalog, PlanResource, ResourceRole, ServicePlan
from m365move.domain.estate import Customer, Estate, Reseller, Subscription, SubscriptionResource
from m365move.domain.licenses import LicenseMapping, PlansMapping, PlansMappingRow, is_nce_license, parse_nce_license
from m365move.domain.period import Period

MONTH = Period(1, "month")
YEAR = Period(1, "year")
_YEARS = re.compile(r"^\s*(\d+)\s+years?\s*$", re.IGNORECASE)
SUBSCRIPTION_KEY_SEPARATOR = "|"


def billing_period(period: object) -> Period | None:
    """Connect's item ``period`` as a Period; None for one-time and usage items (not licences)."""
    text = str(period or "").strip().lower()
    if text == "monthly":
        return MONTH
    if text == "yearly":
        return YEAR
    match = _YEARS.match(text)
    return Period(int(match.group(1)), "year") if match else None


def commitment_term(billing: Period, commitment: object) -> Period:
    """The subscription period: ``commitment.count`` billing periods, in years when it is whole years.

    Commerce writes a monthly-billed annual NCE plan as ``1 year``, so 12 × monthly becomes ``1 year``.
    """
    count = 1
    if isinstance(commitment, Mapping):
        try:
            count = max(1, int(commitment.get("count") or 1))
        except (TypeError, ValueError):
            count = 1
    if count == 1:
        return billing
    months = count * billing.duration * (12 if billing.unit == "year" else 1)
    return Period(months // 12, "year") if months % 12 == 0 else Period(months, "month")


def item_periods(item: Mapping[str, object]) -> tuple[Period, Period] | None:
    billing = billing_period(item.get("period"))
    if billing is None:
        return None
    return billing, commitment_term(billing, item.get("commitment"))


def item_number(item_id: str) -> int:
    """A plan id for a Connect item that keeps Connect's id order (``PRD-123-456-789-0004`` → 1234567890004)."""
    digits = "".join(ch for ch in item_id if ch.isdigit())
    # Ids without digits never occur in Connect; a CRC keeps them distinct rather than failing.
    return int(digits) if digits else zlib.crc32(item_id.encode())


def term_duration(term: Period) -> str:
    """Partner Center's ISO 8601 ``termDuration`` (P1M, P1Y, P3Y; others are not sold: checked by NewMigration)."""
    return f"P{term.duration}{'Y' if term.unit == 'year' else 'M'}"


def billing_cycle(billing: Period) -> str:
    """Partner Center's ``billingCycle``: a month is Monthly, a year Annual, three years Triennial."""
    if billing.unit == "month" and billing.duration == 1:
        return "Monthly"
    if billing.unit == "year" and billing.duration in (1, 3):
        return "Annual" if billing.duration == 1 else "Triennial"
    return f"{billing.duration} {billing.unit}s"  # not a cycle Microsoft bills in: NewMigration refuses it


def subscription_key(asset_id: str, item_id: str) -> str:
    return f"{asset_id}{SUBSCRIPTION_KEY_SEPARATOR}{item_id}"


def reseller_key(tier1_id: str, marketplace_id: str) -> str:
    return f"{tier1_id}@{marketplace_id}"


@dataclass(frozen=True, slots=True)
class NceCatalog:
    """What the sweep reads once: the NCE items, where their products are listed, and active tier configs."""

    items: tuple[Json, ...]  # each with ``product: {id}`` added when read from /products/{id}/items
    listed: Mapping[str, frozenset[str]]  # marketplace id -> NCE product ids listed there
    active_tier_configs: frozenset[tuple[str, str]]  # (tier-1 account id, NCE product id)
    # (NCE product id, hub id) -> the product's connection on that hub: a purchase must name it
    connections: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_connect(cls, items_by_product: Mapping[str, Sequence[Json]], listings: Iterable[Json],
                     tier_configs: Iterable[Json], connections_by_product: Mapping[str, Sequence[Json]] | None = None,
                     ) -> NceCatalog:
        items = tuple({**item, "product": {"id": product}} for product, found in items_by_product.items() for item in found
                      if str(item.get("status", "published")) != "deleted")
        listed: dict[str, set[str]] = {}
        for listing in listings:
            marketplace, product = nested_id(listing, "marketplace"), nested_id(listing, "product")
            if marketplace and product:
                listed.setdefault(marketplace, set()).add(product)
        active = frozenset(
            (account, product) for tc in tier_configs
            if (account := nested_id(tc, "account")) and (product := nested_id(tc, "product"))
            and str(tc.get("status")) == "active"
        )
        connections: dict[tuple[str, str], str] = {}
        for product, found_connections in (connections_by_product or {}).items():
            for connection in found_connections:
                hub = nested_id(connection, "hub")
                # A production connection wins over a test one on the same hub.
                if hub and ((product, hub) not in connections or connection.get("type") == "production"):
                    connections[(product, hub)] = str(connection["id"])
        return cls(items, {k: frozenset(v) for k, v in listed.items()}, active, connections)

    def connection_for(self, nce_product_id: str, asset: Json) -> str | None:
        """The NCE product's connection on the hub the CSP asset was sold through (None: not sold there)."""
        hub = nested_id(asset, "connection", "hub")
        return self.connections.get((nce_product_id, hub)) if hub else None

    def tier_config_state(self, tier1_id: str, marketplace_id: str) -> str:
        products = self.listed.get(marketplace_id, frozenset())
        if products and all((tier1_id, product) in self.active_tier_configs for product in products):
            return "active"
        return "processing" if products else "missing"


@dataclass(frozen=True)
class MappedEstate:
    """A batch of CSP assets as a domain Estate, with the ways back from plan ids and subscription ids."""

    estate: Estate
    plans_mapping: PlansMapping
    nce_items: Mapping[int, Json]  # plan id -> NCE item
    sources: Mapping[str, tuple[Json, Json]]  # subscription id -> (asset, CSP item)


def domain_customer(connect_customer: str, reseller_id: str, mca_accepted: bool) -> str:
    """The planner's customer of an asset: its Connect customer, reseller (tier 1 and marketplace) and MCA state."""
    return f"{connect_customer}@{reseller_id}" + ("" if mca_accepted else "#mca-not-shown")


def map_assets(assets: Sequence[Json], catalog: NceCatalog, license_mapping: LicenseMapping,
               plans_mapping: Sequence[PlansMappingEntry] = (), mca: McaParameters | None = None) -> MappedEstate:
    """The domain view of ``assets`` (active CSP assets) against the NCE catalog."""
    resellers: dict[str, Reseller] = {}
    customers: dict[str, Customer] = {}
    subscriptions: list[Subscription] = []
    source_plans: dict[int, ServicePlan] = {}
    sources: dict[str, tuple[Json, Json]] = {}
    for asset in assets:
        marketplace = nested_id(asset, "marketplace") or "-"
        tier1 = nested_id(asset, "tiers", "tier1") or nested_id(asset, "tiers", "customer") or "-"
        reseller_id = reseller_key(tier1, marketplace)
        if reseller_id not in resellers:
            resellers[reseller_id] = Reseller(reseller_id, tier1, catalog.tier_config_state(tier1, marketplace))
        connect_customer = nested_id(asset, "tiers", "customer") or f"{asset['id']}-customer"
        # Each asset carries its own MCA parameters and its own reseller, and is judged on them: unknown acceptance
        # is no acceptance (mca.py), so the planner blocks it with mca-not-accepted. A domain customer is therefore
        # a Connect customer under one reseller with the acceptance shown or not, never "whatever the first asset of
        # the customer on this page said": decisions do not change with where the sweep's pages and chunks end.
        accepted = mca_problem(asset, mca or McaParameters()) is None
        customer_id = domain_customer(connect_customer, reseller_id, accepted)
        customers.setdefault(customer_id, Customer(customer_id, reseller_id, connect_customer, accepted))
        expiration = _date(param_value(asset, "commitment_end_date"))
        for item in asset.get("items", []):
            subscription, plan = _source(asset, item, customer_id, expiration)
            source_plans.setdefault(plan.id, plan)
            subscriptions.append(subscription)
            sources[subscription.id] = (asset, item)
    nce_plans, nce_items = _nce_plans(catalog, resellers.values())
    estate = Estate(
        resellers=resellers,
        customers=customers,
        catalog=Catalog([*source_plans.values(), *nce_plans]),
        subscriptions=tuple(subscriptions),
        license_mapping=license_mapping,
    )
    return MappedEstate(estate, _plans_mapping(plans_mapping), nce_items, sources)


def _source(asset: Json, item: Json, customer_id: str, expiration: dt.date | None) -> tuple[Subscription, ServicePlan]:
    item_id = str(item["id"])
    mpn = str(item.get("mpn") or item_id)
    periods = item_periods(item)
    # A one-time or usage item is not a licence: role `other`, which the skip rules report.
    billing, term = periods or (MONTH, MONTH)
    role = ResourceRole.BASE if periods is not None and not is_nce_license(mpn) else ResourceRole.OTHER
    plan = ServicePlan(
        id=item_number(item_id),
        name=str(item.get("display_name") or item_id),
        application=APP_MICROSOFT365,
        resources=(PlanResource(mpn.upper(), role),),
        billing_period=billing,
        subscription_periods=frozenset({term}),
        delegated_to=frozenset(),
    )
    subscription = Subscription(
        id=subscription_key(str(asset["id"]), item_id),
        customer_id=customer_id,
        plan_id=plan.id,
        status=str(asset.get("status", "active")),
        trial=False,
        billing_period=billing,
        subscription_period=term,
        start_date=None,
        expiration_date=expiration,
        resources=(SubscriptionResource(mpn.upper(), quantity_of(item)),),
    )
    return subscription, plan


def _nce_plans(catalog: NceCatalog, resellers: Iterable[Reseller]) -> tuple[list[ServicePlan], dict[int, Json]]:
    by_product: dict[str, set[str]] = {}
    for reseller in resellers:
        marketplace = reseller.id.rsplit("@", 1)[-1]
        for product in catalog.listed.get(marketplace, ()):
            by_product.setdefault(product, set()).add(reseller.id)
    plans: list[ServicePlan] = []
    items: dict[int, Json] = {}
    for item in catalog.items:
        periods = item_periods(item)
        mpn = str(item.get("mpn") or "")
        if periods is None or not is_nce_license(mpn):
            continue
        product = nested_id(item, "product") or ""
        number = item_number(str(item["id"]))
        items[number] = item
        plans.append(ServicePlan(
            id=number,
            name=str(item.get("display_name") or item["id"]),
            application=APP_MICROSOFT365,
            resources=(PlanResource(parse_nce_license(mpn), ResourceRole.BASE),),
            billing_period=periods[0],
            subscription_periods=frozenset({periods[1]}),
            delegated_to=frozenset(by_product.get(product, ())),
        ))
    return plans, items


def _plans_mapping(entries: Sequence[PlansMappingEntry]) -> PlansMapping:
    return PlansMapping(
        PlansMappingRow(e.csp_offer_id, item_number(e.nce_item_id), item_number(e.csp_item_id) if e.csp_item_id else None)
        for e in entries
    )


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None
