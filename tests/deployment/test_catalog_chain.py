"""A new operator's path: catalog export from Commerce → catalog check → complete by hand → migrate --catalog."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from m365move.cli import main
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import migrate_args, sandbox_on, use_credentials, write_estate


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)


def _estate(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    builder = standard()
    builder.subscription("3000001", resources=[(BASE, 12), (ADDON, 3)])
    builder.subscription("3000002", resources=[(BASE, 5)])
    builder.subscription("3000004", billing="1 year")
    return write_estate(tmp_path, builder.doc), builder.doc


def _complete_by_hand(catalog: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """What the operator types in: the facts only the Commerce control panel and Connect show."""
    plans = {p["id"]: p for p in truth["commerce"]["plans"]}
    tiers = {r["id"]: r["tier_config"] for r in truth["commerce"]["resellers"]}
    for plan in catalog["commerce"]["plans"]:
        known = plans[plan["id"]]
        plan["application"] = known["application"]
        roles = {r["mpn"].upper(): r["role"] for r in known["resources"]}
        for resource in plan["resources"]:
            resource["role"] = roles[resource["mpn"].upper()]
        listed = {r["mpn"].upper() for r in plan["resources"]}
        plan["resources"] += [dict(r) for r in known["resources"] if r["mpn"].upper() not in listed]
        plan["delegated_to"] = list(known.get("delegated_to", []))
        plan["upgrade_paths"] = dict(known.get("upgrade_paths", {}))
    for reseller in catalog["commerce"]["resellers"]:
        reseller["tier_config"] = tiers[reseller["id"]]
    catalog["commerce"]["license_mappings"] = truth["commerce"]["license_mappings"]
    return catalog


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    status = main(["catalog", "check", str(path), "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


def _decisions(workspace: Path) -> dict[str, tuple[str, str]]:
    [results] = list((workspace / "results").glob("*.csv"))
    with results.open() as handle:
        return {r["subscription_id"]: (r["decision"], r["reasons"]) for r in csv.DictReader(handle)}


def test_export_check_complete_migrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    estate_path, truth = _estate(tmp_path)
    catalog_path = tmp_path / "catalog.yaml"
    with sandbox_on(estate_path) as server:
        assert main(["catalog", "export", "--commerce-url", server.url, "--output", str(catalog_path),
                     "--rate-limit", "0"]) == 0
        exported = yaml.safe_load(catalog_path.read_text())
        plans = {p["id"]: p for p in exported["commerce"]["plans"]}
        assert set(plans) == {p["id"] for p in truth["commerce"]["plans"]}
        # What SimpleAPI says is there: names, periods, plan switches, the MPNs subscriptions hold.
        source = plans[5001]
        assert {r["mpn"].upper() for r in source["resources"]} == {BASE, ADDON}
        assert all(r["role"] is None for r in source["resources"])
        assert source["switches"] == sorted({t for ts in truth["commerce"]["plans"][0]["upgrade_paths"].values()
                                             for t in ts})
        assert source["sold_by"] == ["1000001"]
        assert source["delegated_to"] is None and source["upgrade_paths"] is None and source["application"] is None

        status, report = _check(catalog_path, capsys)
        assert status == 2 and report["complete"] is False
        assert 5001 in report["plans_lacking"]["resource-roles"]
        assert set(report["plans_lacking"]["delegation"]) == set(plans)
        assert set(report["plans_lacking"]["upgrade-paths"]) == set(plans)

        # An incomplete catalog is refused by migrate, with one line naming the file and the first gap.
        workspace = tmp_path / "work"
        catalog_args = ["migrate", "--mode", "switch-plan", "--catalog", str(catalog_path), "--commerce-url",
                        server.url, "--workspace", str(workspace), "--rate-limit", "0"]
        capsys.readouterr()
        assert main(catalog_args) == 2
        error = capsys.readouterr().err.strip()
        assert error.count("\n") == 0 and str(catalog_path) in error and "catalog check" in error

        catalog_path.write_text(yaml.safe_dump(_complete_by_hand(exported, truth), sort_keys=False))
        status, report = _check(catalog_path, capsys)
        assert (status, report["complete"], report["gaps"]) == (0, True, [])

        # Re-exporting over the completed file keeps what was typed in.
        again = tmp_path / "catalog2.yaml"
        assert main(["catalog", "export", "--commerce-url", server.url, "--output", str(again),
                     "--previous", str(catalog_path), "--rate-limit", "0"]) == 0
        assert _check(again, capsys)[0] == 0

        for mode in ("switch-plan", "new-subscription"):
            by_catalog, by_estate = tmp_path / f"cat-{mode}", tmp_path / f"est-{mode}"
            args = [a if a != "switch-plan" else mode for a in catalog_args]
            args[args.index("--workspace") + 1] = str(by_catalog)
            assert main(args) == 0
            assert main(migrate_args(mode, estate_path, server, by_estate)) == 0
            assert _decisions(by_catalog) == _decisions(by_estate)
            assert {d for d, _ in _decisions(by_catalog).values()} >= {"migrate", "blocked"}
