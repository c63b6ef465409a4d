"""Partner Center's shared pool is the stdlib keep-alive transport, with httpx's own transport for what it does
not support (the look-ups and creates through it are exercised against the sandbox by the extension, Connect and
audit tests)."""

from __future__ import annotations

import httpx
import pytest

from m365move.commerce.stdlib_transport import StdlibTransport
from m365move.partnercenter.client import SHARED_TRANSPORT, PartnerCenterClient, PartnerCenterCredentials

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
