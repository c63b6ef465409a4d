"""The catalog file: what SimpleAPI does not tell about plans and resellers, kept next to a live Commerce.

A catalog file is an estate file without subscriptions (``version: 1`` and ``commerce.resellers``,
``commerce.plans``, ``commerce.license_mappings``, optionally ``commerce.customers`` for MCA acceptance).
``m365move catalog export`` writes one from a live Commerce; what SimpleAPI cannot say is written as
``null`` and must be completed by hand before ``migrate --catalog`` accepts the file:

- ``plans[].application`` and ``plans[].resources[].role`` (SimpleAPI has no resource roles);
- ``plans[].delegated_to`` (``[]`` means "delegated to nobody"; ``null`` means "not known yet");
- ``plans[].upgrade_paths`` (per reseller; Commerce's provider-level ``planSwitches`` are written to
  ``plans[].switches`` as the starting point);
- ``resellers[].tier_config`` (Connect knows it, Commerce does not).

Two read-only hints the export adds and the planner ignores: ``plans[].switches`` (the plan's
``planSwitches`` targets) and ``plans[].sold_by`` (resellers whose customers hold a subscription on the
plan: the plan is certainly delegated to them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from m365move.errors import InputError
from m365move.estate import typed
from m365move.estate.loader import parse_estate_document, read_structured_file
from m365move.estate.schema import (
    CustomerEntry,
    EstateDocument,
    IdText,
    LicenseMappingEntry,
    NonEmpty,
    PlanPriceEntry,
    ResourceRole,
    TierConfig,
    period_text,
)
from m365move.estate.typed import force_setattr


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class CatalogReseller(_Strict, frozen=True, kw_only=True):
    id: IdText
    name: str = ""
    tier_config: Annotated[
        TierConfig | None, msgspec.Meta(description="Connect tier configuration state; null = to be completed by hand")
    ] = None


class CatalogResource(_Strict, frozen=True, kw_only=True):
    mpn: NonEmpty
    role: Annotated[ResourceRole | None, msgspec.Meta(description="base | addon | other; null = to be completed")] = None


class CatalogPlan(_Strict, frozen=True, kw_only=True):
    id: int
    name: str = ""
    application: Annotated[
        str | None, msgspec.Meta(description="microsoft365, o365_aps2, csp_connect_extension, …; null = to be completed")
    ] = None
    resources: list[CatalogResource] = []
    billing_period: str | None = None
    subscription_periods: list[str] = []
    delegated_to: Annotated[list[IdText] | None, msgspec.Meta(description="reseller ids; null = to be completed")] = None
    upgrade_paths: Annotated[
        dict[str, list[int]] | None, msgspec.Meta(description="reseller id → target plan ids; null = to be completed")
    ] = None
    switches: Annotated[list[int], msgspec.Meta(description="hint: Commerce planSwitches targets")] = []
    sold_by: Annotated[list[IdText], msgspec.Meta(description="hint: resellers with subscriptions on it")] = []
    prices: Annotated[list[PlanPriceEntry], msgspec.Meta(
        description="the plan's prices (one seat, one billing period); used where Commerce gives no estimate")] = []

    def __post_init__(self) -> None:
        if self.billing_period is not None:
            force_setattr(self, "billing_period", period_text(self.billing_period, "billing_period"))
        force_setattr(self, "subscription_periods",
                      [period_text(p, "subscription_periods") for p in self.subscription_periods])


class CatalogCommerce(_Strict, frozen=True, kw_only=True):
    resellers: list[CatalogReseller] = []
    customers: list[CustomerEntry] = []
    plans: list[CatalogPlan] = []
    license_mappings: list[LicenseMappingEntry] = []


class CatalogDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A whole catalog file (complete or still to be completed by hand)."""

    version: Literal[1]
    commerce: CatalogCommerce = msgspec.field(default_factory=CatalogCommerce)


@dataclass(frozen=True)
class Gap:
    """One thing a catalog lacks: where (a field path) and what to do."""

    where: str
    what: str  # a short code: resource-roles, application, delegation, upgrade-paths, tier-config, …
    message: str
    plan_id: int | None = None


def parse_catalog(raw: Any, source: str) -> CatalogDocument:
    if not isinstance(raw, dict):
        raise InputError("a catalog file is a mapping with 'version: 1' and 'commerce.plans'", where=source)
    try:
        return typed.convert(raw, CatalogDocument)
    except typed.Invalid as error:
        raise InputError(error.message, where=f"{source}: {error.path}" if error.path else source) from None


def read_catalog(path: str | Path) -> CatalogDocument:
    path = Path(path)
    return parse_catalog(read_structured_file(path), str(path))


def catalog_gaps(document: CatalogDocument) -> list[Gap]:
    """Everything that must be completed by hand (or fixed) before the catalog can drive a migration."""
    commerce = document.commerce
    gaps: list[Gap] = []
    if not commerce.plans:
        gaps.append(Gap("commerce.plans", "plans", "no plans: export them with `m365move catalog export`"))
    reseller_ids = {r.id for r in commerce.resellers}
    plan_ids = {p.id for p in commerce.plans}
    for i, r in enumerate(commerce.resellers):
        if r.tier_config is None:
            gaps.append(Gap(f"commerce.resellers[{i}].tier_config", "tier-config",
                            f"reseller {r.id} {r.name!r}: tier config state unknown (active, processing or missing)"))
    for i, p in enumerate(commerce.plans):
        label = f"plan {p.id} {p.name!r}"
        at = f"commerce.plans[{i}]"
        if p.application is None:
            gaps.append(Gap(f"{at}.application", "application", f"{label}: application unknown", p.id))
        if not p.resources:
            gaps.append(Gap(f"{at}.resources", "resource-roles",
                            f"{label}: no resources known (add each licence's MPN and role)", p.id))
        unroled = [r.mpn for r in p.resources if r.role is None]
        if unroled:
            gaps.append(Gap(f"{at}.resources", "resource-roles",
                            f"{label}: role (base, addon or other) missing for {', '.join(unroled)}", p.id))
        if p.billing_period is None:
            gaps.append(Gap(f"{at}.billing_period", "periods", f"{label}: billing period unknown", p.id))
        if not p.subscription_periods:
            gaps.append(Gap(f"{at}.subscription_periods", "periods", f"{label}: no subscription periods", p.id))
        if p.delegated_to is None:
            hint = f" (sold by {', '.join(p.sold_by)})" if p.sold_by else ""
            gaps.append(Gap(f"{at}.delegated_to", "delegation",
                            f"{label}: delegation unknown: list the resellers it is delegated to{hint}", p.id))
        else:
            for j, reseller in enumerate(p.delegated_to):
                if reseller not in reseller_ids:
                    gaps.append(Gap(f"{at}.delegated_to[{j}]", "unknown-reseller",
                                    f"{label}: delegated to reseller {reseller}, which is not in commerce.resellers",
                                    p.id))
        if p.upgrade_paths is None:
            hint = f" (Commerce plan switches: {', '.join(map(str, p.switches))})" if p.switches else ""
            gaps.append(Gap(f"{at}.upgrade_paths", "upgrade-paths",
                            f"{label}: upgrade paths per reseller unknown ({{}} if none){hint}", p.id))
        else:
            for reseller, targets in p.upgrade_paths.items():
                missing = [t for t in targets if t not in plan_ids]
                if missing:
                    gaps.append(Gap(f"{at}.upgrade_paths.{reseller}", "unknown-plan",
                                    f"{label}: upgrade path to plan {missing[0]}, which is not in commerce.plans",
                                    p.id))
    if not commerce.license_mappings:
        gaps.append(Gap("commerce.license_mappings", "license-mappings",
                        "no licence mappings (add them, or give --license-mapping CSV to migrate)"))
    return gaps


def to_estate_document(document: CatalogDocument, source: str) -> EstateDocument:
    """The complete catalog as an estate document; InputError when something is still to be completed."""
    blocking = [g for g in catalog_gaps(document) if g.what != "license-mappings"]
    if blocking:
        first = blocking[0]
        more = f" (and {len(blocking) - 1} more gaps)" if len(blocking) > 1 else ""
        raise InputError(f"{first.message}{more}", where=f"{source}: {first.where}",
                         hint=f"complete the catalog by hand; `m365move catalog check {source}` lists every gap")
    commerce = document.commerce
    raw = {
        "version": 1,
        "commerce": {
            "resellers": typed.to_builtins(commerce.resellers),
            "customers": typed.to_builtins(commerce.customers),
            "plans": [{k: v for k, v in typed.to_builtins(p).items() if k not in ("switches", "sold_by")}
                      for p in commerce.plans],
            "license_mappings": typed.to_builtins(commerce.license_mappings),
        },
    }
    return parse_estate_document(raw, source)
