"""The sandbox's Connect answers (``/public/v1``) validate against the Connect OpenAPI spec's response schemas.

Where the schemas come from: the Connect extract the sandbox ships (``m365move/sandbox/specs/``; one copy for the
spec gate and this test, kept equal to the published spec by ``test_shipped_specs.py``), viewed as the response
schemas of the operations we call and the components they reference.
``connect_spec_validation.py`` converts OpenAPI's ``nullable``/``readOnly``/``writeOnly`` to JSON Schema, keeps the
spec's open objects (it sets no ``additionalProperties``) and adds a check that top-level fields are named by the
schema or listed below, so a misspelt field cannot pass.

The 2020 spec is wrong or write-oriented in places. ``DEVIATIONS`` (the sandbox validator's, from
m365move/sandbox/connect_spec_deviations.py) patches those schemas, each naming the field and following what
connect-openapi-client, connect-eaas-core and our extension (m365move/connect) actually read;
``EXTENSIONS`` names the top-level fields we serve that the spec does not list, and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from connect_spec_validation import ConnectSpec, Patch

from m365move.demo.estate_generator import CSP_PRODUCT, NCE_PRODUCT, generate_connect_section
from m365move.estate.schema import EstateDocument, estate_document
from m365move.sandbox.connect_spec_deviations import SCHEMA_DEVIATIONS
from m365move.sandbox.server import SandboxServer, run_sandbox

Json = dict[str, Any]


# The documented deviations of the sandbox's own validator (m365move/sandbox/connect_spec_deviations.py) about the
# objects Connect answers.
DEVIATIONS: list[Patch] = SCHEMA_DEVIATIONS
# Top-level fields the sandbox serves that the 2020 spec does not name.
EXTENSIONS: dict[str, frozenset[str]] = {
    # Asset requests: `template` ({id} of the approving template) is set on approval, as Connect answers today.
    "request": frozenset({"template"}),
    # dp.TierConfigRequestRead: `created`/`updated` — m365move/connect/queries.py orders tier-config requests by
    # `created` and event_driver filters them with `updated=ge=`, as it does asset requests.
    "tier_config_request": frozenset({"created", "updated"}),
    # dp.Listing: `marketplace` ({id}) — the spec nests it in `contract`; m365move/connect/queries.listings and
    # catalog_mapping read `listing.marketplace.id` and filter with RQL on it.
    "listing": frozenset({"marketplace"}),
}
REQUEST = "GET /requests/{id}"
TCR = "GET /tier/config-requests/{id}"


def _document(section: Json) -> EstateDocument:
    return estate_document(json.loads(json.dumps({"version": 1, **section})))


def _section() -> Json:
    return generate_connect_section(5, 6, time_scale=60, pending_resellers=2, ineligible_share=0.0, unmapped_share=0.0)


@pytest.fixture(scope="module")
def spec() -> ConnectSpec:
    return ConnectSpec(DEVIATIONS)


@pytest.fixture(scope="module")
def reads() -> Iterator[httpx.Client]:
    """One sandbox for the read-only tests."""
    section = _section()
    with run_sandbox(_document(section)) as server, _client(server, section) as client:
        yield client


@pytest.fixture
def writes() -> Iterator[httpx.Client]:
    """A fresh sandbox for a test that changes requests."""
    section = _section()
    with run_sandbox(_document(section)) as server, _client(server, section) as client:
        yield client


def _client(server: SandboxServer, section: Json) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/public/v1", headers={"Authorization": section["connect"]["api_key"]})


def _answer(response: httpx.Response, status: int) -> Any:
    request = response.request
    assert response.status_code == status, f"{request.method} {request.url}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def _first(client: httpx.Client, path: str) -> Json:
    found: list[Json] = _answer(client.get(path, params={"limit": 1}), 200)
    assert found, f"{path} is empty"
    return found[0]


class TestReads:
    @pytest.mark.parametrize(
        ("path", "operation", "extensions"),
        [
            ("/assets", "GET /assets", frozenset()),
            ("/requests", "GET /requests", EXTENSIONS["request"]),
            ("/tier/configs", "GET /tier/configs", frozenset()),
            ("/tier/config-requests", "GET /tier/config-requests", EXTENSIONS["tier_config_request"]),
            ("/products", "GET /products", frozenset()),
            (f"/products/{NCE_PRODUCT}/items", "GET /products/{product_product_id}/items", frozenset()),
            (f"/products/{CSP_PRODUCT}/items", "GET /products/{product_product_id}/items", frozenset()),
            ("/listings", "GET /listings", EXTENSIONS["listing"]),
            ("/marketplaces", "GET /marketplaces", frozenset()),
        ],
    )
    def test_lists(self, reads: httpx.Client, spec: ConnectSpec, path: str, operation: str, extensions: frozenset[str]) -> None:
        """Every collection the client pages through answers an array of the spec's objects."""
        body = _answer(reads.get(path, params={"limit": 100}), 200)
        assert isinstance(body, list) and (body or path == "/requests")
        spec.validate(body, operation, extensions=extensions)

    def test_single_objects(self, reads: httpx.Client, spec: ConnectSpec) -> None:
        """GET of one asset, tier config, tier-config request and item answers the spec's object."""
        asset = _first(reads, "/assets")
        spec.validate(_answer(reads.get(f"/assets/{asset['id']}"), 200), "GET /assets/{id}")
        config = _first(reads, "/tier/configs")
        spec.validate(_answer(reads.get(f"/tier/configs/{config['id']}"), 200), "GET /tier/configs/{id}")
        tcr = _first(reads, "/tier/config-requests")
        spec.validate(_answer(reads.get(f"/tier/config-requests/{tcr['id']}"), 200), TCR,
                      extensions=EXTENSIONS["tier_config_request"])
        item = _first(reads, f"/products/{NCE_PRODUCT}/items")
        spec.validate(_answer(reads.get(f"/products/{NCE_PRODUCT}/items/{item['id']}"), 200),
                      "GET /products/{product_product_id}/items/{verbose_id}")


class TestAssetRequests:
    def _purchase(self, client: httpx.Client) -> Json:
        item = _first(client, f"/products/{NCE_PRODUCT}/items")
        asset = _first(client, "/assets")
        connection = _first(client, f"/products/{NCE_PRODUCT}/connections")
        body = {"type": "purchase", "marketplace": asset["marketplace"],
                "asset": {"external_id": asset["external_id"], "external_uid": "0b7c9a52-6d1e-5d0e-9d5b-4f0c1d2e3f40",
                          "product": {"id": NCE_PRODUCT}, "connection": {"id": connection["id"]},
                          "items": [{"id": item["id"], "quantity": 3}], "tiers": asset["tiers"],
                          "params": [{"id": "ms_customer_id", "value": "tenant"}]}}
        created: Json = _answer(client.post("/requests", json=body), 201)
        return created

    def test_create_update_and_read(self, writes: httpx.Client, spec: ConnectSpec) -> None:
        """POST /requests answers 201 with the request. The spec gives POST /requests and PUT /requests/{id} an
        empty schema ({}); Connect answers the request object, so those bodies are checked against GET's."""
        assert spec.response_schema("POST /requests", 201) == {} and spec.response_schema("PUT /requests/{id}", 200) == {}
        purchase = self._purchase(writes)
        spec.validate(purchase, REQUEST, extensions=EXTENSIONS["request"])
        spec.validate(purchase["asset"], "GET /assets/{id}")
        cancel = _answer(writes.post("/requests", json={"type": "cancel", "asset": {"id": _first(writes, "/assets")["id"]}}), 201)
        spec.validate(cancel, REQUEST, extensions=EXTENSIONS["request"])
        updated = _answer(writes.put(f"/requests/{purchase['id']}", json={"asset": {"params": [{"id": "ms_customer_id",
                                                                                               "value_error": "unknown"}]}}), 200)
        spec.validate(updated, REQUEST, extensions=EXTENSIONS["request"])
        spec.validate(_answer(writes.get(f"/requests/{purchase['id']}"), 200), REQUEST, extensions=EXTENSIONS["request"])
        spec.validate(_answer(writes.get(f"/assets/{purchase['asset']['id']}"), 200), "GET /assets/{id}")

    def test_transitions(self, writes: httpx.Client, spec: ConnectSpec) -> None:
        """approve, fail, inquire and pend answer 200 with the request, as the spec says."""
        first = self._purchase(writes)
        for action, body, status in [("inquire", {}, "inquiring"), ("pend", {}, "pending"),
                                     ("approve", {"template_id": "TL-100-000-001"}, "approved")]:
            answer = _answer(writes.post(f"/requests/{first['id']}/{action}", json=body), 200)
            assert answer["status"] == status
            spec.validate(answer, f"POST /requests/{{id}}/{action}", extensions=EXTENSIONS["request"])
        spec.validate(_answer(writes.get(f"/assets/{first['asset']['id']}"), 200), "GET /assets/{id}")
        second = _answer(writes.post("/requests", json={"type": "cancel", "asset": {"id": first["asset"]["id"]}}), 201)
        failed = _answer(writes.post(f"/requests/{second['id']}/fail", json={"reason": "no"}), 200)
        assert failed["status"] == "failed"
        spec.validate(failed, "POST /requests/{id}/fail", extensions=EXTENSIONS["request"])
        spec.validate(_answer(writes.get("/requests", params={"limit": 100}), 200), "GET /requests",
                      extensions=EXTENSIONS["request"])


class TestTierConfigRequests:
    def test_update_and_transitions(self, writes: httpx.Client, spec: ConnectSpec) -> None:
        """PUT answers the request (the spec's schema is dp.TierConfigRequestCreate; Connect answers the whole
        request, so the read fields are allowed too); approve answers {template, effective_date}; fail, inquire
        and pend answer 204 without a body."""
        read_fields = frozenset(spec.spec["components"]["schemas"]["dp.TierConfigRequestRead"]["properties"])
        pending = _answer(writes.get("/tier/config-requests", params={"status": "pending", "limit": 100}), 200)
        assert len(pending) >= 2
        first, second = pending[0]["id"], pending[1]["id"]
        updated = _answer(writes.put(f"/tier/config-requests/{first}", json={"params": [{"id": "mpn_id", "value_error": "bad"}]}),
                          200)
        spec.validate(updated, "PUT /tier/config-requests/{id}", extensions=read_fields | EXTENSIONS["tier_config_request"])
        for action in ("inquire", "pend"):
            assert spec.response_schema(f"POST /tier/config-requests/{{id}}/{action}", 204) is None
            assert _answer(writes.post(f"/tier/config-requests/{first}/{action}", json={}), 204) is None
        approved = _answer(writes.post(f"/tier/config-requests/{first}/approve", json={"template": {"id": "TL-100-000-002"}}),
                           200)
        spec.validate(approved, "POST /tier/config-requests/{id}/approve")
        assert approved["template"]["id"] == "TL-100-000-002"
        assert spec.response_schema("POST /tier/config-requests/{id}/fail", 204) is None
        assert _answer(writes.post(f"/tier/config-requests/{second}/fail", json={"reason": "no"}), 204) is None
        for request_id in (first, second):
            spec.validate(_answer(writes.get(f"/tier/config-requests/{request_id}"), 200), TCR,
                          extensions=EXTENSIONS["tier_config_request"])
        configuration = _answer(writes.get(f"/tier/config-requests/{first}"), 200)["configuration"]["id"]
        active = _answer(writes.get(f"/tier/configs/{configuration}"), 200)
        assert active["status"] == "active"
        spec.validate(active, "GET /tier/configs/{id}")


def test_deviations_are_needed(spec: ConnectSpec) -> None:
    """Each patched schema differs from the extract, so a deviation cannot silently become a no-op."""
    unpatched = ConnectSpec()
    for name in ("dp.Subscription", "dp.TierConfiguration", "dp.TierConfigurationDetail", "dp.TierConfigRequestRead",
                 "dp.ProductVersion", "dp.UIItem", "dp.Listing"):
        assert spec.spec["components"]["schemas"][name] != unpatched.spec["components"]["schemas"][name], name


def test_the_validator_rejects(spec: ConnectSpec) -> None:
    """A wrong type, a missing required field and a misspelt field each fail validation."""
    asset = {"id": "AS-1", "status": "active", "external_id": None, "external_uid": "u", "product": {"id": "PRD-1"},
             "connection": {"provider": {"id": "PA-1"}, "vendor": {"id": "VA-1"}, "hub": {"id": "HB-1"}},
             "params": [{"id": "p", "value": "v"}], "marketplace": {"id": "MP-1"}, "contract": {"id": "CRD-1"},
             "items": [{"id": "PRD-1-0001", "quantity": "1"}]}
    spec.validate(asset, "GET /assets/{id}")
    for broken in ({**asset, "status": "gone"}, {k: v for k, v in asset.items() if k != "marketplace"},
                   {**asset, "params": "p=v"}, {**asset, "extrnal_id": "x"}):
        with pytest.raises(AssertionError):
            spec.validate(broken, "GET /assets/{id}")
