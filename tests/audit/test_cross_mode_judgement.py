"""The audit judges from the platform's final state across modes (issue: stale-estate false alarm) and its
seat check catches seats that changed between the sales order and the cancellation."""

from __future__ import annotations

from m365move.audit.audit_report import AuditOptions, AuditReport, build_audit
from m365move.audit.findings import AnomalyCode
from m365move.audit.platform_state import PlatformOrder
from tests.audit.builders import BASE, CUSTOMER, NCE, NOW, Scenario, intent, minutes, standard


def audit(scenario: Scenario) -> AuditReport:
    return build_audit(scenario.records(), scenario.platform(), NOW, AuditOptions())


def stale_switch_plan_run(scenario: Scenario, sub: str, status: str = "rejected") -> None:
    """A Switch Plan run from an old estate, after the New Subscription run migrated ``sub``: its change order
    was refused on the cancelled source (or ended in error)."""
    scenario.intents.append(intent(sub, "change", BASE, 0, key=f"M365MOVE-SP-{sub}-change-{BASE}", mode="switch-plan",
                                   quantity=5, platform_order_id="7100001" if status == "error" else None,
                                   platform_status=status, placing_at=minutes(120), placed_at=minutes(120),
                                   finished_at=minutes(121), last_run_id="20260301T110000Z-stale1"))
    if status == "error":
        scenario.orders.append(PlatformOrder("7100001", "change", CUSTOMER, "error", f"M365MOVE-SP-{sub}-change-{BASE}",
                                             sub, minutes(120)))


class TestStaleEstateInTheOtherMode:
    def test_a_correctly_cancelled_source_raises_no_alarm(self) -> None:
        scenario = standard()
        stale_switch_plan_run(scenario, "3000002")
        report = audit(scenario)
        assert report.findings == ()
        assert report.statuses["3000002"].status == "migrated"
        assert report.statuses["3000002"].mode == "new-subscription"

    def test_nor_when_the_stale_order_reached_the_platform_and_failed(self) -> None:
        scenario = standard()
        stale_switch_plan_run(scenario, "3000002", status="error")
        report = audit(scenario)
        assert [f.code for f in report.findings] == []
        assert all("reinstate" not in f.action for f in report.findings)

    def test_a_really_early_cancellation_is_still_found(self) -> None:
        scenario = standard()
        sales = scenario.sales("3000002")
        scenario.replace_intent(sales.key, platform_status="error")
        scenario.replace_order(str(sales.platform_order_id), status="error")
        stale_switch_plan_run(scenario, "3000002")
        [finding] = [f for f in audit(scenario).findings if f.code is AnomalyCode.CANCELLED_BEFORE_TARGETS_COMPLETED]
        assert finding.subscription_id == "3000002" and "reinstate the source within 7 days" in finding.action

    def test_targets_completed_after_the_cancellation_are_not_advised_a_reinstatement(self) -> None:
        scenario = standard()
        sales = scenario.sales("3000002")
        scenario.replace_intent(sales.key, finished_at=minutes(30))  # completed after the cancellation (minute 1)
        [finding] = audit(scenario).findings
        assert finding.code is AnomalyCode.CANCELLED_BEFORE_TARGETS_COMPLETED
        assert "completed only at" in finding.message
        assert "do not reinstate the source" in finding.action


class TestSeatsChangedBeforeTheCancellation:
    def test_a_source_grown_from_18_to_25_then_cancelled_lost_7_seats(self) -> None:
        scenario = Scenario().migrated("3000001", {BASE: 18})
        scenario.replace_subscription("3000001", products=((BASE, 25),))  # terminated, with the seats it had
        [finding] = audit(scenario).findings
        assert finding.code is AnomalyCode.SEAT_MISMATCH and finding.subscription_id == "3000001"
        assert "held 25 seats when it was cancelled" in finding.message and "7 seats lost" in finding.message
        assert finding.ids["csp_seats"] == "25" and finding.ids["nce_seats"] == "18"
        assert finding.ids["migrated_seats"] == "18" and finding.ids["nce_license"] == NCE[BASE]
        assert "add the 7 missing seats" in finding.action and "do not reinstate the source" in finding.action

    def test_a_held_cancellation_is_reported_with_what_to_align(self) -> None:
        """The executor blocked the cancellation (seat-count-changed): the audit says so too."""
        scenario = Scenario().migrated("3000001", {BASE: 18}, cancel=False)
        scenario.replace_subscription("3000001", products=((BASE, 25),))
        [finding] = [f for f in audit(scenario).findings if f.code is AnomalyCode.SEAT_MISMATCH]
        assert "now holds 25 seats" in finding.message and "seat-count-changed" in finding.message
        assert "do not cancel the source yet" in finding.action and "add 7" in finding.action

    def test_equal_seats_on_source_and_target_are_clean(self) -> None:
        scenario = Scenario().migrated("3000001", {BASE: 18})
        scenario.replace_subscription("3000001", products=((BASE, 18),))
        report = audit(scenario)
        assert report.findings == ()
        assert {c.name: c.checked for c in report.reconciliation.checks}["NCE seats equal CSP seats"] == 1
