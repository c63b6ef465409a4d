"""Realistic demo estates of any size (``m365move estate generate``): Commerce, Connect and Partner Center.

What a real estate has, in proportions that make every rule of DESIGN §2 fire: resellers whose tier
config is not active, plans with several subscription periods and both billing periods, add-ons,
trials, inactive and mixed-resource subscriptions, unmapped offers, ties between NCE plans (largest id
wins), upgrade paths for most but not all resellers, microsoft365 and csp_connect_extension plans.
Deterministic for a seed: ``generate_estate(size, seed)`` is the Commerce side.

``generate_connect_section(seed, n_assets)`` returns ``{"connect": {...}, "partner_center": {...}}``: a legacy
CSP product and two NCE products (items of both billing periods and commitments, overlapping so that the
largest item id decides), marketplaces and listings, tier-1 resellers with tier configs (some pending), active
CSP assets with items, quantities and the parameters the migration needs, and the Partner Center side of
every CSP item (legacy subscriptions, a few ineligible, one already migrated by Microsoft).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import string
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_PERIOD_SETS = (["1 month", "1 year"], ["1 year"], ["1 month"], ["1 year", "3 year"], ["1 month", "1 year", "3 year"])
_PRODUCTS = ("Business Basic", "Business Standard", "Business Premium", "E3", "E5", "F3", "Apps for business",
             "Exchange Online (Plan 1)", "Teams Phone Standard", "Audio Conferencing", "Defender for Office 365",
             "Visio Plan 2", "Project Plan 3", "Power BI Pro", "Intune", "Entra ID P1")
_DNS_MPN = "DNS-HOSTING-ZONE"


@dataclass(frozen=True)
class EstateSize:
    subscriptions: int
    resellers: int
    plans: int

    @classmethod
    def for_subscriptions(cls, n: int, resellers: int | None = None, plans: int | None = None) -> EstateSize:
        return cls(
            subscriptions=n,
            resellers=resellers or max(3, min(500, n // 200)),
            plans=plans or max(24, min(2000, n // 50)),
        )


def generate_estate(size: EstateSize, seed: int = 1) -> dict[str, Any]:
    """An estate document (plain data, ready for YAML or JSON) of the given size."""
    rng = random.Random(seed)
    resellers = _resellers(rng, size.resellers)
    reseller_ids = [r["id"] for r in resellers]
    offers = _offers(rng, max(8, size.plans // 8))
    mappings = [
        {"csp_offer_id": o["offer"], "nce": o["nce"]}
        for o in offers
        if not o["unmapped"]
    ]
    plans, csp_plans = _plans(rng, size.plans, offers, reseller_ids)
    customers = _customers(rng, max(2, size.subscriptions // 3), reseller_ids)
    subscriptions = _subscriptions(rng, size.subscriptions, customers, csp_plans)
    # Prices and renewal draw from their own generator: the rest of an estate stays what it was for a seed.
    _add_prices(random.Random(f"prices-{seed}"), plans, offers)
    _turn_auto_renew_off(random.Random(f"renewal-{seed}"), subscriptions)
    orders = [
        {"id": f"9{i:07d}", "subscription_id": s["id"], "type": "change", "status": "processing"}
        for i, s in enumerate(rng.sample(subscriptions, k=max(1, len(subscriptions) // 200)))
    ]
    return {
        "version": 1,
        "commerce": {
            "resellers": resellers,
            "customers": customers,
            "plans": plans,
            "subscriptions": subscriptions,
            "license_mappings": mappings,
            "orders": orders,
        },
        "connect": {},
        "partner_center": {},
        "call2teams": {},
    }


def _resellers(rng: random.Random, n: int) -> list[dict[str, Any]]:
    result = []
    for i in range(n):
        tier = "active" if i < 2 or rng.random() > 0.08 else rng.choice(["processing", "missing"])
        result.append({"id": str(1000001 + i), "name": f"Reseller {_word(rng)} {i + 1}", "tier_config": tier})
    return result


def _offers(rng: random.Random, n: int) -> list[dict[str, Any]]:
    offers = []
    for i in range(n):
        guid = "-".join("".join(rng.choices("0123456789ABCDEF", k=k)) for k in (8, 4, 4, 4, 12))
        product = "CFQ7TTC0" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=4))
        offers.append(
            {
                "offer": guid,
                "nce": f"{product}:000{rng.randint(1, 9)}",
                "role": "base" if i % 3 != 2 else "addon",
                "name": _PRODUCTS[i % len(_PRODUCTS)],
                # A few offers have no licence mapping row (unmapped-license); never the first two.
                "unmapped": i >= 4 and rng.random() < 0.04,
            }
        )
    return offers


def _plans(
    rng: random.Random, n: int, offers: list[dict[str, Any]], reseller_ids: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    bases = [o for o in offers if o["role"] == "base"]
    addons = [o for o in offers if o["role"] == "addon"]
    nce_count = n // 2
    nce_plans: list[dict[str, Any]] = []
    nce_by_license: dict[str, list[dict[str, Any]]] = {}
    plan_id = 6001
    for i in range(nce_count):
        offer = offers[i % len(offers)]
        # Each licence gets plans of both billing periods as the catalog grows; a few miss one (mismatches).
        billing = "1 month" if (i // len(offers)) % 2 == 0 else "1 year"
        periods = list(_PERIOD_SETS[0] if i < 2 * len(offers) and rng.random() < 0.85 else rng.choice(_PERIOD_SETS))
        # Most NCE plans go to nearly every reseller; a few are delegated to a subset only.
        delegated = reseller_ids if rng.random() < 0.85 else [r for r in reseller_ids if rng.random() < 0.5]
        plan = {
            "id": plan_id,
            "name": f"M365 {offer['name']} (NCE) {billing}",
            "application": "microsoft365",
            "resources": [{"mpn": offer["nce"], "role": "base"}],
            "billing_period": billing,
            "subscription_periods": periods,
            "delegated_to": list(delegated),
        }
        plan_id += 1
        nce_plans.append(plan)
        nce_by_license.setdefault(offer["nce"], []).append(plan)
    csp_plans: list[dict[str, Any]] = []
    plan_id = 5001
    for _ in range(n - nce_count):
        base = rng.choice(bases)
        chosen_addons = rng.sample(addons, k=min(len(addons), rng.choice([0, 0, 1, 1, 2, 3])))
        resources = [{"mpn": base["offer"], "role": "base"}]
        resources += [{"mpn": a["offer"], "role": "addon"} for a in chosen_addons]
        if rng.random() < 0.05:
            resources.append({"mpn": _DNS_MPN, "role": "other"})
        billing = "1 month" if rng.random() < 0.7 else "1 year"
        targets = [p["id"] for p in nce_by_license.get(base["nce"], [])]
        upgrade_paths = {}
        if targets:
            for reseller_id in reseller_ids:
                if rng.random() < 0.9:  # most, not all, resellers have upgrade paths
                    upgrade_paths[reseller_id] = sorted(rng.sample(targets, k=min(len(targets), 2)))
        csp_plans.append(
            {
                "id": plan_id,
                "name": f"M365 {base['name']} (CSP)",
                "application": "microsoft365" if rng.random() < 0.8 else "csp_connect_extension",
                "resources": resources,
                "billing_period": billing,
                "subscription_periods": ["1 month", "1 year"] if billing == "1 month" else ["1 year"],
                "delegated_to": list(reseller_ids),
                "upgrade_paths": upgrade_paths,
            }
        )
        plan_id += 1
    return csp_plans + nce_plans, csp_plans


# Microsoft's list prices per seat and month are a few to a few tens of euros; a provider sells in one currency
# (plans in several currencies are the tests' business: tests/domain/test_price_comparison.py).
_MONTHLY_TERM_UPLIFT = Decimal("1.20")  # an NCE monthly term costs 20 % more than an annual one
_MONTHLY_BILLING_UPLIFT = Decimal("1.05")  # an NCE annual term billed monthly: +5 % since 2025-04-01


def _add_prices(rng: random.Random, plans: list[dict[str, Any]], offers: list[dict[str, Any]]) -> None:
    """``prices`` for every licence of every plan and subscription period: one seat, one billing period."""
    monthly: dict[str, Decimal] = {}
    for offer in offers:
        price = Decimal(rng.randint(300, 5500)) / 100
        for mpn in (offer["offer"].upper(), offer["nce"]):
            monthly[mpn] = price
    for plan in plans:
        months = 12 if plan["billing_period"] == "1 year" else 1
        nce = plan["id"] >= 6001
        prices = []
        for resource in plan["resources"]:
            mpn = resource["mpn"].upper()
            if resource["role"] == "other" or mpn not in monthly:
                continue
            for period in plan["subscription_periods"]:
                price = monthly[mpn] * months
                if nce and period == "1 month":
                    price *= _MONTHLY_TERM_UPLIFT
                elif nce and months == 1:
                    price *= _MONTHLY_BILLING_UPLIFT
                prices.append({"mpn": resource["mpn"], "subscription_period": period,
                               "amount": str(price.quantize(Decimal("0.01"))), "currency": "EUR"})
        plan["prices"] = prices


def _turn_auto_renew_off(rng: random.Random, subscriptions: list[dict[str, Any]]) -> None:
    """A few subscriptions do not renew at expiry (SimpleAPI renewalStatus false): their targets are flagged."""
    for subscription in subscriptions:
        if rng.random() < 0.04:
            subscription["auto_renew"] = False


def _customers(rng: random.Random, n: int, reseller_ids: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(2000001 + i),
            "reseller_id": reseller_ids[i % len(reseller_ids)] if i < len(reseller_ids) else rng.choice(reseller_ids),
            "name": f"{_word(rng)} {rng.choice(['Ltd', 'GmbH', 'Inc', 'BV', 'SA', 'LLC'])}",
            "mca_accepted": rng.random() > 0.03,
        }
        for i in range(n)
    ]


def _subscriptions(
    rng: random.Random, n: int, customers: list[dict[str, Any]], csp_plans: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    result = []
    start_base = dt.date(2025, 1, 1)
    for i in range(n):
        plan = rng.choice(csp_plans)
        period = rng.choice(plan["subscription_periods"])
        start = start_base + dt.timedelta(days=rng.randint(0, 600))
        years = 1 if period != "1 month" else 0
        expiration = start.replace(year=start.year + years) if years else start + dt.timedelta(days=30)
        resources = []
        for r in plan["resources"]:
            if r["role"] == "other":
                quantity = 1 if rng.random() < 0.6 else 0
            elif r["role"] == "base":
                quantity = rng.randint(1, 300) if rng.random() > 0.02 else 0
            else:
                quantity = rng.randint(0, 50)
            resources.append({"mpn": r["mpn"], "quantity": quantity})
        status = "active" if rng.random() > 0.06 else rng.choice(["suspended", "terminated"])
        result.append(
            {
                "id": str(3000001 + i),
                "customer_id": rng.choice(customers)["id"],
                "plan_id": plan["id"],
                "status": status,
                "trial": rng.random() < 0.03,
                "billing_period": plan["billing_period"],
                "subscription_period": period,
                "start_date": start.isoformat(),
                "expiration_date": expiration.isoformat(),
                "resources": resources,
                "custom_attributes": {"ResellerType": rng.choice(["direct", "indirect"]),
                                      "Margin": str(rng.choice([5, 10, 12, 15]))},
            }
        )
    return result


def _word(rng: random.Random) -> str:
    syllables = ("nor", "th", "wind", "con", "to", "so", "fab", "ri", "kam", "lit", "ware", "tail", "spin", "ada")
    return "".join(rng.choices(syllables, k=rng.randint(2, 3))).capitalize()


# Connect and Partner Center sections

Json = dict[str, Any]
CSP_PRODUCT = "PRD-100-000-001"
NCE_PRODUCT = "PRD-200-000-001"
NCE_EDU_PRODUCT = "PRD-200-000-002"
MARKETPLACES = [{"id": "MP-00001", "name": "United States"}, {"id": "MP-00002", "name": "Europe"}]
# (CSP offer id, NCE ProductId:SkuId, name); the last offer has no licence mapping row on purpose.
OFFERS = [
    ("91FD106F-4B2C-4938-95AC-F54F74E9A239", "CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic"),
    ("031C9E47-4802-4248-838E-778FB1D2CC05", "CFQ7TTC0LDPB:0001", "Microsoft 365 Business Standard"),
    ("5C9FD4CC-EDCE-44A8-8E91-07DF09744609", "CFQ7TTC0LCHC:0002", "Microsoft 365 Business Premium"),
    ("796B6B5F-613C-4E24-A17C-EBA730D49C02", "CFQ7TTC0LF8Q:0001", "Office 365 E3"),
    ("195416C1-3447-423A-B37B-EE59A99A19C4", "CFQ7TTC0LH16:0001", "Exchange Online (Plan 1)"),
    ("A1B2C3D4-0000-4000-8000-00000000DEAD", "CFQ7TTC0ZZZZ:0001", "Legacy add-on without NCE mapping"),
]
NCE_OF_OFFER = {offer: nce for offer, nce, _ in OFFERS[:-1]}
# NCE item shapes: (period, commitment count) → monthly/1 month, monthly/1 year, yearly/1 year, yearly/3 years.
NCE_TERMS = [("monthly", 1), ("monthly", 12), ("yearly", 1), ("yearly", 3)]
_TERM_NAMES = {("monthly", 1): "monthly", ("monthly", 12): "annual, billed monthly", ("yearly", 1): "annual",
               ("yearly", 3): "3 years, billed annually"}
SANDBOX_CREDENTIALS = {"client_id": "sandbox", "client_secret": "sandbox"}


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _nce_items(product_id: str, offers: list[tuple[str, str, str]], start: int) -> list[Json]:
    items, number = [], start
    for _, nce, name in offers:
        for period, count in NCE_TERMS:
            items.append({"id": f"{product_id}-{number:04d}", "mpn": nce,
                          "display_name": f"{name} (NCE, {_TERM_NAMES[(period, count)]})",
                          "type": "Reservation", "period": period, "commitment": {"count": count}, "status": "published"})
            number += 1
    return items


def generate_connect_section(rng_seed: int, n_assets: int, *, n_resellers: int = 5, pending_resellers: int = 1,
                             ineligible_share: float = 0.03, unmapped_share: float = 0.02, microsoft_led: int = 1,
                             time_scale: float = 1.0, migration_seconds: float = 60.0) -> dict[str, Json]:
    """``{"connect": …, "partner_center": …}`` for ``n_assets`` active CSP assets (deterministic for a seed)."""
    rng = random.Random(rng_seed)
    mapped_offers = OFFERS[:-1]
    csp_items = [{"id": f"{CSP_PRODUCT}-{i + 1:04d}", "mpn": offer, "display_name": f"{name} (legacy CSP)",
                  "type": "Reservation", "period": "monthly", "commitment": {"count": 12}, "status": "published"}
                 for i, (offer, _, name) in enumerate(OFFERS)]
    # A monthly-commitment variant of Business Basic: its target is the monthly/1-month NCE item.
    csp_items.append({"id": f"{CSP_PRODUCT}-{len(OFFERS) + 1:04d}", "mpn": OFFERS[0][0],
                      "display_name": "Microsoft 365 Business Basic (legacy CSP, monthly)", "type": "Reservation",
                      "period": "monthly", "status": "published"})
    products = [
        {"id": CSP_PRODUCT, "name": "Microsoft 365 (legacy CSP)", "status": "published", "items": csp_items},
        {"id": NCE_PRODUCT, "name": "Microsoft 365 NCE (commercial)", "status": "published",
         "items": _nce_items(NCE_PRODUCT, mapped_offers, 1)},
        # The second NCE product repeats two licences with larger item ids: where it is listed, it wins.
        {"id": NCE_EDU_PRODUCT, "name": "Microsoft 365 NCE (second catalogue)", "status": "published",
         "items": _nce_items(NCE_EDU_PRODUCT, mapped_offers[:2], 1)},
    ]
    listings = [
        {"id": "LST-001", "product": {"id": CSP_PRODUCT}, "marketplace": {"id": "MP-00001"}, "status": "listed"},
        {"id": "LST-002", "product": {"id": CSP_PRODUCT}, "marketplace": {"id": "MP-00002"}, "status": "listed"},
        {"id": "LST-003", "product": {"id": NCE_PRODUCT}, "marketplace": {"id": "MP-00001"}, "status": "listed"},
        {"id": "LST-004", "product": {"id": NCE_PRODUCT}, "marketplace": {"id": "MP-00002"}, "status": "listed"},
        {"id": "LST-005", "product": {"id": NCE_EDU_PRODUCT}, "marketplace": {"id": "MP-00001"}, "status": "listed"},
    ]
    resellers = [{"id": f"TA-{i + 1:03d}-000-000", "name": f"Reseller {i + 1}"} for i in range(n_resellers)]
    tier_configs: list[Json] = []
    tier_config_requests: list[Json] = []
    for index, reseller in enumerate(resellers):
        pending = index >= n_resellers - pending_resellers
        for product in (NCE_PRODUCT, NCE_EDU_PRODUCT):
            tc_id = f"TC-{index + 1:03d}-{product[-3:]}"
            params = [{"id": "mpn_id", "value": str(4_000_000 + index)},
                      {"id": "ms_partner_tenant_id", "value": _guid(rng)},
                      {"id": "contact_email", "value": f"ops@reseller{index + 1}.example"}]
            tier_configs.append({"id": tc_id, "name": f"{reseller['name']} NCE", "account": dict(reseller),
                                 "product": {"id": product}, "tier_level": 1,
                                 "status": "processing" if pending else "active", "params": [] if pending else params})
            if pending:
                tier_config_requests.append({"id": f"TCR-{index + 1:03d}-{product[-3:]}", "type": "setup",
                                             "status": "pending", "created": "2026-01-01T00:00:00+00:00",
                                             "updated": "2026-01-01T00:00:00+00:00",
                                             "configuration": {"id": tc_id, "tier_level": 1, "account": dict(reseller),
                                                               "product": {"id": product}},
                                             "params": params})
    assets: list[Json] = []
    pc_customers: list[dict[str, Any]] = []
    migrations: list[Json] = []
    for n in range(n_assets):
        reseller = resellers[rng.randrange(n_resellers)]
        marketplace = MARKETPLACES[0 if rng.random() < 0.7 else 1]
        tenant = _guid(rng)
        domain = f"customer{n + 1:05d}.onmicrosoft.com"
        chosen = rng.sample(csp_items[:len(mapped_offers)], k=rng.choice((1, 1, 2, 3)))
        if rng.random() < unmapped_share:
            chosen.append(csp_items[len(mapped_offers)])  # the unmapped offer blocks the asset
        if rng.random() < 0.1:
            chosen = [csp_items[-1]]  # the monthly-commitment variant
        items: list[dict[str, Any]] = [
            {"id": i["id"], "mpn": i["mpn"], "display_name": i["display_name"], "period": i["period"],
             **({"commitment": i["commitment"]} if "commitment" in i else {}),
             "quantity": str(rng.choice((1, 2, 5, 10, 12, 25, 50, 120)))} for i in chosen]
        legacy = {i["id"]: _guid(rng) for i in items}
        asset_id = f"AS-{1000 + n // 10000:04d}-{n % 10000:04d}-{rng.randrange(10000):04d}"
        customer_id = f"TA-C{n + 1:05d}"
        assets.append({
            "id": asset_id, "status": "active", "external_id": f"CSP-{n + 1:06d}", "product": {"id": CSP_PRODUCT},
            "marketplace": dict(marketplace),
            "connection": {"id": "CT-" + CSP_PRODUCT.removeprefix("PRD-"), "type": "production"},
            "items": items,
            "tiers": {"customer": {"id": customer_id, "name": f"Customer {n + 1}"}, "tier1": dict(reseller)},
            "params": [
                {"id": "ms_customer_id", "value": tenant},
                {"id": "microsoft_domain", "value": domain},
                {"id": "csp_order_id", "value": _guid(rng)},
                {"id": "ms_subscription_ids", "value": json.dumps(legacy, separators=(",", ":"))},
                # MCA acceptance as CloudBlue's NCE connector records it (m365move/connect/mca.py).
                {"id": "mca_acceptance", "value": "true"},
                {"id": "agreement_date", "value": "2024-02-01"},
                {"id": "first_name_agreement", "value": "Alex"},
                {"id": "last_name_agreement", "value": f"Customer{n + 1}"},
                {"id": "email_address_agreement", "value": f"admin@customer{n + 1:05d}.example"},
            ],
        })
        subscriptions = []
        for item in items:
            subscription: dict[str, Any] = {"id": legacy[item["id"]], "offer_id": item["mpn"],
                                            "quantity": int(item["quantity"]), "status": "active"}
            if item["mpn"] in NCE_OF_OFFER:  # what Microsoft migrates it to (the seat cap counts per product)
                subscription["catalog_item_id"] = NCE_OF_OFFER[item["mpn"]]
            if rng.random() < ineligible_share:
                subscription["ineligible"] = [rng.randrange(9)]
            subscriptions.append(subscription)
        pc_customers.append({"tenant_id": tenant, "domain": domain, "subscriptions": subscriptions})
    for customer in pc_customers[:microsoft_led]:
        first: dict[str, Any] = customer["subscriptions"][0]
        first.pop("ineligible", None)
        migrations.append({"id": _guid(rng), "currentSubscriptionId": first["id"], "customerTenantId": customer["tenant_id"],
                           "status": "Completed", "newCommerceSubscriptionId": _guid(rng), "microsoftLed": True})
    variables = {
        "CSP_PRODUCT_IDS": CSP_PRODUCT,
        "NCE_PRODUCT_IDS": f"{NCE_PRODUCT},{NCE_EDU_PRODUCT}",
        "LICENSE_MAPPING": "CspOfferId,NceProductIdSkuId\n" + "\n".join(f"{o},{n}" for o, n, _ in mapped_offers),
        "PLANS_MAPPING": "",
        "ASSET_APPROVE_TEMPLATE_ID": "TL-100-000-001",
        "TIER_CONFIG_APPROVE_TEMPLATE_ID": "TL-100-000-002",
        "FULFIL_MIGRATIONS": "true",
        "MIGRATION_POLL_SECONDS": "60",
        "PARTNER_CENTER_CREATE_LIMIT": "100/300",  # the sandbox's create_limit below
        "DRY_RUN": "false",
        # The sandbox commits a request before it answers (even when the answer is then lost): a short settle.
        "CONNECT_SETTLE_SECONDS": "0.2",
    }
    connect = {
        "api_key": "ApiKey SU-000-000-000:sandbox",
        "time_scale": time_scale,
        "cancel_approval_seconds": 30,
        "marketplaces": MARKETPLACES,
        "products": products,
        "listings": listings,
        "tier_configs": tier_configs,
        "tier_config_requests": tier_config_requests,
        "assets": assets,
        "requests": [],
        "extension_variables": variables,
    }
    partner_center = {
        "credentials": dict(SANDBOX_CREDENTIALS),
        "time_scale": time_scale,
        "migration_seconds": migration_seconds,
        "create_limit": {"count": 100, "window_seconds": 300},
        "validate_limit": {"count": 450, "window_seconds": 300},
        "customers": pc_customers,
        "migrations": migrations,
    }
    return {"connect": connect, "partner_center": partner_center}
