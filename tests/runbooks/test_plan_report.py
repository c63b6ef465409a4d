"""A plan as report rows and counts: the rows add up to the plan, blocked first, every order explained."""

from __future__ import annotations

import pytest

from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.estate import Estate
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.domain.preflight import preflight_findings
from m365move.domain.subscription_plan import MigrationPlan
from m365move.estate.loader import build_estate, parse_estate_document
from m365move.runbooks import plan_report as report


@pytest.fixture(scope="module")
def estate() -> Estate:
    document = parse_estate_document(generate_estate(EstateSize.for_subscriptions(30), seed=1), "generated")
    return build_estate(document, "generated")


@pytest.fixture(scope="module", params=list(MigrationMode))
def plan(request: pytest.FixtureRequest, estate: Estate) -> MigrationPlan:
    return plan_migration(estate, request.param)


class TestRows:
    def test_decision_rows_cover_every_subscription_blocked_first(self, plan: MigrationPlan) -> None:
        rows = report.decision_rows(plan)
        assert sorted(r[0] for r in rows) == sorted(s.subscription_id for s in plan.subscriptions)
        decisions = [r[3] for r in rows]
        assert decisions == sorted(decisions, key=["blocked", "migrate", "skip"].index)

    def test_a_migrating_row_names_each_order_and_how_its_plan_was_chosen(self, plan: MigrationPlan) -> None:
        sub = plan.migrating()[0]
        detail = report.subscription_detail(sub)
        assert detail.count(";") == len(sub.orders) - 1
        for order in sub.orders:
            if order.plan_id is not None and order.choice is not None:
                assert f"{order.kind.value} → plan {order.plan_id} ({order.choice.value})" in detail

    def test_finding_rows_follow_the_findings(self, plan: MigrationPlan) -> None:
        findings = preflight_findings(plan)
        rows = report.finding_rows(findings)
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (f.severity.value, f.code, f.affected_subscriptions) for f in findings
        ]


class TestCounts:
    def test_decisions_by_reseller_add_up_to_the_summary(self, plan: MigrationPlan, estate: Estate) -> None:
        by_reseller = report.decisions_by_reseller(plan, report.reseller_names(estate))
        totals = {d: sum(counts[d] for counts in by_reseller.values()) for d in report.DECISIONS}
        assert totals == plan.summary()
        assert all(label.endswith(")") for label in by_reseller)  # "Name (id)"

    def test_plan_summary_is_the_preflight_result(self, plan: MigrationPlan) -> None:
        findings = preflight_findings(plan)
        summary = report.plan_summary(plan, findings)
        assert summary["summary"] == plan.summary() and summary["findings"] == len(findings)
        assert summary["subscriptions"] == len(plan.subscriptions)
        assert sum(summary["orders"].values()) == sum(len(s.orders) for s in plan.subscriptions)
        assert sum(summary["findings_by_severity"].values()) == len(findings)

    def test_overview_is_red_when_something_is_blocked(self, plan: MigrationPlan) -> None:
        assert plan.summary()["blocked"] > 0
        overview = report.plan_overview(plan, preflight_findings(plan), "estate file x.yaml")
        assert "#b3261e" in overview and f"{plan.summary()['blocked']} blocked" in overview
