"""The estate's ``partner_center`` section: what the sandbox's Partner Center serves, checked before anything runs.

Like the ``connect`` section, objects keep Partner Center's own shapes and may carry more fields than checked
here; what the sandbox relies on is checked, so a malformed section is a bad-input error naming the field at
``estate validate`` time rather than a ``KeyError`` inside the sandbox: customers have a tenant id, subscriptions
and migrations an id, seat counts are whole numbers, times and limits are finite and positive.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from m365move.estate.connect_section import ObjectId
from m365move.estate.schema import MAX_SEATS
from m365move.estate.typed import FieldProblem, finite

Seats = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEATS)]


class _PartnerCenterObject(msgspec.Struct, frozen=True, kw_only=True):
    """Partner Center objects carry many more fields; only ours are checked (unknown fields are ignored)."""


class Credentials(_PartnerCenterObject, frozen=True, kw_only=True):
    client_id: str
    client_secret: str


class RateLimit(_PartnerCenterObject, frozen=True, kw_only=True):
    count: Annotated[int, msgspec.Meta(gt=0)]
    window_seconds: Annotated[float, msgspec.Meta(gt=0)]

    def __post_init__(self) -> None:
        finite(self, "window_seconds")


class LegacySubscription(_PartnerCenterObject, frozen=True, kw_only=True):
    id: ObjectId
    quantity: Seats = 1
    seat_cap: Seats | None = None
    microsoft_migrates_after_hours: Annotated[float, msgspec.Meta(ge=0)] | None = None
    migration_failures: list[Any] = []
    manual_migration: bool = False  # an offer Microsoft cannot migrate (purchase new and cancel instead)

    def __post_init__(self) -> None:
        finite(self, "microsoft_migrates_after_hours")


class Customer(_PartnerCenterObject, frozen=True, kw_only=True):
    tenant_id: ObjectId
    subscriptions: list[LegacySubscription] = []
    # new-commerce product id -> seats the customer holds already (they count toward the 300-seat business cap)
    nce_seats: dict[str, Seats] = {}


class Migration(_PartnerCenterObject, frozen=True, kw_only=True):
    id: ObjectId
    currentSubscriptionId: ObjectId  # noqa: N815 (Partner Center's own field name)


class PartnerCenterSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    credentials: Credentials | None = None
    time_scale: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    migration_seconds: Annotated[float, msgspec.Meta(ge=0)] = 60.0
    list_page_size: Annotated[int, msgspec.Meta(gt=0)] | None = None
    create_limit: RateLimit | None = None
    validate_limit: RateLimit | None = None
    epoch: str | None = None  # the platform clock's zero (the sandbox starts at the real time otherwise)
    customers: list[Customer] = []
    migrations: list[Migration] = []

    def __post_init__(self) -> None:
        finite(self, "time_scale", "migration_seconds")
        if self.epoch is not None:
            try:
                dt.datetime.fromisoformat(self.epoch.replace("Z", "+00:00"))
            except ValueError:
                raise FieldProblem("epoch", f"must be an ISO 8601 time such as 2026-11-30T08:00:00Z, "
                                   f"not {self.epoch!r}") from None
