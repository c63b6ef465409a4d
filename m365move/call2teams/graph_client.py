"""A small Microsoft Graph client for the two domain calls the Call2Teams check needs.

``GET /v1.0/domains`` and ``GET /v1.0/domains/{id}/domainNameReferences``, following
``@odata.nextLink``. The bearer token comes from an environment variable and is never logged or
shown in an error. Callers inject an httpx transport (the sandbox, a MockTransport) instead of patching.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from m365move.errors import AuthenticationError, InputError, PlatformError

DEFAULT_BASE_URL = "https://graph.microsoft.com"
TOKEN_ENV_VAR = "M365MOVE_GRAPH_TOKEN"
_MAX_PAGES = 1000  # a nextLink loop that never ends is a server bug; stop rather than spin

log = logging.getLogger(__name__)


class GraphClient:
    """Read-only Graph calls for domains; use as a context manager or call ``close()``."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.BaseTransport | None = None,
        token_env: str = TOKEN_ENV_VAR,
        environ: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        token = (environ if environ is not None else os.environ).get(token_env, "").strip()
        if not token:
            raise InputError(f"environment variable {token_env} is not set",
                             hint="put a Graph access token with Domain.Read.All in it")
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"GraphClient(base_url={self.base_url!r})"  # never the token

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def list_domains(self) -> list[dict[str, Any]]:
        """Every domain of the tenant (Graph ``domain`` resources)."""
        return self._get_all("/v1.0/domains")

    def domain_name_references(self, domain_id: str) -> list[dict[str, Any]]:
        """The directory objects (users, groups) whose names use the domain."""
        return self._get_all(f"/v1.0/domains/{quote(domain_id, safe='')}/domainNameReferences")

    def _get_all(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = path
        pages = 0
        while url is not None:
            pages += 1
            if pages > _MAX_PAGES:
                raise PlatformError(f"Graph {path}: more than {_MAX_PAGES} pages; stopped following @odata.nextLink")
            body = self._get(url, path)
            value = body.get("value")
            if not isinstance(value, list):
                raise PlatformError(f"Graph {path}: the response has no 'value' array")
            items.extend(item for item in value if isinstance(item, dict))
            next_link = body.get("@odata.nextLink")
            url = str(next_link) if next_link else None
            # The token goes with every request: never follow a link off the Graph host we were given.
            if url is not None and not url.startswith(self.base_url + "/"):
                raise PlatformError(f"Graph {path}: @odata.nextLink points outside {self.base_url}")
        return items

    def _get(self, url: str, path: str) -> dict[str, Any]:
        log.debug("Graph GET %s", url)
        try:
            response = self._http.get(url)
        except httpx.HTTPError as error:
            raise PlatformError(f"Graph {path}: {type(error).__name__}: {error}") from None
        if response.status_code in (401, 403):
            raise AuthenticationError(f"Graph {path}: {response.status_code} {_graph_error(response)}")
        if response.status_code >= 400:
            raise PlatformError(f"Graph {path}: {response.status_code} {_graph_error(response)}")
        try:
            body = response.json()
        except ValueError:
            raise PlatformError(f"Graph {path}: the response is not JSON") from None
        if not isinstance(body, dict):
            raise PlatformError(f"Graph {path}: the response is not a JSON object")
        return body


def _graph_error(response: httpx.Response) -> str:
    """Graph's ``{"error": {"code", "message"}}`` as text, or the reason phrase."""
    try:
        error = response.json().get("error", {})
        return f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
    except (ValueError, AttributeError):
        return response.reason_phrase
