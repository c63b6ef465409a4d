"""The Partner Center side of a generated Commerce estate: the 2026 picture, where Microsoft already moved many.

Each Commerce customer gets a Microsoft tenant, each Commerce subscription names its legacy Microsoft subscription
(custom attributes ``MicrosoftSubscriptionId`` / ``MicrosoftTenantId``), and the ``partner_center`` section holds
those legacy subscriptions plus Microsoft-led migrations of some of them, in each of the states an operator meets:

- ``Completed`` (the legacy subscription suspended, as Microsoft leaves it for 90 days): never to be ordered again;
- ``Processing``: Microsoft is migrating it right now;
- ``Failed`` with the legacy subscription suspended: Microsoft completes or reverts it within 72 hours.

Deterministic for a seed, and drawn from its own random stream: the Commerce side is the same with or without it.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from m365move.domain.microsoft_migrations import SUBSCRIPTION_ATTRIBUTE, TENANT_ATTRIBUTE

Json = dict[str, Any]
MIGRATION_STATES = ("Completed", "Processing", "Failed")


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def add_commerce_partner_center(document: Json, seed: int, *, migrated_share: float = 0.04,
                                credentials: tuple[str, str] = ("sandbox", "sandbox")) -> dict[str, list[str]]:
    """Link ``document``'s Commerce subscriptions to Partner Center and seed Microsoft-led migrations (in place).

    Returns the Commerce subscription ids per migration state (each state at least once when the estate has three
    active subscriptions with a mapped licence)."""
    rng = random.Random(f"partner-center/{seed}")
    commerce = document["commerce"]
    section = document.setdefault("partner_center", {}) or {}
    document["partner_center"] = section
    section.setdefault("credentials", {"client_id": credentials[0], "client_secret": credentials[1]})
    customers = section.setdefault("customers", [])
    migrations = section.setdefault("migrations", [])
    mapping = {m["csp_offer_id"].upper(): m["nce"] for m in commerce.get("license_mappings", [])}
    tenants = {c["id"]: _guid(rng) for c in commerce["customers"]}
    legacy_of_tenant: dict[str, list[Json]] = {t: [] for t in tenants.values()}
    candidates: list[tuple[Json, Json]] = []
    for subscription in commerce["subscriptions"]:
        tenant = tenants[subscription["customer_id"]]
        legacy_id = _guid(rng)
        subscription["custom_attributes"] = {**subscription.get("custom_attributes", {}),
                                             SUBSCRIPTION_ATTRIBUTE: legacy_id, TENANT_ATTRIBUTE: tenant}
        licences = [r for r in subscription["resources"] if r["quantity"] > 0 and r["mpn"].upper() in mapping]
        quantity = max((r["quantity"] for r in licences), default=1)
        nce = mapping[licences[0]["mpn"].upper()] if licences else None
        legacy: Json = {"id": legacy_id, "quantity": max(1, quantity), "status": "active",
                        "offer_id": licences[0]["mpn"] if licences else None,
                        "catalog_item_id": f"{nce}:0001" if nce else None}
        legacy_of_tenant[tenant].append(legacy)
        if nce and subscription.get("status", "active") == "active" and not subscription.get("trial"):
            candidates.append((subscription, legacy))
    chosen = rng.sample(candidates, k=min(len(candidates), max(len(MIGRATION_STATES),
                                                                round(len(candidates) * migrated_share))))
    by_state: dict[str, list[str]] = {state: [] for state in MIGRATION_STATES}
    for index, (subscription, legacy) in enumerate(chosen):
        state = MIGRATION_STATES[index % len(MIGRATION_STATES)]
        by_state[state].append(subscription["id"])
        if state in ("Completed", "Failed"):
            legacy["status"] = "suspended"
        migration: Json = {"id": _guid(rng), "currentSubscriptionId": legacy["id"],
                           "customerTenantId": subscription["custom_attributes"][TENANT_ATTRIBUTE],
                           "status": state, "microsoftLed": True, "quantity": legacy["quantity"],
                           "catalogItemId": legacy["catalog_item_id"], "termDuration": "P1Y",
                           "billingCycle": "Monthly"}
        if state == "Completed":
            migration["newCommerceSubscriptionId"] = _guid(rng)
        migrations.append(migration)
    customers.extend({"tenant_id": tenant, "subscriptions": subs} for tenant, subs in legacy_of_tenant.items() if subs)
    return by_state
