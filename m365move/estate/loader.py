"""Reads an estate file (YAML or JSON), validates it field by field, and builds the domain Estate.

Speed at 100k subscriptions: the file is first read through msgspec structs (``fast_schema.py``):
straight from the bytes for JSON, from the parsed data for YAML. They build the domain estate without
an intermediate validated document. Whatever they refuse is read again the ordinary way (``schema.py``,
whose validators normalise periods and licences and name every problem), whose errors name the file and the
field path exactly as people read them; a valid file never takes that way. The validated document, which the
sandbox and the Connect adapters use, is made only when asked for (``LoadedEstate.document``); ``plan`` never
asks.

Loading runs with the cyclic garbage collector paused: the hundreds of thousands of objects it builds
form no cycles, and a collector left on rescans all of them every few thousand allocations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from m365move.domain.catalog import Catalog, PlanResource, ResourceRole, ServicePlan
from m365move.domain.estate import Customer, Estate, Reseller, Subscription, SubscriptionResource
from m365move.domain.licenses import LicenseMapping, normalize_offer_id
from m365move.domain.money import Money, checked_amount, checked_currency
from m365move.domain.orders import FINAL_ORDER_STATUSES as DOMAIN_FINAL_ORDER_STATUSES
from m365move.domain.period import Period
from m365move.errors import InputError
from m365move.estate import fast_schema, typed
from m365move.files.input_text import parse_json_text, parse_yaml_text, read_input_bytes, read_input_text
from m365move.files.json_duplicate_keys import refuse_duplicate_keys
from m365move.memory.cyclic_gc import cyclic_gc_paused

if TYPE_CHECKING:
    from m365move.estate.schema import EstateDocument

# An estate's order is open unless final; estates written by hand also say "failed" or "canceled".
FINAL_ORDER_STATUSES = DOMAIN_FINAL_ORDER_STATUSES | {"failed", "canceled"}

_UTF8_BOM = b"\xef\xbb\xbf"

_V = TypeVar("_V")


class LoadedEstate:
    """The domain view of an estate file, and its validated document (for adapters such as the sandbox).

    The document is validated from the file when first asked for, unless the loader already had it.
    """

    __slots__ = ("path", "estate", "_document")

    def __init__(self, path: Path, document: EstateDocument | None, estate: Estate) -> None:
        self.path = path
        self.estate = estate
        self._document = document

    @property
    def document(self) -> EstateDocument:
        if self._document is None:
            with cyclic_gc_paused():
                self._document = read_estate_document(self.path)
        return self._document


def read_structured_file(path: Path) -> Any:
    """Parse a YAML or JSON file (by suffix; YAML otherwise), or raise InputError naming it.

    Encodings, nesting, number lengths and duplicate YAML keys are checked by ``m365move.files.input_text``.
    """
    text = read_input_text(path)
    if path.suffix.lower() == ".json":
        return parse_json_text(text, where=str(path))
    return parse_yaml_text(text, where=str(path))


def load_estate(path: str | Path) -> LoadedEstate:
    """Load and validate an estate file; InputError names the file, the field path and the problem."""
    path = Path(path)
    with cyclic_gc_paused():
        as_json = _looks_like_json(path)
        try:
            estate = _fast_estate_from_json(path) if as_json else None
        except RecursionError:  # a value nested deep inside a field: the ordinary path names the place
            estate = None
        if estate is not None:
            return LoadedEstate(path, None, estate)
        raw = _read_mapping(path)
        if not as_json:  # (JSON the structs refused as bytes they refuse as data too)
            estate = _fast_estate_from_parsed(raw, path)
            if estate is not None:
                return LoadedEstate(path, None, estate)
        document = parse_estate_document(raw, str(path))
        del raw  # the validated document replaces it: do not hold both at the peak
        return LoadedEstate(path, document, build_estate(document, str(path)))


def read_estate_document(path: Path) -> EstateDocument:
    """The estate file as the validated document (cross-references are checked by the domain build)."""
    document = _json_document(path) if _looks_like_json(path) else None
    if document is None:
        document = parse_estate_document(_read_mapping(path), str(path))
    return document


def _read_mapping(path: Path) -> dict[str, Any]:
    raw = read_structured_file(path)
    if not isinstance(raw, dict):
        raise InputError("an estate file is a mapping with 'version: 1' and a 'commerce' section", where=str(path))
    return raw


def _looks_like_json(path: Path) -> bool:
    """A .json file, or one whose content starts as a JSON object does (JSON is also valid YAML)."""
    if path.suffix.lower() == ".json":
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return head.removeprefix(_UTF8_BOM).lstrip().startswith(b"{")


def _json_bytes(path: Path) -> bytes | None:
    try:
        data = read_input_bytes(path)
    except InputError:
        return None  # the ordinary path names the problem
    return data.removeprefix(_UTF8_BOM)


def _fast_estate_from_json(path: Path) -> Estate | None:
    """The domain estate straight from the file's bytes, or None when the fast structs refuse anything."""
    data = _json_bytes(path)
    document = fast_schema.decode_json_outline(data) if data is not None else None
    if data is None or document is None:
        return None
    refuse_duplicate_keys(data, where=str(path))  # (msgspec keeps a repeated key's last value)
    del data  # (the outline's raw parts keep the bytes alive until the estate is built)
    sections = []
    for raw in (document.connect, document.partner_center, document.call2teams):
        # The ordinary JSON reader, so its limits (nesting, number lengths) apply as on the ordinary path.
        try:
            section = parse_json_text(bytes(raw).decode(), where=str(path)) if len(raw) else {}
        except InputError:
            return None
        if not isinstance(section, dict):
            return None
        sections.append(section)
    if not _platform_sections_valid(sections[0], sections[1]):
        return None
    return _fast_build(document.commerce.section(), path)


def _fast_estate_from_parsed(raw: dict[str, Any], path: Path) -> Estate | None:
    """The domain estate from parsed data (YAML), or None when the fast structs refuse anything."""
    document = fast_schema.convert_parsed_estate(raw)
    if document is None or not _platform_sections_valid(document.connect, document.partner_center):
        return None
    return _fast_build(document.commerce, path)


def _platform_sections_valid(connect: dict[str, Any], partner_center: dict[str, Any]) -> bool:
    if not connect and not partner_center:
        return True
    from m365move.estate.connect_section import ConnectSection
    from m365move.estate.partner_center_section import PartnerCenterSection

    try:
        if connect:
            typed.convert(connect, ConnectSection, numbers_as_text=False)
        if partner_center:
            typed.convert(partner_center, PartnerCenterSection, numbers_as_text=False)
    except typed.Invalid:
        return False
    return True


def _fast_build(commerce: fast_schema.CommerceSection | fast_schema.LazyCommerceSection, path: Path) -> Estate | None:
    """The domain estate from the fast structs; None on any problem, which the ordinary path then names."""
    try:
        return _build_domain(commerce, str(path), strict=True)
    except (InputError, ValueError):
        return None


def _json_document(path: Path) -> EstateDocument | None:
    """The document decoded and validated straight from the file's bytes, or None when anything is wrong."""
    from m365move.estate.schema import EstateDocument

    data = _json_bytes(path)
    if data is None:
        return None
    try:
        document = typed.decode_json(data, EstateDocument)
        _check_platform_sections(document)  # as parse_estate_document checks them
    except typed.Invalid:
        return None
    refuse_duplicate_keys(data, where=str(path))
    return document


def _check_platform_sections(document: EstateDocument) -> None:
    """The ``connect`` and ``partner_center`` sections, each by its own model, so the sandbox and the extension
    read well-formed sections (the document keeps them as plain JSON: the platforms' own shapes)."""
    from m365move.estate.connect_section import ConnectSection
    from m365move.estate.partner_center_section import PartnerCenterSection

    for name, section, model in (("connect", document.connect, ConnectSection),
                                 ("partner_center", document.partner_center, PartnerCenterSection)):
        if section:
            try:
                typed.convert(section, model, numbers_as_text=False)
            except typed.Invalid as error:
                raise typed.Invalid(f"{name}.{error.path}" if error.path else name, error.message) from None


def parse_estate_document(raw: dict[str, Any], source: str) -> EstateDocument:
    """The estate document in parsed data; InputError naming the source, the field path and the problem."""
    from m365move.estate.schema import EstateDocument

    try:
        document = typed.convert(raw, EstateDocument)
        _check_platform_sections(document)
    except typed.Invalid as error:
        raise InputError(error.message, where=f"{source}: {error.path}" if error.path else source) from None
    return document


def build_estate(document: EstateDocument, source: str) -> Estate:
    """Cross-reference the document and convert it to the domain; the first broken reference is an error."""
    return _build_domain(document.commerce, source, strict=False)


def _build_domain(commerce: Any, source: str, *, strict: bool) -> Estate:
    """The domain estate from either schema's commerce section (same field names, same types; the large lists of
    a JSON file's are decoded as they are read, so each is iterated over as few times as possible).

    ``strict`` (the fast structs) also checks here what schema.py's validators check on the ordinary
    path (periods, licences given twice, NCE licence texts), raising ValueError for any of them.
    """

    def fail(field: str, message: str) -> InputError:
        return InputError(message, where=f"{source}: commerce.{field}")

    resellers: dict[str, Reseller] = {}
    for i, r in enumerate(commerce.resellers):
        if r.id in resellers:
            raise fail(f"resellers[{i}].id", f"reseller id {r.id!r} appears twice")
        resellers[r.id] = Reseller(r.id, r.name, r.tier_config)
    customers: dict[str, Customer] = {}
    for i, c in enumerate(commerce.customers):
        if c.id in customers:
            raise fail(f"customers[{i}].id", f"customer id {c.id!r} appears twice")
        if c.reseller_id not in resellers:
            raise fail(f"customers[{i}].reseller_id", f"reseller {c.reseller_id!r} is not in commerce.resellers")
        customers[c.id] = Customer(c.id, c.reseller_id, c.name, c.mca_accepted)
    plans = _build_plans(commerce.plans, fail, resellers)
    catalog = Catalog(plans.values())
    built = _build_subscriptions(commerce.subscriptions, fail, customers, plans, strict=strict)
    # The pairs as LicenseMapping reads them; its parse raises ValueError for a text that is no NCE licence
    # (schema.py's validator has already normalised them on the ordinary path).
    pairs = [(m.csp_offer_id, m.nce) for m in commerce.license_mappings]
    mapping = LicenseMapping(pairs)
    mapped: dict[str, tuple[str, int]] = {}
    for i, (offer, nce) in enumerate(pairs):
        # As the licence mapping CSV: the same pair twice is harmless, two targets for one offer are not.
        earlier = mapped.setdefault(_mpn(offer), (nce, i))
        if earlier[0] != nce:
            raise fail(f"license_mappings[{i}].nce", f"{offer} is mapped to {earlier[0]} in "
                       f"license_mappings[{earlier[1]}] and to {nce} here; keep one")
    open_orders = frozenset(o.subscription_id for o in commerce.orders if o.status not in FINAL_ORDER_STATUSES)
    return Estate(resellers, customers, catalog, tuple(built), mapping, open_orders)


def _build_plans(
    entries: Iterable[Any], fail: Callable[[str, str], InputError], resellers: dict[str, Reseller]
) -> dict[int, ServicePlan]:
    plans: dict[int, ServicePlan] = {}
    # Two passes (a lazily decoded list decodes each plan twice: 2,000 plans cost far less than holding them).
    known_ids = {p.id for p in entries}
    shared = _Shared()
    for i, p in enumerate(entries):
        if p.id in plans:
            raise fail(f"plans[{i}].id", f"plan id {p.id} appears twice")
        # Set operations first (a plan has paths for hundreds of resellers); the loops only find the culprit.
        if not known_ids.issuperset(chain.from_iterable(p.upgrade_paths.values())):
            for reseller_id, targets in p.upgrade_paths.items():
                for target in targets:
                    if target not in known_ids:
                        raise fail(f"plans[{i}].upgrade_paths.{reseller_id}",
                                   f"upgrade path target plan {target} does not exist")
        # Most plans are delegated to the same resellers: one set for them all (2,000 plans × 500 resellers
        # are 60 MB of sets otherwise).
        delegated_to = shared(frozenset(p.delegated_to))
        if not delegated_to <= resellers.keys():
            for j, reseller_id in enumerate(p.delegated_to):
                if reseller_id not in resellers:
                    raise fail(f"plans[{i}].delegated_to[{j}]", f"reseller {reseller_id!r} is not in commerce.resellers")
        plans[p.id] = ServicePlan(
            id=p.id,
            name=p.name,
            application=p.application,
            resources=tuple(PlanResource(_mpn(r.mpn), ResourceRole(r.role)) for r in p.resources),
            billing_period=_period(p.billing_period),
            subscription_periods=frozenset(_period(s) for s in p.subscription_periods),
            delegated_to=delegated_to,
            # The same reseller ids and target lists recur in every plan's paths: each kept once.
            upgrade_paths={shared(reseller_id): shared(tuple(targets)) for reseller_id, targets in p.upgrade_paths.items()},
            prices=_plan_prices(p, i, fail) if p.prices else {},
        )
    return plans


def _unit_price(entry: Any, where: str, fail: Callable[[str, str], InputError]) -> Money:
    try:
        amount = checked_amount(entry.amount)
    except ValueError as error:
        raise fail(f"{where}.unit_price.amount", str(error)) from None
    try:
        return Money(amount, checked_currency(entry.currency))
    except ValueError as error:
        raise fail(f"{where}.unit_price.currency", str(error)) from None


def _plan_prices(entry: Any, index: int, fail: Callable[[str, str], InputError]) -> dict[tuple[str, Period], Money]:
    """A plan's price list keyed by (MPN, subscription period): each licence of the plan priced once per period."""
    licences = {_mpn(r.mpn) for r in entry.resources}
    prices: dict[tuple[str, Period], Money] = {}
    for j, price in enumerate(entry.prices):
        where = f"plans[{index}].prices[{j}]"
        mpn = _mpn(price.mpn)
        if mpn not in licences:
            raise fail(f"{where}.mpn", f"{price.mpn} is not a resource of plan {entry.id}")
        try:
            period = _period(price.subscription_period)
        except ValueError as error:
            raise fail(f"{where}.subscription_period", str(error)) from None
        try:
            amount = checked_amount(price.amount)
        except ValueError as error:
            raise fail(f"{where}.amount", str(error)) from None
        try:
            money = Money(amount, checked_currency(price.currency))
        except ValueError as error:
            raise fail(f"{where}.currency", str(error)) from None
        if (mpn, period) in prices:
            raise fail(where, f"{price.mpn} is priced twice for subscription period {period}; keep one")
        prices[(mpn, period)] = money
    return prices


class _Shared:
    """Equal immutable values of one estate kept once: the first one seen stands for the others.

    A loaded estate is mostly the same few values repeated (reseller ids, target lists, dates, statuses,
    custom attributes); the decoder makes a new object for each occurrence. Bounded, so that an estate whose
    values are all different costs no more than the bound.
    """

    __slots__ = ("_values",)

    LIMIT = 65536

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}

    def __call__(self, value: _V) -> _V:
        found = self._values.get(value)
        if found is not None:
            return cast(_V, found)
        if len(self._values) < self.LIMIT:
            self._values[value] = value
        return value


def _build_subscriptions(
    entries: Iterable[Any],
    fail: Callable[[str, str], InputError],
    customers: dict[str, Customer],
    plans: dict[int, ServicePlan],
    *,
    strict: bool,
) -> list[Subscription]:
    # The hot loop of loading (100k subscriptions, 200k resources): look-ups bound to locals, caches read
    # inline, and the per-item checks in the order their errors are reported.
    seen: set[str] = set()
    result: list[Subscription] = []
    append = result.append
    periods = _PERIODS.get
    mpns = _MPNS.get
    # Statuses, dates and custom attributes repeat across subscriptions: each distinct one kept once (about a
    # third of a loaded estate's memory otherwise). The attributes are shared by their items.
    shared = _Shared()
    attributes_by_items: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}
    for i, s in enumerate(entries):
        if s.id in seen:
            raise fail(f"subscriptions[{i}].id", f"subscription id {s.id!r} appears twice")
        seen.add(s.id)
        customer = customers.get(s.customer_id)
        if customer is None:
            raise fail(f"subscriptions[{i}].customer_id", f"customer {s.customer_id!r} is not in commerce.customers")
        plan = plans.get(s.plan_id)
        if plan is None:
            raise fail(f"subscriptions[{i}].plan_id", f"plan {s.plan_id} is not in commerce.plans")
        resources = []
        for j, r in enumerate(s.resources):
            mpn = mpns(r.mpn) or _mpn(r.mpn)
            if plan.role_of(mpn) is None:
                raise fail(f"subscriptions[{i}].resources[{j}].mpn", f"{r.mpn} is not a resource of plan {plan.id}")
            if r.unit_price is None:
                resources.append(SubscriptionResource(mpn, r.quantity))
            else:
                resources.append(SubscriptionResource(mpn, r.quantity,
                                                      _unit_price(r.unit_price, f"subscriptions[{i}].resources[{j}]", fail)))
        if strict and len(resources) > 1 and len({r.mpn for r in resources}) != len(resources):
            raise ValueError("a licence appears twice")  # the ordinary path names it
        if s.start_date is not None and s.expiration_date is not None and s.expiration_date < s.start_date:
            raise fail(f"subscriptions[{i}].expiration_date",
                       f"{s.expiration_date} is before the start date {s.start_date}")
        # The document's own mapping (both are read-only, a copy would only cost memory), or an equal one seen
        # before.
        attributes = s.custom_attributes
        items = tuple(attributes.items())
        attributes = attributes_by_items.get(items) or attributes
        if len(attributes_by_items) < _Shared.LIMIT:
            attributes_by_items.setdefault(items, attributes)
        # Positional, in the field order of Subscription: 100k of these are built.
        append(
            Subscription(
                s.id,
                customer.id,
                s.plan_id,
                shared(s.status),
                s.trial,
                periods(s.billing_period) or _period(s.billing_period),
                periods(s.subscription_period) or _period(s.subscription_period),
                shared(s.start_date),
                shared(s.expiration_date),
                tuple(resources),
                attributes,
                s.auto_renew,
            )
        )
    return result


# Caches of the texts an estate repeats (a handful of periods, a few hundred MPNs), bounded so that a
# hostile file cannot grow them without limit.
_PERIODS: dict[str, Period] = {}
_MPNS: dict[str, str] = {}


def _period(text: str) -> Period:
    period = _PERIODS.get(text)
    if period is None:
        period = Period.parse(text)
        if len(_PERIODS) < 1024:
            _PERIODS[text] = period
    return period


def _mpn(text: str) -> str:
    mpn = _MPNS.get(text)
    if mpn is None:
        mpn = normalize_offer_id(text)
        if len(_MPNS) < 65536:
            _MPNS[text] = mpn
    return mpn
