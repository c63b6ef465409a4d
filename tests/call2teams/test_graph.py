"""The Graph client against the sandbox's Graph routes (through Starlette's TestClient), and its errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from m365move.call2teams.domain_checks import DomainRules
from m365move.call2teams.findings import FindingCode
from m365move.call2teams.graph_client import GraphClient
from m365move.call2teams.snapshot_loader import load_tenant_dir, with_graph_domains
from m365move.call2teams.tenant_check import CheckOptions, check_tenants
from m365move.errors import AuthenticationError, InputError, PlatformError
from m365move.sandbox.graph_routes import graph_routes
from tests.call2teams.helpers import CONTOSO

TOKEN = "eyJ0eXAiOiJKV1QiLCJub25jZSI6InNlY3JldC10b2tlbiJ9"
ENV = {"M365MOVE_GRAPH_TOKEN": TOKEN}
BASE = "https://graph.sandbox.test"

SECTION: dict[str, Any] = {
    "graph_token": TOKEN,
    "tenants": [
        {"id": "6f1c2a9e-4b3d-4c8e-9a51-2d7b0e3f8c14", "name": "Contoso",
         "domains": [
             {"id": "contoso.onmicrosoft.com", "is_verified": True, "is_default": True, "is_initial": True},
             {"id": "contoso-a1b2.call2teams.com", "supported_services": ["OfficeCommunicationsOnline"]},
             {"id": "Contoso-Old9.call2teams.com"},
             {"id": "contoso-new7.call2teams.com", "is_verified": False},
         ],
         "users": [
             {"user_principal_name": "c2t-activation@contoso-a1b2.call2teams.com", "display_name": "Activation"},
             {"user_principal_name": "legacy@contoso-old9.call2teams.com"},
             {"user_principal_name": "legacy2@contoso-old9.call2teams.com"},
             {"user_principal_name": "alice@contoso.onmicrosoft.com", "id": "0b7f4c1e-5a3d-4e21-9f6b-7c2d8e1a4b01"},
         ]},
        {"id": "fabrikam-id", "name": "Fabrikam", "domains": [{"id": "fabrikam-x9y8.call2teams.com"}]},
    ],
    "accounts": {"base_accounts": [{"id": "NP-1", "partner": "Northwind"}],
                 "sub_accounts": [{"id": "SA-1", "parent": "NP-1"}]},
}


def _bridge(section: dict[str, Any], seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    """An httpx transport that hands each request to the sandbox routes through Starlette's TestClient."""
    app_client = TestClient(Starlette(routes=graph_routes(section)), base_url=BASE)

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        answer = app_client.request(request.method, str(request.url), headers=dict(request.headers))
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.MockTransport(handle)


@pytest.fixture
def client_for() -> Iterator[Callable[..., GraphClient]]:
    made: list[GraphClient] = []

    def make(section: dict[str, Any] = SECTION, **kwargs: Any) -> GraphClient:
        client = GraphClient(BASE, transport=_bridge(section, kwargs.pop("seen", None)), environ=ENV, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


class TestAgainstSandbox:
    def test_list_domains_in_graph_shape(self, client_for: Callable[..., GraphClient]) -> None:
        domains = client_for().list_domains()
        assert [d["id"] for d in domains] == ["contoso.onmicrosoft.com", "contoso-a1b2.call2teams.com",
                                              "contoso-old9.call2teams.com", "contoso-new7.call2teams.com"]
        first = domains[0]
        assert {"id", "isVerified", "isDefault", "authenticationType", "supportedServices"} <= set(first)
        assert first["isDefault"] is True and domains[3]["isVerified"] is False

    def test_references_are_users_homed_in_the_domain(self, client_for: Callable[..., GraphClient]) -> None:
        refs = client_for().domain_name_references("contoso-old9.call2teams.com")
        assert [r["userPrincipalName"] for r in refs] == ["legacy@contoso-old9.call2teams.com",
                                                          "legacy2@contoso-old9.call2teams.com"]
        assert refs[0]["@odata.type"] == "#microsoft.graph.user" and refs[0]["id"]

    def test_paging_follows_next_links(self, client_for: Callable[..., GraphClient]) -> None:
        """With a page size of 1 every item comes on its own page; the client follows them all."""
        seen: list[httpx.Request] = []
        client = client_for({**SECTION, "graph_page_size": 1}, seen=seen)
        assert len(client.list_domains()) == 4
        assert len(seen) == 4 and "%24skiptoken=3" in str(seen[-1].url)

    def test_graph_tenant_selects_the_tenant(self, client_for: Callable[..., GraphClient]) -> None:
        client = client_for({**SECTION, "graph_tenant": "Fabrikam"})
        assert [d["id"] for d in client.list_domains()] == ["fabrikam-x9y8.call2teams.com"]

    def test_unknown_domain_is_a_platform_error(self, client_for: Callable[..., GraphClient]) -> None:
        with pytest.raises(PlatformError, match="404 Request_ResourceNotFound"):
            client_for().domain_name_references("nope.example")

    def test_token_is_sent_as_bearer(self, client_for: Callable[..., GraphClient]) -> None:
        seen: list[httpx.Request] = []
        client_for(seen=seen).list_domains()
        assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"

    def test_sandbox_refuses_requests_without_a_token(self) -> None:
        app_client = TestClient(Starlette(routes=graph_routes(SECTION)))
        answer = app_client.get("/v1.0/domains")
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "InvalidAuthenticationToken"

    def test_live_domains_feed_the_check(self, client_for: Callable[..., GraphClient]) -> None:
        """Domains and references from Graph replace domains.json; its users block removal."""
        snap = with_graph_domains(load_tenant_dir(CONTOSO), client_for(), domain_suffix="call2teams.com")
        assert snap.domain_references["contoso-old9.call2teams.com"] == (
            "legacy@contoso-old9.call2teams.com", "legacy2@contoso-old9.call2teams.com")
        rules = DomainRules.of(account_domains=["contoso-a1b2.call2teams.com", "contoso-c3d4.call2teams.com"])
        report = check_tenants([snap], CheckOptions(domain_rules=rules))
        blocked = [f for f in report.findings if f.code is FindingCode.DOMAIN_HAS_USERS]
        assert [f.objects[0] for f in blocked] == ["contoso-old9.call2teams.com"]
        assert "legacy2@contoso-old9.call2teams.com" in blocked[0].objects


class TestSecretsAndErrors:
    def test_missing_token_env_is_bad_input(self) -> None:
        with pytest.raises(InputError, match="M365MOVE_GRAPH_TOKEN is not set"):
            GraphClient(BASE, environ={})

    def test_token_never_in_repr_logs_or_errors(self, caplog: pytest.LogCaptureFixture) -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(
            401, json={"error": {"code": "InvalidAuthenticationToken", "message": "Lifetime validation failed"}}))
        caplog.set_level(logging.DEBUG)
        with GraphClient(BASE, transport=transport, environ=ENV) as client:
            assert TOKEN not in repr(client)
            with pytest.raises(AuthenticationError) as caught:
                client.list_domains()
        assert "401 InvalidAuthenticationToken" in str(caught.value) and TOKEN not in str(caught.value)
        assert TOKEN not in caplog.text

    @pytest.mark.parametrize(("response", "expected"), [
        (httpx.Response(503, text="busy"), "503"),
        (httpx.Response(200, text="<html>"), "not JSON"),
        (httpx.Response(200, json={"items": []}), "no 'value' array"),
        (httpx.Response(200, json={"value": [], "@odata.nextLink": "https://evil.example/v1.0/domains"}),
         "points outside"),
    ])
    def test_platform_errors(self, response: httpx.Response, expected: str) -> None:
        with GraphClient(BASE, transport=httpx.MockTransport(lambda request: response), environ=ENV) as client, \
                pytest.raises(PlatformError, match=expected):
            client.list_domains()

    def test_bad_section_fails_at_start_up(self) -> None:
        with pytest.raises(InputError, match=r"estate call2teams section: tenants\.0\.domains\.0\.is_verified"):
            graph_routes({"tenants": [{"id": "t", "domains": [{"id": "x", "is_verified": "perhaps"}]}]})
        with pytest.raises(InputError, match="graph_tenant 'zzz'"):
            graph_routes({**SECTION, "graph_tenant": "zzz"})

    def test_empty_section_serves_empty_lists(self) -> None:
        app_client = TestClient(Starlette(routes=graph_routes({})))
        answer = app_client.get("/v1.0/domains", headers={"Authorization": "Bearer sandbox-graph-token"})
        assert answer.json()["value"] == []
