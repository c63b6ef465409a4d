"""Partner Center migration rules Microsoft documents but enforces late, as reasons before anything is requested.

Partner Center's validate answers only its eligibility codes 0–8. These rules surface later: the create is
refused, or the migration fails, after the reseller's purchase was already placed. So the plan checks them first:

- business (SMB) offers hold at most 300 seats per customer (per offer, across the customer's subscriptions);
- offers without a migration path need a manual purchase of the new-commerce offer and a cancellation of the
  legacy subscription;
- in the last 24 hours of the legacy term only a full new term can be bought (the migration with
  ``purchaseFullTerm: false`` is refused);
- an add-on that cannot migrate holds its base and every other add-on: they migrate as one bundle.

Two concurrent requests for one customer fail too; that rule is a matter of order, not of planning: the
fulfilment sends one request per customer at a time (``customer-migration-in-progress`` while it waits).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from m365move.domain.reasons import Reason, ReasonCode

# Microsoft 365 Business Basic, Business Standard, Business Premium and Apps for business: the business offers
# Microsoft caps at 300 seats per customer (new-commerce product ids).
SMB_PRODUCT_IDS: Mapping[str, str] = {
    "CFQ7TTC0LH18": "Microsoft 365 Business Basic",
    "CFQ7TTC0LDPB": "Microsoft 365 Business Standard",
    "CFQ7TTC0LCHC": "Microsoft 365 Business Premium",
    "CFQ7TTC0LH1G": "Microsoft 365 Apps for business",
}
SMB_SEAT_CAP = 300
LAST_HOURS_BEFORE_TERM_END = dt.timedelta(hours=24)


def product_of(nce_license: str | None) -> str:
    """``ProductId`` of a ``ProductId:SkuId`` licence (upper case; empty when unknown)."""
    return (nce_license or "").split(":", 1)[0].strip().upper()


def is_smb_offer(nce_license: str | None) -> bool:
    return product_of(nce_license) in SMB_PRODUCT_IDS


@dataclass(frozen=True, slots=True)
class MigrationCandidate:
    """One legacy subscription the plan would migrate, with what the late rules look at."""

    subscription_id: str
    customer_id: str
    offer_id: str  # the legacy (CSP) offer id
    nce_license: str | None  # the target ``ProductId:SkuId``
    quantity: int
    term_end: dt.datetime | None  # the legacy term's end (UTC)


def late_rule_reasons(candidates: Iterable[MigrationCandidate], *, now: dt.datetime,
                      manual_offers: frozenset[str] = frozenset(),
                      seats_held: Mapping[tuple[str, str], int] | None = None) -> dict[str, list[Reason]]:
    """Blocking reasons per subscription id (only subscriptions with at least one).

    ``seats_held``: (customer id, product id) → new-commerce seats the customer holds already, which count
    toward the cap as well. ``manual_offers``: legacy offer ids (or new-commerce product ids) that need a manual
    purchase and cancellation, upper case.
    """
    candidates = list(candidates)
    found: dict[str, list[Reason]] = defaultdict(list)
    seats: dict[tuple[str, str], int] = defaultdict(int, seats_held or {})
    for candidate in candidates:
        if is_smb_offer(candidate.nce_license):
            seats[(candidate.customer_id, product_of(candidate.nce_license))] += max(0, candidate.quantity)
    for candidate in candidates:
        product = product_of(candidate.nce_license)
        total = seats.get((candidate.customer_id, product), 0)
        if product in SMB_PRODUCT_IDS and total > SMB_SEAT_CAP:
            found[candidate.subscription_id].append(Reason(
                ReasonCode.SMB_SEAT_CAP_EXCEEDED,
                f"customer {candidate.customer_id} would hold {total} seats of {SMB_PRODUCT_IDS[product]} "
                f"({product}); Microsoft allows at most {SMB_SEAT_CAP} per customer: move the seats above "
                f"{SMB_SEAT_CAP} to an enterprise offer, or reduce them before migrating",
                candidate.nce_license, (candidate.customer_id, product)))
        if candidate.offer_id.upper() in manual_offers or product in manual_offers:
            found[candidate.subscription_id].append(Reason(
                ReasonCode.MANUAL_PURCHASE_AND_CANCEL,
                f"offer {candidate.offer_id} has no migration path to new commerce: purchase "
                f"{candidate.nce_license or 'the new-commerce offer'} for the customer and cancel the legacy "
                "subscription (within its cancellation window) instead of migrating",
                candidate.nce_license, (candidate.offer_id,)))
        if candidate.term_end is not None and candidate.term_end - now < LAST_HOURS_BEFORE_TERM_END:
            found[candidate.subscription_id].append(Reason(
                ReasonCode.TOO_CLOSE_TO_TERM_END,
                f"the legacy term ends {candidate.term_end.isoformat()}: in its last 24 hours Microsoft only migrates "
                "with a full new term; schedule the migration at renewal instead",
                candidate.nce_license, ("last 24 hours of the term",)))
    return dict(found)


@dataclass(frozen=True, slots=True)
class TermEnding:
    """A legacy subscription whose term ends soon: Microsoft migrates it itself at term end if nobody does."""

    subscription_id: str
    customer_id: str
    term_end: dt.date
    days_left: int


def terms_ending_within(subscriptions: Iterable[tuple[str, str, dt.date | None]], *, today: dt.date,
                        days: int) -> list[TermEnding]:
    """(subscription id, customer id, term end) whose term ends from ``today`` to ``today + days``, soonest first."""
    soon = [TermEnding(subscription_id, customer_id, end, (end - today).days)
            for subscription_id, customer_id, end in subscriptions
            if end is not None and 0 <= (end - today).days <= days]
    soon.sort(key=lambda t: (t.term_end, t.subscription_id))
    return soon


TERM_ENDS_SOON = "term-ends-soon"  # the preflight finding listing them
DEFAULT_TERM_END_DAYS = 14


def term_ending_message(soon: list[TermEnding], days: int) -> str:
    first = soon[0]
    return (f"{len(soon)} legacy subscriptions' terms end within {days} days (first: {first.subscription_id} on "
            f"{first.term_end.isoformat()}): Microsoft migrates a legacy subscription itself at its term end; migrate "
            "these first, or schedule their migration at renewal")
