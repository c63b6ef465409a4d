"""End to end on the sandbox: the sweep makes one purchase per base subscription carrying its add-ons, Partner Center
migrates the bundle once, and an add-on that cannot migrate holds its whole bundle."""

from __future__ import annotations

import json
import logging
from typing import Any

from m365move.connect.payloads import param_value
from m365move.connect.settings import ExtensionSettings
from m365move.connect.sweep import AssetStatus, SweepParameters, run_sweep
from m365move.partnercenter.client import PartnerCenterClient
from tests.connect.sandbox_fixtures import connect_rig


def _make_add_on(section: dict[str, Any], *, active_days: float = 365) -> None:
    """The first asset with two items: its second item's legacy subscription becomes an add-on of the first's."""
    for asset, customer in zip(section["connect"]["assets"], section["partner_center"]["customers"], strict=True):
        if len(asset["items"]) >= 2:
            asset["items"] = asset["items"][:2]
            base, addon = customer["subscriptions"][:2]
            customer["subscriptions"] = [base, addon]
            addon.update(parent_id=base["id"], active_days=active_days)
            asset["params"].append({"id": "bundle_under_test", "value": "yes"})  # (the test finds it by this)
            return
    raise AssertionError("the generated estate has no asset with two items")


def _bundle_asset(rig: Any) -> dict[str, Any]:
    return next(a for a in rig.section["connect"]["assets"] if param_value(a, "bundle_under_test"))


def test_a_base_and_its_add_on_are_one_purchase_and_one_migration() -> None:
    with connect_rig(12, n_resellers=1, pending_resellers=0, microsoft_led=0, change=_make_add_on) as rig:
        assert rig.driver.run_until_settled(timeout=90).settled
        asset = _bundle_asset(rig)
        legacy = json.loads(param_value(asset, "ms_subscription_ids") or "{}")
        base_item, addon_item = (i["id"] for i in asset["items"])
        (purchase,) = rig.purchases_of(asset["id"])  # one purchase for the bundle, not one per CSP item
        info = json.loads(param_value(purchase, "transaction_info_object") or "{}")
        assert info["subscription_id"] == legacy[base_item]
        assert [a["subscription_id"] for a in info["addons"]] == [legacy[addon_item]]
        # The add-on's NCE item is ordered with the base's when both are of one NCE product (one purchase, one product).
        assert len(purchase["asset"]["items"]) == (2 if "item_id" in info["addons"][0] else 1)
        assert purchase["status"] == "approved"
        migrations = [m for m in rig.partner_center.migrations.values()
                      if m["currentSubscriptionId"] in (legacy[base_item], legacy[addon_item])]
        (migration,) = migrations  # one migration carrying the add-on
        assert migration["status"] == "Completed"
        assert [a["currentSubscriptionId"] for a in migration["addOnMigrations"]] == [legacy[addon_item]]
        (cancel,) = rig.cancels_of(asset["id"])
        assert cancel["status"] == "approved"


def test_an_add_on_bought_in_the_last_30_days_holds_its_bundle() -> None:
    with connect_rig(12, n_resellers=1, pending_resellers=0, microsoft_led=0,
                     change=lambda s: _make_add_on(s, active_days=10)) as rig:
        settings = ExtensionSettings.from_config(rig.driver.config)
        assert settings.partner_center is not None
        with PartnerCenterClient(settings.partner_center, base_url=settings.partner_center_endpoint) as pc:
            report = run_sweep(rig.driver.client, settings, SweepParameters(), logging.getLogger("test"), pc)
        asset = _bundle_asset(rig)
        outcome = report.by_asset()[asset["id"]]
        legacy = json.loads(param_value(asset, "ms_subscription_ids") or "{}")
        addon = legacy[asset["items"][1]["id"]]
        assert outcome.status is AssetStatus.BLOCKED
        (reason,) = outcome.reasons
        assert reason.startswith(f"addon-holds-bundle: add-on {addon} holds its whole bundle")
        assert "less than 30 days ago" in reason
        assert rig.purchases_of(asset["id"]) == []  # neither the base nor the add-on was requested
        assert any(rig.purchases_of(a["id"]) for a in rig.section["connect"]["assets"] if a is not asset)
