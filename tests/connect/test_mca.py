"""MCA acceptance read from the asset's parameters as CloudBlue's NCE connector records it; never assumed."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from m365move.connect.mca import McaParameters, mca_problem
from m365move.connect.settings import ExtensionSettings
from m365move.connect.sweep import AssetStatus, SweepParameters, run_sweep
from tests.connect.sandbox_fixtures import connect_rig

ACCEPTED = {"mca_acceptance": "true", "agreement_date": "2024-02-01", "first_name_agreement": "Alex",
            "last_name_agreement": "Doe", "email_address_agreement": "alex@example.com"}


def _asset(**params: str | None) -> dict[str, Any]:
    values = {**ACCEPTED, **params}
    return {"id": "AS-1", "params": [{"id": k, "value": v} for k, v in values.items() if v is not None]}


@pytest.mark.parametrize(("params", "expected"), [
    ({}, None),
    ({"mca_acceptance": None}, "no mca_acceptance parameter"),
    ({"mca_acceptance": "false"}, "has not accepted"),
    ({"mca_acceptance": "maybe"}, "has not accepted"),
    ({"agreement_date": None}, "no agreement_date"),
    ({"agreement_date": "2022-11-30"}, "must accept it again"),
    ({"agreement_date": "2023-03-31"}, "must accept it again"),
    ({"agreement_date": "yesterday"}, "is not a date"),
    ({"email_address_agreement": None}, "lacks email_address_agreement"),
])
def test_acceptance_counts_only_when_complete_and_recent(params: dict[str, str | None], expected: str | None) -> None:
    problem = mca_problem(_asset(**params), McaParameters())
    assert (problem is None) if expected is None else (expected in (problem or ""))


@pytest.mark.parametrize(("date", "expected"), [
    ("01-31-2024", None),  # CloudBlue's documented format, MM-DD-YYYY
    ("01/31/2024", None),
    ("2024-01-31", None),
    ("2024-01-31T10:00:00Z", None),
    ("01-31-2022", "must accept it again"),  # CloudBlue's own example: read as 2022-01-31, before 2023-04-01
    ("03-31-2023", "must accept it again"),
    ("04-01-2023", None),
    ("31-01-2024", "is not a date"),  # DD-MM-YYYY is not CloudBlue's format: month 31
    ("2024-31-01", "is not a date"),
])
def test_agreement_date_as_cloudblue_writes_it_and_as_iso(date: str, expected: str | None) -> None:
    problem = mca_problem(_asset(agreement_date=date), McaParameters())
    assert (problem is None) if expected is None else (expected in (problem or ""))


NO_LEGACY = {name: None for name in ACCEPTED}


@pytest.mark.parametrize(("params", "expected"), [
    ({**NO_LEGACY, "mca_attestation_accepted": "true", "mca_attestation_id_external": "ATT-1234"}, None),
    ({**NO_LEGACY, "mca_attestation_accepted": "yes", "mca_attestation_id_external": "ATT-1234"}, None),
    ({**NO_LEGACY, "mca_attestation_accepted": "true"}, "mca_attestation_id_external is empty"),
    ({**NO_LEGACY, "mca_attestation_accepted": "true", "mca_attestation_id_external": " "},
     "mca_attestation_id_external is empty"),
    ({"mca_attestation_accepted": "false", "mca_attestation_id_external": "ATT-1234"}, "has not attested"),
    ({**NO_LEGACY, "mca_attestation_accepted": ""}, "no mca_acceptance parameter"),  # no answer: the legacy check
    (NO_LEGACY, "no mca_acceptance parameter"),
])
def test_the_attestation_parameters_are_proof(params: dict[str, str | None], expected: str | None) -> None:
    problem = mca_problem(_asset(**params), McaParameters())
    assert (problem is None) if expected is None else (expected in (problem or ""))


def test_parameter_names_are_configurable() -> None:
    names = McaParameters.parse("mca_ok,mca_date,fn,ln,mail")
    asset = {"params": [{"id": "mca_ok", "value": "yes"}, {"id": "mca_date", "value": "2025-01-01"},
                        {"id": "fn", "value": "A"}, {"id": "ln", "value": "B"}, {"id": "mail", "value": "a@b.c"}]}
    assert mca_problem(asset, names) is None and mca_problem(asset, McaParameters()) is not None
    with pytest.raises(ValueError):
        McaParameters.parse("only,two")
    seven = McaParameters.parse("a,b,c,d,e,att_ok,att_id")
    assert (seven.attestation_accepted, seven.attestation_id) == ("att_ok", "att_id")
    attested = {"params": [{"id": "att_ok", "value": "true"}, {"id": "att_id", "value": "X-1"}]}
    assert mca_problem(attested, seven) is None


def test_sweep_blocks_unknown_and_old_acceptances_with_mca_not_accepted() -> None:
    """An asset with no MCA parameters and one accepted in 2022 are blocked; the others go ahead."""
    def change(section: dict[str, Any]) -> None:
        assets = section["connect"]["assets"]
        assets[0]["params"] = [p for p in assets[0]["params"] if p["id"] not in ACCEPTED]
        for param in assets[1]["params"]:
            if param["id"] == "agreement_date":
                param["value"] = "2022-06-15"

    with connect_rig(4, change=change, pending_resellers=0) as rig:
        settings = ExtensionSettings.from_config({**rig.driver.config, "DRY_RUN": "true"})
        report = run_sweep(rig.driver.client, settings, SweepParameters(), logging.getLogger("test"))
        outcomes = report.by_asset()
        first, second = (rig.section["connect"]["assets"][i]["id"] for i in (0, 1))
        assert outcomes[first].status is AssetStatus.BLOCKED
        assert outcomes[first].reasons == ("mca-not-accepted: the asset has no mca_acceptance parameter: MCA acceptance "
                                           "is unknown",)
        assert outcomes[second].status is AssetStatus.BLOCKED
        assert "mca-not-accepted" in outcomes[second].reasons[0] and "2022-06-15" in outcomes[second].reasons[0]
        others = [o for a, o in outcomes.items() if a not in (first, second)]
        assert others and all(o.status is AssetStatus.PLANNED for o in others)
