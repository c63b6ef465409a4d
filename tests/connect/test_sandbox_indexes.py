"""The sandbox's Connect answers a list filtered on an id (or a request's asset id) from its indexes, and the
answer is exactly the one a scan of every object gives (issue 14, item 6)."""

from __future__ import annotations

from typing import Any

import pytest

from m365move.demo.estate_generator import generate_connect_section
from m365move.sandbox.connect_state import ConnectState
from m365move.sandbox.rql import equality_hints, page_of, parse_query


@pytest.fixture
def connect() -> ConnectState:
    section = generate_connect_section(11, 30, time_scale=600.0, ineligible_share=0.0, unmapped_share=0.0)
    state = ConnectState(section["connect"])
    for asset in list(state.assets.values())[:12]:
        state.create_request({"type": "cancel", "asset": {"id": asset["id"]}})
    return state


def _answers(state: ConnectState, name: str, query: str) -> tuple[Any, Any]:
    parsed = parse_query(name, query)
    candidates = state.candidates(name, equality_hints(query))
    assert candidates is not None, f"no index served {query}"
    return page_of(candidates, parsed), page_of(state.collection(name), parsed)


def test_filtered_lists_from_the_indexes_equal_a_scan(connect: ConnectState) -> None:
    assets = list(connect.assets)
    requests = list(connect.requests)
    queries = {
        "requests": [f"eq(asset.id,{assets[3]})", f"asset.id={assets[3]}&eq(status,pending)",
                     f"in(asset.id,({assets[1]},{assets[5]},{assets[29]}))&ordering(-created)",
                     f"eq(id,{requests[2]})", f"in(id,({requests[0]},{requests[7]}))&eq(asset.id,{assets[7]})",
                     "eq(asset.id,AS-0000-0000-0000)"],
        "assets": [f"eq(id,{assets[4]})", f"in(id,({assets[9]},{assets[2]}))&limit=1&offset=1"],
    }
    for name, listed in queries.items():
        for query in listed:
            indexed, scanned = _answers(connect, name, query)
            assert indexed == scanned, query


def test_unhinted_or_quoted_filters_scan(connect: ConnectState) -> None:
    for query in ("eq(status,pending)", "and(eq(id,PR-1),eq(status,pending))", "eq(id,%22PR-1%22)"):
        hints = equality_hints(query)
        assert "id" not in hints and "asset.id" not in hints
        assert connect.candidates("requests", hints) is None


def test_a_new_request_is_indexed_under_its_asset(connect: ConnectState) -> None:
    asset = list(connect.assets)[20]
    assert connect.candidates("requests", {"asset.id": frozenset({asset})}) == []
    created = connect.create_request({"type": "cancel", "asset": {"id": asset}})
    assert [r["id"] for r in connect.candidates("requests", {"asset.id": frozenset({asset})}) or []] == [created["id"]]
