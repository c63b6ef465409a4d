"""The reviewed plan file: ``plan --output FILE`` writes it, ``migrate --plan FILE`` applies exactly it.

It is the ``plan --format json`` document (the plan contract) with what applying it safely needs:

- ``platform``: the Commerce instance the plan was read from (``commerce_url``, ``identity``, the first
  resellers the identity was computed from; ``commerce.platform_identity``); ``migrate --plan`` refuses it
  against another instance (``platform-mismatch``, exit 2);
- per ``migrate`` subscription, ``source``: its customer, plan, status and seats per licence as planned, which
  ``migrate --plan`` compares with the platform right before the first order (``execution.plan_drift``);
- ``names``: the resellers', customers' and plans' names, for the results file;
- ``plan_sha256``, the last member: the SHA-256 of every byte of the file before the line that holds it. The
  reviewer reads the hash the command printed; ``migrate --plan`` refuses a file whose bytes do not match it
  (``plan-file-modified``, exit 2) and prints the hash it applies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from m365move.domain.catalog import Catalog, ServicePlan
from m365move.domain.estate import Customer, Estate, Reseller, Subscription, SubscriptionResource
from m365move.domain.licenses import LicenseMapping
from m365move.domain.orders import Choice, MigrationMode, OrderKind, PlannedOrder
from m365move.domain.period import Period
from m365move.domain.preflight import Finding
from m365move.domain.price_comparison import PriceReport
from m365move.domain.reasons import Decision, PlanWarning, Reason, ReasonCode, WarningCode
from m365move.domain.subscription_plan import MigrationPlan, SubscriptionPlan
from m365move.errors import InputError
from m365move.estate.platform_identity import PlatformIdentity
from m365move.execution.plan_drift import SourceState
from m365move.files.json_duplicate_keys import find_duplicate_key
from m365move.plan_output.json_format import finding_to_json, subscription_to_json
from m365move.plan_output.price_fields import totals_to_json

FORMAT = "m365move-plan/1"
PLAN_FILE_MODIFIED = "plan-file-modified"
_HASH_MARKER = b',\n "plan_sha256": "'
_CHUNK = 2000


@dataclass(frozen=True)
class ReviewedPlan:
    """A plan file as read back, checked against its hash."""

    plan: MigrationPlan
    platform: PlatformIdentity
    sources: Mapping[str, SourceState]
    estate: Estate  # names only (for the results file) and the sources as planned
    sha256: str
    created_at: str


class _Hashing:
    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def write(self, text: str) -> None:
        self.digest.update(text.encode())
        self.handle.write(text)


def write_plan_file(plan: MigrationPlan, findings: list[Finding], estate: Estate, platform: PlatformIdentity,
                    handle: IO[str], prices: PriceReport | None = None) -> str:
    """Write the plan file; returns its ``plan_sha256``. The handle must write text as UTF-8 with ``\\n``."""
    out = _Hashing(handle)
    subscriptions = {s.id: s for s in estate.subscriptions}
    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    out.write('{\n "format": ' + _text(FORMAT) + ',\n "created_at": ' + _text(created)
              + ',\n "platform": ' + _text(platform.to_json()))
    out.write(',\n "mode": ' + _text(plan.mode.value) + ',\n "summary": ' + _text(plan.summary()))
    if prices is not None:
        for key, value in totals_to_json(prices).items():
            out.write(f',\n "{key}": ' + _text(value))
    out.write(',\n "findings": [' + ",".join("\n  " + _text(finding_to_json(f)) for f in findings) + "\n ]")
    out.write(',\n "names": ' + _text(_names(plan, estate)))
    out.write(',\n "subscriptions": [')
    for start in range(0, len(plan.subscriptions), _CHUNK):
        chunk = plan.subscriptions[start:start + _CHUNK]
        out.write(("," if start else "") + ",".join("\n  " + _text(_subscription(s, subscriptions, prices))
                                                        for s in chunk))
    out.write("\n ]")
    sha256 = out.digest.hexdigest()
    handle.write(_HASH_MARKER.decode() + sha256 + '"\n}\n')
    return sha256


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _subscription(plan: SubscriptionPlan, subscriptions: Mapping[str, Subscription],
                  prices: PriceReport | None) -> dict[str, Any]:
    document = subscription_to_json(plan, prices)
    source = subscriptions.get(plan.subscription_id)
    if plan.decision is Decision.MIGRATE and source is not None:
        document["source"] = SourceState.of(source).to_json()
    return document


def _names(plan: MigrationPlan, estate: Estate) -> dict[str, dict[str, str]]:
    resellers: dict[str, str] = {}
    customers: dict[str, str] = {}
    plans: dict[str, str] = {}
    for s in plan.subscriptions:
        for found, names in ((estate.resellers.get(s.reseller_id), resellers),
                             (estate.customers.get(s.customer_id), customers)):
            if found is not None:
                names[found.id] = found.name
        for plan_id in (s.source_plan_id, *(o.plan_id for o in s.orders)):
            service_plan = estate.catalog.get(plan_id) if plan_id is not None else None
            if service_plan is not None:
                plans[str(plan_id)] = service_plan.name
    return {"resellers": resellers, "customers": customers, "plans": plans}


def read_plan_file(path: str | Path) -> ReviewedPlan:
    """The plan file at ``path``, checked against its ``plan_sha256``; InputError (exit 2) otherwise."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputError(f"cannot read the plan file: {error.strerror}", where=where) from None
    marker = data.rfind(_HASH_MARKER)
    if marker < 0:
        raise InputError("not a plan file written by `m365move plan --output FILE` (no plan_sha256)", where=where,
                         hint="write the plan with `m365move plan … --output plan.json` and review that file")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InputError(f"{PLAN_FILE_MODIFIED}: the plan file is not valid JSON ({error})", where=where) from None
    recorded = document.get("plan_sha256") if isinstance(document, dict) else None
    actual = hashlib.sha256(data[:marker]).hexdigest()
    if recorded != actual or document.get("format") != FORMAT:
        raise InputError(f"{PLAN_FILE_MODIFIED}: the plan file changed after it was written (its plan_sha256 is "
                         f"{recorded}, its content hashes to {actual}); nothing was placed", where=where,
                         hint="plan again with --output, review the new file, then apply it")
    repeated = find_duplicate_key(data)  # (orjson keeps a repeated key's last value; m365move never writes one)
    if repeated is not None:
        raise InputError(f"{PLAN_FILE_MODIFIED}: {repeated.message()}; not a plan m365move wrote, nothing was placed",
                         where=f"{where}:{repeated.line}" if repeated.line is not None else where,
                         hint="plan again with --output, review the new file, then apply it")
    try:
        return _reviewed(document, actual, where)
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"the plan file does not read as a plan: {error!r}", where=where) from None


def _reviewed(document: dict[str, Any], sha256: str, where: str) -> ReviewedPlan:
    mode = MigrationMode(document["mode"])
    names = document.get("names") or {}
    plans, sources, subscriptions = [], {}, []
    for item in document["subscriptions"]:
        plan = _subscription_plan(item)
        plans.append(plan)
        if "source" in item:
            state = SourceState.from_json(item["source"])
            sources[plan.subscription_id] = state
            subscriptions.append(Subscription(
                id=plan.subscription_id, customer_id=plan.customer_id, plan_id=plan.source_plan_id,
                status=state.status, trial=False, billing_period=Period.parse("1 month"),
                subscription_period=Period.parse("1 month"), start_date=None, expiration_date=None,
                resources=tuple(SubscriptionResource(m, q) for m, q in state.seats.items())))
    reseller_names = names.get("resellers") or {}
    customer_names = names.get("customers") or {}
    resellers = {p.reseller_id: Reseller(p.reseller_id, reseller_names.get(p.reseller_id, ""), "active")
                 for p in plans}
    customers = {p.customer_id: Customer(p.customer_id, p.reseller_id, customer_names.get(p.customer_id, ""), True)
                 for p in plans}
    catalog = Catalog(ServicePlan(int(i), n, "", (), Period.parse("1 month"), frozenset(), frozenset())
                      for i, n in (names.get("plans") or {}).items())
    estate = Estate(resellers=resellers, customers=customers, catalog=catalog, subscriptions=tuple(subscriptions),
                    license_mapping=LicenseMapping())
    platform = PlatformIdentity.from_json(document.get("platform"), f"{where}: platform")
    return ReviewedPlan(MigrationPlan(mode, tuple(plans)), platform, sources, estate, sha256,
                        str(document.get("created_at") or ""))


def _subscription_plan(item: Mapping[str, Any]) -> SubscriptionPlan:
    return SubscriptionPlan(
        subscription_id=str(item["subscription_id"]),
        reseller_id=str(item["reseller_id"]),
        customer_id=str(item["customer_id"]),
        source_plan_id=int(item["source_plan_id"]),
        decision=Decision(item["decision"]),
        reasons=tuple(Reason(ReasonCode(r["code"]), r["message"], r.get("license")) for r in item["reasons"]),
        warnings=tuple(PlanWarning(WarningCode(w["code"]), w["message"], w.get("license"), w.get("fate"),
                                   _date(w.get("fate_date"))) for w in item["warnings"]),
        orders=tuple(_order(o) for o in item["orders"]),
    )


def _order(item: Mapping[str, Any]) -> PlannedOrder:
    return PlannedOrder(
        kind=OrderKind(item["kind"]),
        license=item.get("license"),
        nce_license=item.get("nce_license"),
        plan_id=item.get("plan_id"),
        quantity=item.get("quantity"),
        subscription_period=item.get("subscription_period"),
        start_date=_date(item.get("start_date")),
        expiration_date=_date(item.get("expiration_date")),
        choice=Choice(item["choice"]) if item.get("choice") else None,
        candidates=tuple(item.get("candidates") or ()),
    )


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None
