"""Runbook parameters as typed models: consistent sources, filters read as ids, inputs recorded for resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.orders import MigrationMode
from m365move.errors import InputError
from m365move.runbooks.plan_inputs import MigrationParameters, PlanParameters, load_inputs


class TestPlanParameters:
    @pytest.mark.parametrize(("values", "message"), [
        ({}, "give either estate"),
        ({"estate": "e.yaml", "catalog": "c.yaml", "commerce_url": "http://x"}, "give either estate"),
        ({"catalog": "c.yaml"}, "give commerce_url too"),
        ({"estate": "e.yaml", "mode": "switch"}, "mode must be one of"),
        ({"estate": "e.yaml", "for_expiration_date": "2026-13-01"}, "for_expiration_date"),
    ])
    def test_inconsistent_parameters_are_refused(self, values: dict[str, Any], message: str) -> None:
        with pytest.raises(InputError, match=message):
            PlanParameters.from_namespace(values)

    def test_from_namespace_takes_only_its_fields(self) -> None:
        """A notebook's globals hold much more (imports, In/Out); only declared names are read."""
        params = PlanParameters.from_namespace({"estate": "e.yaml", "rows": 5, "In": [], "reseller": "1, 2,,"})
        assert params.estate == "e.yaml" and params.migration_mode is MigrationMode.SWITCH_PLAN
        assert params.selection().reseller_ids == frozenset({"1", "2"})

    def test_ids_stay_text(self) -> None:
        params = PlanParameters(estate="e.yaml", customer="0012")
        assert params.selection().customer_ids == frozenset({"0012"})

    def test_recorded_inputs_are_absolute_and_match_the_cli(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        recorded = PlanParameters(estate="e.yaml", reseller="2,1").recorded()
        assert recorded["estate"] == str(tmp_path / "e.yaml")
        assert recorded["reseller"] == ["1", "2"] and recorded["customer"] is None
        assert set(recorded) == {"mode", "estate", "catalog", "license_mapping", "plans_mapping", "source_data",
                                 "reseller", "customer", "for_expiration_date", "commerce_url"}


class TestMigrationParameters:
    def test_commerce_url_is_required(self) -> None:
        with pytest.raises(ValueError, match="commerce_url is required"):
            MigrationParameters(estate="e.yaml")

    def test_a_resume_needs_no_estate(self) -> None:
        params = MigrationParameters(commerce_url="http://x", resume_from="run-1")
        assert params.estate is None and params.catalog is None

    def test_execution_options_come_from_the_parameters(self) -> None:
        options = MigrationParameters(commerce_url="http://x", estate="e", poll_interval=0.5, concurrency=2).options()
        assert (options.poll_interval, options.concurrency) == (0.5, 2)

    def test_a_nonsense_concurrency_is_refused(self) -> None:
        with pytest.raises(ValueError, match="greater than or equal to 1"):
            MigrationParameters(commerce_url="http://x", estate="e", concurrency=0)
        with pytest.raises(InputError, match="parameter concurrency: must be greater than or equal to 1"):
            MigrationParameters.from_namespace({"commerce_url": "http://x", "estate": "e", "concurrency": 0})
        with pytest.raises(InputError, match="parameter concurrency: expected an integer, got text"):
            MigrationParameters.from_namespace({"commerce_url": "http://x", "estate": "e", "concurrency": "many"})


class TestLoadInputs:
    def test_nothing_to_plan_from_is_an_input_error(self) -> None:
        with pytest.raises(InputError, match="nothing to plan from"):
            load_inputs({"estate": None, "catalog": None})

    def test_a_catalog_without_a_client_is_an_input_error(self) -> None:
        with pytest.raises(InputError, match="needs a client"):
            load_inputs({"catalog": "c.yaml"})

    def test_reads_an_estate_file_with_its_filters(self, tmp_path: Path) -> None:
        path = tmp_path / "estate.json"
        path.write_text(json.dumps(generate_estate(EstateSize.for_subscriptions(10), seed=3)))
        inputs = load_inputs(PlanParameters(estate=str(path), customer="2000001",
                                            for_expiration_date="2027-01-01").recorded())
        assert len(inputs.estate.subscriptions) == 10 and inputs.source == "estate file estate.json"
        assert inputs.selection.customer_ids == frozenset({"2000001"})
        assert str(inputs.selection.expiration_date) == "2027-01-01"
