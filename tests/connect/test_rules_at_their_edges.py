"""The sweep's rules where Partner Center knows more than the asset (issue 30): held new-commerce seats, an add-on
that is no item of the asset, a term end only Partner Center has; and every refusal under the project's code."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from m365move.connect.payloads import param_value
from m365move.connect.settings import ExtensionSettings
from m365move.connect.sweep import AssetOutcome, AssetStatus, SweepParameters, run_sweep
from m365move.domain.reasons import ReasonCode
from m365move.partnercenter.client import PartnerCenterClient
from m365move.partnercenter.eligibility import eligibility_reason
from m365move.partnercenter.late_refusals import late_rule
from m365move.partnercenter.models import EligibilityError
from tests.connect.sandbox_fixtures import connect_rig

BASIC_OFFER = "91FD106F-4B2C-4938-95AC-F54F74E9A239"  # Business Basic (legacy), migrates to CFQ7TTC0LH18:0001
E3_OFFER = "796B6B5F-613C-4E24-A17C-EBA730D49C02"
ADDON_ID = "0a4e9b7c-3333-4c2d-9e3f-cccccccccccc"


def _one_item(asset: dict[str, Any], customer: dict[str, Any], offer: str, quantity: int) -> dict[str, Any]:
    """The asset holds one CSP item of ``offer``; its Partner Center customer the matching legacy subscription."""
    legacy = json.loads(param_value(asset, "ms_subscription_ids") or "{}")
    item = next((i for i in asset["items"] if i["mpn"] == offer), {**asset["items"][0], "mpn": offer})
    asset["items"] = [{**item, "quantity": str(quantity)}]
    subscription = {"id": legacy.get(item["id"]) or customer["subscriptions"][0]["id"], "offer_id": offer,
                    "quantity": quantity, "status": "active"}
    if offer == BASIC_OFFER:
        subscription["catalog_item_id"] = "CFQ7TTC0LH18:0001"
    for p in asset["params"]:
        if p["id"] == "ms_subscription_ids":
            p["value"] = json.dumps({item["id"]: subscription["id"]})
    customer["subscriptions"] = [subscription]
    return subscription


def _first(section: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return section["connect"]["assets"][0], section["partner_center"]["customers"][0]


def _sweep(change: Any, *, with_partner_center: bool = True) -> tuple[AssetOutcome, Any]:
    """A dry-run sweep (with Partner Center) of three assets after ``change``; the first asset's outcome."""
    with connect_rig(3, n_resellers=1, pending_resellers=0, microsoft_led=0, change=change) as rig:
        settings = ExtensionSettings.from_config({**rig.driver.config, "DRY_RUN": "true"})
        assert settings.partner_center is not None
        with PartnerCenterClient(settings.partner_center, base_url=settings.partner_center_endpoint) as pc:
            report = run_sweep(rig.driver.client, settings, SweepParameters(), logging.getLogger("test"),
                               pc if with_partner_center else None)
        assert rig.requests(type="purchase") == []
        return report.by_asset()[rig.section["connect"]["assets"][0]["id"]], rig


def test_held_new_commerce_seats_count_toward_the_300_seat_cap() -> None:
    def change(section: dict[str, Any]) -> None:
        asset, customer = _first(section)
        _one_item(asset, customer, BASIC_OFFER, 150)
        customer["nce_seats"] = {"CFQ7TTC0LH18": 200}  # Business Basic the customer holds in new commerce already

    outcome, _ = _sweep(change)
    assert outcome.status is AssetStatus.BLOCKED
    assert outcome.reasons[0].startswith("smb-seat-cap-exceeded: ") and "350 seats" in outcome.reasons[0]
    # Within the cap it goes ahead: the held seats are what tipped it.
    outcome, _ = _sweep(lambda s: (_one_item(*_first(s), BASIC_OFFER, 150),
                                   _first(s)[1].update(nce_seats={"CFQ7TTC0LH18": 100})))
    assert outcome.status is AssetStatus.PLANNED


def test_an_add_on_found_in_partner_center_but_not_in_the_asset_holds_the_bundle() -> None:
    def change(section: dict[str, Any]) -> None:
        asset, customer = _first(section)
        base = _one_item(asset, customer, E3_OFFER, 5)
        customer["subscriptions"].append({"id": ADDON_ID, "offer_id": "ADDON-OFFER", "quantity": 5,
                                          "status": "active", "parent_id": base["id"]})

    outcome, _ = _sweep(change)
    assert outcome.status is AssetStatus.BLOCKED
    assert outcome.reasons[0].startswith(f"addon-holds-bundle: add-on {ADDON_ID} holds its whole bundle")


def test_a_term_end_only_partner_center_knows_blocks_in_its_last_24_hours() -> None:
    def change(section: dict[str, Any]) -> None:
        asset, customer = _first(section)
        subscription = _one_item(asset, customer, E3_OFFER, 5)
        subscription["term_end_hours"] = 23  # Partner Center's commitmentEndDate; the asset has no term end
        assert param_value(asset, "commitment_end_date") is None

    outcome, _ = _sweep(change)
    assert outcome.status is AssetStatus.BLOCKED and outcome.reasons[0].startswith("too-close-to-term-end: ")
    outcome, _ = _sweep(change, with_partner_center=False)  # without Partner Center the rule cannot see it
    assert outcome.status is AssetStatus.PLANNED


@pytest.mark.parametrize(("code", "description", "ours"), [
    (0, "SubscriptionStatusNotActive", ReasonCode.NOT_ACTIVE),
    (1, "SubscriptionBeingProcessingInOms", ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS),
    (2, "SubscriptionTooCloseToTermEnd", ReasonCode.TOO_CLOSE_TO_TERM_END),
    (4, "SubscriptionAddOnsPresent", ReasonCode.ADDON_HOLDS_BUNDLE),
    (5, "NewCommerceProductUnavailable", ReasonCode.NO_TARGET_PLAN),
    (6, "TermDurationBillingCycleCombinationNotSupported", ReasonCode.BILLING_PERIOD_MISMATCH),
    (7, f"add-on {ADDON_ID}: SubscriptionActiveForLessThanOneMonth", ReasonCode.ADDON_HOLDS_BUNDLE),
])
def test_each_validate_refusal_leads_with_the_projects_code_and_keeps_microsofts(
        code: int, description: str, ours: ReasonCode) -> None:
    reason = eligibility_reason([EligibilityError(code, description)])
    assert reason.startswith(f"{ours.value}: ")
    assert f"code {code}" in reason and description.split(": ")[-1] in reason  # Microsoft's code and words beside


@pytest.mark.parametrize("code", [3, 8])
def test_microsofts_own_conditions_keep_microsofts_name(code: int) -> None:
    reason = eligibility_reason([EligibilityError(code, "")])
    assert reason.startswith("Not eligible") and f"code {code}" in reason


@pytest.mark.parametrize(("description", "ours"), [
    ("Subscription s is not eligible for migration: SubscriptionAddOnsPresent (eligibility code 4): add-ons a must be "
     "listed in addOnMigrations", ReasonCode.ADDON_HOLDS_BUNDLE),
    ("Subscription s is not eligible for migration: SubscriptionStatusNotActive (eligibility code 0)",
     ReasonCode.NOT_ACTIVE),
    ("Subscription s is not eligible for migration: add-on a: SubscriptionActiveForLessThanOneMonth (eligibility "
     "code 7)", ReasonCode.ADDON_HOLDS_BUNDLE),
    ("Subscription s is not eligible for migration: TradeStatusNotAllowed (eligibility code 8)", None),
])
def test_create_refusals_quoting_an_eligibility_code_map_to_the_projects_code(description: str,
                                                                              ours: ReasonCode | None) -> None:
    assert late_rule(description) is ours
