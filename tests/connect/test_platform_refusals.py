"""What the real platforms refuse, the sandbox refuses, in each platform's own error shape (issue 10).

Connect answers ``{"error_code", "errors": [...]}``; Partner Center ``{"code": <int>, "description"}``; Graph
``{"error": {"code", "message"}}``. One table per endpoint family, each row a request the platform refuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from m365move.demo.estate_generator import generate_connect_section
from m365move.estate.schema import estate_document
from m365move.sandbox.app import build_sandbox_app

GRAPH_TOKEN = "graph-token-for-tests"
API_KEY = "ApiKey SU-000-000-000:sandbox"
LEGACY_FIELDS = ("currentSubscriptionId", "termDuration", "billingCycle", "quantity")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[TestClient, dict[str, Any]]]:
    section = generate_connect_section(3, 4, ineligible_share=0.0, unmapped_share=0.0)
    section["call2teams"] = {"graph_token": GRAPH_TOKEN, "graph_page_size": 100,
                             "tenants": [{"id": "t-1", "name": "Contoso",
                                          "domains": [{"id": "a.onmicrosoft.com"}, {"id": "b.example"},
                                                      {"id": "c.example"}]}]}
    document = estate_document(json.loads(json.dumps({"version": 1, **section})))
    with TestClient(build_sandbox_app(document)) as client:
        yield client, section


def _connect(client: TestClient, method: str, path: str, body: Any = None) -> Any:
    return client.request(method, f"/public/v1/{path}", headers={"Authorization": API_KEY}, json=body)


def _purchase(section: dict[str, Any], **change: Any) -> dict[str, Any]:
    connect = section["connect"]
    nce = next(p for p in connect["products"] if p["id"] == "PRD-200-000-001")
    body: dict[str, Any] = {"type": "purchase", "marketplace": {"id": "MP-00001"},
                            "asset": {"external_id": "AS-X", "external_uid": "0b7c9a52-6d1e-5d0e-9d5b-4f0c1d2e3f40",
                                      "product": {"id": nce["id"]}, "connection": {"id": "CT-200-000-001"},
                                      "items": [{"id": nce["items"][0]["id"], "quantity": 3}], "params": []}}
    for key, value in change.items():
        body["asset"][key] = value
    return body


CONNECT_REFUSALS = [
    # (what, method, path, body or callable(section) -> body, message fragment)
    ("ordering by id on assets", "GET", "assets?ordering(id)", None, "Bad ordering filter: id."),
    ("ordering by a field the spec does not order", "GET", "requests?ordering(-asset.id)", None,
     "Bad ordering filter: asset.id."),
    ("two orderings", "GET", "requests?ordering(created)&ordering(updated)", None, "only one ordering"),
    ("an undeclared filter field", "GET", "assets?eq(colour,blue)", None, "Bad filter: colour."),
    ("a lookup the filter does not declare", "GET", "assets?ge(updated,2026-01-01T00:00:00)", None,
     "Lookup ge not available for filter updated."),
    ("a query that is not RQL", "GET", "assets?and(eq(status,active)", None, "Bad filter query."),
    ("a purchase on the CSP asset's connection", "POST", "requests",
     lambda s: _purchase(s, connection=s["connect"]["assets"][0]["connection"]), "is not a connection of product"),
    ("a purchase without a connection", "POST", "requests", lambda s: _purchase(s, connection=None), "connection"),
    ("a quantity as text", "POST", "requests",
     lambda s: _purchase(s, items=[{"id": _purchase(s)["asset"]["items"][0]["id"], "quantity": "3"}]), "quantity"),
]


@pytest.mark.parametrize(("what", "method", "path", "body", "message"), CONNECT_REFUSALS,
                         ids=[row[0] for row in CONNECT_REFUSALS])
def test_connect_refuses(sandbox: tuple[TestClient, dict[str, Any]], what: str, method: str, path: str, body: Any,
                         message: str) -> None:
    client, section = sandbox
    answer = _connect(client, method, path, body(section) if callable(body) else body)
    assert answer.status_code == 400, answer.text
    payload = answer.json()
    assert set(payload) == {"error_code", "errors"} and isinstance(payload["errors"], list)
    assert any(message in error for error in payload["errors"]), payload


def test_connect_paging_is_connects(sandbox: tuple[TestClient, dict[str, Any]]) -> None:
    """limit is cut at 1000, a bad limit is the default, limit=0 answers the count only; Content-Range says so."""
    client, _ = sandbox
    answer = _connect(client, "GET", "assets?limit=5000")
    assert answer.status_code == 200 and answer.headers["Content-Range"] == "items 0-3/4"
    answer = _connect(client, "GET", "assets?limit=0")
    assert answer.json() == [] and answer.headers["Content-Range"] == "items 0-0/4"
    answer = _connect(client, "GET", "assets?ordering(-created)&limit=2&offset=1")
    assert len(answer.json()) == 2 and answer.headers["Content-Range"] == "items 1-2/4"


def test_connect_declared_filters_work(sandbox: tuple[TestClient, dict[str, Any]]) -> None:
    client, section = sandbox
    first = section["connect"]["assets"][0]["id"]
    answer = _connect(client, "GET", f"assets?and(eq(status,active),in(id,({first},AS-NONE)))&ordering(created)")
    assert [a["id"] for a in answer.json()] == [first]
    answer = _connect(client, "GET", "assets?gt(updated,2000-01-01T00:00:00)&eq(product.id,PRD-100-000-001)")
    assert len(answer.json()) == 4


def _pc_token(client: TestClient, section: dict[str, Any]) -> str:
    credentials = section["partner_center"]["credentials"]
    answer = client.post("/partnercenter/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": credentials["client_id"],
        "client_secret": credentials["client_secret"]})
    return str(answer.json()["access_token"])


def _create_body(section: dict[str, Any], **change: Any) -> dict[str, Any]:
    subscription = section["partner_center"]["customers"][0]["subscriptions"][0]["id"]
    return {"currentSubscriptionId": subscription, "termDuration": "P1Y", "billingCycle": "Monthly",
            "quantity": 2, "purchaseFullTerm": False, "addOnMigrations": [], **change}


PARTNER_CENTER_REFUSALS = [
    ("a term Microsoft does not sell", "POST", "create", {"termDuration": "P7Y"}, 400, "termDuration"),
    ("a billing cycle Microsoft does not bill", "POST", "create", {"billingCycle": "Weekly"}, 400, "billingCycle"),
    ("Triennial billing of a one-year term", "POST", "create", {"billingCycle": "Triennial"}, 400, "not offered"),
    ("a quantity that is not a number", "POST", "create", {"quantity": "lots"}, 400, "quantity"),
    ("no legacy subscription", "POST", "create", {"currentSubscriptionId": None}, 400, "currentSubscriptionId"),
    ("a list call with no filter", "GET", "/partnercenter/v1/migrations/newcommerce", None, 400, "CustomerTenantId"),
    ("a continuation token the service never issued", "GET",
     "/partnercenter/v1/migrations/newcommerce?CustomerTenantId=x", "bad-token", 400, "MS-ContinuationToken"),
    ("no token", "POST", "create", "no-auth", 401, "token"),
]


@pytest.mark.parametrize(("what", "method", "path", "change", "status", "message"), PARTNER_CENTER_REFUSALS,
                         ids=[row[0] for row in PARTNER_CENTER_REFUSALS])
def test_partner_center_refuses(sandbox: tuple[TestClient, dict[str, Any]], what: str, method: str, path: str,
                                change: Any, status: int, message: str) -> None:
    client, section = sandbox
    headers = {"Authorization": f"Bearer {_pc_token(client, section)}"}
    tenant = section["partner_center"]["customers"][0]["tenant_id"]
    if change == "no-auth":
        headers = {}
    if change == "bad-token":
        headers["MS-ContinuationToken"] = "%%%"
    if path == "create":
        body = _create_body(section, **(change if isinstance(change, dict) else {}))
        answer = client.post(f"/partnercenter/v1/customers/{tenant}/migrations/newcommerce", json=body, headers=headers)
    else:
        answer = client.request(method, path, headers=headers)
    assert answer.status_code == status, answer.text
    payload = answer.json()
    assert set(payload) == {"code", "description"} and isinstance(payload["code"], int)
    assert message in payload["description"]


def test_partner_center_list_is_a_bare_array_paged_by_continuation_token() -> None:
    section = generate_connect_section(3, 4, ineligible_share=0.0, unmapped_share=0.0, microsoft_led=0)
    tenant = section["partner_center"]["customers"][0]["tenant_id"]
    section["partner_center"]["list_page_size"] = 2
    section["partner_center"]["migrations"] = [
        {"id": f"m-{n}", "currentSubscriptionId": f"s-{n}", "customerTenantId": tenant, "status": "Completed"}
        for n in range(5)]
    document = estate_document(json.loads(json.dumps({"version": 1, **section})))
    with TestClient(build_sandbox_app(document)) as client:
        headers = {"Authorization": f"Bearer {_pc_token(client, section)}"}
        seen: list[str] = []
        pages = 0
        while True:
            answer = client.get("/partnercenter/v1/migrations/newcommerce", params={"CustomerTenantId": tenant},
                                headers=headers)
            assert isinstance(answer.json(), list) and len(answer.json()) <= 2
            seen += [m["id"] for m in answer.json()]
            pages += 1
            token = answer.headers.get("MS-ContinuationToken")
            if not token:
                break
            headers["MS-ContinuationToken"] = token
        assert seen == [f"m-{n}" for n in range(5)] and pages == 3


GRAPH_REFUSALS = [
    ("no token", {}, "/v1.0/domains", 401, "InvalidAuthenticationToken"),
    ("a token Entra ID never issued", {"Authorization": "Bearer forged"}, "/v1.0/domains", 401,
     "InvalidAuthenticationToken"),
    ("a Basic credential", {"Authorization": "Basic dXNlcjpwYXNz"}, "/v1.0/domains", 401, "InvalidAuthenticationToken"),
    ("$top that is not a number", {"Authorization": f"Bearer {GRAPH_TOKEN}"}, "/v1.0/domains?$top=all", 400,
     "Request_BadRequest"),
    ("$top of zero", {"Authorization": f"Bearer {GRAPH_TOKEN}"}, "/v1.0/domains?$top=0", 400, "Request_BadRequest"),
    ("an unknown domain", {"Authorization": f"Bearer {GRAPH_TOKEN}"}, "/v1.0/domains/nope.example/domainNameReferences",
     404, "Request_ResourceNotFound"),
]


@pytest.mark.parametrize(("what", "headers", "path", "status", "code"), GRAPH_REFUSALS,
                         ids=[row[0] for row in GRAPH_REFUSALS])
def test_graph_refuses(sandbox: tuple[TestClient, dict[str, Any]], what: str, headers: dict[str, str], path: str,
                       status: int, code: str) -> None:
    client, _ = sandbox
    answer = client.get(path, headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code and answer.json()["error"]["message"]


def test_graph_honours_top(sandbox: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = sandbox
    answer = client.get("/v1.0/domains?$top=2", headers={"Authorization": f"Bearer {GRAPH_TOKEN}"})
    body = answer.json()
    assert [d["id"] for d in body["value"]] == ["a.onmicrosoft.com", "b.example"] and "top=2" in body["@odata.nextLink"]
