"""Before a source is cancelled: did its completed NCE orders buy as many seats as the source holds now?

Sales orders complete for 18 seats, the run is killed, the customer grows the CSP source to 25 seats,
and a resume cancels it: 7 seats lost. So right before a cancellation, the source's current quantities
(read from the platform, not from the estate) are compared licence by licence with the completed NCE
quantities: what its completed orders bought, as journaled in their intents (an order carries exactly
its intent's quantity; ``ordered_seats`` in model/execution_protocol.pml). That is one read per
cancellation, the source's. On any difference the cancellation is held back with ``seat-count-changed``
naming each licence and the difference; it goes once they match again.

The seats read for a cancellation that goes are journaled with it (``source_seats``): once cancelled, the source
cannot change, so the audit takes its "held when cancelled" seats from the journal instead of reading it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.orders import OrderKind
from m365move.domain.reasons import ReasonCode
from m365move.execution.intents import Intent

# Orders whose completion created an NCE subscription for one of the source's licences.
_CREATING_KINDS = frozenset({OrderKind.SALES, OrderKind.MIGRATION})


@dataclass(frozen=True, slots=True)
class SeatDifference:
    license: str
    source_quantity: int
    nce_quantity: int

    def describe(self) -> str:
        change = self.source_quantity - self.nce_quantity
        return (f"licence {self.license}: the source has {self.source_quantity} seats now, the NCE subscriptions "
                f"{self.nce_quantity} ({change:+d})")


def read_source_seats(client: SimpleApiClient, subscription_id: str) -> dict[str, int]:
    """The source's seats on the platform now, per licence (MPN upper-cased)."""
    source_seats: dict[str, int] = {}
    for product in client.get_subscription(subscription_id).products:
        source_seats[product.mpn.upper()] = source_seats.get(product.mpn.upper(), 0) + product.quantity
    return source_seats


def seats_text(source_seats: Mapping[str, int]) -> str:
    """The journal's ``source_seats``: JSON, licence -> seats, sorted."""
    return json.dumps(dict(sorted(source_seats.items())), separators=(",", ":"))


def seat_differences(client: SimpleApiClient, subscription_id: str, intents: Sequence[Intent]) -> list[SeatDifference]:
    """Per licence, the source's current seats against the seats its completed orders bought for it."""
    return compare_seats(read_source_seats(client, subscription_id), intents)


def compare_seats(source_seats: Mapping[str, int], intents: Sequence[Intent]) -> list[SeatDifference]:
    """Per licence, the source's seats (as read) against the seats its completed orders bought for it."""
    nce_seats: dict[str, int] = {}
    for intent in intents:
        if intent.kind not in _CREATING_KINDS or not intent.license:
            continue
        licence = intent.license.upper()
        held = (intent.quantity or 0) if intent.completed else 0
        nce_seats[licence] = nce_seats.get(licence, 0) + held
    differences = []
    for licence in sorted(set(nce_seats) | {m for m, q in source_seats.items() if q > 0}):
        have, moved = source_seats.get(licence, 0), nce_seats.get(licence, 0)
        if have != moved:
            differences.append(SeatDifference(licence, have, moved))
    return differences


def hold_reason(differences: Sequence[SeatDifference]) -> str:
    """The journal's hold reason (also the results' reason): the code, then each licence and its difference."""
    return (f"{ReasonCode.SEAT_COUNT_CHANGED.value}: the source's seats changed since its NCE subscriptions were "
            f"ordered, so it is not cancelled: " + "; ".join(d.describe() for d in differences)
            + "; align the seats (or order the difference), then resume")
