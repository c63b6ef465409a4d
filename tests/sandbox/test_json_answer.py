"""Large sandbox answers are written by orjson: the same JSON as json.dumps, with json.dumps where orjson refuses."""

from __future__ import annotations

import json

from m365move.sandbox.json_answer import json_answer, json_bytes


def test_the_same_json_as_json_dumps() -> None:
    page = [{"id": "AS-1", "items": [{"quantity": "5"}], "name": "Müller & Søn", "n": 1.5, "none": None, "ok": True}]
    assert json.loads(json_bytes(page)) == page
    assert json.loads(json_bytes({1: "int key"})) == {"1": "int key"}


def test_what_orjson_refuses_is_written_by_json_dumps() -> None:
    assert json.loads(json_bytes({"big": 2**70})) == {"big": 2**70}


def test_the_answer_carries_its_headers() -> None:
    answer = json_answer([1], headers={"Content-Range": "items 0-0/1"})
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-range"] == "items 0-0/1" and answer.body == b"[1]"
