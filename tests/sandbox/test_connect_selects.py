"""The sandbox's Connect honours exactly the RQL selects the Connect OpenAPI spec declares for each collection:
negative selects leave a field out, a select of an undeclared field is refused as Connect refuses it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from m365move.demo.estate_generator import generate_connect_section
from m365move.estate.schema import estate_document
from m365move.sandbox.app import build_sandbox_app
from m365move.sandbox.listing_cache import ListingCache
from m365move.sandbox.rql import RqlError, parse_query, shaped

API_KEY = "ApiKey SU-000-000-000:sandbox"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[TestClient]:
    section = generate_connect_section(3, 4, ineligible_share=0.0, unmapped_share=0.0)
    document = estate_document(json.loads(json.dumps({"version": 1, **section})))
    with TestClient(build_sandbox_app(document)) as client:
        asset = _get(client, "assets?eq(status,active)&limit=1")[0]
        created = client.post("/public/v1/requests", headers={"Authorization": API_KEY},
                              json={"type": "cancel", "asset": {"id": asset["id"]}})
        assert created.status_code == 201, created.text
        yield client


def _get(client: TestClient, path: str) -> Any:
    answer = client.get(f"/public/v1/{path}", headers={"Authorization": API_KEY})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_negative_selects_leave_the_fields_out(sandbox: TestClient) -> None:
    whole = _get(sandbox, "requests?eq(type,cancel)")
    trimmed = _get(sandbox, "requests?eq(type,cancel)&select(-activation_key,-template,-asset.configuration,-asset.items)")
    assert whole and all(r["asset"].get("items") for r in whole)
    assert [r["id"] for r in trimmed] == [r["id"] for r in whole]
    for full, lean in zip(whole, trimmed, strict=True):
        assert "items" not in lean["asset"] and "template" not in lean and "activation_key" not in lean
        assert lean["asset"] == {k: v for k, v in full["asset"].items() if k not in ("items", "configuration")}
    # The stored request is untouched: the next plain read has the items again.
    assert _get(sandbox, "requests?eq(type,cancel)") == whole
    assets = _get(sandbox, "assets?select(-items)&limit=5")
    assert assets and all("items" not in a and a["params"] is not None for a in assets)


@pytest.mark.parametrize(("path", "field"), [
    ("requests?select(-params)", "params"),
    ("requests?select(-items)", "items"),  # /requests declares -asset.items, not -items
    ("assets?select(-asset.items)", "asset.items"),
    ("assets?select(-params,-items)", "params"),
])
def test_a_select_the_spec_does_not_declare_is_refused(sandbox: TestClient, path: str, field: str) -> None:
    answer = sandbox.get(f"/public/v1/{path}", headers={"Authorization": API_KEY})
    assert answer.status_code == 400
    assert answer.json()["errors"] == [f"Bad select filter: {field}."]


def test_explicit_selects_are_hidden_unless_asked_for() -> None:
    stored = {"id": "AS-1", "template": {"id": "TL-1"}, "items": [{"id": "PRD-1-0001"}]}
    assert shaped(stored, parse_query("assets", "").hidden) == {"id": "AS-1", "items": [{"id": "PRD-1-0001"}]}
    assert shaped(stored, parse_query("assets", "select(template)").hidden) == stored
    assert shaped(stored, parse_query("assets", "select(+template,-items)").hidden) == {"id": "AS-1",
                                                                                         "template": {"id": "TL-1"}}
    assert stored["items"] == [{"id": "PRD-1-0001"}]
    with pytest.raises(RqlError, match="Bad select filter: colour."):
        parse_query("assets", "select(colour)")


def test_pages_are_cut_from_one_listing_until_something_changes() -> None:
    """Paging a listing filters and orders the collection once; any write makes the next page list again, so the
    pages follow the objects as they are."""
    section = generate_connect_section(5, 40, ineligible_share=0.0, unmapped_share=0.0)
    document = estate_document(json.loads(json.dumps({"version": 1, **section})))
    app = build_sandbox_app(document)
    with TestClient(app) as client:
        listing = "assets?eq(status,active)&ordering(-created)"
        whole = _get(client, f"{listing}&limit=1000")
        paged = [a for offset in range(0, len(whole), 7) for a in _get(client, f"{listing}&limit=7&offset={offset}")]
        assert [a["id"] for a in paged] == [a["id"] for a in whole] and len(whole) > 14
        computed = _listings(app).computed
        _get(client, f"{listing}&limit=7&offset=7&select(-items)")
        assert _listings(app).computed == computed  # the same listing: no scan
        cancelled = client.post("/public/v1/requests", headers={"Authorization": API_KEY},
                                json={"type": "cancel", "asset": {"id": whole[0]["id"]}})
        assert cancelled.status_code == 201
        requests = _get(client, "requests?eq(type,cancel)&limit=1000")
        assert [r["asset"]["id"] for r in requests] == [whole[0]["id"]]
        assert _listings(app).computed > computed


def _listings(app: Any) -> ListingCache:
    cache: ListingCache = app.state.connect.listing_cache
    return cache
