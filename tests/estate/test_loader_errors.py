"""Bad estate files give one error naming the file, the field path and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from m365move.errors import InputError
from m365move.estate.loader import load_estate
from tests.estate_builder import standard


def write(tmp_path: Path, doc: object, name: str = "estate.yaml") -> Path:
    path = tmp_path / name
    if isinstance(doc, str):
        path.write_text(doc)
    elif name.endswith(".json"):
        path.write_text(json.dumps(doc, default=str))
    else:
        path.write_text(yaml.safe_dump(doc))
    return path


def base_doc() -> dict:
    return standard().subscription("3000001").subscription("3000002").doc


def broken(change) -> dict:  # type: ignore[no-untyped-def]
    doc = base_doc()
    change(doc["commerce"])
    return doc


@pytest.mark.parametrize(
    ("change", "where", "text"),
    [
        (lambda c: c["subscriptions"][1].update(plan_id="x"), "commerce.subscriptions[1].plan_id", "integer"),
        (lambda c: c["subscriptions"][1].update(plan_id=9999), "commerce.subscriptions[1].plan_id", "9999"),
        (lambda c: c["subscriptions"][0].update(billing_period="monthly"), "commerce.subscriptions[0].billing_period",
         "period"),
        (lambda c: c["subscriptions"][0].pop("customer_id"), "commerce.subscriptions[0].customer_id", "missing"),
        (lambda c: c["subscriptions"][0].update(customer_id="404"), "commerce.subscriptions[0].customer_id", "404"),
        (lambda c: c["subscriptions"][0]["resources"][0].update(quantity=-1),
         "commerce.subscriptions[0].resources[0].quantity", "greater than or equal"),
        (lambda c: c["subscriptions"][0]["resources"][0].update(mpn="NOPE"),
         "commerce.subscriptions[0].resources[0].mpn", "not a resource of plan 5001"),
        (lambda c: c["subscriptions"][1]["resources"].append(dict(c["subscriptions"][1]["resources"][0], quantity=4)),
         "commerce.subscriptions[1].resources", "appears twice (resources 0 and 1)"),
        (lambda c: c["customers"][0].update(reseller_id="77"), "commerce.customers[0].reseller_id", "77"),
        (lambda c: c["plans"][0]["upgrade_paths"].update({"1000001": [4242]}),
         "commerce.plans[0].upgrade_paths.1000001", "4242"),
        (lambda c: c["plans"][0]["resources"][0].update(role="main"), "commerce.plans[0].resources[0].role", "base"),
        (lambda c: c["resellers"][0].update(tier_config="done"), "commerce.resellers[0].tier_config", "active"),
        (lambda c: c["license_mappings"][0].update(nce="CFQ7TTC0LH18"), "commerce.license_mappings[0].nce",
         "ProductId:SkuId"),
        (lambda c: c["subscriptions"][1].update(id="3000001"), "commerce.subscriptions[1].id", "twice"),
        (lambda c: c["subscriptions"][0].update(colour="blue"), "commerce.subscriptions[0].colour", "unknown field"),
    ],
)
@pytest.mark.parametrize("name", ["estate.yaml", "estate.json"])
def test_field_level_errors(tmp_path: Path, change, where: str, text: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """JSON estates are read by a faster parser; a bad one gives the same message as YAML."""
    path = write(tmp_path, broken(change), name)
    with pytest.raises(InputError) as raised:
        load_estate(path)
    line = raised.value.one_line()
    assert "\n" not in line
    assert line.startswith(f"{path}: {where}:"), line
    assert text in line


@pytest.mark.parametrize(
    ("content", "name", "text"),
    [
        ("version: 1\ncommerce: [\n", "estate.yaml", "not valid YAML"),
        ('{"version": 1,', "estate.json", "not valid JSON"),
        ("- just\n- a list\n", "estate.yaml", "mapping"),
        ("version: 2\n", "estate.yaml", "version"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: str, name: str, text: str) -> None:
    path = write(tmp_path, content, name)
    with pytest.raises(InputError, match=text) as raised:
        load_estate(path)
    assert str(path) in raised.value.one_line()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_estate(tmp_path / "nope.yaml")


def test_json_and_yaml_load_the_same(tmp_path: Path) -> None:
    doc = base_doc()
    from_yaml = load_estate(write(tmp_path, doc)).estate
    json_path = tmp_path / "estate.json"
    json_path.write_text(json.dumps(doc))
    from_json = load_estate(json_path).estate
    assert from_yaml.subscriptions == from_json.subscriptions


def test_ids_written_as_numbers_become_strings(tmp_path: Path) -> None:
    doc = base_doc()
    doc["commerce"]["subscriptions"][0]["id"] = 12
    estate = load_estate(write(tmp_path, doc)).estate
    assert estate.subscriptions[0].id == "12"


def test_ids_keep_leading_zeros(tmp_path: Path) -> None:
    doc = base_doc()
    doc["commerce"]["subscriptions"][0]["id"] = "0012"
    assert load_estate(write(tmp_path, doc)).estate.subscriptions[0].id == "0012"


def test_json_content_under_another_name_is_read_as_json(tmp_path: Path) -> None:
    doc = base_doc()
    path = tmp_path / "estate.txt"
    path.write_text(json.dumps(doc, default=str))
    assert load_estate(path).estate.subscriptions == load_estate(write(tmp_path, doc)).estate.subscriptions


def test_json_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "estate.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(base_doc(), default=str).encode())
    assert len(load_estate(path).estate.subscriptions) == 2
