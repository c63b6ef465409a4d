"""Microsoft Graph ``/domains`` in the sandbox, served from the estate's ``call2teams`` section.

Routes (Graph's JSON shapes)::

    GET /v1.0/domains                                  {"value": [domain, ...]}
    GET /v1.0/domains/{id}/domainNameReferences        {"value": [user, group, application, ...]}

The section's shape is documented in ``m365move.call2teams.estate_section``: ``tenants`` with
``domains`` and ``users``, ``accounts`` (the hierarchy), optional ``graph_tenant`` (which tenant
Graph answers for; default the first) and ``graph_page_size`` (lists page with ``@odata.nextLink``).
Only the section's ``graph_token`` is accepted as the bearer token (default ``sandbox-graph-token``); none, or
any other, gives 401 as Graph answers an invalid token. ``$top`` is honoured as Graph does (1–999; anything
else is a 400), and the next page's link carries it on.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from m365move.call2teams.estate_section import (
    EstateApplication,
    EstateDomain,
    EstateGroup,
    EstateTenant,
    EstateUser,
    parse_section,
)

_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata"


def graph_routes(call2teams_section: dict[str, Any]) -> list[Route]:
    """The two Graph domain routes over the section (validated now: a bad section fails at start-up)."""
    section = parse_section(call2teams_section)
    tenant = section.graph_served_tenant()
    page_size = section.graph_page_size
    token = section.graph_token

    def _unauthorized(request: Request) -> JSONResponse | None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return _error(401, "InvalidAuthenticationToken", "Access token is empty.")
        if not secrets.compare_digest(given.strip().encode(), token.encode()):
            return _error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        return None

    async def list_domains(request: Request) -> JSONResponse:
        if (denied := _unauthorized(request)) is not None:
            return denied
        domains = [_domain_json(domain) for domain in (tenant.domains if tenant else ())]
        return _page(request, domains, page_size, f"{_CONTEXT}#domains")

    async def domain_name_references(request: Request) -> JSONResponse:
        if (denied := _unauthorized(request)) is not None:
            return denied
        domain_id = str(request.path_params["domain_id"]).lower()
        domain = _find(tenant, domain_id)
        if domain is None:
            return _error(
                404,
                "Request_ResourceNotFound",
                f"Resource '{domain_id}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        users = [_user_json(user) for user in (tenant.users if tenant else ()) if user.domain == domain.id]
        users += [_group_json(group) for group in (tenant.groups if tenant else ()) if group.domain == domain.id]
        users += [_application_json(app) for app in (tenant.applications if tenant else ()) if app.uses(domain.id)]
        return _page(request, users, page_size, f"{_CONTEXT}#directoryObjects")

    return [
        Route("/v1.0/domains", list_domains, methods=["GET"]),
        Route("/v1.0/domains/{domain_id}/domainNameReferences", domain_name_references, methods=["GET"]),
    ]


def _find(tenant: EstateTenant | None, domain_id: str) -> EstateDomain | None:
    return next((d for d in (tenant.domains if tenant else ()) if d.id == domain_id), None)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "innerError": {}}}, status_code=status)


def _page(request: Request, items: list[dict[str, Any]], page_size: int | None, context: str) -> JSONResponse:
    body: dict[str, Any] = {"@odata.context": context}
    top_text = request.query_params.get("$top")
    top: int | None = None
    if top_text is not None:
        if not top_text.isdigit() or not 1 <= int(top_text) <= 999:
            return _error(400, "Request_BadRequest", f"Invalid value '{top_text}' for query parameter $top.")
        top = int(top_text)
    size = min(s for s in (page_size, top) if s is not None) if (page_size or top) else None
    if size is None:
        body["value"] = items
        return JSONResponse(body)
    try:
        start = max(0, int(request.query_params.get("$skiptoken", "0")))
    except ValueError:
        return _error(400, "Request_BadRequest", "Invalid $skiptoken.")
    body["value"] = items[start : start + size]
    if start + size < len(items):
        body["@odata.nextLink"] = str(request.url.include_query_params(**{"$skiptoken": str(start + size)}))
    return JSONResponse(body)


def _domain_json(domain: EstateDomain) -> dict[str, Any]:
    return {
        "id": domain.id,
        "authenticationType": domain.authentication_type,
        "availabilityStatus": None,
        "isAdminManaged": True,
        "isDefault": domain.is_default,
        "isInitial": domain.is_initial,
        "isRoot": True,
        "isVerified": domain.is_verified,
        "passwordNotificationWindowInDays": None,
        "passwordValidityPeriodInDays": None,
        "supportedServices": list(domain.supported_services),
        "state": None,
    }


def _user_json(user: EstateUser) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.user",
        "id": user.object_id,
        "displayName": user.display_name,
        "userPrincipalName": user.user_principal_name,
    }


def _group_json(group: EstateGroup) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.group", "id": group.object_id, "displayName": group.display_name,
            "mail": group.mail}


def _application_json(app: EstateApplication) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.application", "id": app.object_id, "displayName": app.display_name,
            "identifierUris": list(app.identifier_uris), "signInAudience": app.sign_in_audience}
