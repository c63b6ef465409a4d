"""The JSON shapes of Partner Center's new-commerce migration API, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from m365move.text.iso_time import parse_iso_time


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
    # Microsoft migrates legacy subscriptions itself (at term end); those migrations carry ``microsoftLed: true``.
    microsoft_led: bool = False
    started_time: datetime | None = None
    completed_time: datetime | None = None  # when it ended, Completed or Failed
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Migration:
        return cls(
            id=str(data["id"]),
            status=MigrationStatus.parse(data.get("status")),
            current_subscription_id=str(data.get("currentSubscriptionId", "")),
            customer_tenant_id=data.get("customerTenantId"),
            new_commerce_subscription_id=data.get("newCommerceSubscriptionId"),
            microsoft_led=data.get("microsoftLed") is True,
            started_time=parse_iso_time(data.get("startedTime")),
            completed_time=parse_iso_time(data.get("completedTime")),
            raw=data,
        )


def format_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class LegacySubscription:
    """``GET /v1/customers/{tenant}/subscriptions/{id}``: the legacy subscription's own state (``active``,
    ``suspended``, ``deleted``; Microsoft writes it in lower case) and the end of its commitment term."""

    id: str
    status: str
    commitment_end_date: datetime | None = None
    quantity: int | None = None
    offer_id: str | None = None
    parent_subscription_id: str | None = None  # set on an add-on: the base it migrates with
    creation_date: datetime | None = None  # when it was bought (an add-on younger than 30 days holds its bundle)
    # New commerce: until when it may be cancelled for a refund (read it, never compute the window), auto-renewal.
    cancellation_allowed_until: datetime | None = None
    auto_renew_enabled: bool | None = None

    @property
    def suspended(self) -> bool:
        return self.status.lower() == "suspended"

    @property
    def active(self) -> bool:
        return self.status.lower() == "active"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LegacySubscription:
        quantity = data.get("quantity")
        return cls(id=str(data.get("id", "")), status=str(data.get("status", "")),
                   commitment_end_date=parse_iso_time(data.get("commitmentEndDate")),
                   quantity=quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None,
                   offer_id=data.get("offerId"), parent_subscription_id=data.get("parentSubscriptionId") or None,
                   creation_date=parse_iso_time(data.get("creationDate")),
                   cancellation_allowed_until=parse_iso_time(data.get("cancellationAllowedUntilDate")),
                   auto_renew_enabled=data.get("autoRenewEnabled") if isinstance(data.get("autoRenewEnabled"), bool)
                   else None)


class ScheduleStatus(str, Enum):
    """A migration schedule's life: ``Created`` until its date, then ``Completed`` (it made a migration, named by
    ``newCommerceMigrationId``) or ``Failed`` (``errorCode``/``errorDescription``); ``Cancelled`` by the partner."""

    CREATED = "Created"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @classmethod
    def parse(cls, text: object) -> ScheduleStatus:
        for status in cls:
            if str(text).lower() == status.value.lower():
                return status
        return cls.CREATED  # unknown: still waiting, never treated as gone


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """Body of ``POST …/migrations/newcommerce/schedules`` (and of the ``PUT`` that updates one, which may not
    change ``currentSubscriptionId``): a ``targetDate`` or ``migrateOnRenewal``, never neither."""

    current_subscription_id: str
    term_duration: str
    billing_cycle: str
    quantity: int
    target_date: datetime | None = None
    migrate_on_renewal: bool = False
    purchase_full_term: bool = False
    custom_term_end_date: str | None = None
    external_reference_id: str | None = None

    def __post_init__(self) -> None:
        if self.target_date is None and not self.migrate_on_renewal:
            raise ValueError("a schedule needs a target date or migrate-on-renewal")
        if self.target_date is not None and self.migrate_on_renewal:
            raise ValueError("a schedule takes a target date or migrate-on-renewal, not both")
        cycles = TERM_BILLING_CYCLES.get(self.term_duration)
        if cycles is None:
            raise ValueError(f"term {self.term_duration} is not sold in new commerce (P1M, P1Y or P3Y)")
        if self.billing_cycle not in cycles:
            raise ValueError(f"term {self.term_duration} is not billed {self.billing_cycle} (only {', '.join(cycles)})")
        if self.quantity < 1:
            raise ValueError("a schedule needs a quantity of at least 1")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "currentSubscriptionId": self.current_subscription_id,
            "termDuration": self.term_duration,
            "billingCycle": self.billing_cycle,
            "purchaseFullTerm": self.purchase_full_term,
            "quantity": self.quantity,
            "migrateOnRenewal": self.migrate_on_renewal,
        }
        if self.target_date is not None:
            body["targetDate"] = format_time(self.target_date)
        if self.custom_term_end_date:
            body["customTermEndDate"] = self.custom_term_end_date
        if self.external_reference_id:
            body["externalReferenceId"] = self.external_reference_id
        return body


@dataclass(frozen=True, slots=True)
class Schedule:
    """A migration schedule as Partner Center reports it (``NewCommerceMigrationSchedule``)."""

    id: str
    status: ScheduleStatus
    current_subscription_id: str
    customer_tenant_id: str | None = None
    target_date: datetime | None = None
    migrate_on_renewal: bool = False
    term_duration: str | None = None
    billing_cycle: str | None = None
    quantity: int | None = None
    new_commerce_migration_id: str | None = None
    error_description: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        quantity = data.get("quantity")
        return cls(
            id=str(data["id"]),
            status=ScheduleStatus.parse(data.get("status")),
            current_subscription_id=str(data.get("currentSubscriptionId", "")),
            customer_tenant_id=data.get("customerTenantId"),
            target_date=parse_iso_time(data.get("targetDate")),
            migrate_on_renewal=data.get("migrateOnRenewal") is True,
            term_duration=data.get("termDuration"),
            billing_cycle=data.get("billingCycle"),
            quantity=quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None,
            new_commerce_migration_id=data.get("newCommerceMigrationId"),
            error_description=data.get("errorDescription"),
            raw=data,
        )
