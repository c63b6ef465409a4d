"""`connect run-events`' final report says what was done (from Connect's requests), not what a new plan would do.

An asset of a base (Office 365 E3) and its add-on (Exchange Online, Partner Center's ``parentSubscriptionId``):
the extension migrates them as one bundle, one purchase. The report shows that one purchase, never a second one to
make for the add-on, and a run whose CSP asset still has its cancel request to make is not "settled".
"""

from __future__ import annotations

import json
from typing import Any

from m365move.connect.payloads import param_value
from m365move.connect.sweep import AssetStatus
from m365move.demo.connect_walkthrough import final_state, render
from tests.connect.sandbox_fixtures import connect_rig

E3_OFFER = "796B6B5F-613C-4E24-A17C-EBA730D49C02"
EXCHANGE_OFFER = "195416C1-3447-423A-B37B-EE59A99A19C4"


def _base_and_addon(section: dict[str, Any]) -> None:
    """The first asset holds E3 and an Exchange add-on of it; Partner Center knows the add-on's parent."""
    asset = section["connect"]["assets"][0]
    customer = section["partner_center"]["customers"][0]
    csp_items = {i["mpn"]: i for i in section["connect"]["products"][0]["items"] if "commitment" in i}
    ids = {E3_OFFER: "aaaaaaaa-1111-4ccc-8ddd-eeeeeeeeeeee", EXCHANGE_OFFER: "aaaaaaaa-2222-4ccc-8ddd-eeeeeeeeeeee"}
    asset["items"] = [{"id": csp_items[o]["id"], "mpn": o, "display_name": csp_items[o]["display_name"],
                       "period": "monthly", "commitment": {"count": 12}, "quantity": "5"} for o in ids]
    for param in asset["params"]:
        if param["id"] == "ms_subscription_ids":
            param["value"] = json.dumps({csp_items[o]["id"]: legacy for o, legacy in ids.items()})
    customer["subscriptions"] = [
        {"id": ids[E3_OFFER], "offer_id": E3_OFFER, "quantity": 5, "status": "active",
         "catalog_item_id": "CFQ7TTC0LF8Q:0001"},
        {"id": ids[EXCHANGE_OFFER], "offer_id": EXCHANGE_OFFER, "quantity": 5, "status": "active",
         "catalog_item_id": "CFQ7TTC0LH16:0001", "parent_id": ids[E3_OFFER]}]


def test_the_report_shows_the_bundle_made_and_a_cancel_still_to_make_as_not_settled() -> None:
    with connect_rig(3, n_resellers=1, pending_resellers=0, microsoft_led=0, change=_base_and_addon) as rig:
        asset_id = rig.section["connect"]["assets"][0]["id"]
        driven = rig.driver.run_until_settled(timeout=120)
        assert driven.settled
        (purchase,) = rig.purchases_of(asset_id)  # one bundle, not one purchase per item
        info = json.loads(param_value(purchase["asset"], "transaction_info_object") or "{}")
        assert len(info["addons"]) == 1

        outcome = final_state(rig.driver).by_asset()[asset_id]
        assert outcome.status is AssetStatus.MIGRATED and outcome.purchase_requests == (purchase["id"],)
        assert any(r.startswith(f"bundle: purchase {purchase['id']}") for r in outcome.reasons)
        assert render(final_state(rig.driver), driven).splitlines()[0].endswith("(settled)")

        # The CSP vendor fails the cancel: every purchase approved, the cancel request still to be made.
        (cancel,) = rig.cancels_of(asset_id)
        with rig.connect.lock:
            rig.connect.requests[cancel["id"]]["status"] = "failed"
            rig.connect.assets[asset_id]["status"] = "active"
            rig.connect.changed()
        report = final_state(rig.driver)
        outcome = report.by_asset()[asset_id]
        assert outcome.status is AssetStatus.CANCEL_DUE and outcome.purchase_requests == (purchase["id"],)
        text = render(report, driven)
        assert "would request" not in text  # no second purchase for the add-on: a re-plan without Partner Center
        assert text.splitlines()[0].endswith("(NOT settled)")
        assert "cancel request is still to be made" in text
