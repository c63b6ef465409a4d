"""The estate file's schema (pydantic), exactly as DESIGN §7 writes it.

Ids are strings (``"0012"`` stays ``"0012"``); numbers given for ids are accepted and turned into
strings, because people write ``id: 1000001`` unquoted. Plan ids are integers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, field_validator

from m365move.domain.licenses import parse_nce_license
from m365move.domain.period import Period

# Values beyond any real one are refused rather than ordered: a typo of a few zeros (or a hostile file)
# must not become an order for 10^30 seats. No Microsoft 365 subscription holds a million seats.
MAX_SEATS = 1_000_000
# Ids are stored as 64-bit integers by the platforms and the journal.
MAX_PLAN_ID = 2**63 - 1

# Numbers become their text inside pydantic's core (no Python call per id: an estate has 300k of them).
IdText = Annotated[str, Field(min_length=1, coerce_numbers_to_str=True)]

# Period texts as written -> as Commerce writes them ("1 Months" -> "1 month"); estates use a handful.
_NORMAL_PERIODS: dict[str, str] = {}


def _period_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a period is written '<n> <unit>', such as '1 month'")
    normal = _NORMAL_PERIODS.get(value)
    if normal is None:
        normal = str(Period.parse(value))
        if len(_NORMAL_PERIODS) < 1024:
            _NORMAL_PERIODS[value] = normal
    return normal


PeriodText = Annotated[str, BeforeValidator(_period_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResellerEntry(_Strict):
    id: IdText
    name: str = ""
    tier_config: Literal["active", "processing", "missing"] = "active"


class CustomerEntry(_Strict):
    id: IdText
    reseller_id: IdText
    name: str = ""
    mca_accepted: bool = True


class PlanResourceEntry(_Strict):
    mpn: str = Field(min_length=1)
    role: Literal["base", "addon", "other"]


class PlanEntry(_Strict):
    id: int = Field(ge=1, le=MAX_PLAN_ID)
    name: str = ""
    application: str = Field(min_length=1)
    resources: list[PlanResourceEntry]
    billing_period: PeriodText
    subscription_periods: list[PeriodText] = Field(min_length=1)
    delegated_to: list[IdText] = Field(default_factory=list)
    # Tuples, as the domain holds them: the loader hands this mapping on without copying 2,000 × 500 lists.
    upgrade_paths: dict[str, tuple[int, ...]] = Field(default_factory=dict)


class SubscriptionResourceEntry(_Strict):
    mpn: str = Field(min_length=1)
    # Strict: a quantity written as text ("12") is a mistake in the file, not something to guess at.
    quantity: StrictInt = Field(ge=0, le=MAX_SEATS)


class SubscriptionEntry(_Strict):
    id: IdText
    customer_id: IdText
    plan_id: int = Field(ge=1, le=MAX_PLAN_ID)
    status: str = "active"
    trial: bool = False
    billing_period: PeriodText
    subscription_period: PeriodText
    start_date: dt.date | None = None
    expiration_date: dt.date | None = None
    resources: list[SubscriptionResourceEntry]
    custom_attributes: dict[str, str] = Field(default_factory=dict)

    @field_validator("resources")
    @classmethod
    def _one_entry_per_licence(cls, resources: list[SubscriptionResourceEntry]) -> list[SubscriptionResourceEntry]:
        # Two entries for one licence would give two orders with one idempotency key; Commerce holds one
        # quantity per MPN. (MPNs compare without case, as Commerce compares them.)
        seen: dict[str, int] = {}
        for index, resource in enumerate(resources):
            first = seen.setdefault(resource.mpn.upper(), index)
            if first != index:
                raise ValueError(f"licence {resource.mpn} appears twice (resources {first} and {index}); "
                                 "give it once with its total quantity")
        return resources


class LicenseMappingEntry(_Strict):
    csp_offer_id: str = Field(min_length=1)
    nce: str

    @field_validator("nce")
    @classmethod
    def _nce_shape(cls, value: str) -> str:
        return parse_nce_license(value)


class OpenOrderEntry(_Strict):
    """An order already on the platform (our addition): open ones block their subscription."""

    id: IdText
    subscription_id: IdText
    type: str = "change"
    status: str = "processing"


class CommerceSection(_Strict):
    resellers: list[ResellerEntry] = Field(default_factory=list)
    customers: list[CustomerEntry] = Field(default_factory=list)
    plans: list[PlanEntry] = Field(default_factory=list)
    subscriptions: list[SubscriptionEntry] = Field(default_factory=list)
    license_mappings: list[LicenseMappingEntry] = Field(default_factory=list)
    orders: list[OpenOrderEntry] = Field(default_factory=list)


class EstateDocument(BaseModel):
    """A whole estate file. The other platforms' sections are validated by their own adapters."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    commerce: CommerceSection = Field(default_factory=CommerceSection)
    connect: dict[str, Any] = Field(default_factory=dict)
    partner_center: dict[str, Any] = Field(default_factory=dict)
    call2teams: dict[str, Any] = Field(default_factory=dict)
