"""The JSON shapes of Partner Center's new-commerce migration API, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class MigrationStatus(str, Enum):
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @classmethod
    def parse(cls, text: object) -> MigrationStatus:
        for status in cls:
            if str(text).lower() == status.value.lower():
                return status
        # An unknown status is treated as still running: never approve or fail on a word we do not know.
        return cls.PROCESSING


@dataclass(frozen=True, slots=True)
class EligibilityError:
    code: int
    description: str


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Answer of ``POST …/migrations/newcommerce/validate``."""

    current_subscription_id: str
    is_eligible: bool
    catalog_item_id: str | None = None
    errors: tuple[EligibilityError, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Eligibility:
        errors = tuple(
            EligibilityError(int(e.get("code", -1)), str(e.get("description", ""))) for e in data.get("errors") or ()
        )
        return cls(
            current_subscription_id=str(data.get("currentSubscriptionId", "")),
            is_eligible=bool(data.get("isEligible", False)),
            catalog_item_id=data.get("catalogItemId"),
            errors=errors,
        )


# Terms Microsoft sells in new commerce and the billing cycles each may be billed in.
TERM_BILLING_CYCLES: dict[str, tuple[str, ...]] = {
    "P1M": ("Monthly",),
    "P1Y": ("Monthly", "Annual"),
    "P3Y": ("Monthly", "Annual", "Triennial"),
}
BILLING_CYCLES = ("Monthly", "Annual", "Triennial")


@dataclass(frozen=True, slots=True)
class NewMigration:
    """Body of ``POST /v1/customers/{tenant}/migrations/newcommerce``."""

    current_subscription_id: str
    term_duration: str  # P1M | P1Y | P3Y
    billing_cycle: str  # Monthly | Annual | Triennial
    quantity: int
    purchase_full_term: bool = False
    custom_term_end_date: str | None = None
    add_on_migrations: tuple[dict[str, Any], ...] = ()
    external_reference_id: str | None = None  # tags the migration with the run (or request) that made it

    def __post_init__(self) -> None:
        cycles = TERM_BILLING_CYCLES.get(self.term_duration)
        if cycles is None:
            raise ValueError(f"term {self.term_duration} is not sold in new commerce (P1M, P1Y or P3Y)")
        if self.billing_cycle not in cycles:
            raise ValueError(f"term {self.term_duration} is not billed {self.billing_cycle} (only {', '.join(cycles)})")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "currentSubscriptionId": self.current_subscription_id,
            "termDuration": self.term_duration,
            "billingCycle": self.billing_cycle,
            "purchaseFullTerm": self.purchase_full_term,
            "quantity": self.quantity,
            "addOnMigrations": list(self.add_on_migrations),
        }
        if self.custom_term_end_date:
            body["customTermEndDate"] = self.custom_term_end_date
        if self.external_reference_id:
            body["externalReferenceId"] = self.external_reference_id
        return body


@dataclass(frozen=True, slots=True)
class Migration:
    """A migration as Partner Center reports it."""

    id: str
    status: MigrationStatus
    current_subscription_id: str
    customer_tenant_id: str | None = None
    new_commerce_subscription_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Migration:
        return cls(
            id=str(data["id"]),
            status=MigrationStatus.parse(data.get("status")),
            current_subscription_id=str(data.get("currentSubscriptionId", "")),
            customer_tenant_id=data.get("customerTenantId"),
            new_commerce_subscription_id=data.get("newCommerceSubscriptionId"),
            raw=data,
        )
