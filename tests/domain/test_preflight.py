"""Preflight findings aggregate the plan's problems with subjects, counts and what to do."""

from __future__ import annotations

from m365move.domain.licenses import PlansMapping, PlansMappingRow
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.domain.preflight import preflight_findings
from tests.estate_builder import BASE, RESELLER, UNMAPPED, EstateBuilder


def findings_of(builder: EstateBuilder, mode: MigrationMode = MigrationMode.NEW_SUBSCRIPTION, **kw: object) -> dict:
    plan = plan_migration(builder.build(), mode, **kw)  # type: ignore[arg-type]
    return {f.code: f for f in preflight_findings(plan)}


def test_tier_config_finding_lists_resellers_and_counts_subscriptions() -> None:
    builder = EstateBuilder().reseller("1000002", "processing").reseller("1000003", "missing")
    builder.customer("2000002", "1000002").customer("2000003", "1000003")
    builder.csp_plan(delegated=(RESELLER, "1000002", "1000003"))
    builder.nce_plan(6001, delegated=(RESELLER, "1000002", "1000003"))
    builder.subscription("1", customer="2000002").subscription("2", customer="2000002").subscription("3", customer="2000003")
    builder.subscription("4")
    finding = findings_of(builder)["tier-config-incomplete"]
    assert finding.severity.value == "error"
    assert finding.subjects == ("1000002", "1000003")
    assert finding.affected_subscriptions == 3
    assert "tier configuration" in finding.message


def test_licence_findings_group_by_licence_and_need() -> None:
    builder = EstateBuilder().csp_plan(upgrade={}).plan(5002, [(UNMAPPED, "base")])
    builder.nce_plan(6001, billing="1 year")
    builder.subscription("1").subscription("2").subscription("3", plan_id=5002, resources=[(UNMAPPED, 1)])
    found = findings_of(builder)
    assert found["billing-period-mismatch"].subjects == ("CFQ7TTC0LH18:0001", "billing period 1 month")
    assert found["billing-period-mismatch"].affected_subscriptions == 2
    assert found["unmapped-license"].subjects == (UNMAPPED,)
    assert found["unmapped-license"].affected_subscriptions == 1


def test_warning_and_skip_findings() -> None:
    builder = EstateBuilder().csp_plan(application="csp_connect_extension").nce_plan(6001)
    builder.subscription("1").subscription("2", trial=True)
    found = findings_of(builder, plans_mapping=PlansMapping([PlansMappingRow(BASE, 6001)]))
    assert found["plans-mapping-ignored"].severity.value == "warning"
    assert found["trial"].severity.value == "info"
    assert found["trial"].affected_subscriptions == 1


def test_errors_come_first() -> None:
    builder = EstateBuilder().csp_plan(upgrade={}).subscription("1").subscription("2", trial=True)
    severities = [f.severity.value for f in preflight_findings(plan_migration(builder.build(), MigrationMode.SWITCH_PLAN))]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert severities[0] == "error"
