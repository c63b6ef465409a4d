"""Every reason code of DESIGN §2.4, table-driven, in both modes where it applies."""

from __future__ import annotations

import pytest

from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.domain.subscription_plan import SubscriptionPlan
from tests.estate_builder import (
    ADDON,
    ADDON2,
    BASE,
    RESELLER,
    UNMAPPED,
    EstateBuilder,
    standard,
)

NS = MigrationMode.NEW_SUBSCRIPTION
SP = MigrationMode.SWITCH_PLAN


def decide(builder: EstateBuilder, mode: MigrationMode, **kw: object) -> SubscriptionPlan:
    plan = plan_migration(builder.build(), mode, **kw)  # type: ignore[arg-type]
    assert len(plan.subscriptions) == 1
    return plan.subscriptions[0]


def codes(sub: SubscriptionPlan) -> list[str]:
    return [r.code.value for r in sub.reasons]


class TestSkipRules:
    @pytest.mark.parametrize("mode", [NS, SP])
    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"status": "suspended"}, ["not-active"]),
            ({"trial": True}, ["trial"]),
            ({"resources": [(BASE, 0)]}, "no-csp-license"),
            ({"status": "terminated", "trial": True}, ["not-active", "trial"]),
        ],
    )
    def test_skip_codes(self, mode: MigrationMode, kwargs: dict, expected: object) -> None:
        """Out-of-scope subscriptions are skipped with every skip code that applies."""
        sub = decide(standard().subscription(**kwargs), mode)
        assert sub.decision.value == "skip"
        if isinstance(expected, list):
            assert codes(sub) == expected
        else:
            assert expected in codes(sub)
        assert sub.orders == ()

    @pytest.mark.parametrize("mode", [NS, SP])
    def test_mixed_resources(self, mode: MigrationMode) -> None:
        """A resource of role other with quantity > 0 (DNS hosting) makes it mixed."""
        builder = EstateBuilder().plan(5001, [(BASE, "base"), ("DNS-ZONE", "other")], upgrade={RESELLER: [6001]})
        builder.nce_plan(6001).subscription(resources=[(BASE, 5), ("DNS-ZONE", 1)])
        assert codes(decide(builder, mode)) == ["mixed-resources"]

    def test_other_resource_with_zero_quantity_is_not_mixed(self) -> None:
        """Only quantity > 0 counts for mixed-resources."""
        builder = EstateBuilder().plan(5001, [(BASE, "base"), ("DNS-ZONE", "other")])
        builder.nce_plan(6001).subscription(resources=[(BASE, 5), ("DNS-ZONE", 0)])
        assert decide(builder, NS).decision.value == "migrate"

    def test_no_csp_license_when_only_other_resources(self) -> None:
        """Software or DNS-only subscriptions hold no CSP licence."""
        builder = EstateBuilder().plan(5001, [("DNS-ZONE", "other")]).subscription(resources=[("DNS-ZONE", 1)])
        assert codes(decide(builder, NS)) == ["no-csp-license", "mixed-resources"]

    def test_switch_unsupported_for_csp_connect_extension(self) -> None:
        """Switch Plan is not supported for csp_connect_extension subscriptions; New Subscription is."""
        builder = standard()
        builder.commerce["plans"][0]["application"] = "csp_connect_extension"
        builder.subscription()
        assert codes(decide(builder, SP)) == ["switch-unsupported"]
        assert decide(builder, NS).decision.value == "migrate"

    @pytest.mark.parametrize(
        "plan_resources",
        [
            [(ADDON, "addon")],  # zero base licences
            [(BASE, "base"), (ADDON, "base")],  # two base licences
        ],
    )
    def test_base_license_count(self, plan_resources: list[tuple[str, str]]) -> None:
        """Switch Plan needs exactly one base licence with quantity > 0."""
        builder = EstateBuilder().plan(5001, plan_resources, upgrade={RESELLER: [6001]}).nce_plan(6001)
        builder.nce_plan(6101, "CFQ7TTC0LHXX:0002")
        builder.subscription(resources=[(m, 3) for m, _ in plan_resources])
        assert codes(decide(builder, SP)) == ["base-license-count"]
        assert decide(builder, NS).decision.value == "migrate"

    def test_zero_quantity_base_does_not_count_as_base(self) -> None:
        """A base licence at quantity 0 is ignored, so only the add-on remains: base-license-count."""
        builder = standard().subscription(resources=[(BASE, 0), (ADDON, 4)])
        assert codes(decide(builder, SP)) == ["base-license-count"]

    def test_already_migrated(self) -> None:
        """The journal says it is fully migrated."""
        sub = decide(standard().subscription(), NS, already_migrated={"3000001"})
        assert codes(sub) == ["already-migrated"]

    def test_skip_hides_blocked_checks(self) -> None:
        """When a skip rule applies, no blocked code is reported."""
        builder = standard().reseller("1000009", "missing").customer("2000009", "1000009", mca=False)
        builder.subscription(customer="2000009", trial=True, resources=[(UNMAPPED, 1)])
        builder.commerce["plans"][0]["resources"].append({"mpn": UNMAPPED, "role": "addon"})
        sub = decide(builder, NS)
        assert sub.decision.value == "skip"
        assert codes(sub) == ["trial"]


class TestBlockers:
    @pytest.mark.parametrize("mode", [NS, SP])
    def test_tier_config_incomplete(self, mode: MigrationMode) -> None:
        builder = standard().reseller("1000002", "processing").customer("2000002", "1000002")
        for plan in builder.commerce["plans"]:
            plan["delegated_to"].append("1000002")
        builder.commerce["plans"][0]["upgrade_paths"]["1000002"] = [6001]
        sub = decide(builder.subscription(customer="2000002"), mode)
        assert (sub.decision.value, codes(sub)) == ("blocked", ["tier-config-incomplete"])

    @pytest.mark.parametrize("mode", [NS, SP])
    def test_mca_not_accepted(self, mode: MigrationMode) -> None:
        builder = standard().customer("2000002", mca=False).subscription(customer="2000002")
        assert codes(decide(builder, mode)) == ["mca-not-accepted"]

    @pytest.mark.parametrize("mode", [NS, SP])
    @pytest.mark.parametrize(("status", "blocked"), [("processing", True), ("submitted", True), ("completed", False)])
    def test_incomplete_order(self, mode: MigrationMode, status: str, blocked: bool) -> None:
        sub = decide(standard().subscription().open_order("3000001", status), mode)
        assert ("incomplete-order" in codes(sub)) is blocked

    @pytest.mark.parametrize("mode", [NS, SP])
    def test_unmapped_license(self, mode: MigrationMode) -> None:
        sub = decide(standard().unmap(BASE).subscription(), mode)
        assert codes(sub) == ["unmapped-license"]
        assert sub.reasons[0].license == BASE

    @pytest.mark.parametrize("mode", [NS, SP])
    def test_no_target_plan(self, mode: MigrationMode) -> None:
        builder = EstateBuilder().csp_plan(5001, upgrade={}).subscription()
        assert codes(decide(builder, mode)) == ["no-target-plan"]

    @pytest.mark.parametrize(
        ("nce_plan", "expected"),
        [
            ({"billing": "1 year"}, "billing-period-mismatch"),
            ({"periods": ("1 month",)}, "subscription-period-mismatch"),
            ({"periods": ("12 month",)}, "subscription-period-mismatch"),  # 12 months is not 1 year
            ({"delegated": ()}, "plan-not-delegated"),
            # Most specific: billing fails before periods and delegation are even looked at.
            ({"billing": "1 year", "periods": ("1 month",), "delegated": ()}, "billing-period-mismatch"),
            ({"periods": ("1 month",), "delegated": ()}, "subscription-period-mismatch"),
        ],
    )
    @pytest.mark.parametrize("mode", [NS, SP])
    def test_most_specific_catalog_code(self, mode: MigrationMode, nce_plan: dict, expected: str) -> None:
        builder = EstateBuilder().csp_plan(5001).nce_plan(6001, **nce_plan).subscription()
        assert codes(decide(builder, mode)) == [expected]

    def test_every_licence_reports_its_own_problem(self) -> None:
        """Not only the first licence's problem: each licence gets its most specific code."""
        builder = EstateBuilder().csp_plan(5001, addons=(ADDON, ADDON2)).nce_plan(6001, billing="1 year")
        builder.nce_plan(6101, "CFQ7TTC0LHXX:0002", delegated=()).unmap(ADDON2)
        builder.subscription(resources=[(BASE, 5), (ADDON, 2), (ADDON2, 1)])
        sub = decide(builder, NS)
        assert [(r.code.value, r.license) for r in sub.reasons] == [
            ("billing-period-mismatch", BASE),
            ("plan-not-delegated", ADDON),
            ("unmapped-license", ADDON2),
        ]

    def test_account_and_licence_problems_together(self) -> None:
        """Reseller, customer and licence problems are all reported, account ones first."""
        builder = EstateBuilder().reseller("1000002", "missing").customer("2000002", "1000002", mca=False)
        builder.csp_plan(5001, delegated=("1000002",), upgrade={}).unmap(BASE).subscription(customer="2000002")
        assert codes(decide(builder, NS)) == ["tier-config-incomplete", "mca-not-accepted", "unmapped-license"]

    def test_no_upgrade_path(self) -> None:
        """Switch Plan: qualifying plans exist but none is in the reseller's upgrade paths."""
        builder = EstateBuilder().csp_plan(5001, upgrade={RESELLER: []}).nce_plan(6001).subscription()
        sub = decide(builder, SP)
        assert codes(sub) == ["no-upgrade-path"]
        assert decide(builder, NS).decision.value == "migrate"

    def test_upgrade_path_under_another_reseller_only(self) -> None:
        """Upgrade paths are per reseller: another reseller's path does not help."""
        builder = EstateBuilder().reseller("1000002").csp_plan(5001, upgrade={"1000002": [6001]})
        builder.nce_plan(6001).subscription()
        assert codes(decide(builder, SP)) == ["no-upgrade-path"]

    def test_upgrade_path_target_that_does_not_qualify(self) -> None:
        """The path's only target bills yearly; another monthly plan exists outside the path."""
        builder = EstateBuilder().csp_plan(5001, upgrade={RESELLER: [6001]})
        builder.nce_plan(6001, billing="1 year").nce_plan(6002).subscription()
        assert codes(decide(builder, SP)) == ["no-upgrade-path"]
