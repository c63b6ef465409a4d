"""Reading a domain Estate from a live Commerce (the sandbox) plus a catalog export."""

from __future__ import annotations

from pathlib import Path

import yaml
from sandbox_fixtures import ESTATE_FILE, estate_document

from m365move.commerce import SimpleApiClient
from m365move.commerce.estate_reader import read_estate
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
        assert sorted(live.estate.subscriptions, key=lambda s: s.id) == sorted(expected.subscriptions, key=lambda s: s.id)
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
