"""The client's HTTP transport over http.client, against real loopback servers (plain and TLS): keep-alive reuse,
connections the server closed, answers cut short, timeouts, certificate checks, proxies, thread-safety."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from loopback_http_server import LoopbackHttpServer
from self_signed_ca import make_pki

from m365move.commerce import CommerceCredentials, OrderPlacementUncertain, OrderRequest, SimpleApiClient, stdlib_transport
from m365move.commerce.stdlib_transport import StdlibTransport

TIMEOUTS = httpx.Timeout(5.0).as_dict()


def _get(transport: httpx.BaseTransport, url: str, timeout: dict[str, float | None] | None = None,
         **request: object) -> httpx.Response:
    method = str(request.pop("method", "GET"))
    sent = httpx.Request(method, url, extensions={"timeout": timeout or TIMEOUTS}, **request)  # type: ignore[arg-type]
    response = transport.handle_request(sent)
    response.read()
    return response


def _echo(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, dict)
    return body


@pytest.fixture
def server() -> Iterator[LoopbackHttpServer]:
    with LoopbackHttpServer() as running:
        yield running


@pytest.fixture
def transport() -> Iterator[StdlibTransport]:
    with StdlibTransport() as made:
        yield made


class TestKeepAlive:
    def test_one_connection_serves_successive_requests(self, server: LoopbackHttpServer,
                                                       transport: StdlibTransport) -> None:
        answers = [_echo(_get(transport, f"{server.url}/echo?n={n}")) for n in range(5)]
        assert {a["connection"] for a in answers} == {1}
        assert [a["target"] for a in answers] == [f"/echo?n={n}" for n in range(5)]
        assert server.connections == 1

    def test_bodies_by_content_length_chunked_and_gzip(self, server: LoopbackHttpServer,
                                                       transport: StdlibTransport) -> None:
        for path in ("/echo", "/chunked", "/gzip", "/echo"):
            assert _echo(_get(transport, f"{server.url}{path}?x=1"))["target"] == f"{path}?x=1"
        assert server.connections == 1  # each answer was read to its end, so the connection stayed usable

    def test_request_bodies_with_length_and_chunked(self, server: LoopbackHttpServer,
                                                    transport: StdlibTransport) -> None:
        sized = _echo(_get(transport, f"{server.url}/echo", method="POST", content=b'{"a": 1}'))
        chunked = _echo(_get(transport, f"{server.url}/echo", method="POST", content=b"chunked body",
                             headers={"Transfer-Encoding": "chunked"}))
        assert (sized["method"], sized["body"]) == ("POST", '{"a": 1}')
        assert chunked["body"] == "chunked body"

    def test_a_connection_the_server_closed_is_not_reused(self, server: LoopbackHttpServer,
                                                           transport: StdlibTransport) -> None:
        _echo(_get(transport, f"{server.url}/close-after"))
        assert server.closed_after_answer.wait(5)
        second = _echo(_get(transport, f"{server.url}/echo"))
        assert second["connection"] == 2
        assert [r.connection for r in server.requests] == [1, 2]  # nothing was sent on the closed one

    def test_connection_close_requested_by_the_client(self, server: LoopbackHttpServer,
                                                       transport: StdlibTransport) -> None:
        _echo(_get(transport, f"{server.url}/echo", headers={"Connection": "close"}))
        assert _echo(_get(transport, f"{server.url}/echo"))["connection"] == 2

    def test_idle_connections_expire(self, server: LoopbackHttpServer) -> None:
        with StdlibTransport(keepalive_expiry=0.2) as short:
            _echo(_get(short, f"{server.url}/echo"))
            time.sleep(0.3)
            assert _echo(_get(short, f"{server.url}/echo"))["connection"] == 2

    def test_a_reset_connection_whose_first_write_fails_is_replaced(
        self, server: LoopbackHttpServer, transport: StdlibTransport, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The server reset the idle connection and the idle check is made to miss it (the race it cannot close):
        the first write fails with nothing written, so the request goes once, on a new connection."""
        _echo(_get(transport, f"{server.url}/reset-after"))
        assert server.closed_after_answer.wait(5)
        time.sleep(0.05)
        monkeypatch.setattr(stdlib_transport, "_readable", lambda sock: False)
        answer = _echo(_get(transport, f"{server.url}/echo", method="POST", content=b"once"))
        assert answer["connection"] == 2
        assert [(r.connection, r.body) for r in server.seen("/echo")] == [(2, b"once")]

    def test_a_post_on_a_connection_closed_under_it_is_not_resent(
        self, server: LoopbackHttpServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The server closed (FIN) the idle connection and the idle check is made to miss it: the request's bytes
        were accepted by the socket, so it may have left. The client gets the error httpx's transport gives (a
        POST /orders is then uncertain), and nothing is resent on another connection."""
        with _client(server.url) as client:
            client.list_resellers()
            assert client._transport is not None and isinstance(client._transport, StdlibTransport)
            server_closes = f"{server.url}/close-after"
            client._transport.handle_request(httpx.Request("GET", server_closes, extensions={"timeout": TIMEOUTS}))
            assert server.closed_after_answer.wait(5)
            monkeypatch.setattr(stdlib_transport, "_readable", lambda sock: False)
            with pytest.raises(OrderPlacementUncertain):
                client.place_order(OrderRequest.cancellation(customer_id="1", po_number="M365MOVE-NS-1-x",
                                                             subscription_id="1"))
        assert server.seen("/orders") == []  # not resent on a new connection


def _client(url: str) -> SimpleApiClient:
    """A client whose every path answers the loopback server's echo (the token request included)."""
    return SimpleApiClient(url, CommerceCredentials("u", "p", "k"), rate_limit_per_second=None,
                           transport=None, max_retries=0)


class TestFailures:
    def test_closed_before_any_answer(self, server: LoopbackHttpServer, transport: StdlibTransport) -> None:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            _get(transport, f"{server.url}/drop-before-answer")
        assert _echo(_get(transport, f"{server.url}/echo"))["connection"] == 2

    def test_closed_in_the_middle_of_the_answer(self, server: LoopbackHttpServer, transport: StdlibTransport) -> None:
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            _get(transport, f"{server.url}/drop-mid-body")
        assert _echo(_get(transport, f"{server.url}/echo"))["connection"] == 2  # the broken one was dropped

    def test_read_timeout(self, server: LoopbackHttpServer, transport: StdlibTransport) -> None:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            _get(transport, f"{server.url}/silent", httpx.Timeout(5.0, read=0.3).as_dict())
        assert time.monotonic() - started < 3

    def test_connect_timeout_covers_the_tls_handshake(self) -> None:
        """A listener that never accepts: the kernel completes TCP, and the TLS handshake then waits for a ServerHello
        that never comes. The connect timeout ends it."""
        with socket.create_server(("127.0.0.1", 0)) as listener:
            started = time.monotonic()
            with StdlibTransport() as transport, pytest.raises(httpx.ConnectTimeout):
                _get(transport, f"https://127.0.0.1:{listener.getsockname()[1]}/echo",
                     httpx.Timeout(5.0, connect=0.3).as_dict())
            assert time.monotonic() - started < 3

    def test_connection_refused(self, transport: StdlibTransport) -> None:
        with LoopbackHttpServer() as gone:
            url = gone.url
        with pytest.raises(httpx.ConnectError):
            _get(transport, f"{url}/echo")

    def test_header_injection_is_refused(self, server: LoopbackHttpServer, transport: StdlibTransport) -> None:
        with pytest.raises(httpx.LocalProtocolError):
            _get(transport, f"{server.url}/echo", headers={"X-Evil": "a\r\nX-Injected: 1"})
        assert server.requests == []


class TestTls:
    def test_verified_when_the_ca_is_trusted(self, tmp_path: Path) -> None:
        pki = make_pki(tmp_path)
        with LoopbackHttpServer(tls=pki.server_context()) as server, \
                StdlibTransport(ssl_context=ssl.create_default_context(cafile=str(pki.ca_file))) as transport:
            for name in ("localhost", "127.0.0.1"):
                assert _echo(_get(transport, f"https://{name}:{server.port}/echo"))["target"] == "/echo"

    def test_the_default_context_uses_httpx_ca_sources(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """httpx's default CA sources: SSL_CERT_FILE when set (else certifi's bundle)."""
        pki = make_pki(tmp_path)
        monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))
        with LoopbackHttpServer(tls=pki.server_context()) as server, StdlibTransport() as transport:
            assert _echo(_get(transport, f"https://localhost:{server.port}/echo"))["target"] == "/echo"

    def test_refused_when_the_ca_is_not_trusted(self, tmp_path: Path) -> None:
        pki = make_pki(tmp_path)
        with LoopbackHttpServer(tls=pki.server_context()) as server, StdlibTransport() as transport:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                _get(transport, f"https://localhost:{server.port}/echo")
            assert server.requests == []

    def test_refused_when_the_name_does_not_match(self, tmp_path: Path) -> None:
        pki = make_pki(tmp_path, names=("commerce.example",), ips=())
        trusting = ssl.create_default_context(cafile=str(pki.ca_file))
        with LoopbackHttpServer(tls=pki.server_context()) as server, StdlibTransport(ssl_context=trusting) as transport:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                _get(transport, f"https://localhost:{server.port}/echo")
            assert server.requests == []


class TestThreads:
    def test_eight_threads_share_the_pool(self, server: LoopbackHttpServer, transport: StdlibTransport) -> None:
        mismatches: list[str] = []

        def work(thread: int) -> None:
            for n in range(40):
                target = f"/echo?thread={thread}&n={n}"
                answer = _echo(_get(transport, f"{server.url}{target}", method="POST", content=target.encode()))
                if answer["target"] != target or answer["body"] != target:
                    mismatches.append(f"{target}: {json.dumps(answer)}")

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert mismatches == []
        assert len(server.requests) == 320
        assert server.connections <= 8  # each thread holds one connection at a time; idle ones are reused


class TestWhereItIsUsed:
    def test_the_client_uses_it_when_no_proxy_applies(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        with SimpleApiClient("https://commerce.example", CommerceCredentials("u", "p", "k")) as client:
            assert isinstance(client._transport, StdlibTransport)

    @pytest.mark.parametrize("variable", ["HTTPS_PROXY", "ALL_PROXY"])
    def test_an_environment_proxy_goes_through_httpx(self, variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(variable, "http://proxy.example:3128")
        with SimpleApiClient("https://commerce.example", CommerceCredentials("u", "p", "k")) as client:
            assert not isinstance(client._transport, StdlibTransport)
            assert isinstance(client._transport, httpx.HTTPTransport)

    def test_no_proxy_for_the_host(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
        monkeypatch.setenv("NO_PROXY", "commerce.example")
        with SimpleApiClient("https://commerce.example", CommerceCredentials("u", "p", "k")) as client:
            assert isinstance(client._transport, StdlibTransport)

    def test_an_injected_transport_is_used_as_given(self) -> None:
        seen: list[str] = []

        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(request.url.path)
            return httpx.Response(200, json={"token": "t", "expiresInSeconds": 600, "data": [], "pagination": {}})

        with SimpleApiClient("http://commerce.invalid", CommerceCredentials("u", "p", "k"),
                             transport=httpx.MockTransport(answer), rate_limit_per_second=None) as client:
            client.list_resellers()
        assert seen == ["/token", "/resellers"]

    def test_what_it_does_not_support_goes_to_httpx(self, server: LoopbackHttpServer) -> None:
        fallback: list[httpx.Request] = []
        mock = httpx.MockTransport(lambda request: fallback.append(request) or httpx.Response(204))
        with StdlibTransport(fallback=mock) as transport:
            _get(transport, f"{server.url}/echo", timeout=None)
            transport.handle_request(httpx.Request("GET", f"{server.url}/echo", extensions={"sni_hostname": "x"}))
            transport.handle_request(httpx.Request("POST", f"{server.url}/echo", content=iter([b"streamed"])))
        assert [(r.method, "sni_hostname" in r.extensions) for r in fallback] == [("GET", True), ("POST", False)]
        assert len(server.requests) == 1
