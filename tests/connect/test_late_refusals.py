"""Create refusals are recognised by the rule their description names."""

from __future__ import annotations

import pytest

from m365move.domain.reasons import ReasonCode
from m365move.partnercenter.late_refusals import late_rule


@pytest.mark.parametrize(("description", "code"), [
    ("Another migration request (x) for customer t is in progress. Concurrent migration requests for the same "
     "customer are not supported; retry after it completes.", ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS),
    ("The quantity 302 exceeds the limit of 300 licenses for this offer per customer.", ReasonCode.SMB_SEAT_CAP_EXCEEDED),
    ("Offer X is not supported for migration to new commerce. Purchase the new commerce offer and cancel the legacy "
     "subscription.", ReasonCode.MANUAL_PURCHASE_AND_CANCEL),
    ("Subscription s is not eligible for migration: SubscriptionTooCloseToTermEnd (eligibility code 2)",
     ReasonCode.TOO_CLOSE_TO_TERM_END),
    ("Migration m already exists for subscription s", None),
])
def test_late_rule(description: str, code: ReasonCode | None) -> None:
    assert late_rule(description) is code
