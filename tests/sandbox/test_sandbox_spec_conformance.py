"""The sandbox's SimpleAPI answers validate against the spec's schemas, and authentication works as specified."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from spec_validation import validate

from m365move.sandbox.server import SandboxServer

BASIC = "Basic " + base64.b64encode(b"sandbox:sandbox").decode()


def _client(server: SandboxServer) -> httpx.Client:
    token = httpx.post(f"{server.url}/token", headers={"X-Subscription-Key": "sandbox", "Authorization": BASIC}, json={}).json()[
        "token"
    ]
    return httpx.Client(base_url=server.url, headers={"X-Subscription-Key": "sandbox", "Authorization": f"Bearer {token}"})


def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


class TestResponsesMatchTheSpec:
    def test_token(self, shared_sandbox: SandboxServer) -> None:
        """POST /token answers a TokenInfo."""
        body = _ok(httpx.post(f"{shared_sandbox.url}/token", headers={"X-Subscription-Key": "sandbox", "Authorization": BASIC}))
        validate(body, "TokenInfo")
        assert body["expiresInSeconds"] > 0

    @pytest.mark.parametrize(
        ("path", "schema"),
        [
            ("/resellers", "ResultListReseller"),
            ("/customers", "ResultListCustomer"),
            ("/plans", "ResultListServicePlan"),
            ("/plans/5002", "ServicePlanDetailed"),
            ("/subscriptions?limit=50", "ResultListSubscription"),
            ("/subscriptions/3000002", "SubscriptionDetailed"),
            ("/orders", "ResultListOrder"),
            ("/orders/8000001", "OrderDetailed"),
        ],
    )
    def test_reads(self, shared_sandbox: SandboxServer, path: str, schema: str) -> None:
        """Every read the client makes answers the spec's schema."""
        with _client(shared_sandbox) as client:
            validate(_ok(client.get(path)), schema)

    def test_orders_of_every_kind(self, sandbox: SandboxServer) -> None:
        """POST /orders and GET /orders/{id} answer OrderDetailed for all four kinds, before and after completion."""
        bodies = [
            {
                "type": "sales",
                "customerId": "2000001",
                "poNumber": "PO-S",
                "planId": "6001",
                "products": [{"mpn": "CFQ7TTC0LH18:0001", "quantity": 2, "subscriptionPeriod": {"type": "year", "duration": 1}}],
            },
            {
                "type": "change",
                "customerId": "2000001",
                "poNumber": "PO-C",
                "subscriptionId": "3000002",
                "planId": "6002",
                "upgradeStartType": "from_old_start_date",
            },
            {
                "type": "migration",
                "customerId": "2000001",
                "poNumber": "PO-M",
                "planId": "6003",
                "startDate": "2026-01-15",
                "expirationDate": "2027-01-15",
                "migrationProgram": "count_migration_billing_period",
                "migrationDate": "2026-06-01",
                "autorenewal": True,
                "subscriptionPeriod": {"type": "year", "duration": 1},
                "products": [{"mpn": "CFQ7TTC0LH1G:0001", "quantity": 5}],
            },
            {"type": "cancellation", "customerId": "2000001", "poNumber": "PO-X", "subscriptionId": "3000001"},
        ]
        with _client(sandbox) as client:
            for body in bodies:
                placed = _ok(client.post("/orders", json=body))
                validate(placed, "OrderDetailed")
                assert placed["status"] == "submitted"
                done = _ok(client.get(f"/orders/{placed['id']}"))
                validate(done, "OrderDetailed")
                assert done["status"] == "completed", done
            listed = _ok(client.get("/orders?customerId=2000001"))
            validate(listed, "ResultListOrder")
            validate(_ok(client.get("/subscriptions?customerId=2000001")), "ResultListSubscription")
            # List items carry the spec's ``details`` (what was ordered), the same as the order read by id.
            for item in listed["data"]:
                assert "subscriptionId" not in item and "products" not in item
                assert item["details"] == _ok(client.get(f"/orders/{item['id']}"))["details"]
            sales = next(item for item in listed["data"] if item["poNumber"] == "PO-S")
            assert sales["details"] == [{"type": "setup", "mpn": "CFQ7TTC0LH18:0001", "quantity": 2}]

    def test_validator_catches_a_wrong_shape(self) -> None:
        """The check itself can fail: a plan id as a number and an unknown field are both caught."""
        with pytest.raises(Exception, match="not of type 'string'"):
            validate({"id": 5001}, "ServicePlan")
        with pytest.raises(AssertionError, match="planID"):
            validate({"id": "5001", "planID": 1}, "SubscriptionDetailed")


class TestAuthentication:
    @pytest.mark.parametrize(
        "headers",
        [
            {"X-Subscription-Key": "sandbox", "Authorization": "Basic " + base64.b64encode(b"sandbox:nope").decode()},
            {"X-Subscription-Key": "wrong", "Authorization": BASIC},
            {"Authorization": BASIC},
        ],
    )
    def test_token_refused(self, shared_sandbox: SandboxServer, headers: dict[str, str]) -> None:
        """Wrong password or subscription key: 401, no token."""
        response = httpx.post(f"{shared_sandbox.url}/token", headers=headers)
        assert response.status_code == 401
        assert "token" not in response.json()

    def test_api_needs_bearer_and_key(self, shared_sandbox: SandboxServer) -> None:
        """Without a valid bearer token or with a wrong key every API call is 401."""
        with _client(shared_sandbox) as client:
            assert client.get("/plans").status_code == 200
            assert client.get("/plans", headers={"X-Subscription-Key": "wrong"}).status_code == 401
            assert client.get("/plans", headers={"Authorization": "Bearer made-up"}).status_code == 401

    def test_correlation_id_echoed_or_made(self, shared_sandbox: SandboxServer) -> None:
        """A sent X-Correlation-ID comes back; without one the sandbox makes one."""
        with _client(shared_sandbox) as client:
            assert client.get("/plans", headers={"X-Correlation-ID": "abc-123"}).headers["X-Correlation-ID"] == "abc-123"
            assert len(client.get("/plans").headers["X-Correlation-ID"]) >= 32


class TestPagination:
    def test_offset_limit_total(self, shared_sandbox: SandboxServer) -> None:
        """Pages follow offset/limit and report the total; the default limit is the spec's 10."""
        with _client(shared_sandbox) as client:
            first = _ok(client.get("/subscriptions"))
            assert first["pagination"] == {"offset": 0, "limit": 10, "total": 28}
            last = _ok(client.get("/subscriptions", params={"offset": 25, "limit": 10}))
            assert len(last["data"]) == 3
            ids = {s["id"] for o in range(0, 28, 7) for s in _ok(client.get(f"/subscriptions?offset={o}&limit=7"))["data"]}
            assert len(ids) == 28

    def test_bad_paging_is_400(self, shared_sandbox: SandboxServer) -> None:
        with _client(shared_sandbox) as client:
            assert client.get("/plans?limit=0").status_code == 400
            assert client.get("/plans?offset=x").status_code == 400
