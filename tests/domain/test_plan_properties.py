"""Properties over generated estates (hypothesis): the planners' invariants hold for any estate."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.catalog import ResourceRole
from m365move.domain.estate import Estate
from m365move.domain.orders import MigrationMode, OrderKind
from m365move.domain.planner import plan_migration
from m365move.domain.preflight import preflight_findings
from m365move.estate.loader import build_estate, parse_estate_document
from m365move.plan_output.json_format import plan_to_json

estates = st.builds(
    lambda n, seed: build_estate(
        parse_estate_document(generate_estate(EstateSize.for_subscriptions(n, plans=24 + seed % 20), seed), "gen"),
        "gen",
    ),
    st.integers(min_value=5, max_value=120),
    st.integers(min_value=0, max_value=10_000),
)
modes = st.sampled_from(list(MigrationMode))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _qualifies(estate: Estate, plan_id: int, nce: str, sub_id: str) -> bool:
    """DESIGN §2.1, written independently of the planner."""
    sub = next(s for s in estate.subscriptions if s.id == sub_id)
    plan = estate.catalog[plan_id]
    return (
        plan.holds_license(nce)
        and plan.billing_period == sub.billing_period
        and sub.subscription_period in plan.subscription_periods
        and estate.reseller_of(sub).id in plan.delegated_to
    )


@SETTINGS
@given(estates)
def test_new_subscription_orders_cover_every_licence_and_cancel_last(estate: Estate) -> None:
    plan = plan_migration(estate, MigrationMode.NEW_SUBSCRIPTION)
    by_id = {s.id: s for s in estate.subscriptions}
    for sub in plan.migrating():
        source = by_id[sub.subscription_id]
        catalog_plan = estate.catalog[source.plan_id]
        licences = sorted(r.mpn for r in source.resources
                          if r.quantity > 0 and catalog_plan.role_of(r.mpn) in (ResourceRole.BASE, ResourceRole.ADDON))
        sales = [o for o in sub.orders if o.kind is OrderKind.SALES]
        assert sorted(o.license for o in sales) == licences  # type: ignore[type-var]
        assert sub.orders[-1].kind is OrderKind.CANCELLATION
        assert [o.kind for o in sub.orders].count(OrderKind.CANCELLATION) == 1
        assert all(o.quantity == next(r.quantity for r in source.resources if r.mpn == o.license) for o in sales)


@SETTINGS
@given(estates, modes)
def test_no_order_targets_a_plan_failing_the_preconditions(estate: Estate, mode: MigrationMode) -> None:
    plan = plan_migration(estate, mode)
    for sub in plan.subscriptions:
        if sub.decision.value != "migrate":
            assert sub.orders == ()
        for order in sub.orders:
            if order.plan_id is not None:
                assert order.nce_license is not None
                assert _qualifies(estate, order.plan_id, order.nce_license, sub.subscription_id)
                assert order.plan_id == max(order.candidates) or order.choice.value == "plans-mapping"  # type: ignore[union-attr]


@SETTINGS
@given(estates, modes)
def test_switch_plan_change_order_first_and_in_upgrade_paths(estate: Estate, mode: MigrationMode) -> None:
    plan = plan_migration(estate, MigrationMode.SWITCH_PLAN)
    by_id = {s.id: s for s in estate.subscriptions}
    for sub in plan.migrating():
        source = by_id[sub.subscription_id]
        assert sub.orders[0].kind is OrderKind.CHANGE
        paths = estate.catalog[source.plan_id].upgrade_paths.get(sub.reseller_id, ())
        assert sub.orders[0].plan_id in paths
        for order in sub.orders[1:]:
            assert order.kind is OrderKind.MIGRATION
            assert (order.start_date, order.expiration_date) == (source.start_date, source.expiration_date)


@SETTINGS
@given(estates, modes)
def test_plan_is_deterministic(estate: Estate, mode: MigrationMode) -> None:
    def render() -> str:
        plan = plan_migration(estate, mode)
        return json.dumps(plan_to_json(plan, preflight_findings(plan)), sort_keys=True)

    assert render() == render()
