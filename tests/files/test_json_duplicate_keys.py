"""A key written twice in one JSON object is found exactly: never missed, never invented, its path and lines right.

The reference is the standard library's parser with a hook that sees every key of every object. Pieces are
made small here so that JSON of a few hundred bytes is already taken apart level by level and in batches, as a
100k-subscription estate is.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m365move.errors import InputError
from m365move.files import json_duplicate_keys
from m365move.files.json_duplicate_keys import find_duplicate_key, refuse_duplicate_keys


def _has_repeat(text: str) -> bool:
    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({key for key, _ in items}) != len(items)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return found


# Keys and strings with colons, quotes, backslashes and \u003a escapes: what could fool a count of colons.
_TEXTS = st.text(alphabet=st.sampled_from(list('ab:"\\{}[],') + ["\u00e9", "\n"]), max_size=6)
_KEYS = st.sampled_from(["a", "b", "a:", ":", 'q"', "\\", "\u003a"]) | _TEXTS


def _object_text(draw: st.DrawFn, depth: int) -> str:
    members = [f"{json.dumps(draw(_KEYS))}: {_value_text(draw, depth + 1)}"
               for _ in range(draw(st.integers(0, 4)))]
    if members and draw(st.booleans()):  # the same key again, maybe spelt with an escape
        key = draw(_KEYS)
        spelt = json.dumps(key).replace(":", "\\u003a" if draw(st.booleans()) else ":")
        members.insert(draw(st.integers(0, len(members))), f"{spelt}: {_value_text(draw, depth + 1)}")
        members.insert(draw(st.integers(0, len(members))), f"{json.dumps(key)}: 0")
    return "{" + ", ".join(members) + "}"


def _value_text(draw: st.DrawFn, depth: int) -> str:
    kind = draw(st.sampled_from(["object", "list", "text", "number", "escaped"] if depth < 4 else ["text", "number"]))
    if kind == "object":
        return _object_text(draw, depth)
    if kind == "list":
        return "[" + ", ".join(_value_text(draw, depth + 1) for _ in range(draw(st.integers(0, 4)))) + "]"
    if kind == "escaped":
        return '"\\\\u003a \\u003A"'  # a backslash then "u003a" (no colon), and an escaped colon
    return json.dumps(draw(_TEXTS)) if kind == "text" else str(draw(st.integers(-5, 5)))


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    return _object_text(draw, 0)


@settings(max_examples=400, deadline=None)
@given(text=json_texts(), piece=st.sampled_from([8, 64, 1 << 20]))
def test_found_exactly_when_the_standard_parser_sees_a_key_twice(text: str, piece: int) -> None:
    saved = json_duplicate_keys.PIECE_BYTES
    json_duplicate_keys.PIECE_BYTES = piece
    try:
        found = find_duplicate_key(text)
    finally:
        json_duplicate_keys.PIECE_BYTES = saved
    assert (found is not None) == _has_repeat(text), (text, found)


@pytest.mark.parametrize("piece", [16, 1 << 20])
def test_the_path_and_the_lines_of_a_deep_repeat(piece: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_duplicate_keys, "PIECE_BYTES", piece)
    subscriptions = [{"id": str(n), "resources": [{"mpn": "M", "quantity": n}]} for n in range(50)]
    text = json.dumps({"version": 1, "commerce": {"subscriptions": subscriptions}}, indent=1)
    assert find_duplicate_key(text) is None
    text = text.replace('"quantity": 37\n', '"quantity": 37,\n "quantity": 3700\n')
    found = find_duplicate_key(text)
    assert found is not None
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '"quantity": 3700' in row)
    assert (found.path, found.key, found.line, found.first_line) == (
        "commerce.subscriptions[37].resources[0].quantity", "quantity", line, line - 1)


def test_an_escaped_spelling_is_the_same_key() -> None:
    found = find_duplicate_key('{"a:": 1,\n "a\\u003a": 2}')
    assert found is not None and (found.path, found.line, found.first_line) == ("a:", 2, 1)


def test_what_only_looks_like_an_escaped_colon_is_no_repeat() -> None:
    assert find_duplicate_key('{"a": "\\\\u003a", "b": {"c": "\\\\u003A"}}') is None


def test_refused_as_one_line_naming_the_file_the_line_and_what_to_do() -> None:
    with pytest.raises(InputError) as refused:
        refuse_duplicate_keys('{\n "plans": [],\n "plans": []\n}', where="estate.json")
    assert refused.value.one_line() == (
        "estate.json:3: plans: key 'plans' appears twice in one object (first on line 2) "
        "(remove one of the two: JSON readers silently keep only the last)")
