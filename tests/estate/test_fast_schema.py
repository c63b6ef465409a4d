"""The loader's fast way in (msgspec structs) gives what the ordinary way (schema.py's) gives, or gives way to it.

The ordinary way is the reference: ``read_structured_file`` + ``parse_estate_document`` + ``build_estate``,
as the loader read every file before the fast way existed. For any file, valid or not, ``load_estate``
must give the same estate or the same one-line error (file and place) as the ordinary way.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.estate import Estate
from m365move.errors import InputError
from m365move.estate import fast_schema, loader
from m365move.estate.loader import build_estate, load_estate, parse_estate_document, read_structured_file
from tests.estate_builder import ADDON, BASE, standard

ROOT = Path(__file__).resolve().parents[2]


def ordinary_load(path: Path) -> Estate:
    """The reference: the loader's ordinary way, without the fast structs."""
    raw = read_structured_file(path)
    if not isinstance(raw, dict):
        raise InputError("an estate file is a mapping with 'version: 1' and a 'commerce' section", where=str(path))
    return build_estate(parse_estate_document(raw, str(path)), str(path))


def load_fast(path: Path) -> Estate:
    return load_estate(path).estate


def outcome(load: Any, path: Path) -> tuple[str, Any]:
    try:
        return "estate", comparable(load(path))
    except InputError as error:
        return "error", error.one_line()


def comparable(estate: Estate) -> tuple[Any, ...]:
    return (
        dict(estate.resellers),
        dict(estate.customers),
        [(plan, dict(plan.upgrade_paths)) for plan in estate.catalog],
        [(s, dict(s.custom_attributes)) for s in estate.subscriptions],
        dict(estate.license_mapping.as_dict()),
        estate.open_order_subscriptions,
    )


def write(path: Path, doc: Any) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(doc, default=str))
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def small_doc() -> dict[str, Any]:
    doc = standard().subscription("3000001").subscription("3000002").doc
    doc["commerce"]["subscriptions"][0]["resources"].append({"mpn": ADDON, "quantity": 3})
    doc["commerce"]["subscriptions"][0]["custom_attributes"] = {"Margin": "12"}
    doc["commerce"]["subscriptions"][1]["start_date"] = "2026-01-31"
    doc["commerce"]["plans"][0]["upgrade_paths"] = {"1000001": [doc["commerce"]["plans"][-1]["id"]]}
    doc["commerce"]["orders"] = [{"id": "9", "subscription_id": "3000002", "status": "processing"}]
    return doc


@pytest.mark.parametrize("name", ["estate.json", "estate.yaml"])
def test_a_generated_estate_takes_the_fast_way_and_gives_the_same_estate(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, generate_estate(EstateSize.for_subscriptions(300, 12, 40), seed=7))
    loaded = load_estate(path)
    assert loaded._document is None, "a valid file should not need the ordinary document"
    assert comparable(loaded.estate) == comparable(ordinary_load(path))
    # The document is still there for whoever asks (the sandbox, the Connect adapters).
    assert loaded.document == parse_estate_document(read_structured_file(path), str(path))


@pytest.mark.parametrize("name", ["estate.json", "estate.yaml"])
def test_texts_the_ordinary_way_normalises_are_normalised_the_same(tmp_path: Path, name: str) -> None:
    doc = small_doc()
    doc["commerce"]["subscriptions"][0]["billing_period"] = "1 Months"
    doc["commerce"]["subscriptions"][0]["resources"][0]["mpn"] = BASE.lower()
    doc["commerce"]["license_mappings"][0]["nce"] = "cfq7ttc0lh18/0001"
    path = write(tmp_path / name, doc)
    assert load_estate(path)._document is None
    assert outcome(load_fast, path) == outcome(ordinary_load, path)


@pytest.mark.parametrize("name", ["estate.json", "estate.yaml"])
def test_what_only_the_ordinary_way_accepts_goes_that_way(tmp_path: Path, name: str) -> None:
    doc = small_doc()
    doc["commerce"]["subscriptions"][0]["id"] = 3000001  # a number for an id: the ordinary way converts it
    path = write(tmp_path / name, doc)
    loaded = load_estate(path)
    assert loaded._document is not None
    assert loaded.estate.subscriptions[0].id == "3000001"
    assert outcome(load_fast, path) == outcome(ordinary_load, path)


def test_the_free_sections_keep_the_ordinary_limits(tmp_path: Path) -> None:
    doc = small_doc()
    doc["partner_center"] = {"n": 10**45}  # longer than any number the ordinary JSON reader accepts
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc))
    assert outcome(load_fast, path) == outcome(ordinary_load, path)
    assert outcome(load_fast, path)[0] == "error"


@pytest.mark.parametrize("name", ["estate.json", "estate.yaml"])
@pytest.mark.parametrize(
    ("section", "content"),
    [("connect", {"assets": [{"id": ""}]}), ("partner_center", {"customers": [{"subscriptions": []}]}),
     ("partner_center", {"epoch": "yesterday"})],
)
def test_the_platform_sections_are_checked_by_their_models(
    tmp_path: Path, name: str, section: str, content: dict[str, Any]
) -> None:
    doc = small_doc()
    doc[section] = content
    path = write(tmp_path / name, doc)
    kind, message = outcome(load_fast, path)
    assert (kind, message) == outcome(ordinary_load, path)
    assert kind == "error" and f"{path}: {section}." in message


def test_decoding_refuses_rather_than_guesses() -> None:
    doc = small_doc()
    assert fast_schema.decode_json_estate(json.dumps(doc).encode()) is not None
    for change in (
        lambda c: c["subscriptions"][0]["resources"][0].update(quantity=2.0),
        lambda c: c["subscriptions"][0]["resources"][0].update(quantity="2"),
        lambda c: c["subscriptions"][0].update(trial=1),
        lambda c: c["subscriptions"][0].update(id=7),
        lambda c: c["subscriptions"][0].update(start_date="2026-01-31T00:00:00"),
        lambda c: c["resellers"][0].update(colour="blue"),
    ):
        changed = copy.deepcopy(doc)
        change(changed["commerce"])
        assert fast_schema.decode_json_estate(json.dumps(changed).encode()) is None
        assert fast_schema.convert_parsed_estate(changed) is None


def test_plan_does_not_import_pydantic(tmp_path: Path) -> None:
    """pydantic (connect-eaas-core's, in the runner's environment) costs about 0.4 CPU s to import; `plan` never
    needs it: no module of the project uses it (tests/test_one_model_library.py)."""
    path = write(tmp_path / "estate.json", small_doc())
    code = (
        "import sys; from m365move.cli import main; "
        f"status = main(['plan', '--mode', 'switch-plan', '--estate', {str(path)!r}, '--format', 'json', "
        f"'--output', {str(tmp_path / 'plan.json')!r}]); "
        "assert status == 0, status; assert 'pydantic' not in sys.modules, 'pydantic imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# ---- any change to a valid file: the same estate or the same error as the ordinary way -----------------

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([0, 1_000_000, 1_000_001, 2**63, 10**30, 5001, 5002]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", " ", "1 month", "1 Months", "12 month", "0 month", "monthly", "2026-01-31", "1000001",
                     "2000001", "3000001", "active", "base", "addon", "main", BASE, BASE.lower(), f" {BASE}",
                     ADDON, "CFQ7TTC0LH18:0001", "x/y", "true", "5001"]),
    st.lists(st.integers(min_value=5000, max_value=5003), max_size=2),
    st.just({}),
    st.just([]),
)


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    places = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            places.extend(_places(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            places.extend(_places(item, (*path, index)))
    return places


BASE_DOC = small_doc()
PLACES = _places(BASE_DOC)


@st.composite
def changed_docs(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(BASE_DOC)
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        place = draw(st.sampled_from(PLACES))
        parent: Any = doc
        try:
            for key in place[:-1]:
                parent = parent[key]
            last = place[-1]
            parent[last]  # noqa: B018 - the place may be gone after an earlier change
        except (KeyError, IndexError, TypeError):
            continue
        if not isinstance(parent, (dict, list)):
            continue  # an earlier change made it a text: its characters read, but cannot be set
        action = draw(st.sampled_from(["set", "set", "set", "delete", "add"]))
        if action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "id", "name"]))] = draw(VALUES)
        else:
            parent[last] = draw(VALUES)
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=changed_docs(), name=st.sampled_from(["estate.json", "estate.yaml"]))
def test_any_change_gives_what_the_ordinary_way_gives(tmp_path: Path, doc: dict[str, Any], name: str) -> None:
    path = write(tmp_path / name, doc)
    assert outcome(load_fast, path) == outcome(ordinary_load, path)


def test_dates_written_by_yaml_as_dates(tmp_path: Path) -> None:
    doc = small_doc()
    doc["commerce"]["subscriptions"][1]["start_date"] = dt.date(2026, 1, 31)
    path = write(tmp_path / "estate.yaml", doc)
    assert load_estate(path)._document is None
    assert outcome(load_fast, path) == outcome(ordinary_load, path)


def test_caches_stay_bounded() -> None:
    for n in range(2000):
        loader._mpn(f"offer-{n}")
    assert len(loader._MPNS) <= 65536
    assert len(loader._PERIODS) <= 1024
