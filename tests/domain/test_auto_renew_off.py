"""`auto-renew-off`: a target created with auto-renew off is flagged with its fate and when; the decision stands."""

from __future__ import annotations

import datetime as dt

import pytest

from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.domain.reasons import Decision, WarningCode
from tests.estate_builder import BASE, EstateBuilder

TODAY = dt.date(2026, 12, 8)


def estate(*, auto_renew: bool, application: str = "microsoft365", monthly_plan: bool = True) -> EstateBuilder:
    builder = EstateBuilder().csp_plan(5001)
    builder.nce_plan(6001, application=application, periods=("1 month", "1 year") if monthly_plan else ("1 year",))
    builder.subscription("3000001", 5001, [(BASE, 12)], expiration="2027-03-01")
    builder.commerce["subscriptions"][0]["auto_renew"] = auto_renew
    return builder


def warnings_of(builder: EstateBuilder, mode: MigrationMode = MigrationMode.NEW_SUBSCRIPTION) -> list:  # type: ignore[type-arg]
    plan = plan_migration(builder.build(), mode, today=TODAY)
    (only,) = plan.subscriptions
    assert only.decision is Decision.MIGRATE  # a warning never changes the decision
    return [w for w in only.warnings if w.code is WarningCode.AUTO_RENEW_OFF]


def test_a_target_created_with_auto_renew_off_moves_to_microsofts_extended_service_term() -> None:
    (warning,) = warnings_of(estate(auto_renew=False))
    assert warning.fate == "extended-service-term"
    assert warning.fate_date == dt.date(2027, 12, 8)  # a new annual term from today
    assert "Extended Service Term" in warning.message and "+3 %" in warning.message
    assert "2026-05-04" in warning.message and warning.license == BASE


def test_without_a_monthly_term_the_extended_service_term_costs_23_percent_more() -> None:
    (warning,) = warnings_of(estate(auto_renew=False, monthly_plan=False))
    assert "+23 %" in warning.message


def test_cloudblues_connector_cancels_the_target_at_expiry() -> None:
    (warning,) = warnings_of(estate(auto_renew=False, application="csp_connect_extension"))
    assert warning.fate == "cancelled-at-expiry"
    assert "CloudBlue's NCE connector cancels it" in warning.message and "2026-01-19" in warning.message


def test_a_switch_plan_target_keeps_the_sources_expiry() -> None:
    (warning,) = warnings_of(estate(auto_renew=False), MigrationMode.SWITCH_PLAN)
    assert warning.fate_date == dt.date(2027, 3, 1)


@pytest.mark.parametrize("mode", list(MigrationMode))
def test_no_warning_when_auto_renew_is_on(mode: MigrationMode) -> None:
    assert warnings_of(estate(auto_renew=True), mode) == []
