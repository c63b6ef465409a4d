"""Plain YAML read straight to data gives exactly what the safe loader gives, or gives up.

Given up, ``parse_yaml_text`` reads the text with the safe loader, so errors keep their line and column.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from m365move.errors import InputError
from m365move.files.input_text import _StrictSafeLoader, parse_yaml_text
from m365move.files.yaml_plain import GAVE_UP, plain_yaml_data


def typed(value: Any) -> Any:
    """The value with every type spelled out: True == 1 == 1.0 in Python, not in a file."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def safe_load(text: str) -> tuple[str, Any]:
    try:
        return "value", typed(yaml.load(text, Loader=_StrictSafeLoader))  # noqa: S506 - a safe loader
    except (yaml.YAMLError, ValueError, RecursionError, OverflowError) as error:
        return "error", type(error).__name__


def check(text: str) -> Any:
    fast = plain_yaml_data(text, _StrictSafeLoader)
    if fast is not GAVE_UP:
        assert safe_load(text) == ("value", typed(fast)), text
    return fast


SCALARS = [
    "1", "01", "0x1F", "0o17", "017", "1_000", "+5", "-0", "1:30", "190:20:30", "1.5", "1e3", "1.0e+3", ".inf",
    "-.Inf", ".nan", "yes", "No", "on", "OFF", "true", "False", "y", "n", "~", "null", "Null", "", "2026-01-31",
    "2026-01-31 10:00:00", "2026-01-31T10:00:00Z", "2026-01-31t10:00:00.5+02:00", "2026-1-31", "1 month",
    "'1'", '"yes"', "'2026-01-31'", "\"\\u00e9\"", "abc", "a b", "9" * 25, "=", "3000001", "-", "0.", "._",
    "|\n  block\n  text\n", ">\n  folded\n  text\n",
]


@pytest.mark.parametrize("scalar", SCALARS)
def test_every_kind_of_scalar_as_the_safe_loader_reads_it(scalar: str) -> None:
    for text in (f"a: {scalar}\n", f"- {scalar}\n- {scalar}\n", f"{{x: [{scalar}]}}\n" if "\n" not in scalar else ""):
        if text:
            check(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchor and alias
        "base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n",  # merge key
        "a: !!str 1\n",  # explicit tag
        "a: !custom 1\n",
        "a: 1\na: 2\n",  # a key given twice
        "1: a\n01: b\n",  # two texts for one key
        "? [1, 2]\n: x\n",  # a key that is a list
        "--- 1\n--- 2\n",  # two documents
        "",  # no document
        "a: [1, 2\n",  # not YAML
        "a: 2026-02-30\n",  # a date Python refuses
    ],
)
def test_gives_up_on_what_it_does_not_read(text: str) -> None:
    assert plain_yaml_data(text, _StrictSafeLoader) is GAVE_UP


def test_errors_keep_their_place(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        parse_yaml_text("a: 1\nb:\n  c: 1\n  c: 2\n", where="f.yaml")
    assert raised.value.one_line().startswith("f.yaml:4:3: ")
    assert "appears twice" in raised.value.one_line()


def test_a_document_that_is_a_scalar() -> None:
    assert check("42\n") == 42
    assert check("text\n") == "text"


def test_repeated_scalars_are_shared_not_rebuilt() -> None:
    data = check("- 2026-01-31\n- 2026-01-31\n")
    assert data == [dt.date(2026, 1, 31)] * 2
    assert data[0] is data[1]


LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
    st.sampled_from([s for s in SCALARS if "\n" not in s]), st.dates(),
)
DATA = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4) | st.integers(), inner,
                                                                         max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(data=DATA, flow=st.sampled_from([None, True, False]))
def test_whatever_the_safe_dumper_writes_reads_back_the_same(data: Any, flow: bool | None) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    assert check(text) is not GAVE_UP, text


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from(SCALARS[:-2] + ["a", "b", ":", "- ", "\n", "  ", "[", "]", "{", "}", ",", "#",
                                                      "&x ", "*x", "!!int ", "<<", "? ", "'", '"']), max_size=12))
def test_any_text_reads_as_the_safe_loader_reads_it_or_gives_up(parts: list[str]) -> None:
    check("".join(parts))
