"""Realistic demo estates of any size (``m365move estate generate``).

What a real estate has, in proportions that make every rule of DESIGN §2 fire: resellers whose tier
config is not active, plans with several subscription periods and both billing periods, add-ons,
trials, inactive and mixed-resource subscriptions, unmapped offers, ties between NCE plans (largest id
wins), upgrade paths for most but not all resellers, microsoft365 and csp_connect_extension plans.
Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass
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
