"""The client under faults: retries, Retry-After, uncertain order placement, authentication, unreachable hosts."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from client_fixtures import RecordingSleep, make_client
from sandbox_fixtures import estate_document

from m365move.commerce import (
    CommerceCredentials,
    CommerceUnavailable,
    OrderPlacementUncertain,
    OrderRequest,
    RetryPolicy,
    SimpleApiClient,
)
from m365move.domain.period import Period
from m365move.errors import AuthenticationError, PlatformError
from m365move.sandbox.faults import Faults
from m365move.sandbox.server import SandboxServer, run_sandbox


def _faults(server: SandboxServer, **values: object) -> None:
    assert httpx.put(f"{server.url}/_sandbox/faults", auth=server.admin_auth,
                     json={"order_processing_seconds": 0, **values}).status_code == 200


def _cancel(po: str = "M365MOVE-NS-3000001-cancellation-SOURCE") -> OrderRequest:
    return OrderRequest.cancellation(customer_id="2000001", po_number=po, subscription_id="3000001")


class TestRetries:
    def test_429_waits_at_least_retry_after(self, sandbox: SandboxServer, sleep: RecordingSleep) -> None:
        """Two 429s with Retry-After 3: the client waits >= 3 s twice (recorded, not slept) and then succeeds."""
        with make_client(sandbox, sleep) as client:
            client.list_resellers()  # token first, so the faults hit the call under test
            _faults(sandbox, rate_429=1.0, retry_after_seconds=3, max_injected=2)
            assert len(client.list_plans()) == 5
            assert client.stats.throttled == 2 and client.stats.retries == 2
        assert len(sleep.calls) == 2 and all(3 <= s < 4 for s in sleep.calls)

    def test_5xx_retried(self, sandbox: SandboxServer, sleep: RecordingSleep) -> None:
        with make_client(sandbox, sleep) as client:
            client.list_resellers()
            _faults(sandbox, rate_5xx=1.0, max_injected=3)
            assert client.get_subscription("3000001").plan_id == 5001
            assert client.stats.server_errors == 3
        assert sandbox.context.stats.snapshot()["requests"]["GET /subscriptions/{id}"] == 4

    def test_gives_up_after_max_retries(self, sandbox: SandboxServer, sleep: RecordingSleep) -> None:
        with make_client(sandbox, sleep) as client:
            client.list_resellers()
            _faults(sandbox, rate_5xx=1.0)
            with pytest.raises(CommerceUnavailable, match="503 after 4 attempts"):
                client.get_plan(5001)
        assert len(sleep.calls) == 3

    def test_dropped_connection_on_get_retried(self, sandbox: SandboxServer, sleep: RecordingSleep) -> None:
        with make_client(sandbox, sleep) as client:
            client.list_resellers()
            _faults(sandbox, rate_drop=1.0, max_injected=1)
            assert client.get_plan(5001).id == 5001
            assert client.stats.transport_errors == 1 and client.stats.retries == 1

    def test_dropped_connection_on_post_orders_is_uncertain(self, sandbox: SandboxServer) -> None:
        """The order was taken but the answer lost: no blind retry, OrderPlacementUncertain names the key,
        and the platform holds exactly one order with it."""
        with make_client(sandbox) as client:
            client.list_resellers()
            _faults(sandbox, rate_drop=1.0, apply_to=["POST /orders"])
            with pytest.raises(OrderPlacementUncertain) as caught:
                client.place_order(_cancel())
            assert caught.value.po_number == "M365MOVE-NS-3000001-cancellation-SOURCE"
            assert sandbox.context.stats.snapshot()["requests"]["POST /orders"] == 1
            found = client.find_orders(customer_id="2000001", po_number=caught.value.po_number)
            assert len(found) == 1

    def test_read_timeout_on_post_orders_is_uncertain(self, sandbox: SandboxServer) -> None:
        """A timeout after sending may hide a created order (the sandbox creates it after the client gave up)."""
        with make_client(sandbox, timeout=0.2) as client:
            client.list_resellers()
            _faults(sandbox, latency_ms=500)
            with pytest.raises(OrderPlacementUncertain, match="timed out"):
                client.place_order(_cancel())
            _faults(sandbox)
            time.sleep(0.5)
            assert len(client.find_orders(customer_id="2000001", po_number=_cancel().po_number)) == 1

    def test_429_on_post_orders_retried_once_placed(self, sandbox: SandboxServer, sleep: RecordingSleep) -> None:
        """A 429 is answered before processing, so the order is resent, and exists once."""
        with make_client(sandbox, sleep) as client:
            client.list_resellers()
            _faults(sandbox, rate_429=1.0, max_injected=1, apply_to=["POST /orders"])
            placed = client.place_order(_cancel())
            assert [o.id for o in client.find_orders(customer_id="2000001", po_number=_cancel().po_number)] == [placed.id]

    def test_500_on_post_orders_is_uncertain(self, sandbox: SandboxServer) -> None:
        transport = httpx.MockTransport(
            lambda r: (
                httpx.Response(200, json={"token": "t", "expiresInSeconds": 600})
                if r.url.path == "/token"
                else httpx.Response(500)
            )
        )
        with (
            SimpleApiClient(
                "http://commerce.invalid", CommerceCredentials.sandbox(), transport=transport, rate_limit_per_second=None
            ) as client,
            pytest.raises(OrderPlacementUncertain),
        ):
            client.place_order(_cancel())


class TestAuthentication:
    def test_wrong_password(self, sandbox: SandboxServer) -> None:
        wrong = CommerceCredentials("sandbox", "nope", "sandbox")
        expected = "refused the credentials of user 'sandbox'"
        with (
            SimpleApiClient(sandbox.url, wrong, rate_limit_per_second=None) as client,
            pytest.raises(AuthenticationError, match=expected) as caught,
        ):
            client.list_plans()
        assert "nope" not in str(caught.value)

    def test_wrong_subscription_key(self, sandbox: SandboxServer) -> None:
        with (
            SimpleApiClient(
                sandbox.url, CommerceCredentials.sandbox(), subscription_key="bad", rate_limit_per_second=None
            ) as client,
            pytest.raises(AuthenticationError),
        ):
            client.list_plans()

    def test_token_requested_once_for_many_calls(self, client: SimpleApiClient) -> None:
        for _ in range(5):
            client.get_plan(5001)
        assert client.stats.token_requests == 1


class TestUnreachable:
    def test_connection_refused_is_a_clear_platform_error(self, sleep: RecordingSleep) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        with (
            SimpleApiClient(
                url,
                CommerceCredentials.sandbox(),
                rate_limit_per_second=None,
                sleep=sleep,
                retry_policy=RetryPolicy(max_retries=2),
            ) as client,
            pytest.raises(PlatformError) as caught,
        ):
            client.list_plans()
        message = str(caught.value)
        assert url in message and "connection refused" in message and "running" in message
        assert "\n" not in message and len(sleep.calls) == 2


class TestRestart:
    def test_restart_on_same_state_file_keeps_orders_and_subscriptions(self, tmp_path: Path) -> None:
        """A sandbox restarted on its state file (same port) still has the orders and subscriptions; the
        client's token is unknown to the new process, so it renews it once and carries on."""
        state = tmp_path / "sandbox-state.json"
        faults = Faults(order_processing_seconds=0)
        with run_sandbox(estate_document(), faults, state_file=state) as first:
            port = int(first.url.rsplit(":", 1)[1])
            client = make_client(first)
            sales = client.place_order(
                OrderRequest.sales(
                    customer_id="2000001",
                    po_number="M365MOVE-NS-3000001-sales-K",
                    plan_id=6001,
                    mpn="CFQ7TTC0LH18:0001",
                    quantity=4,
                    subscription_period=Period(1, "year"),
                )
            )
            created = client.get_order(sales.id).subscription_id
            assert created
        with run_sandbox(estate_document(), faults, state_file=state, port=port):
            again = client.find_orders(customer_id="2000001", po_number="M365MOVE-NS-3000001-sales-K")
            assert [(o.id, o.status, o.subscription_id) for o in again] == [(sales.id, "completed", created)]
            assert client.get_subscription(created).products[0].quantity == 4
            assert client.stats.token_requests == 2
        client.close()
