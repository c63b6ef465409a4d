"""The sandbox's admin routes ask for its credentials, every route caps body size, the clock stays finite."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from sandbox_fixtures import estate_document

from m365move.sandbox.admin_routes import MAX_ADVANCE_SECONDS
from m365move.sandbox.auth import ADMIN_AUTH, SandboxCredentials
from m365move.sandbox.body_limit import MAX_BODY_BYTES
from m365move.sandbox.faults import Faults
from m365move.sandbox.server import SandboxServer, run_sandbox

ADMIN_ROUTES = [("GET", "/_sandbox/faults"), ("PUT", "/_sandbox/faults"), ("GET", "/_sandbox/stats"),
                ("POST", "/_sandbox/reset-stats"), ("GET", "/_sandbox/state"), ("POST", "/_sandbox/advance")]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with run_sandbox(estate_document(), Faults(order_processing_seconds=0)) as running:
        yield running


class TestAdminCredentials:
    @pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
    @pytest.mark.parametrize("auth", [None, ("sandbox", "wrong"), ("other", "sandbox")], ids=["none", "password", "user"])
    def test_refused_without_the_sandbox_credentials(
        self, server: SandboxServer, method: str, path: str, auth: tuple[str, str] | None
    ) -> None:
        before = httpx.get(f"{server.url}/_sandbox/faults", auth=ADMIN_AUTH).json()
        response = httpx.request(method, f"{server.url}{path}", json={"rate_5xx": 1.0, "seconds": 3600}, auth=auth)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Basic")
        assert httpx.get(f"{server.url}/_sandbox/faults", auth=ADMIN_AUTH).json() == before

    def test_bearer_tokens_of_the_api_do_not_open_admin(self, server: SandboxServer) -> None:
        key = {"X-Subscription-Key": "sandbox"}
        token = httpx.post(f"{server.url}/token", auth=ADMIN_AUTH, headers=key).json()["token"]
        bearer = {**key, "Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.url}/plans", headers=bearer).status_code == 200
        assert httpx.get(f"{server.url}/_sandbox/state", headers=bearer).status_code == 401

    @pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
    def test_accepted_with_them(self, server: SandboxServer, method: str, path: str) -> None:
        body = {} if path.endswith("faults") else {"seconds": 0}
        assert httpx.request(method, f"{server.url}{path}", json=body, auth=ADMIN_AUTH).status_code == 200

    def test_custom_credentials_are_the_admin_ones(self) -> None:
        credentials = SandboxCredentials(user="ops", password="s3cret", subscription_key="k")
        with run_sandbox(estate_document(), credentials=credentials) as custom:
            assert httpx.get(f"{custom.url}/_sandbox/stats", auth=ADMIN_AUTH).status_code == 401
            assert httpx.get(f"{custom.url}/_sandbox/stats", auth=("ops", "s3cret")).status_code == 200


class TestBodySize:
    @pytest.mark.parametrize("path", ["/token", "/orders", "/public/v1/requests", "/_sandbox/faults", "/nowhere"])
    def test_an_oversized_body_gets_413_on_every_route(self, server: SandboxServer, path: str) -> None:
        response = httpx.post(f"{server.url}{path}", content=b"{" + b" " * MAX_BODY_BYTES + b"}", auth=ADMIN_AUTH)
        assert response.status_code == 413 and response.json()["code"] == "payload-too-large"

    def test_a_streamed_body_without_length_is_cut_at_the_cap(self, server: SandboxServer) -> None:
        def chunks() -> Iterator[bytes]:
            for _ in range(64):
                yield b" " * (MAX_BODY_BYTES // 32)

        response = httpx.post(f"{server.url}/orders", content=chunks())
        assert response.status_code == 413

    def test_a_declared_gigabyte_is_refused_before_it_is_sent(self, server: SandboxServer) -> None:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 1073741824\r\n\r\n{")
            answer = connection.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413")

    def test_bodies_under_the_cap_still_reach_the_routes(self, server: SandboxServer) -> None:
        padded = {"rate_5xx": 0.0, "apply_to": [], "error_subscriptions": ["x" * 1000] * 100}
        assert httpx.put(f"{server.url}/_sandbox/faults", json=padded, auth=ADMIN_AUTH).status_code == 200
        httpx.put(f"{server.url}/_sandbox/faults", json={"order_processing_seconds": 0}, auth=ADMIN_AUTH)


class TestClock:
    @pytest.mark.parametrize("body", [b'{"seconds": NaN}', b'{"seconds": Infinity}', b'{"seconds": -Infinity}',
                                      b'{"seconds": 1e400}', b'{"seconds": -5}', b'{"seconds": "nan"}',
                                      f'{{"seconds": {MAX_ADVANCE_SECONDS * 2}}}'.encode(), b'{"seconds": [1]}',
                                      b"[" * 5000 + b"]" * 5000])
    def test_non_finite_or_backward_clock_values_are_refused(self, server: SandboxServer, body: bytes) -> None:
        now = httpx.post(f"{server.url}/_sandbox/advance", json={"seconds": 0}, auth=ADMIN_AUTH).json()["now"]
        response = httpx.post(f"{server.url}/_sandbox/advance", content=body, auth=ADMIN_AUTH)
        assert response.status_code == 400
        assert httpx.post(f"{server.url}/_sandbox/advance", json={"seconds": 0}, auth=ADMIN_AUTH).json()["now"] >= now

    @pytest.mark.parametrize("faults", [b'{"order_processing_seconds": Infinity}', b'{"retry_after_seconds": 1e999}',
                                        b'{"latency_ms": NaN}'])
    def test_non_finite_fault_times_are_refused(self, server: SandboxServer, faults: bytes) -> None:
        assert httpx.put(f"{server.url}/_sandbox/faults", content=faults, auth=ADMIN_AUTH).status_code == 400
