"""The estate's ``partner_center`` section: what the sandbox's Partner Center serves, checked before anything runs.

Like the ``connect`` section, objects keep Partner Center's own shapes and may carry more fields than checked
here; what the sandbox relies on is checked, so a malformed section is a bad-input error naming the field at
``estate validate`` time rather than a ``KeyError`` inside the sandbox: customers have a tenant id, subscriptions
and migrations an id, seat counts are whole numbers, times and limits are finite and positive.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from m365move.estate.connect_section import FiniteNumber, ObjectId
from m365move.estate.schema import MAX_SEATS


def _whole_seats(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEATS:
        raise ValueError(f"must be a whole number of seats from 0 to {MAX_SEATS}, not {value!r}")
    return value


Seats = Annotated[Any, AfterValidator(_whole_seats)]


def _iso_time(value: str) -> str:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"must be an ISO 8601 time such as 2026-11-30T08:00:00Z, not {value!r}") from None
    return value


IsoTime = Annotated[StrictStr, AfterValidator(_iso_time)]


class _PartnerCenterObject(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Partner Center objects carry many more fields; only ours are checked


class Credentials(_PartnerCenterObject):
    client_id: StrictStr
    client_secret: StrictStr


class RateLimit(_PartnerCenterObject):
    count: int = Field(gt=0)
    window_seconds: FiniteNumber = Field(gt=0)


class LegacySubscription(_PartnerCenterObject):
    id: ObjectId
    quantity: Seats = 1
    seat_cap: Seats | None = None
    microsoft_migrates_after_hours: FiniteNumber | None = Field(default=None, ge=0)
    migration_failures: list[Any] = Field(default_factory=list)
    manual_migration: bool = False  # an offer Microsoft cannot migrate (purchase new and cancel instead)


class Customer(_PartnerCenterObject):
    tenant_id: ObjectId
    subscriptions: list[LegacySubscription] = Field(default_factory=list)
    # new-commerce product id -> seats the customer holds already (they count toward the 300-seat business cap)
    nce_seats: dict[str, Seats] = Field(default_factory=dict)


class Migration(_PartnerCenterObject):
    id: ObjectId
    currentSubscriptionId: ObjectId  # noqa: N815 (Partner Center's own field name)


class PartnerCenterSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    credentials: Credentials | None = None
    time_scale: FiniteNumber = Field(default=1.0, gt=0)
    migration_seconds: FiniteNumber = Field(default=60.0, ge=0)
    list_page_size: int | None = Field(default=None, gt=0)
    create_limit: RateLimit | None = None
    validate_limit: RateLimit | None = None
    epoch: IsoTime | None = None  # the platform clock's zero (the sandbox starts at the real time otherwise)
    customers: list[Customer] = Field(default_factory=list)
    migrations: list[Migration] = Field(default_factory=list)
