"""A JSON body nested thousands deep is malformed input: every platform refuses it with 400, none answers 500.

Python's JSON decoder raises ``RecursionError`` (not ``ValueError``) on such bodies, so each place that parses a
request body, and the spec gate in front of them, must treat it as a bad request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from m365move.demo.estate_generator import generate_connect_section
from m365move.estate.schema import estate_document
from m365move.sandbox.app import build_sandbox_app
from m365move.sandbox.auth import ADMIN_AUTH

DEEP = 100_000
DEEP_BODY = ("[" * DEEP + "]" * DEEP).encode()
CONNECT_KEY = {"Authorization": "ApiKey SU-000-000-000:sandbox"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[TestClient, dict[str, object]]]:
    section = generate_connect_section(5, 2, ineligible_share=0.0, unmapped_share=0.0)
    document = estate_document(json.loads(json.dumps({"version": 1, **section})))
    with TestClient(build_sandbox_app(document), raise_server_exceptions=False) as client:
        yield client, section


def _commerce_headers(client: TestClient) -> dict[str, str]:
    key = {"X-Subscription-Key": "sandbox"}
    token = client.post("/token", auth=ADMIN_AUTH, headers=key).json()["token"]
    return {**key, "Authorization": f"Bearer {token}"}


def _partner_center_headers(client: TestClient, section: dict[str, object]) -> dict[str, str]:
    pc = section["partner_center"]
    assert isinstance(pc, dict)
    form = {"grant_type": "client_credentials", **pc["credentials"]}
    token = client.post("/partnercenter/oauth2/token", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _post(client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, str]:
    response = client.post(path, content=DEEP_BODY, headers={**headers, "Content-Type": "application/json"})
    return response.status_code, response.text


def test_connect_refuses_a_deeply_nested_body(sandbox: tuple[TestClient, dict[str, object]]) -> None:
    client, _ = sandbox
    status, text = _post(client, "/public/v1/requests", CONNECT_KEY)
    assert status == 400 and "nested too deeply" in text


def test_commerce_refuses_a_deeply_nested_order(sandbox: tuple[TestClient, dict[str, object]]) -> None:
    client, _ = sandbox
    status, text = _post(client, "/orders", _commerce_headers(client))
    assert status == 400 and "nested too deeply" in text


@pytest.mark.parametrize("path", ["/partnercenter/v1/customers/{tenant}/migrations/newcommerce",
                                  "/partnercenter/v1/customers/{tenant}/migrations/newcommerce/validate",
                                  "/partnercenter/v1/customers/{tenant}/migrations/newcommerce/schedules"])
def test_partner_center_refuses_a_deeply_nested_body(sandbox: tuple[TestClient, dict[str, object]], path: str) -> None:
    client, section = sandbox
    pc = section["partner_center"]
    assert isinstance(pc, dict)
    tenant = pc["customers"][0]["tenant_id"]
    status, text = _post(client, path.format(tenant=tenant), _partner_center_headers(client, section))
    assert status == 400 and "nested too deeply" in text
