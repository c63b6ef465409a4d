"""Partner Center's shared pool is the stdlib keep-alive transport, with httpx's own transport for what it does
not support (the look-ups and creates through it are exercised against the sandbox by the extension, Connect and
audit tests)."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from m365move.commerce.retry_policy import RetryPolicy
from m365move.commerce.stdlib_transport import StdlibTransport
from m365move.partnercenter.client import SHARED_TRANSPORT, PartnerCenterClient, PartnerCenterCredentials
from tests.commerce.loopback_http_server import LoopbackHttpServer

CREDENTIALS = PartnerCenterCredentials("tenant", "client", "secret", token_url="https://login.example/token")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def chosen(client: PartnerCenterClient) -> httpx.BaseTransport:
    return client._http._transport_for_url(httpx.URL("https://api.partnercenter.microsoft.com/v1/migrations/newcommerce"))


def test_the_shared_pool_is_the_stdlib_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
    with PartnerCenterClient(CREDENTIALS) as client:
        assert chosen(client) is SHARED_TRANSPORT
    request = httpx.Request("GET", "ftp://example.invalid/")  # not http(s): httpx's own transport is asked
    with pytest.raises(httpx.UnsupportedProtocol):
        SHARED_TRANSPORT.handle_request(request)
    assert isinstance(SHARED_TRANSPORT._transport, StdlibTransport)


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "ALL_PROXY"])
def test_a_proxy_the_environment_names_carries_partner_center_calls(variable: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXIES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "http://proxy.example:3128")
    with PartnerCenterClient(CREDENTIALS) as client:
        transport = chosen(client)
        assert transport is not SHARED_TRANSPORT
        assert isinstance(transport, httpx.HTTPTransport)
        # the token endpoint is on another host: the same proxy carries it
        assert client._http._transport_for_url(httpx.URL(CREDENTIALS.resolved_token_url())) is transport


def test_a_proxied_call_reaches_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackHttpServer() as proxy:
        for name in (*PROXIES, "NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        credentials = PartnerCenterCredentials("tenant", "client", "secret", token_url="http://login.invalid/token")
        client = PartnerCenterClient(credentials, base_url="http://partner.invalid", retry=RetryPolicy(max_retries=0))
        # the "proxy" answers an echo, not a token: only the route the call took matters
        with client, contextlib.suppress(Exception):
            client.get_migration("customer-1", "migration-1")
        assert [r.target for r in proxy.requests][:1] == ["http://login.invalid/token"]


def test_no_proxy_sends_partner_center_past_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.partnercenter.microsoft.com")
    with PartnerCenterClient(CREDENTIALS) as client:
        assert chosen(client) is SHARED_TRANSPORT
