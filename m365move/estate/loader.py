"""Reads an estate file (YAML or JSON), validates it field by field, and builds the domain Estate.

Speed at 100k subscriptions: a JSON estate is parsed and validated in one pass by pydantic's own JSON
parser (``model_validate_json``, no intermediate dicts); only when that refuses the file is it read
again the slow way, whose errors name the line or the field path exactly as people read them. Loading
runs with the cyclic garbage collector paused: the hundreds of thousands of objects it builds form no
cycles, and a collector left on rescans all of them every few thousand allocations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from m365move.domain.catalog import Catalog, PlanResource, ResourceRole, ServicePlan
from m365move.domain.estate import Customer, Estate, Reseller, Subscription, SubscriptionResource
from m365move.domain.gc_pause import cyclic_gc_paused
from m365move.domain.licenses import LicenseMapping, normalize_offer_id
from m365move.domain.orders import FINAL_ORDER_STATUSES as DOMAIN_FINAL_ORDER_STATUSES
from m365move.domain.period import Period
from m365move.errors import InputError
from m365move.estate.connect_section import ConnectSection
from m365move.estate.locations import validation_messages
from m365move.estate.partner_center_section import PartnerCenterSection
from m365move.estate.schema import EstateDocument
from m365move.input_text import parse_json_text, parse_yaml_text, read_input_text

# An estate's order is open unless final; estates written by hand also say "failed" or "canceled".
FINAL_ORDER_STATUSES = DOMAIN_FINAL_ORDER_STATUSES | {"failed", "canceled"}

_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class LoadedEstate:
    """The validated document (for adapters such as the sandbox) and its domain view."""

    path: Path
    document: EstateDocument
    estate: Estate


def read_structured_file(path: Path) -> Any:
    """Parse a YAML or JSON file (by suffix; YAML otherwise), or raise InputError naming it.

    Encodings, nesting, number lengths and duplicate YAML keys are checked by ``m365move.input_text``.
    """
    text = read_input_text(path)
    if path.suffix.lower() == ".json":
        return parse_json_text(text, where=str(path))
    return parse_yaml_text(text, where=str(path))


def load_estate(path: str | Path) -> LoadedEstate:
    """Load and validate an estate file; InputError names the file, the field path and the problem."""
    path = Path(path)
    with cyclic_gc_paused():
        document = _fast_json_document(path) if _looks_like_json(path) else None
        if document is None:
            raw = read_structured_file(path)
            if not isinstance(raw, dict):
                raise InputError(
                    "an estate file is a mapping with 'version: 1' and a 'commerce' section", where=str(path)
                )
            document = parse_estate_document(raw, str(path))
            del raw  # the validated document replaces it: do not hold both at the peak
        return LoadedEstate(path, document, build_estate(document, str(path)))


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


def _fast_json_document(path: Path) -> EstateDocument | None:
    """The document parsed and validated straight from the file's bytes, or None when anything is wrong.

    None sends the caller down the ordinary path, which reports the problem with the line and column
    (bad JSON) or the field path (bad content); a valid file never takes that path.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    try:
        document = EstateDocument.model_validate_json(data)
        _check_platform_sections(document)  # as parse_estate_document checks them
    except ValidationError:
        return None
    return document


_SECTION_OF_MODEL = {ConnectSection.__name__: "connect", PartnerCenterSection.__name__: "partner_center"}


def _check_platform_sections(document: EstateDocument) -> None:
    """The ``connect`` and ``partner_center`` sections, each by its own model, so the sandbox and the extension
    read well-formed sections (the document keeps them as plain JSON: the platforms' own shapes)."""
    if document.connect:
        ConnectSection.model_validate(document.connect)
    if document.partner_center:
        PartnerCenterSection.model_validate(document.partner_center)


def parse_estate_document(raw: dict[str, Any], source: str) -> EstateDocument:
    try:
        document = EstateDocument.model_validate(raw)
        _check_platform_sections(document)
    except ValidationError as error:
        problems = validation_messages(error)
        field, message = problems[0]
        section = _SECTION_OF_MODEL.get(error.title)
        if section is not None:
            field = f"{section}.{field}" if field else section
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InputError(f"{message}{more}", where=f"{source}: {field}") from None
    return document


def build_estate(document: EstateDocument, source: str) -> Estate:
    """Cross-reference the document and convert it to the domain; the first broken reference is an error."""
    commerce = document.commerce

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
    plans = _build_plans(document, fail, resellers)
    catalog = Catalog(plans.values())
    subscriptions = _build_subscriptions(document, fail, customers, plans)
    mapped: dict[str, tuple[str, int]] = {}
    for i, m in enumerate(commerce.license_mappings):
        # As the licence mapping CSV: the same pair twice is harmless, two targets for one offer are not.
        earlier = mapped.setdefault(_mpn(m.csp_offer_id), (m.nce, i))
        if earlier[0] != m.nce:
            raise fail(f"license_mappings[{i}].nce", f"{m.csp_offer_id} is mapped to {earlier[0]} in "
                       f"license_mappings[{earlier[1]}] and to {m.nce} here; keep one")
    mapping = LicenseMapping((m.csp_offer_id, m.nce) for m in commerce.license_mappings)
    open_orders = frozenset(o.subscription_id for o in commerce.orders if o.status not in FINAL_ORDER_STATUSES)
    return Estate(resellers, customers, catalog, tuple(subscriptions), mapping, open_orders)


def _build_plans(document: EstateDocument, fail: Any, resellers: dict[str, Reseller]) -> dict[int, ServicePlan]:
    plans: dict[int, ServicePlan] = {}
    entries = document.commerce.plans
    known_ids = {p.id for p in entries}
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
        delegated_to = frozenset(p.delegated_to)
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
            upgrade_paths=p.upgrade_paths,
        )
    return plans


def _build_subscriptions(
    document: EstateDocument, fail: Any, customers: dict[str, Customer], plans: dict[int, ServicePlan]
) -> list[Subscription]:
    seen: set[str] = set()
    result: list[Subscription] = []
    append = result.append
    for i, s in enumerate(document.commerce.subscriptions):
        if s.id in seen:
            raise fail(f"subscriptions[{i}].id", f"subscription id {s.id!r} appears twice")
        seen.add(s.id)
        if s.customer_id not in customers:
            raise fail(f"subscriptions[{i}].customer_id", f"customer {s.customer_id!r} is not in commerce.customers")
        plan = plans.get(s.plan_id)
        if plan is None:
            raise fail(f"subscriptions[{i}].plan_id", f"plan {s.plan_id} is not in commerce.plans")
        resources = []
        for j, r in enumerate(s.resources):
            mpn = _mpn(r.mpn)
            if plan.role_of(mpn) is None:
                raise fail(f"subscriptions[{i}].resources[{j}].mpn", f"{r.mpn} is not a resource of plan {plan.id}")
            resources.append(SubscriptionResource(mpn, r.quantity))
        # Positional, in the field order of Subscription: 100k of these are built.
        append(
            Subscription(
                s.id,
                s.customer_id,
                s.plan_id,
                s.status,
                s.trial,
                _period(s.billing_period),
                _period(s.subscription_period),
                s.start_date,
                s.expiration_date,
                tuple(resources),
                # The document's own mapping: both are read-only, a copy would only cost memory.
                s.custom_attributes,
            )
        )
    return result


@lru_cache(maxsize=256)
def _period(text: str) -> Period:
    return Period.parse(text)


@lru_cache(maxsize=65536)
def _mpn(text: str) -> str:
    return normalize_offer_id(text)
