"""Licence identities and the two mappings: CSP offer → NCE licence, and CSP offer → NCE plan."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_NCE_LICENSE = re.compile(r"^\s*([A-Za-z0-9]+)\s*[:/]\s*([A-Za-z0-9]+)\s*$")


def normalize_offer_id(offer_id: str) -> str:
    """CSP offer ids (and every resource MPN) compare case-insensitively: keep them upper case."""
    return offer_id.strip().upper()


def parse_nce_license(text: str) -> str:
    """``ProductId/SkuId`` or ``ProductId:SkuId`` → ``PRODUCTID:SKUID``; ValueError otherwise."""
    match = _NCE_LICENSE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an NCE licence; write ProductId:SkuId or ProductId/SkuId")
    return f"{match.group(1).upper()}:{match.group(2).upper()}"


def is_nce_license(mpn: str) -> bool:
    """True when an MPN has the NCE ``ProductId:SkuId`` shape (CSP offers are GUIDs)."""
    return _NCE_LICENSE.match(mpn) is not None


class LicenseMapping:
    """CloudBlue's licence mapping: each CSP offer id maps to one NCE licence."""

    __slots__ = ("_by_offer",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._by_offer: dict[str, str] = {}
        for offer, nce in pairs:
            self._by_offer[normalize_offer_id(offer)] = parse_nce_license(nce)

    def nce_for(self, csp_offer_id: str) -> str | None:
        """The NCE licence mapped from a CSP offer, or None when the mapping has no row for it."""
        return self._by_offer.get(normalize_offer_id(csp_offer_id))

    def as_dict(self) -> Mapping[str, str]:
        return dict(self._by_offer)

    def __len__(self) -> int:
        return len(self._by_offer)


@dataclass(frozen=True, slots=True)
class PlansMappingRow:
    """One row of our ``--plans-mapping`` CSV; a row with ``csp_plan_id`` is more specific."""

    csp_offer_id: str
    nce_plan_id: int
    csp_plan_id: int | None = None


class PlansMapping:
    """Operator overrides of the largest-id choice, looked up most specific row first."""

    __slots__ = ("_generic", "_specific")

    def __init__(self, rows: Iterable[PlansMappingRow] = ()) -> None:
        self._specific: dict[tuple[str, int], int] = {}
        self._generic: dict[str, int] = {}
        for row in rows:
            offer = normalize_offer_id(row.csp_offer_id)
            if row.csp_plan_id is None:
                self._generic[offer] = row.nce_plan_id
            else:
                self._specific[(offer, row.csp_plan_id)] = row.nce_plan_id

    def target_for(self, csp_offer_id: str, csp_plan_id: int) -> int | None:
        """The NCE plan id an operator chose for this offer on this source plan, if any."""
        offer = normalize_offer_id(csp_offer_id)
        specific = self._specific.get((offer, csp_plan_id))
        return specific if specific is not None else self._generic.get(offer)

    def __len__(self) -> int:
        return len(self._specific) + len(self._generic)
