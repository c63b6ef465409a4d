"""What a migration starts from: resellers, customers, subscriptions and the catalog."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from m365move.domain.catalog import Catalog
from m365move.domain.licenses import LicenseMapping
from m365move.domain.microsoft_migrations import NOT_CONSULTED, PartnerCenterView
from m365move.domain.money import Money
from m365move.domain.period import Period

TIER_CONFIG_ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class Reseller:
    id: str
    name: str
    tier_config: str  # active | processing | missing

    @property
    def tier_config_active(self) -> bool:
        return self.tier_config == TIER_CONFIG_ACTIVE


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    reseller_id: str
    name: str
    mca_accepted: bool


@dataclass(frozen=True, slots=True)
class SubscriptionResource:
    mpn: str
    quantity: int
    # What Commerce bills for one seat per billing period of this subscription, when known (else its plan's price).
    unit_price: Money | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    customer_id: str
    plan_id: int
    status: str
    trial: bool
    billing_period: Period
    subscription_period: Period
    start_date: dt.date | None
    expiration_date: dt.date | None
    resources: tuple[SubscriptionResource, ...]
    custom_attributes: Mapping[str, str] = field(default_factory=dict)
    # Whether it renews at expiry (SimpleAPI's renewalStatus); a target created from it renews likewise.
    auto_renew: bool = True

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class Estate:
    """The Commerce side of an estate, cross-referenced (the loader guarantees every id resolves)."""

    resellers: Mapping[str, Reseller]
    customers: Mapping[str, Customer]
    catalog: Catalog
    subscriptions: tuple[Subscription, ...]
    license_mapping: LicenseMapping
    # Subscriptions with an order still open on the platform (incomplete-order).
    open_order_subscriptions: frozenset[str] = frozenset()
    # What Partner Center says of the sources' legacy subscriptions (Microsoft-led migrations); NOT_CONSULTED
    # when nobody asked it (no credentials): the plan then says it cannot see them.
    partner_center: PartnerCenterView = NOT_CONSULTED

    def reseller_of(self, subscription: Subscription) -> Reseller:
        return self.resellers[self.customers[subscription.customer_id].reseller_id]

    def customer_of(self, subscription: Subscription) -> Customer:
        return self.customers[subscription.customer_id]

    def with_license_mapping(self, mapping: LicenseMapping) -> Estate:
        """The same estate under another licence mapping (a command-line mapping replaces the estate's)."""
        return Estate(
            resellers=self.resellers,
            customers=self.customers,
            catalog=self.catalog,
            subscriptions=self.subscriptions,
            license_mapping=mapping,
            open_order_subscriptions=self.open_order_subscriptions,
            partner_center=self.partner_center,
        )
