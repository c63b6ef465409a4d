"""The estate schema of ``schema.py`` once more, without its validators: the fast way in for large files.

A 100k-subscription estate is about 2 million values. The ordinary schema's validators (periods, licences,
numbers written for ids) are a Python call per entry, and its document is a second copy of the estate in
memory, so the loader first tries these structs, which have no validators and build the domain estate
directly. They accept a *subset* of what ``schema.py`` accepts, with the same constraints, and never more:

- ids are strings only (a number written for an id is converted to text on the ordinary path);
- periods, licence mappings and repeated licences are checked while the domain is built (the loader's
  ``strict`` build), by the same functions the ordinary schema's validators call;
- the ``connect``, ``partner_center`` and ``call2teams`` sections are kept raw here and read with the
  ordinary JSON reader (its limits on nesting and number length apply), then ``connect`` and ``partner_center``
  are checked by their own models.

Whatever these structs refuse, for any reason, is read again the ordinary way, which gives the error
message naming the file and the place (or accepts the file). So the message for bad input never comes
from here, and a file both paths accept gives the same estate (tests/estate/test_fast_schema.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec

from m365move.estate.id_rules import SubscriptionStatus
from m365move.estate.schema import IdText, NameText, NonEmpty, PlanId, Seats

# Every struct: unknown fields refused, and not tracked by the cyclic GC, since none is ever part of a
# reference cycle.

_T = TypeVar("_T")


class ResellerEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    id: IdText
    name: NameText = ""
    tier_config: Literal["active", "processing", "missing"] = "active"


class CustomerEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    id: IdText
    reseller_id: IdText
    name: NameText = ""
    mca_accepted: bool = True


class PlanResourceEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    mpn: NonEmpty
    role: Literal["base", "addon", "other"]


class PlanPriceEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    mpn: NonEmpty
    subscription_period: str
    amount: Decimal
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)]


class PlanEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    id: PlanId
    application: NonEmpty
    resources: list[PlanResourceEntry]
    billing_period: str
    subscription_periods: Annotated[list[str], msgspec.Meta(min_length=1)]
    name: NameText = ""
    delegated_to: list[IdText] = []
    upgrade_paths: dict[str, tuple[int, ...]] = {}
    prices: list[PlanPriceEntry] = []


class UnitPriceEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    amount: Decimal
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)]


class SubscriptionResourceEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    mpn: NonEmpty
    quantity: Seats
    unit_price: UnitPriceEntry | None = None


class SubscriptionEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    id: IdText
    customer_id: IdText
    plan_id: PlanId
    billing_period: str
    subscription_period: str
    resources: list[SubscriptionResourceEntry]
    status: SubscriptionStatus = "active"
    trial: bool = False
    start_date: dt.date | None = None
    expiration_date: dt.date | None = None
    custom_attributes: dict[str, str] = {}
    auto_renew: bool = True


class LicenseMappingEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    csp_offer_id: NonEmpty
    nce: str


class OpenOrderEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    id: IdText
    subscription_id: IdText
    type: str = "change"
    status: str = "processing"


class CommerceSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    resellers: list[ResellerEntry] = []
    customers: list[CustomerEntry] = []
    plans: list[PlanEntry] = []
    subscriptions: list[SubscriptionEntry] = []
    license_mappings: list[LicenseMappingEntry] = []
    orders: list[OpenOrderEntry] = []


class JsonEstateDocument(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """A JSON estate file; the other platforms' sections as their raw JSON text (see the module doc)."""

    version: Literal[1]
    commerce: CommerceSection = CommerceSection()
    connect: msgspec.Raw = msgspec.Raw()
    partner_center: msgspec.Raw = msgspec.Raw()
    call2teams: msgspec.Raw = msgspec.Raw()


class ParsedEstateDocument(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """An estate already parsed into plain data (a YAML file); the other sections as parsed."""

    version: Literal[1]
    commerce: CommerceSection = CommerceSection()
    connect: dict[str, Any] = {}
    partner_center: dict[str, Any] = {}
    call2teams: dict[str, Any] = {}


class LazyEntries(Generic[_T]):
    """Entries kept as their JSON text and decoded one at a time, again on each iteration.

    Decoding a 100k-subscription estate into structs all at once (about 200 MB, freed right after the domain
    estate is built) set the loading peak, and the domain objects built among them left the memory fragmented.
    One at a time, each struct's memory is reused by the next. msgspec.ValidationError (a ValueError) when an
    entry is refused.
    """

    __slots__ = ("_raws", "_decode")

    def __init__(self, raws: list[msgspec.Raw], decoder: msgspec.json.Decoder[_T]) -> None:
        self._raws = raws
        self._decode = decoder.decode

    def __iter__(self) -> Iterator[_T]:
        decode = self._decode
        for raw in self._raws:
            yield decode(raw)


class JsonCommerceOutline(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """The commerce section with its large lists (customers, plans, subscriptions) left as JSON texts."""

    resellers: list[ResellerEntry] = []
    customers: list[msgspec.Raw] = []
    plans: list[msgspec.Raw] = []
    subscriptions: list[msgspec.Raw] = []
    license_mappings: list[LicenseMappingEntry] = []
    orders: list[OpenOrderEntry] = []

    def section(self) -> LazyCommerceSection:
        return LazyCommerceSection(
            self.resellers, LazyEntries(self.customers, _CUSTOMER_DECODER), LazyEntries(self.plans, _PLAN_DECODER),
            LazyEntries(self.subscriptions, _SUBSCRIPTION_DECODER), self.license_mappings, self.orders)


@dataclass(frozen=True)
class LazyCommerceSection:
    """``CommerceSection``'s fields, the large lists decoded as they are read (what the loader builds from)."""

    resellers: list[ResellerEntry]
    customers: LazyEntries[CustomerEntry]
    plans: LazyEntries[PlanEntry]
    subscriptions: LazyEntries[SubscriptionEntry]
    license_mappings: list[LicenseMappingEntry]
    orders: list[OpenOrderEntry]


class JsonEstateOutline(msgspec.Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """A JSON estate file as ``JsonEstateDocument``, its subscriptions still to be decoded (the loader's way)."""

    version: Literal[1]
    commerce: JsonCommerceOutline = JsonCommerceOutline()
    connect: msgspec.Raw = msgspec.Raw()
    partner_center: msgspec.Raw = msgspec.Raw()
    call2teams: msgspec.Raw = msgspec.Raw()


_JSON_DECODER = msgspec.json.Decoder(JsonEstateDocument)
_OUTLINE_DECODER = msgspec.json.Decoder(JsonEstateOutline)
_CUSTOMER_DECODER = msgspec.json.Decoder(CustomerEntry)
_PLAN_DECODER = msgspec.json.Decoder(PlanEntry)
_SUBSCRIPTION_DECODER = msgspec.json.Decoder(SubscriptionEntry)


def decode_json_estate(data: bytes) -> JsonEstateDocument | None:
    """The estate in these UTF-8 JSON bytes, or None when the structs refuse it (see the module doc)."""
    try:
        return _JSON_DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def decode_json_outline(data: bytes) -> JsonEstateOutline | None:
    """As ``decode_json_estate``, its large lists left to be decoded one entry at a time (which may still refuse
    one): ``document.commerce.section()``."""
    try:
        return _OUTLINE_DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def convert_parsed_estate(raw: Any) -> ParsedEstateDocument | None:
    """The estate in already-parsed plain data, or None when the structs refuse it (see the module doc)."""
    try:
        # strict: no text read as a number or a boolean, exactly as the JSON decoder.
        return msgspec.convert(raw, ParsedEstateDocument, strict=True)
    except msgspec.ValidationError:
        return None
