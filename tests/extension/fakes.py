"""A stateful Partner Center double for handler tests (an httpx transport, as the client expects)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

ENDPOINT = "https://connect.test/public/v1"
TENANT = "11111111-2222-4333-8444-555555555555"
LEGACY = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SECRET = "s3cr3t-Partner-Center-app-secret-value"

CONFIG = {
    "CSP_PRODUCT_IDS": "PRD-100-000-001",
    "NCE_PRODUCT_IDS": "PRD-200-000-001",
    "LICENSE_MAPPING": "CspOfferId,NceProductIdSkuId\n91FD106F-4B2C-4938-95AC-F54F74E9A239,CFQ7TTC0LH18:0001",
    "ASSET_APPROVE_TEMPLATE_ID": "TL-ASSET-OK",
    "TIER_CONFIG_APPROVE_TEMPLATE_ID": "TL-TIER-OK",
    "PARTNER_CENTER_ENDPOINT": "https://pc.test",
    "PARTNER_CENTER_TOKEN_URL": "https://login.test/token",
    "PARTNER_CENTER_TENANT_ID": "99999999-2222-4333-8444-555555555555",
    "PARTNER_CENTER_CLIENT_ID": "app-id",
    "PARTNER_CENTER_CLIENT_SECRET": SECRET,
    "MIGRATION_POLL_SECONDS": "300",
    "DRY_RUN": "false",
}


@dataclass
class FakePartnerCenter:
    ineligible: dict[str, list[int]] = field(default_factory=dict)
    migrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    complete_after_gets: int = 1  # a migration is Completed on the n-th GET
    create_retry_after: int | None = None  # answer creates with 429 and this Retry-After
    refuse_create: tuple[int, str] | None = None  # answer creates 400 {"code", "description"}
    request_ids: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    created: int = 0
    _gets: dict[str, int] = field(default_factory=dict)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def add_migration(self, status: str = "Completed", **extra: Any) -> dict[str, Any]:
        migration = {"id": str(uuid.uuid4()), "currentSubscriptionId": LEGACY, "customerTenantId": TENANT,
                     "status": status, **extra}
        self.migrations[migration["id"]] = migration
        return migration

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(f"{request.method} {path}")
        if path == "/token":
            return httpx.Response(200, json={"access_token": "token-1", "expires_in": 3600})
        assert request.headers["Authorization"] == "Bearer token-1"
        if request.method == "GET" and path == "/v1/migrations/newcommerce":
            # One of Microsoft's filters: the legacy subscription, or the customer (every migration of the tenant).
            field_name, wanted = next((f, request.url.params[p]) for p, f in (
                ("CurrentSubscriptionId", "currentSubscriptionId"), ("CustomerTenantId", "customerTenantId"))
                if p in request.url.params)
            items = [m for m in self.migrations.values() if m[field_name] == wanted]
            return httpx.Response(200, json=items)  # Microsoft answers a bare array
        if path.endswith("/validate"):
            body = json.loads(request.content)
            codes = self.ineligible.get(body["currentSubscriptionId"], [])
            return httpx.Response(200, json={"currentSubscriptionId": body["currentSubscriptionId"], "isEligible": not codes,
                                             "errors": [{"code": c, "description": f"code {c}"} for c in codes]})
        if request.method == "POST" and path.endswith("/migrations/newcommerce"):
            if self.create_retry_after is not None:
                return httpx.Response(429, headers={"Retry-After": str(self.create_retry_after)}, json={})
            body = json.loads(request.content)
            if self.refuse_create is not None:
                code, description = self.refuse_create
                return httpx.Response(400, json={"code": code, "description": description})
            self.created += 1
            self.request_ids.append(request.headers["MS-RequestId"])
            migration = self.add_migration("Processing", termDuration=body["termDuration"],
                                           billingCycle=body["billingCycle"], quantity=body["quantity"],
                                           externalReferenceId=body.get("externalReferenceId"))
            return httpx.Response(201, json=migration)
        if request.method == "GET" and "/migrations/newcommerce/" in path:
            migration = self.migrations[path.rsplit("/", 1)[-1]]
            self._gets[migration["id"]] = self._gets.get(migration["id"], 0) + 1
            if migration["status"] == "Processing" and self._gets[migration["id"]] >= self.complete_after_gets:
                migration["status"] = "Completed"
                migration["newCommerceSubscriptionId"] = "nce-sub-" + migration["id"][:8]
            return httpx.Response(200, json=migration)
        return httpx.Response(404, json={"code": 600010, "description": "not found"})
