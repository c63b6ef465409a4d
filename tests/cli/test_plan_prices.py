"""`plan` shows price and term per subscription and in total, from the sandbox's prices, in every format."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from m365move.cli import main
from m365move.plan_output.csv_format import PLAN_CSV_COLUMNS
from m365move.plan_output.price_fields import PRICE_COLUMNS
from tests.contract_schemas import validate
from tests.domain.test_price_comparison import priced
from tests.estate_builder import BASE, NCE_BASE, EstateBuilder
from tests.execution.sandbox_run import sandbox_on, use_credentials, write_estate


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)


def estate_file(tmp_path: Path) -> Path:
    """12 seats at 10.00 EUR a month now; the NCE plan's 10.50 (annual billed monthly) in the estate, which the
    sandbox serves: its order estimate says so too. 3000002 does not renew."""
    builder = EstateBuilder().csp_plan(5001).nce_plan(6001)
    priced(builder, 5001, BASE, "10.00")
    priced(builder, 6001, NCE_BASE, "10.50")
    builder.subscription("3000001", 5001, [(BASE, 12)])
    builder.subscription("3000002", 5001, [(BASE, 2)])
    builder.commerce["subscriptions"][1]["auto_renew"] = False
    return write_estate(tmp_path, builder.doc)


def plan_output(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["plan", "--mode", "new-subscription", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("live", [False, True], ids=["estate file", "live with estimates"])
def test_json_carries_prices_terms_and_totals(tmp_path: Path, capsys: pytest.CaptureFixture[str], live: bool) -> None:
    estate = estate_file(tmp_path)
    with sandbox_on(estate) as server:
        source = ["--catalog", str(estate), "--commerce-url", server.url] if live else ["--estate", str(estate)]
        document = json.loads(plan_output(capsys, *source, "--format", "json"))
    validate(document, "plan.schema.json")  # the contract still holds: the new keys are extra properties
    first = next(s for s in document["subscriptions"] if s["subscription_id"] == "3000001")
    assert {k: first[k] for k in PRICE_COLUMNS} == {
        "source_monthly_price": "120.00", "source_currency": "EUR", "target_monthly_price": "126.00",
        "target_currency": "EUR", "monthly_price_difference": "6.00",
        "target_price_from": "estimate" if live else "plan", "source_term": "P1Y", "source_billing": "P1M",
        "target_term": "P1Y", "target_billing": "P1M",
        "term_changes": ["annual term billed monthly: +5 % since 2025-04-01"]}
    assert document["price_totals"] == [{"currency": "EUR", "subscriptions": 2, "source_monthly_price": "140.00",
                                         "target_monthly_price": "147.00", "monthly_price_difference": "7.00"}]
    assert document["unpriced_subscriptions"] == 0
    second = next(s for s in document["subscriptions"] if s["subscription_id"] == "3000002")
    (warning,) = second["warnings"]
    assert warning["code"] == "auto-renew-off" and warning["fate"] == "extended-service-term"
    assert first["warnings"] == []


def test_csv_has_the_price_columns_at_the_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    estate = estate_file(tmp_path)
    rows = list(csv.DictReader(io.StringIO(plan_output(capsys, "--estate", str(estate), "--format", "csv"))))
    assert tuple(rows[0]) == PLAN_CSV_COLUMNS + PRICE_COLUMNS
    assert (rows[0]["source_monthly_price"], rows[0]["target_monthly_price"], rows[0]["monthly_price_difference"],
            rows[0]["target_currency"], rows[0]["target_term"]) == ("120.00", "126.00", "6.00", "EUR", "P1Y")
    assert rows[1]["warning_codes"] == "auto-renew-off"


def test_the_table_shows_totals_per_currency_and_each_subscriptions_price(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    estate = estate_file(tmp_path)
    table = plan_output(capsys, "--estate", str(estate))
    assert "EUR          140.00 →         147.00  difference +7.00  (2 subscriptions)" in table
    line = next(x for x in table.splitlines() if x.strip().startswith("3000001"))
    assert "120.00 EUR" in line and "126.00 EUR" in line and "+6.00" in line and "P1Y→P1Y" in line


def test_a_live_plan_prices_from_commerce_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A catalog as `catalog export` writes it has no prices: the sources' come from their subscriptions on
    Commerce (products[].unitPrice, here 9.00 a seat for 3000001 as billed, its plan's 10.00 for 3000002), the
    targets' from the order estimate."""
    estate = estate_file(tmp_path)
    document = yaml.safe_load(estate.read_text())
    document["commerce"]["subscriptions"][0]["resources"][0]["unit_price"] = {"amount": "9.00", "currency": "EUR"}
    estate.write_text(yaml.safe_dump(document))
    catalog = copy.deepcopy(document)
    for plan in catalog["commerce"]["plans"]:
        del plan["prices"]
    del catalog["commerce"]["subscriptions"]
    catalog_path = tmp_path / "catalog.yaml"
    catalog_path.write_text(yaml.safe_dump(catalog))
    with sandbox_on(estate) as server:
        live = json.loads(plan_output(capsys, "--catalog", str(catalog_path), "--commerce-url", server.url,
                                      "--format", "json"))
    offline = json.loads(plan_output(capsys, "--estate", str(estate), "--format", "json"))
    for document_ in (live, offline):
        prices = {s["subscription_id"]: (s["source_monthly_price"], s["target_monthly_price"])
                  for s in document_["subscriptions"]}
        assert prices == {"3000001": ("108.00", "126.00"), "3000002": ("20.00", "21.00")}
    assert {s["target_price_from"] for s in live["subscriptions"]} == {"estimate"}
