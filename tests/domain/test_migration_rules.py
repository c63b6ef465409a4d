"""Partner Center's late rules as plan reasons (pure)."""

from __future__ import annotations

import datetime as dt

from m365move.domain.migration_rules import (
    SMB_SEAT_CAP,
    MigrationCandidate,
    late_rule_reasons,
    terms_ending_within,
)
from m365move.domain.reasons import ReasonCode

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)


def candidate(sub: str, customer: str = "t1", licence: str = "CFQ7TTC0LH18:0001", quantity: int = 10,
              term_end: dt.datetime | None = None, offer: str = "OFFER-1") -> MigrationCandidate:
    return MigrationCandidate(sub, customer, offer, licence, quantity, term_end)


def codes(found: dict[str, list], sub: str) -> list[str]:
    return [r.code.value for r in found.get(sub, [])]


def test_the_cap_counts_every_subscription_of_the_customer_per_business_offer() -> None:
    found = late_rule_reasons([candidate("a", quantity=200), candidate("b", quantity=101),
                               candidate("c", customer="t2", quantity=300),
                               candidate("d", licence="CFQ7TTC0LF8Q:0001", quantity=5000)], now=NOW)
    assert codes(found, "a") == codes(found, "b") == ["smb-seat-cap-exceeded"]
    assert "301 seats" in found["a"][0].message and str(SMB_SEAT_CAP) in found["a"][0].message
    assert "c" not in found and "d" not in found  # exactly 300 is allowed; enterprise offers have no cap


def test_seats_held_already_count() -> None:
    found = late_rule_reasons([candidate("a", quantity=11)], now=NOW, seats_held={("t1", "CFQ7TTC0LH18"): 290})
    assert codes(found, "a") == ["smb-seat-cap-exceeded"]


def test_manual_offers_and_the_last_24_hours() -> None:
    found = late_rule_reasons([candidate("a", offer="MANUAL-OFFER"),
                               candidate("b", term_end=NOW + dt.timedelta(hours=23)),
                               candidate("c", term_end=NOW + dt.timedelta(hours=25))],
                              now=NOW, manual_offers=frozenset({"MANUAL-OFFER"}))
    assert codes(found, "a") == [ReasonCode.MANUAL_PURCHASE_AND_CANCEL.value]
    assert codes(found, "b") == [ReasonCode.TOO_CLOSE_TO_TERM_END.value]
    assert "c" not in found


def test_terms_ending_within_the_next_days_soonest_first() -> None:
    today = dt.date(2026, 11, 30)
    soon = terms_ending_within([("a", "t1", dt.date(2026, 12, 10)), ("b", "t1", dt.date(2026, 12, 1)),
                                ("c", "t2", dt.date(2027, 1, 30)), ("d", "t2", None), ("e", "t2", dt.date(2026, 11, 1))],
                               today=today, days=14)
    assert [(t.subscription_id, t.days_left) for t in soon] == [("b", 1), ("a", 10)]
