"""Rules Microsoft documents but enforces late (at the create, or after it): the sandbox refuses as Partner Center
does, the fulfilment turns each refusal into its reason code, and the sweep's plan blocks before any request."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from m365move.connect.purchase_fulfilment import Action
from m365move.connect.settings import ExtensionSettings
from m365move.connect.sweep import AssetStatus, SweepParameters, run_sweep
from m365move.domain.reasons import ReasonCode
from m365move.partnercenter.client import MigrationRejected
from m365move.partnercenter.late_refusals import late_rule
from m365move.partnercenter.models import NewMigration
from tests.connect.lifecycle_rig import LEGACY, MIGRATION_SECONDS, OTHER, TENANT, lifecycle_rig, subscription
from tests.connect.sandbox_fixtures import connect_rig

BASIC = "CFQ7TTC0LH18:0001"


class TestPartnerCenterRefusesLate:
    def test_a_business_offer_over_300_seats_for_the_customer(self) -> None:
        with lifecycle_rig(subscription(catalog_item_id=BASIC)) as rig:
            rig.state.nce_seats[(TENANT, "CFQ7TTC0LH18")] = 290  # the customer holds 290 already; 12 more = 302
            assert rig.pc.validate(TENANT, LEGACY, NewMigration(LEGACY, "P1Y", "Monthly", 12)).is_eligible  # late
            refused = rig.fulfil()
            assert refused.action is Action.FAIL and refused.detail.startswith("smb-seat-cap-exceeded: ")
            assert "exceeds the limit of 300 licenses" in refused.detail
            assert rig.state.created_for == {}
            (fail,) = rig.connect_calls("/fail")
            assert fail["reason"] == refused.detail

    def test_the_cap_counts_the_customers_migrations_too(self) -> None:
        with lifecycle_rig(subscription(catalog_item_id=BASIC),
                           subscription(OTHER, catalog_item_id=BASIC, quantity=290)) as rig:
            rig.pc.create_migration(TENANT, NewMigration(OTHER, "P1Y", "Monthly", 290))
            rig.advance_hours(MIGRATION_SECONDS / 3600)  # completed: 290 seats of Business Basic in new commerce
            assert rig.fulfil().detail.startswith("smb-seat-cap-exceeded: ")
            assert rig.state.created_for == {OTHER: 1}

    def test_an_offer_without_a_migration_path(self) -> None:
        with lifecycle_rig(subscription(manual_migration=True)) as rig:
            refused = rig.fulfil()
            assert refused.action is Action.FAIL and refused.detail.startswith("manual-purchase-and-cancel: ")
            assert "cancel the legacy subscription" in refused.detail
            assert rig.state.created_for == {}

    def test_two_concurrent_requests_for_one_customer(self) -> None:
        with lifecycle_rig(subscription(), subscription(OTHER)) as rig:
            running = rig.pc.create_migration(TENANT, NewMigration(OTHER, "P1Y", "Monthly", 12))
            # Partner Center fails the second request of the customer while the first runs ...
            with pytest.raises(MigrationRejected) as refused:
                rig.pc.create_migration(TENANT, NewMigration(LEGACY, "P1Y", "Monthly", 12))
            assert late_rule(refused.value.description) is ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS
            # ... so the fulfilment waits for it instead of sending one, and fails nothing.
            waiting = rig.fulfil()
            assert waiting.action is Action.RESCHEDULE
            assert waiting.detail.startswith("customer-migration-in-progress: ") and running.id in waiting.detail
            assert rig.connect_calls("/fail") == [] and LEGACY not in rig.state.created_for
            rig.advance_hours(MIGRATION_SECONDS / 3600)
            started = rig.fulfil()
            assert started.action is Action.RESCHEDULE and rig.state.created_for == {OTHER: 1, LEGACY: 1}
            rig.advance_hours(MIGRATION_SECONDS / 3600)
            assert rig.fulfil().action is Action.APPROVE


def _sweep_plan(change: Any, **variables: str) -> dict[str, Any]:
    with connect_rig(3, n_resellers=1, pending_resellers=0, microsoft_led=0, change=change) as rig:
        settings = ExtensionSettings.from_config({**rig.driver.config, **variables, "DRY_RUN": "true"})
        report = run_sweep(rig.driver.client, settings, SweepParameters(), logging.getLogger("test"))
        assert rig.requests(type="purchase") == []
        return {"outcomes": report.by_asset(), "assets": rig.section["connect"]["assets"]}


def _one_item(asset: dict[str, Any], offer: str, quantity: int) -> None:
    item = next(i for i in asset["items"] if i["mpn"] == offer) if any(i["mpn"] == offer for i in asset["items"]) \
        else {**asset["items"][0], "mpn": offer}
    asset["items"] = [{**item, "quantity": str(quantity)}]


class TestTheSweepsPlanShowsThem:
    def test_each_rule_blocks_its_asset_with_its_reason(self) -> None:
        basic, e3 = "91FD106F-4B2C-4938-95AC-F54F74E9A239", "796B6B5F-613C-4E24-A17C-EBA730D49C02"
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()

        def change(section: dict[str, Any]) -> None:
            capped, ending, manual = section["connect"]["assets"]
            _one_item(capped, basic, 301)
            _one_item(ending, e3, 5)
            ending["params"].append({"id": "commitment_end_date", "value": today})
            _one_item(manual, e3, 5)
            section["connect"]["assets"] = [capped, ending, manual]

        plan = _sweep_plan(change, MANUAL_MIGRATION_OFFERS="")
        capped, ending, manual = (plan["outcomes"][a["id"]] for a in plan["assets"])
        assert capped.status is AssetStatus.BLOCKED
        assert capped.reasons[0].startswith("smb-seat-cap-exceeded: ") and "301 seats" in capped.reasons[0]
        assert ending.status is AssetStatus.BLOCKED and ending.reasons[0].startswith("too-close-to-term-end: ")
        assert manual.status is AssetStatus.PLANNED
        # Naming the offer as one without a migration path blocks it too.
        plan = _sweep_plan(change, MANUAL_MIGRATION_OFFERS=e3.lower())
        manual = plan["outcomes"][plan["assets"][2]["id"]]
        assert manual.status is AssetStatus.BLOCKED and manual.reasons[0].startswith("manual-purchase-and-cancel: ")


def test_the_estate_seeds_seats_held_and_offers_without_a_migration_path() -> None:
    from m365move.estate.schema import estate_document
    from m365move.sandbox.partnercenter_state import PartnerCenterProblem, PartnerCenterState

    section = {"customers": [{"tenant_id": TENANT, "nce_seats": {"cfq7ttc0lh18": 299},
                              "subscriptions": [subscription(catalog_item_id=BASIC, quantity=2),
                                                subscription(OTHER, manual_migration=True)]}]}
    document = estate_document({"version": 1, "partner_center": section})
    state = PartnerCenterState(document.partner_center)
    with pytest.raises(PartnerCenterProblem, match="exceeds the limit of 300 licenses"):
        state.create(TENANT, {"currentSubscriptionId": LEGACY, "termDuration": "P1Y", "billingCycle": "Monthly",
                              "quantity": 2}, None)
    with pytest.raises(PartnerCenterProblem, match="not supported for migration"):
        state.create(TENANT, {"currentSubscriptionId": OTHER, "termDuration": "P1Y", "billingCycle": "Monthly",
                              "quantity": 12}, None)
    assert state.created_for == {}
