"""A small builder of estate documents for tests: one reseller, one customer, plans and subscriptions.

It writes the same plain data an estate file holds, so tests go through the real loader.
"""

from __future__ import annotations

import copy
from typing import Any

from m365move.domain.estate import Estate
from m365move.estate.loader import build_estate, parse_estate_document

BASE = "91FD106F-4B2C-4938-95AC-F54F74E9A239"
ADDON = "0A4E9B7C-1111-4C2D-9E3F-AAAAAAAAAAAA"
ADDON2 = "0A4E9B7C-2222-4C2D-9E3F-BBBBBBBBBBBB"
UNMAPPED = "DEADBEEF-0000-4000-8000-000000000000"
NCE_BASE = "CFQ7TTC0LH18:0001"
NCE_ADDON = "CFQ7TTC0LHXX:0002"
NCE_ADDON2 = "CFQ7TTC0LHYY:0003"
RESELLER = "1000001"
CUSTOMER = "2000001"


class EstateBuilder:
    def __init__(self) -> None:
        self.doc: dict[str, Any] = {
            "version": 1,
            "commerce": {
                "resellers": [{"id": RESELLER, "name": "Northwind", "tier_config": "active"}],
                "customers": [{"id": CUSTOMER, "reseller_id": RESELLER, "name": "Contoso", "mca_accepted": True}],
                "plans": [],
                "subscriptions": [],
                "license_mappings": [
                    {"csp_offer_id": BASE, "nce": NCE_BASE},
                    {"csp_offer_id": ADDON, "nce": NCE_ADDON},
                    {"csp_offer_id": ADDON2, "nce": NCE_ADDON2},
                ],
                "orders": [],
            },
        }

    @property
    def commerce(self) -> dict[str, Any]:
        return self.doc["commerce"]  # type: ignore[no-any-return]

    def reseller(self, id: str, tier_config: str = "active") -> EstateBuilder:
        self.commerce["resellers"].append({"id": id, "name": f"R{id}", "tier_config": tier_config})
        return self

    def customer(self, id: str, reseller_id: str = RESELLER, mca: bool = True) -> EstateBuilder:
        self.commerce["customers"].append({"id": id, "reseller_id": reseller_id, "name": f"C{id}", "mca_accepted": mca})
        return self

    def plan(
        self,
        id: int,
        resources: list[tuple[str, str]],
        *,
        application: str = "microsoft365",
        billing: str = "1 month",
        periods: tuple[str, ...] = ("1 month", "1 year"),
        delegated: tuple[str, ...] = (RESELLER,),
        upgrade: dict[str, list[int]] | None = None,
    ) -> EstateBuilder:
        self.commerce["plans"].append(
            {
                "id": id,
                "name": f"Plan {id}",
                "application": application,
                "resources": [{"mpn": m, "role": r} for m, r in resources],
                "billing_period": billing,
                "subscription_periods": list(periods),
                "delegated_to": list(delegated),
                "upgrade_paths": upgrade or {},
            }
        )
        return self

    def csp_plan(self, id: int = 5001, addons: tuple[str, ...] = (), **kw: Any) -> EstateBuilder:
        kw.setdefault("upgrade", {RESELLER: [6001]})
        return self.plan(id, [(BASE, "base")] + [(a, "addon") for a in addons], **kw)

    def nce_plan(self, id: int, license: str = NCE_BASE, **kw: Any) -> EstateBuilder:
        return self.plan(id, [(license, "base")], **kw)

    def subscription(
        self,
        id: str = "3000001",
        plan_id: int = 5001,
        resources: list[tuple[str, int]] | None = None,
        *,
        customer: str = CUSTOMER,
        status: str = "active",
        trial: bool = False,
        billing: str = "1 month",
        period: str = "1 year",
        start: str = "2026-03-01",
        expiration: str = "2027-03-01",
    ) -> EstateBuilder:
        self.commerce["subscriptions"].append(
            {
                "id": id,
                "customer_id": customer,
                "plan_id": plan_id,
                "status": status,
                "trial": trial,
                "billing_period": billing,
                "subscription_period": period,
                "start_date": start,
                "expiration_date": expiration,
                "resources": [{"mpn": m, "quantity": q} for m, q in (resources or [(BASE, 12)])],
            }
        )
        return self

    def open_order(self, subscription_id: str, status: str = "processing") -> EstateBuilder:
        self.commerce["orders"].append({"id": "9000001", "subscription_id": subscription_id, "status": status})
        return self

    def unmap(self, offer: str) -> EstateBuilder:
        self.commerce["license_mappings"] = [m for m in self.commerce["license_mappings"] if m["csp_offer_id"] != offer]
        return self

    def build(self) -> Estate:
        return build_estate(parse_estate_document(copy.deepcopy(self.doc), "test-estate"), "test-estate")


def standard() -> EstateBuilder:
    """A CSP plan 5001 with a base and two add-ons, NCE plans for each licence, one subscription."""
    return (
        EstateBuilder()
        .csp_plan(5001, addons=(ADDON, ADDON2))
        .nce_plan(6001, NCE_BASE)
        .nce_plan(6101, NCE_ADDON)
        .nce_plan(6201, NCE_ADDON2)
    )
