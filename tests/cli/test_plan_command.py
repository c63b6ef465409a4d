"""``m365move plan`` end to end: formats, the JSON contract, exit statuses, nothing half-written."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from m365move.cli import main
from m365move.estate.loader import load_estate
from tests.contract_schemas import validate
from tests.estate_builder import ADDON, BASE, standard


@pytest.fixture
def estate_file(tmp_path: Path) -> Path:
    builder = standard().subscription("3000001", resources=[(BASE, 12), (ADDON, 2)]).subscription("3000002", trial=True)
    builder.subscription("3000003", billing="1 year")
    path = tmp_path / "estate.yaml"
    path.write_text(yaml.safe_dump(builder.doc))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("mode", ["new-subscription", "switch-plan"])
def test_json_output_matches_contract(estate_file: Path, capsys: pytest.CaptureFixture[str], mode: str) -> None:
    status, out, _ = run(capsys, "plan", "--mode", mode, "--estate", str(estate_file), "--format", "json")
    assert status == 0
    document = json.loads(out)
    validate(document, "plan.schema.json")
    assert document["mode"] == mode
    assert document["summary"] == {"migrate": 1, "skip": 1, "blocked": 1}
    by_id = {s["subscription_id"]: s for s in document["subscriptions"]}
    assert by_id["3000003"]["reasons"][0]["code"] == "billing-period-mismatch"
    first = by_id["3000001"]["orders"][0]
    assert first["plan_id"] == 6001 and isinstance(first["plan_id"], int)
    assert first["nce_license"] == "CFQ7TTC0LH18:0001"


def test_csv_and_table_outputs(estate_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "plan", "--mode", "new-subscription", "--estate", str(estate_file), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and [r["decision"] for r in rows] == ["migrate", "skip", "blocked"]
    assert rows[0]["orders"] == "sales:6001x12;sales:6101x2;cancellation"
    status, out, _ = run(capsys, "plan", "--mode", "new-subscription", "--estate", str(estate_file))
    assert status == 0 and "1 migrate, 1 skip, 1 blocked" in out and "billing-period-mismatch" in out


def test_filters_and_mappings(estate_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "subs.csv"
    source.write_text("OaSubscriptionId\n3000001\n")
    mapping = tmp_path / "map.csv"
    mapping.write_text(f"CspOfferId,NceProductIdSkuId\n{BASE},CFQ7TTC0LH18/0001\n")  # no add-on row any more
    status, out, _ = run(capsys, "plan", "--mode", "new-subscription", "--estate", str(estate_file), "--format",
                         "json", "--source-data", str(source), "--license-mapping", str(mapping))
    document = json.loads(out)
    assert status == 0 and [s["subscription_id"] for s in document["subscriptions"]] == ["3000001"]
    assert [r["code"] for r in document["subscriptions"][0]["reasons"]] == ["unmapped-license"]


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("estate", "commerce.subscriptions[0].plan_id"),
        ("mapping", "map.csv:2:NceProductIdSkuId"),
        ("plans", "plans.csv:1"),
        ("source", "subs.csv:1"),
        ("date", "--for-expiration-date"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    estate_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str, expected: str
) -> None:
    args = ["plan", "--mode", "new-subscription", "--estate", str(estate_file), "--format", "json"]
    if broken == "estate":
        doc = yaml.safe_load(estate_file.read_text())
        doc["commerce"]["subscriptions"][0]["plan_id"] = "five"
        estate_file.write_text(yaml.safe_dump(doc))
    elif broken == "mapping":
        (tmp_path / "map.csv").write_text("CspOfferId,NceProductIdSkuId\nabc,not-a-licence\n")
        args += ["--license-mapping", str(tmp_path / "map.csv")]
    elif broken == "plans":
        (tmp_path / "plans.csv").write_text("CspOfferId,PlanId\nabc,1\n")
        args += ["--plans-mapping", str(tmp_path / "plans.csv")]
    elif broken == "source":
        (tmp_path / "subs.csv").write_text("SubscriptionId\n1\n")
        args += ["--source-data", str(tmp_path / "subs.csv")]
    else:
        args += ["--for-expiration-date", "03/01/2027"]
    output = tmp_path / "out" / "plan.json"
    status, out, err = run(capsys, *args, "--output", str(output))
    assert status == 2
    assert err.count("\n") == 1 and expected in err, err
    assert not output.exists()
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_output_file_written_whole(estate_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "plan.json"
    status, out, err = run(capsys, "plan", "--mode", "switch-plan", "--estate", str(estate_file), "--format", "json",
                           "--output", str(output))
    assert status == 0 and out == ""
    validate(json.loads(output.read_text()), "plan.schema.json")


def test_estate_generate_and_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gen.json"
    assert main(["estate", "generate", "--subscriptions", "150", "--seed", "3", "--output", str(path)]) == 0
    assert main(["estate", "validate", str(path)]) == 0
    assert "150 subscriptions" in capsys.readouterr().out
    status, out, _ = run(capsys, "plan", "--mode", "new-subscription", "--estate", str(path), "--format", "json")
    document = json.loads(out)
    validate(document, "plan.schema.json")
    decisions = {s["decision"] for s in document["subscriptions"]}
    assert decisions == {"migrate", "skip", "blocked"}


@pytest.mark.parametrize(("name", "first"), [("estate.out", b"{"), ("estate.yaml", b"version"), ("estate.yml", b"version")])
def test_estate_generate_writes_json_unless_asked(tmp_path: Path, name: str, first: bytes) -> None:
    path = tmp_path / name
    assert main(["estate", "generate", "--subscriptions", "20", "--output", str(path)]) == 0
    assert path.read_bytes().startswith(first)
    assert len(load_estate(path).estate.subscriptions) == 20


def test_plan_json_output_is_one_subscription_per_line(estate_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "plan", "--mode", "switch-plan", "--estate", str(estate_file), "--format", "json")
    document = json.loads(out)
    lines = [line for line in out.splitlines() if line.startswith('  {"subscription_id"')]
    assert status == 0 and len(lines) == len(document["subscriptions"]) > 0
