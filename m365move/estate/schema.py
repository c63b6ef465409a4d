"""The estate file's schema (msgspec structs), exactly as DESIGN §7 writes it.

Ids are strings (``"0012"`` stays ``"0012"``); numbers given for ids are accepted and turned into
strings (``typed.convert``), because people write ``id: 1000001`` unquoted. Plan ids are integers.
Read a document with ``typed.convert(raw, EstateDocument)``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from m365move.domain.licenses import parse_nce_license
from m365move.domain.money import checked_amount, checked_currency
from m365move.domain.period import Period
from m365move.estate.id_rules import ID_PATTERN, MAX_ID_LENGTH, MAX_NAME_LENGTH, SubscriptionStatus
from m365move.estate.typed import FieldProblem, convert, force_setattr

# Values beyond any real one are refused rather than ordered: a typo of a few zeros (or a hostile file)
# must not become an order for 10^30 seats. No Microsoft 365 subscription holds a million seats.
MAX_SEATS = 1_000_000
# Ids are stored as 64-bit integers by the platforms and the journal.
MAX_PLAN_ID = 2**63 - 1

IdText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
NameText = Annotated[str, msgspec.Meta(max_length=MAX_NAME_LENGTH)]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
PlanId = Annotated[int, msgspec.Meta(ge=1, le=MAX_PLAN_ID)]
Seats = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEATS)]
TierConfig = Literal["active", "processing", "missing"]
ResourceRole = Literal["base", "addon", "other"]

# Period texts as written -> as Commerce writes them ("1 Months" -> "1 month"); estates use a handful.
_NORMAL_PERIODS: dict[str, str] = {}


def period_text(value: str, field: str) -> str:
    """The period as Commerce writes it; FieldProblem naming ``field`` when it is no period."""
    normal = _NORMAL_PERIODS.get(value)
    if normal is None:
        try:
            normal = str(Period.parse(value))
        except ValueError as error:
            raise FieldProblem(field, str(error)) from None
        if len(_NORMAL_PERIODS) < 1024:
            _NORMAL_PERIODS[value] = normal
    return normal


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


def _check_money(entry: PlanPriceEntry | UnitPriceEntry) -> None:
    """An entry's ``amount`` (normalised in place) and ``currency``, each refused with its own field named."""
    try:
        force_setattr(entry, "amount", checked_amount(entry.amount))
    except ValueError as error:
        raise FieldProblem("amount", str(error)) from None
    try:
        checked_currency(entry.currency)
    except ValueError as error:
        raise FieldProblem("currency", str(error)) from None


class ResellerEntry(_Strict, frozen=True, kw_only=True):
    id: IdText
    name: NameText = ""
    tier_config: TierConfig = "active"


class CustomerEntry(_Strict, frozen=True, kw_only=True):
    id: IdText
    reseller_id: IdText
    name: NameText = ""
    mca_accepted: bool = True


class PlanResourceEntry(_Strict, frozen=True, kw_only=True):
    mpn: NonEmpty
    role: ResourceRole


class PlanPriceEntry(_Strict, frozen=True, kw_only=True):
    """One seat of a licence of the plan, for one billing period of a subscription of ``subscription_period``
    (Commerce's recurring product price; for an annual term billed monthly, the monthly charge)."""

    mpn: NonEmpty
    subscription_period: str
    amount: Decimal
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)]

    def __post_init__(self) -> None:
        force_setattr(self, "subscription_period", period_text(self.subscription_period, "subscription_period"))
        _check_money(self)


class PlanEntry(_Strict, frozen=True, kw_only=True):
    id: PlanId
    name: NameText = ""
    application: NonEmpty
    resources: list[PlanResourceEntry]
    billing_period: str
    subscription_periods: Annotated[list[str], msgspec.Meta(min_length=1)]
    delegated_to: list[IdText] = []
    # Tuples, as the domain holds them: the loader hands this mapping on without copying 2,000 × 500 lists.
    upgrade_paths: dict[str, tuple[int, ...]] = {}
    # The plan's price list (Commerce's product prices); the plan's price where no order estimate is had.
    prices: list[PlanPriceEntry] = []

    def __post_init__(self) -> None:
        force_setattr(self, "billing_period", period_text(self.billing_period, "billing_period"))
        force_setattr(self, "subscription_periods",
                      [period_text(p, "subscription_periods") for p in self.subscription_periods])


class UnitPriceEntry(_Strict, frozen=True, kw_only=True):
    """What one seat of a subscription's licence is billed per billing period (SimpleAPI ``products[].unitPrice``)."""

    amount: Decimal
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)]

    def __post_init__(self) -> None:
        _check_money(self)


class SubscriptionResourceEntry(_Strict, frozen=True, kw_only=True):
    mpn: NonEmpty
    # Strict: a quantity written as text ("12") is a mistake in the file, not something to guess at.
    quantity: Seats
    # The subscription's own price of one seat (optional): the source's price in the plan, before its plan's prices.
    unit_price: UnitPriceEntry | None = None


class SubscriptionEntry(_Strict, frozen=True, kw_only=True):
    id: IdText
    customer_id: IdText
    plan_id: PlanId
    status: SubscriptionStatus = "active"
    trial: bool = False
    billing_period: str
    subscription_period: str
    start_date: dt.date | None = None
    expiration_date: dt.date | None = None
    resources: list[SubscriptionResourceEntry]
    custom_attributes: dict[str, str] = {}
    # Whether the subscription renews at expiry (SimpleAPI's renewalStatus).
    auto_renew: bool = True

    def __post_init__(self) -> None:
        force_setattr(self, "billing_period", period_text(self.billing_period, "billing_period"))
        force_setattr(self, "subscription_period", period_text(self.subscription_period, "subscription_period"))
        # Two entries for one licence would give two orders with one idempotency key; Commerce holds one
        # quantity per MPN. (MPNs compare without case, as Commerce compares them.)
        seen: dict[str, int] = {}
        for index, resource in enumerate(self.resources):
            first = seen.setdefault(resource.mpn.upper(), index)
            if first != index:
                raise FieldProblem("resources", f"licence {resource.mpn} appears twice (resources {first} and {index}); "
                                   "give it once with its total quantity")


class LicenseMappingEntry(_Strict, frozen=True, kw_only=True):
    csp_offer_id: NonEmpty
    nce: str

    def __post_init__(self) -> None:
        try:
            force_setattr(self, "nce", parse_nce_license(self.nce))
        except ValueError as error:
            raise FieldProblem("nce", str(error)) from None


class OpenOrderEntry(_Strict, frozen=True, kw_only=True):
    """An order already on the platform (our addition): open ones block their subscription."""

    id: IdText
    subscription_id: IdText
    type: str = "change"
    status: str = "processing"


class CommerceSection(_Strict, frozen=True, kw_only=True):
    resellers: list[ResellerEntry] = []
    customers: list[CustomerEntry] = []
    plans: list[PlanEntry] = []
    subscriptions: list[SubscriptionEntry] = []
    license_mappings: list[LicenseMappingEntry] = []
    orders: list[OpenOrderEntry] = []


class EstateDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A whole estate file. The other platforms' sections are validated by their own adapters."""

    version: Literal[1]
    commerce: CommerceSection = msgspec.field(default_factory=CommerceSection)
    connect: dict[str, Any] = {}
    partner_center: dict[str, Any] = {}
    call2teams: dict[str, Any] = {}


def estate_document(raw: Any) -> EstateDocument:
    """The document in plain data (``typed.Invalid`` when refused); the loader's ``parse_estate_document`` also checks
    the platforms' sections and names the file."""
    return convert(raw, EstateDocument)
