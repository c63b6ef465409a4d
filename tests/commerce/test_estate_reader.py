"""Reading a domain Estate from a live Commerce (the sandbox) plus a catalog export."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import msgspec
import yaml
from sandbox_fixtures import ESTATE_FILE, estate_document

from m365move.commerce import SimpleApiClient
from m365move.commerce.estate_reader import read_estate
from m365move.domain.money import Money
from m365move.domain.orders import MigrationMode
from m365move.domain.period import Period
from m365move.domain.planner import plan_migration
from m365move.estate.loader import build_estate


def _catalog(tmp_path: Path, *, drop_plan: int | None = None, drop_reseller: str | None = None) -> Path:
    """The test estate's catalog part only: what a catalog export holds."""
    raw = yaml.safe_load(ESTATE_FILE.read_text())
    commerce = raw["commerce"]
    path = tmp_path / "catalog.yaml"
    plans = [p for p in commerce["plans"] if p["id"] != drop_plan]
    resellers = [r for r in commerce["resellers"] if r["id"] != drop_reseller]
    path.write_text(
        yaml.safe_dump(
            {"version": 1, "commerce": {"resellers": resellers, "plans": plans, "license_mappings": commerce["license_mappings"]}}
        )
    )
    return path


class TestReadEstate:
    def test_same_estate_as_the_file(self, client: SimpleApiClient, tmp_path: Path) -> None:
        """Live Commerce + catalog export gives the estate the file describes (subscriptions, plans, open orders)."""
        live = read_estate(client, _catalog(tmp_path))
        expected = build_estate(estate_document(), "file")
        assert live.skipped == ()
        # Commerce reports a trial subscription on its plan's trial period (30 days), whatever the file said.
        on_trial_period = [replace(s, subscription_period=Period(30, "day")) if s.trial else s for s in expected.subscriptions]
        # Commerce says what each seat is billed (products[].unitPrice: here the plan's price); the file does not.
        billed = {s.id: s.resources[0].unit_price for s in live.estate.subscriptions}
        assert billed["3000001"] == Money(Decimal("6.00"), "EUR")
        unpriced = [replace(s, resources=tuple(replace(r, unit_price=None) for r in s.resources))
                    for s in live.estate.subscriptions]
        assert sorted(unpriced, key=lambda s: s.id) == sorted(on_trial_period, key=lambda s: s.id)
        assert live.estate.resellers == expected.resellers
        assert {c.id: c.mca_accepted for c in live.estate.customers.values()} == {
            "2000001": True,
            "2000002": False,
            "2000003": True,
        }
        assert live.estate.open_order_subscriptions == frozenset({"3000003"})
        assert live.estate.catalog.get(5002) == expected.catalog.get(5002)

    def test_reseller_missing_from_catalog_has_no_tier_config(self, client: SimpleApiClient, tmp_path: Path) -> None:
        live = read_estate(client, _catalog(tmp_path, drop_reseller="1000002"))
        assert live.estate.resellers["1000002"].tier_config == "missing"

    def test_plan_missing_from_catalog_is_reported(self, client: SimpleApiClient, tmp_path: Path) -> None:
        live = read_estate(client, _catalog(tmp_path, drop_plan=5002))
        assert ("3000002", "plan 5002 is not in the catalog export") in live.skipped
        assert "3000002" not in {s.id for s in live.estate.subscriptions}


class TestTrial:
    def test_trial_comes_from_the_plans_period_only(self, client: SimpleApiClient, tmp_path: Path) -> None:
        """Subscriptions carry no trial flag in SimpleAPI: 3000003 is a trial because plan 5001 lists its period
        as a trial period, and the planner then skips it; 3000001 on the same plan is not."""
        subscription = client.get_subscription("3000003")
        assert "trial" not in {f.name for f in msgspec.structs.fields(subscription)} and not hasattr(subscription, "trial")
        live = read_estate(client, _catalog(tmp_path))
        by_id = {s.id: s for s in live.estate.subscriptions}
        assert by_id["3000003"].trial and not by_id["3000001"].trial
        plan = plan_migration(live.estate, MigrationMode.NEW_SUBSCRIPTION)
        decisions = {s.subscription_id: s for s in plan.subscriptions}
        assert [r.code.value for r in decisions["3000003"].reasons] == ["trial"]
