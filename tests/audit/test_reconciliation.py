"""Each anomaly planted in journal rows or platform data is found, with its code and ids; a clean audit finds none."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from m365move.audit.audit_report import AuditOptions, AuditReport, build_audit
from m365move.audit.findings import CODES, AnomalyCode, Severity
from m365move.audit.platform_state import PlatformOrder
from m365move.audit.reconciliation import ReconciliationOptions
from m365move.audit.summary import Filters
from tests.audit.builders import ADDON, BASE, CUSTOMER, NCE, NOW, RESELLER, Scenario, intent, minutes, standard


def audit(scenario: Scenario, **options: object) -> AuditReport:
    return build_audit(scenario.records(), scenario.platform(), NOW, AuditOptions(**options))  # type: ignore[arg-type]


def codes(report: AuditReport) -> list[str]:
    return [f.code.value for f in report.findings]


class TestCleanAudit:
    def test_a_consistent_journal_and_platform_have_no_findings(self) -> None:
        """Every check ran over something and found nothing."""
        report = audit(standard())
        assert report.findings == ()
        checks = {c.name: c for c in report.reconciliation.checks}
        assert checks["NCE seats equal CSP seats"].checked == 3
        assert checks["cancellations after every target completed"].checked == 2
        assert checks["every target has a journaled source"].checked == 3
        assert report.status_counts() == {"migrated": 2, "blocked": 1}

    def test_without_a_platform_the_platform_checks_say_they_did_not_run(self) -> None:
        report = build_audit(standard().records(), None, NOW)
        notes = {c.name: c.note for c in report.reconciliation.checks}
        assert notes["NCE seats equal CSP seats"].startswith("not run")
        assert notes["every target has a journaled source"].startswith("not run")
        assert report.findings == ()


class TestSeatMismatch:
    def test_fewer_nce_seats_than_csp_seats(self) -> None:
        scenario = standard()
        target = scenario.sales("3000001", ADDON).created_subscription_id
        assert target is not None
        scenario.replace_subscription(target, products=((NCE[ADDON], 2),))
        [finding] = audit(scenario).findings
        assert finding.code is AnomalyCode.SEAT_MISMATCH and finding.severity is Severity.CRITICAL
        assert finding.subscription_id == "3000001"
        assert finding.ids == {"target_subscription": target, "license": ADDON, "nce_license": NCE[ADDON],
                               "csp_seats": "3", "nce_seats": "2"}
        assert (finding.customer_id, finding.reseller_id) == (CUSTOMER, RESELLER)

    def test_a_target_gone_from_the_platform(self) -> None:
        scenario = standard()
        target = scenario.sales("3000002").created_subscription_id
        scenario.subscriptions = [s for s in scenario.subscriptions if s.id != target]
        assert codes(audit(scenario)) == ["target-missing"]

    def test_targets_whose_quantities_were_not_read_are_counted_not_flagged(self) -> None:
        scenario = standard()
        scenario.subscriptions = [replace(s, products=None) for s in scenario.subscriptions]
        report = audit(scenario)
        assert report.findings == ()
        assert "3 target(s) without quantities read" in {c.note for c in report.reconciliation.checks}


class TestCancellationBeforeCompletion:
    def test_journal_placed_the_cancellation_before_a_target_completed(self) -> None:
        scenario = standard()
        sales = scenario.sales("3000001", ADDON)
        scenario.replace_intent(sales.key, finished_at=minutes(10))  # the cancellation was placed at minute 2
        [finding] = audit(scenario).findings
        assert finding.code is AnomalyCode.CANCELLED_BEFORE_TARGETS_COMPLETED
        assert finding.subscription_id == "3000001" and ADDON in finding.message

    def test_a_cancellation_placed_on_the_platform_while_a_target_failed(self) -> None:
        """Outside the tool: the journal never cancelled, the platform holds a cancellation and a failed target."""
        scenario = Scenario().migrated("3000003", {BASE: 7}, cancel=False)
        sales = scenario.sales("3000003")
        scenario.replace_intent(sales.key, platform_status="error", created_subscription_id=None)
        scenario.orders.append(PlatformOrder("7000001", "cancellation", CUSTOMER, "completed", None, "3000003", minutes(5)))
        report = audit(scenario)
        found = [f for f in report.findings if f.code is AnomalyCode.CANCELLED_BEFORE_TARGETS_COMPLETED]
        assert [f.ids["cancellation_orders"] for f in found] == ["7000001"]
        assert "was error" in found[0].message

    def test_a_platform_order_date_in_the_same_second_is_not_early(self) -> None:
        """SimpleAPI dates have whole seconds: 09:02:00 may be 09:02:00.9, after a completion at 09:02:00.5."""
        scenario = Scenario().migrated("3000005", {BASE: 7}, cancel=False)
        sales = scenario.sales("3000005")
        scenario.replace_intent(sales.key, finished_at=minutes(2) + dt.timedelta(milliseconds=500))
        scenario.orders.append(PlatformOrder("7000002", "cancellation", CUSTOMER, "completed", None, "3000005", minutes(2)))
        assert AnomalyCode.CANCELLED_BEFORE_TARGETS_COMPLETED.value not in codes(audit(scenario))

    def test_a_target_order_that_ended_in_error_on_the_platform(self) -> None:
        scenario = standard()
        order_id = scenario.sales("3000002").platform_order_id
        assert order_id is not None
        scenario.replace_order(order_id, status="error")
        assert codes(audit(scenario)) == ["cancelled-before-targets-completed"]


class TestDuplicateTarget:
    def test_two_live_orders_carrying_one_key(self) -> None:
        scenario = standard()
        sales = scenario.sales("3000002")
        scenario.orders.append(PlatformOrder("7000003", "sales", CUSTOMER, "completed", sales.key, "7000004", minutes(4)))
        [finding] = audit(scenario).findings
        assert finding.code is AnomalyCode.DUPLICATE_TARGET and finding.subscription_id == "3000002"
        assert "7000003" in finding.message and str(sales.platform_order_id) in finding.message

    def test_a_retried_order_whose_failed_attempt_is_in_error_is_not_a_duplicate(self) -> None:
        scenario = standard()
        sales = scenario.sales("3000002")
        scenario.orders.append(PlatformOrder("7000005", "sales", CUSTOMER, "error", sales.key, None, minutes(0)))
        assert audit(scenario).findings == ()

    def test_the_same_licence_migrated_in_both_modes(self) -> None:
        scenario = standard()
        scenario.intents.append(intent("3000002", "change", BASE, 0, key="M365MOVE-SP-3000002-change-" + BASE,
                                       mode="switch-plan", quantity=5, platform_order_id="7000006"))
        found = [f for f in audit(scenario).findings if f.code is AnomalyCode.DUPLICATE_TARGET]
        assert [f.ids["license"] for f in found] == [BASE]


class TestOrphanTarget:
    def test_a_sales_order_outside_the_tool(self) -> None:
        scenario = standard()
        scenario.orders.append(PlatformOrder("7000007", "sales", CUSTOMER, "completed", "PO-by-hand", "7000008", minutes(60)))
        [finding] = audit(scenario).findings
        assert finding.code is AnomalyCode.ORPHAN_TARGET and finding.severity is Severity.WARNING
        assert finding.ids == {"order": "7000007", "po_number": "PO-by-hand", "created_subscription": "7000008"}

    def test_orders_older_than_the_first_run_are_not_targets(self) -> None:
        scenario = standard()
        old = minutes(-24 * 60)
        scenario.orders.append(PlatformOrder("7000009", "sales", CUSTOMER, "completed", None, "7000010", old))
        assert audit(scenario).findings == ()

    def test_an_m365move_po_number_unknown_to_the_journal_names_its_source(self) -> None:
        scenario = standard()
        scenario.orders.append(PlatformOrder("7000011", "sales", CUSTOMER, "completed",
                                             f"M365MOVE-NS-3000099-sales-{BASE}", "7000012", minutes(9)))
        [finding] = audit(scenario).findings
        assert (finding.code, finding.subscription_id) == (AnomalyCode.ORPHAN_TARGET, "3000099")
        assert "another journal" in finding.message


class TestStuckMigration:
    def stuck(self) -> Scenario:
        scenario = standard().migrated("3000006", {BASE: 4}, cancel=False)
        sales = scenario.sales("3000006")
        scenario.replace_intent(sales.key, platform_status="error", created_subscription_id=None)
        scenario.replace_order(str(sales.platform_order_id), status="error")
        return scenario

    def test_partially_migrated_longer_than_the_threshold(self) -> None:
        report = audit(self.stuck())
        [finding] = report.findings
        assert (finding.code, finding.subscription_id) == (AnomalyCode.STUCK_MIGRATION, "3000006")
        assert "partially-migrated" in finding.message
        [row] = report.reconciliation.unfinished
        assert row.waited is not None and row.waited > dt.timedelta(days=1)

    def test_within_the_threshold_it_is_listed_but_not_an_anomaly(self) -> None:
        report = audit(self.stuck(), reconciliation=ReconciliationOptions(stuck_after=dt.timedelta(days=3)))
        assert report.findings == () and len(report.reconciliation.unfinished) == 1


class TestOrderingAndFilters:
    def test_critical_findings_come_first(self) -> None:
        scenario = TestStuckMigration().stuck()
        target = scenario.sales("3000001").created_subscription_id
        scenario.replace_subscription(str(target), products=((NCE[BASE], 1),))
        assert codes(audit(scenario)) == ["seat-mismatch", "stuck-migration"]

    def test_a_customer_filter_leaves_other_customers_out(self) -> None:
        report = audit(TestStuckMigration().stuck(), filters=Filters(customer_ids=frozenset({"2999999"})))
        assert report.statuses == {} and report.findings == ()

    @pytest.mark.parametrize("code", list(AnomalyCode))
    def test_every_code_is_documented_with_an_action(self, code: AnomalyCode) -> None:
        from m365move.audit import findings

        assert CODES[code].action and f"``{code.value}``" in str(findings.__doc__)
