"""How target plans are chosen (DESIGN §2.2–§2.3) and which orders are planned, in what order."""

from __future__ import annotations

import datetime as dt

from m365move.domain.licenses import PlansMapping, PlansMappingRow
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection, plan_migration
from m365move.domain.subscription_plan import SubscriptionPlan
from tests.estate_builder import ADDON, ADDON2, BASE, NCE_ADDON, NCE_ADDON2, NCE_BASE, RESELLER, EstateBuilder, standard

NS = MigrationMode.NEW_SUBSCRIPTION
SP = MigrationMode.SWITCH_PLAN


def decide(builder: EstateBuilder, mode: MigrationMode, mapping: list[PlansMappingRow] = ()) -> SubscriptionPlan:  # type: ignore[assignment]
    plan = plan_migration(builder.build(), mode, plans_mapping=PlansMapping(mapping))
    return plan.subscriptions[0]


def orders(sub: SubscriptionPlan) -> list[tuple[str, str | None, int | None]]:
    return [(o.kind.value, o.choice.value if o.choice else None, o.plan_id) for o in sub.orders]


class TestNewSubscriptionChoice:
    def test_ties_broken_by_largest_id(self) -> None:
        """Several qualifying plans: the largest id wins; candidates list them all, largest first."""
        builder = EstateBuilder().csp_plan().nce_plan(6001).nce_plan(6007).nce_plan(6003).subscription()
        sub = decide(builder, NS)
        assert orders(sub) == [("sales", "largest-id", 6007), ("cancellation", None, None)]
        assert sub.orders[0].candidates == (6007, 6003, 6001)

    def test_non_qualifying_plans_are_not_candidates(self) -> None:
        """A larger plan with the wrong billing period is not a candidate."""
        builder = EstateBuilder().csp_plan().nce_plan(6001).nce_plan(6009, billing="1 year").subscription()
        sub = decide(builder, NS)
        assert sub.orders[0].plan_id == 6001
        assert sub.orders[0].candidates == (6001,)

    def test_one_sales_order_per_licence_then_cancellation(self) -> None:
        """Each CSP licence gets its own sales order with the same quantity and period; cancellation last."""
        sub = decide(standard().subscription(resources=[(BASE, 12), (ADDON, 3), (ADDON2, 1)]), NS)
        assert [(o.kind.value, o.license, o.nce_license, o.plan_id, o.quantity, o.subscription_period)
                for o in sub.orders] == [
            ("sales", BASE, NCE_BASE, 6001, 12, "1 year"),
            ("sales", ADDON, NCE_ADDON, 6101, 3, "1 year"),
            ("sales", ADDON2, NCE_ADDON2, 6201, 1, "1 year"),
            ("cancellation", None, None, None, None, None),
        ]

    def test_zero_quantity_licences_are_ignored(self) -> None:
        """A licence at quantity 0 gets no order and cannot block."""
        builder = standard().unmap(ADDON2).subscription(resources=[(BASE, 12), (ADDON, 0), (ADDON2, 0)])
        sub = decide(builder, NS)
        assert sub.decision.value == "migrate"
        assert orders(sub) == [("sales", "largest-id", 6001), ("cancellation", None, None)]

    def test_plans_mapping_overrides_largest_id(self) -> None:
        builder = EstateBuilder().csp_plan().nce_plan(6001).nce_plan(6002).subscription()
        sub = decide(builder, NS, [PlansMappingRow(BASE.lower(), 6001)])
        assert orders(sub)[0] == ("sales", "plans-mapping", 6001)
        assert sub.orders[0].candidates == (6001, 6002)

    def test_row_with_csp_plan_id_beats_generic_row(self) -> None:
        builder = EstateBuilder().csp_plan().nce_plan(6001).nce_plan(6002).nce_plan(6003).subscription()
        rows = [PlansMappingRow(BASE, 6002), PlansMappingRow(BASE, 6001, csp_plan_id=5001),
                PlansMappingRow(BASE, 6003, csp_plan_id=5999)]
        assert orders(decide(builder, NS, rows))[0] == ("sales", "plans-mapping", 6001)

    def test_plans_mapping_ignored_with_warning_for_other_applications(self) -> None:
        """Only microsoft365 source plans honour the plans mapping; others warn and use the largest id."""
        builder = EstateBuilder().csp_plan(application="csp_connect_extension").nce_plan(6001).nce_plan(6002)
        sub = decide(builder.subscription(), NS, [PlansMappingRow(BASE, 6001)])
        assert sub.decision.value == "migrate"
        assert orders(sub)[0] == ("sales", "largest-id", 6002)
        assert [(w.code.value, w.license) for w in sub.warnings] == [("plans-mapping-ignored", BASE)]

    def test_mapped_plan_that_does_not_qualify_blocks(self) -> None:
        """Never fall back silently: the mapped plan is wrong, so the subscription is blocked."""
        builder = EstateBuilder().csp_plan().nce_plan(6001).nce_plan(6002, billing="1 year").subscription()
        sub = decide(builder, NS, [PlansMappingRow(BASE, 6002)])
        assert sub.decision.value == "blocked"
        assert [r.code.value for r in sub.reasons] == ["plans-mapping-invalid"]
        assert "6002" in sub.reasons[0].message and "1 year" in sub.reasons[0].message

    def test_mapped_plan_that_does_not_exist_blocks(self) -> None:
        builder = EstateBuilder().csp_plan().nce_plan(6001).subscription()
        sub = decide(builder, NS, [PlansMappingRow(BASE, 7777)])
        assert [r.code.value for r in sub.reasons] == ["plans-mapping-invalid"]


class TestSwitchPlan:
    def test_change_order_then_addon_migration_orders_with_source_dates(self) -> None:
        sub = decide(standard().subscription(resources=[(ADDON, 3), (BASE, 12)]), SP)
        assert orders(sub) == [
            ("change", "upgrade-path", 6001),
            ("migration", "largest-id", 6101),
        ]
        change, migration = sub.orders
        assert (change.license, change.quantity, change.start_date, change.expiration_date) == (BASE, 12, None, None)
        assert (migration.license, migration.quantity) == (ADDON, 3)
        assert migration.start_date == dt.date(2026, 3, 1)
        assert migration.expiration_date == dt.date(2027, 3, 1)

    def test_largest_id_among_upgrade_path_targets(self) -> None:
        builder = EstateBuilder().csp_plan(upgrade={RESELLER: [6001, 6005]})
        builder.nce_plan(6001).nce_plan(6005).nce_plan(6009).subscription()
        sub = decide(builder, SP)
        assert orders(sub) == [("change", "upgrade-path", 6005)]
        assert sub.orders[0].candidates == (6005, 6001)

    def test_plans_mapping_applies_to_addons(self) -> None:
        builder = standard().nce_plan(6102, NCE_ADDON).subscription(resources=[(BASE, 2), (ADDON, 1)])
        sub = decide(builder, SP, [PlansMappingRow(ADDON, 6101)])
        assert orders(sub) == [("change", "upgrade-path", 6001), ("migration", "plans-mapping", 6101)]

    def test_no_cancellation_in_switch_plan(self) -> None:
        sub = decide(standard().subscription(), SP)
        assert all(o.kind.value != "cancellation" for o in sub.orders)


class TestSelection:
    def test_filters(self) -> None:
        builder = standard().reseller("1000002").customer("2000002", "1000002")
        builder.subscription("1").subscription("2", customer="2000002").subscription("3", expiration="2027-06-01")
        estate = builder.build()

        def ids(selection: Selection) -> list[str]:
            return [s.subscription_id for s in plan_migration(estate, NS, selection=selection).subscriptions]

        assert ids(Selection()) == ["1", "2", "3"]
        assert ids(Selection(subscription_ids=frozenset({"3", "9"}))) == ["3"]
        assert ids(Selection(reseller_ids=frozenset({"1000002"}))) == ["2"]
        assert ids(Selection(customer_ids=frozenset({"2000001"}))) == ["1", "3"]
        assert ids(Selection(expiration_date=dt.date(2027, 6, 1))) == ["3"]

    def test_nce_subscriptions_are_not_sources(self) -> None:
        """Subscriptions on NCE plans (migration targets) do not appear in a plan."""
        builder = standard().subscription("1").subscription("2", plan_id=6001, resources=[(NCE_BASE, 3)])
        assert [s.subscription_id for s in plan_migration(builder.build(), NS).subscriptions] == ["1"]
