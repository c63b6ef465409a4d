"""New-commerce subscriptions no live Commerce subscription bills: what the reconcile runbook lists to bill."""

from __future__ import annotations

import datetime as dt

from m365move.domain.estate import Estate
from m365move.domain.microsoft_migrations import (
    SUBSCRIPTION_ATTRIBUTE,
    TENANT_ATTRIBUTE,
    NewCommerceSubscription,
    PartnerCenterView,
)
from m365move.domain.unbilled_new_commerce import unbilled_rows
from tests.estate_builder import standard

NOW = dt.datetime(2026, 12, 8, tzinfo=dt.timezone.utc)
TENANT = "11111111-2222-4333-8444-555555555555"


def estate(status: str = "active") -> Estate:
    builder = standard().subscription("3000001", plan_id=6001, resources=[("CFQ7TTC0LH18:0001", 4)], status=status)
    builder.doc["commerce"]["subscriptions"][0]["custom_attributes"] = {SUBSCRIPTION_ATTRIBUTE: "N1",
                                                                        TENANT_ATTRIBUTE: TENANT}
    return builder.build()


def view() -> PartnerCenterView:
    held = (NewCommerceSubscription("N1", "CFQ7TTC0LH18:0001:0001", 4),
            NewCommerceSubscription("N2", "CFQ7TTC0LHXX:0002:0001", 2, cancellation_allowed_until=NOW + dt.timedelta(hours=5)),
            NewCommerceSubscription("N3", "CFQ7TTC0LHYY:0003:0001", 1))
    return PartnerCenterView(consulted=True, new_commerce={TENANT: held})


def test_what_commerce_bills_is_not_listed_and_the_rest_is_with_its_window() -> None:
    rows = unbilled_rows(estate().subscriptions, view(), NOW, already_named=["N3"])
    (row,) = rows
    assert row.nce_subscription_id == "N2" and row.customer_id == "2000001" and row.action == "bill-in-commerce"
    assert "cancel it in Partner Center before its cancellationAllowedUntilDate" in row.detail


def test_a_terminated_commerce_subscription_bills_nothing() -> None:
    rows = unbilled_rows(estate("terminated").subscriptions, view(), NOW)
    assert [r.nce_subscription_id for r in rows] == ["N1", "N2", "N3"]
    assert "cancel it" not in rows[0].detail  # Partner Center gave no window for N1
