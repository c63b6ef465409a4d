"""The sandbox refuses what the real platforms refuse: requests the spec does not allow, per endpoint family.

Each row is a request our clients could get wrong and the real platform would refuse (unknown path or method,
missing required field, wrong type, value outside an enum, a readOnly field sent). The spec gate answers it as
the platform does, 400 (404/405 for an unknown resource or method) in that platform's error shape, before any
route runs: nothing is created.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_fixtures import estate_raw

from m365move.demo.estate_generator import NCE_PRODUCT, generate_connect_section
from m365move.estate.loader import parse_estate_document
from m365move.sandbox.faults import Faults
from m365move.sandbox.server import SandboxServer, run_sandbox

BASIC = "Basic " + base64.b64encode(b"sandbox:sandbox").decode()
ORDER = {"type": "sales", "customerId": "2000001", "poNumber": "PO-1", "planId": "6001",
         "products": [{"mpn": "CFQ7TTC0LH18:0001", "quantity": 2}], "subscriptionPeriod": {"type": "year", "duration": 1}}
PURCHASE_ITEM = f"{NCE_PRODUCT}-0001"

# (family, method, path, query, body, status): Commerce SimpleAPI 1.15.
COMMERCE_REFUSALS: list[tuple[str, str, str, dict[str, str], Any, int]] = [
    ("orders: create", "POST", "/orders", {}, {k: v for k, v in ORDER.items() if k != "customerId"}, 400),
    ("orders: create", "POST", "/orders", {}, {**ORDER, "type": "upgrade"}, 400),
    ("orders: create", "POST", "/orders", {}, {**ORDER, "status": "completed"}, 400),
    ("orders: create", "POST", "/orders", {}, {**ORDER, "products": [{"mpn": "X", "quantity": "lots"}]}, 400),
    ("orders: create", "POST", "/orders", {}, {**ORDER, "subscriptionPeriod": {"type": "week", "duration": 1}}, 400),
    ("orders: create", "POST", "/orders", {}, {**ORDER, "autorenewal": "yes"}, 400),
    # Undeclared fields and filters (issue 28): a misspelt field or filter is refused, never ignored.
    ("orders: create", "POST", "/orders", {}, {**ORDER, "migrationProgam": "count_migration_billing_period"}, 400),
    ("orders: create", "POST", "/orders", {}, {**ORDER, "products": [{"mpn": "CFQ7TTC0LH18:0001", "quantty": 2}]}, 400),
    ("orders: create", "POST", "/orders", {}, {k: v for k, v in ORDER.items() if k != "subscriptionPeriod"}, 400),
    # estimateOrder (POST /orders/estimate): refused as the order would be; nothing is created either way.
    ("orders: estimate", "POST", "/orders/estimate", {}, {k: v for k, v in ORDER.items() if k != "customerId"}, 400),
    ("orders: estimate", "POST", "/orders/estimate", {}, {**ORDER, "type": "upgrade"}, 400),
    ("orders: estimate", "POST", "/orders/estimate", {}, {**ORDER, "total": {"amount": "1", "currency": "EUR"}}, 400),
    ("orders: estimate", "POST", "/orders/estimate", {}, {**ORDER, "products": [{"mpn": "X", "quantity": "lots"}]}, 400),
    ("orders: estimate", "POST", "/orders/estimate", {}, {**ORDER, "quantty": 2}, 400),
    ("orders: estimate", "POST", "/orders/estimate", {}, {**ORDER, "planId": "6999"}, 400),
    ("orders: estimate", "POST", "/orders/estimate", {}, {**ORDER, "customerId": "2999999"}, 400),
    ("orders: estimate", "POST", "/orders/estimate", {}, {k: v for k, v in ORDER.items() if k != "subscriptionPeriod"},
     400),
    ("orders: estimate", "POST", "/orders/estimate", {}, [ORDER], 400),
    ("orders: estimate", "GET", "/orders/estimate", {}, None, 405),
    ("orders: list", "GET", "/orders", {"custmerId": "2000001"}, None, 400),
    ("subscriptions", "GET", "/subscriptions", {"planid": "6001"}, None, 400),
    ("orders: list", "GET", "/orders", {"limit": "0"}, None, 400),
    ("orders: list", "GET", "/orders", {"offset": "-1"}, None, 400),
    ("orders: list", "GET", "/orders", {"creationTimeFrom": "yesterday"}, None, 400),
    ("orders: one", "DELETE", "/orders/8000001", {}, None, 405),
    ("orders: one", "GET", "/orders/8000001/cancel", {}, None, 404),
    ("orders: one", "PATCH", "/orders/8000001", {}, {"creditCheck": "maybe"}, 400),
    ("subscriptions", "GET", "/subscriptions", {"limit": "many"}, None, 400),
    ("subscriptions", "GET", "/subscriptions", {"offset": "-5"}, None, 400),
    ("subscriptions", "POST", "/subscriptions", {}, {}, 405),
    ("subscriptions", "GET", "/subscriptions/3000001/licenses", {}, None, 404),
    ("plans", "GET", "/plans", {"limit": "0"}, None, 400),
    ("plans", "GET", "/plans", {"offset": "first"}, None, 400),
    ("plans", "PUT", "/plans/5001", {}, {}, 405),
    ("accounts", "GET", "/customers", {"limit": "-1"}, None, 400),
    ("accounts", "POST", "/customers", {}, {"name": "No address"}, 400),
    ("accounts", "GET", "/resellers", {"offset": "x"}, None, 400),
    ("token", "POST", "/token", {}, {"marketplace": 7}, 400),
    ("token", "GET", "/token", {}, None, 405),
    ("token", "POST", "/token", {}, [], 400),
]

# (family, method, path, query, body, status): Connect OpenAPI 21.0, under /public/v1.
CONNECT_REFUSALS: list[tuple[str, str, str, dict[str, str], Any, int]] = [
    ("assets", "GET", "/assets", {"limit": "lots"}, None, 400),
    ("assets", "GET", "/assets", {"offset": "2.5"}, None, 400),
    ("assets", "POST", "/assets", {}, {}, 405),
    ("assets", "GET", "/assets/AS-0001/usage", {}, None, 404),
    ("requests: create", "POST", "/requests", {}, {"type": "refund", "asset": {"id": "AS-1"}}, 400),
    ("requests: create", "POST", "/requests", {},
     {"type": "purchase", "asset": {"product": {"id": NCE_PRODUCT}, "items": [{"id": PURCHASE_ITEM, "quantity": "3"}]}},
     400),
    ("requests: create", "POST", "/requests", {}, {"type": "cancel", "asset": {"id": 17}}, 400),
    ("requests: actions", "POST", "/requests/PR-1/approve", {}, {"template_id": 5}, 400),
    ("requests: actions", "POST", "/requests/PR-1/fail", {}, {"reason": ["no"]}, 400),
    ("requests: actions", "POST", "/requests/PR-1/purge", {}, {}, 404),
    ("tier config requests", "PUT", "/tier/config-requests/TCR-1", {}, {"params": "mpn_id=1"}, 400),
    ("tier config requests", "POST", "/tier/config-requests/TCR-1/fail", {}, {"reason": 42}, 400),
    ("tier config requests", "DELETE", "/tier/config-requests/TCR-1", {}, None, 405),
    ("catalog", "GET", "/products", {"limit": "0.5"}, None, 400),
    ("catalog", "GET", f"/products/{NCE_PRODUCT}/items", {"offset": "none"}, None, 400),
    ("catalog", "POST", "/listings", {}, {}, 405),
]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    raw = estate_raw() | generate_connect_section(3, 2, time_scale=60, pending_resellers=1)
    with run_sandbox(parse_estate_document(json.loads(json.dumps(raw)), "test"), Faults(order_processing_seconds=0)) as s:
        yield s


@pytest.fixture(scope="module")
def commerce(server: SandboxServer) -> Iterator[httpx.Client]:
    token = httpx.post(f"{server.url}/token", headers={"X-Subscription-Key": "sandbox", "Authorization": BASIC}).json()
    with httpx.Client(base_url=server.url, headers={"X-Subscription-Key": "sandbox",
                                                    "Authorization": f"Bearer {token['token']}"}) as client:
        yield client


@pytest.fixture(scope="module")
def connect(server: SandboxServer) -> Iterator[httpx.Client]:
    api_key = server.context.document.connect["api_key"]
    with httpx.Client(base_url=f"{server.url}/public/v1", headers={"Authorization": api_key}) as client:
        yield client


def _send(client: httpx.Client, method: str, path: str, query: dict[str, str], body: Any) -> httpx.Response:
    extra = {} if body is None else {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}
    if path == "/token":
        extra.setdefault("headers", {})["Authorization"] = BASIC
    return client.request(method, path, params=query, **extra)


@pytest.mark.parametrize(("family", "method", "path", "query", "body", "status"), COMMERCE_REFUSALS,
                         ids=[f"{r[0]}: {r[1]} {r[2]} {r[3] or ''}{json.dumps(r[4])[:40] if r[4] else ''}"
                              for r in COMMERCE_REFUSALS])
def test_commerce_refuses(commerce: httpx.Client, server: SandboxServer, family: str, method: str, path: str,
                          query: dict[str, str], body: Any, status: int) -> None:
    """SimpleAPI's answer: the status, and its error body {code, message} saying what is wrong."""
    orders_before = server.context.commerce.list_orders(0, 1).total
    response = _send(commerce, method, path, query, body)
    assert response.status_code == status, response.text
    error = response.json()
    assert set(error) == {"code", "message"} and error["code"] and error["message"]
    assert server.context.commerce.list_orders(0, 1).total == orders_before


@pytest.mark.parametrize(("family", "method", "path", "query", "body", "status"), CONNECT_REFUSALS,
                         ids=[f"{r[0]}: {r[1]} {r[2]} {r[3] or ''}{json.dumps(r[4])[:40] if r[4] else ''}"
                              for r in CONNECT_REFUSALS])
def test_connect_refuses(connect: httpx.Client, family: str, method: str, path: str, query: dict[str, str], body: Any,
                         status: int) -> None:
    """Connect's answer: the status, and its error body {error_code, errors[]}."""
    response = _send(connect, method, path, query, body)
    assert response.status_code == status, response.text
    error = response.json()
    assert set(error) == {"error_code", "errors"} and error["error_code"] and error["errors"]


@pytest.mark.parametrize("refusals", [COMMERCE_REFUSALS, CONNECT_REFUSALS], ids=["commerce", "connect"])
def test_at_least_three_refusals_per_family(refusals: list[tuple[str, str, str, dict[str, str], Any, int]]) -> None:
    families: dict[str, int] = {}
    for family, *_ in refusals:
        families[family] = families.get(family, 0) + 1
    assert all(count >= 3 for count in families.values()), families


def test_a_valid_request_still_passes(commerce: httpx.Client) -> None:
    """The gate is not a wall: the same endpoints answer a request the spec allows."""
    assert commerce.get("/orders", params={"limit": 1, "creationTimeFrom": "2019-12-11T17:32:28Z"}).status_code == 200
    assert commerce.post("/orders", json=ORDER).status_code == 201
    # Allowed shapes are remembered; a value that breaks the spec in the same shape is still refused.
    for _ in range(2):
        assert commerce.get("/orders", params={"limit": 5, "customerId": "2000001"}).status_code == 200
    assert commerce.get("/orders", params={"limit": 0, "customerId": "2000001"}).status_code == 400
    assert commerce.get("/orders", params={"limit": 5, "customerId": "anything at all"}).status_code == 200


@pytest.mark.parametrize("path", ["/orders", "/public/v1/requests"])
def test_a_body_that_is_not_utf8_is_a_400_not_a_500(server: SandboxServer, path: str) -> None:
    answer = httpx.post(f"{server.url}{path}", content=b'{"type": "sales\xff"}',
                        headers={"Content-Type": "application/json", "X-Subscription-Key": "sandbox",
                                 "Authorization": "Bearer x"}, timeout=30)
    assert answer.status_code == 400 and "not UTF-8" in answer.text
