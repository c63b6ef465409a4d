"""The sweep's plan with Partner Center's late rules applied (``m365move/domain/migration_rules.py``).

A CSP item the domain planner would migrate is blocked instead when Microsoft would refuse its migration only
at the create, or after it: a business offer over 300 seats for the customer, an offer that needs a manual
purchase and cancellation, the last 24 hours of the legacy term. The operator sees the reason in the sweep's
plan (a dry run) before any purchase request exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import replace

from m365move.connect.catalog_mapping import MappedEstate
from m365move.connect.partner_center_reads import PartnerCenterReads
from m365move.connect.payloads import Json, legacy_subscription_of, nested_id, param_value
from m365move.domain.migration_rules import MigrationCandidate, is_smb_offer, late_rule_reasons
from m365move.domain.orders import OrderKind
from m365move.domain.reasons import Decision
from m365move.domain.subscription_plan import MigrationPlan
from m365move.errors import PlatformError
from m365move.text.iso_time import parse_iso_time

log = logging.getLogger("m365move.connect")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def apply_late_rules(plan: MigrationPlan, mapped: MappedEstate, *, manual_offers: frozenset[str] = frozenset(),
                     requested: Collection[str] = (), now: dt.datetime | None = None,
                     elsewhere: Iterable[MigrationCandidate] = (),
                     partner_center: PartnerCenterReads | None = None) -> MigrationPlan:
    """``plan`` with every migrating subscription that a late rule refuses turned into ``blocked``.

    ``requested``: subscriptions whose purchase exists already; they still count toward the customer's seats but
    are never blocked (their migration is under way, and the CSP asset's cancellation must still follow it).
    ``elsewhere``: the same customers' migrating subscriptions outside ``plan`` (other pages and chunks of the
    sweep); they count toward the seat cap, so a customer is judged on all its seats wherever the page ends.
    ``partner_center``: the customers' subscriptions in Partner Center: new-commerce seats held count toward the
    cap, a term end only Partner Center knows is the term end, a legacy subscription no longer active there (already
    migrated) is counted once, as the new-commerce subscription it became.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    mine = migration_candidates(plan, mapped)
    in_plan = {c.subscription_id for c in mine}
    counted = [*mine, *(c for c in elsewhere if c.subscription_id not in in_plan)]
    held: dict[tuple[str, str], int] = {}
    if partner_center is not None:
        try:
            counted, held = _with_partner_center(counted, mapped, partner_center)
        except PlatformError as error:
            # Planned as without Partner Center; a create it refuses later is named by the same codes.
            log.warning("Partner Center not read for the sweep's rules (%s): seats held in new commerce and term ends "
                        "only Partner Center knows are not counted on this page", error)
    reasons = {k: v for k, v in late_rule_reasons(counted, now=now, manual_offers=manual_offers,
                                                  seats_held=held).items()
               if k in in_plan and k not in requested}
    if not reasons:
        return plan
    return replace(plan, subscriptions=tuple(
        replace(s, decision=Decision.BLOCKED, reasons=(*s.reasons, *reasons[s.subscription_id]), orders=())
        if s.subscription_id in reasons else s for s in plan.subscriptions))


def migration_candidates(plan: MigrationPlan, mapped: MappedEstate) -> list[MigrationCandidate]:
    """The subscriptions ``plan`` would migrate, with what the late rules look at."""
    candidates = []
    for subscription_plan in plan.migrating():
        asset, item = mapped.sources[subscription_plan.subscription_id]
        order = next((o for o in subscription_plan.orders if o.kind is OrderKind.SALES), None)
        if order is None:
            continue
        candidates.append(MigrationCandidate(
            subscription_plan.subscription_id, cap_customer(asset),
            str(item.get("mpn") or item["id"]), order.nce_license, int(order.quantity or 0),
            parse_iso_time(param_value(asset, "commitment_end_date"))))
    return candidates


def _with_partner_center(counted: list[MigrationCandidate], mapped: MappedEstate,
                         reads: PartnerCenterReads) -> tuple[list[MigrationCandidate], dict[tuple[str, str], int]]:
    """The candidates with Partner Center's term ends (where the asset has none) and without the legacy
    subscriptions it shows migrated already; the new-commerce seats their customers hold."""
    smb_tenants = {c.customer_id for c in counted if is_smb_offer(c.nce_license) and _is_tenant(c.customer_id)}
    held = reads.held_seats(smb_tenants)
    kept = []
    for candidate in counted:
        source = mapped.sources.get(candidate.subscription_id)
        legacy_id = legacy_subscription_of(*source) if source is not None else None
        if legacy_id is None or not _is_tenant(candidate.customer_id):
            kept.append(candidate)
            continue
        legacy = reads.legacy(candidate.customer_id, legacy_id)
        if legacy is not None and legacy.status.lower() in ("suspended", "deleted"):
            continue  # migrated already: its seats are the new-commerce subscription's, counted in ``held``
        if candidate.term_end is None and legacy is not None and legacy.commitment_end_date is not None:
            candidate = replace(candidate, term_end=legacy.commitment_end_date)
        kept.append(candidate)
    return kept, held


def _is_tenant(customer: str) -> bool:
    return bool(_GUID.match(customer))


def cap_customer(asset: Json) -> str:
    """The Microsoft customer (tenant) whose seats the cap counts: ``ms_customer_id``, else the Connect customer."""
    return str(param_value(asset, "ms_customer_id") or nested_id(asset, "tiers", "customer")
               or f"{asset['id']}-customer").lower()
