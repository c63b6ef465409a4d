"""A Partner Center sandbox (real HTTP on loopback, platform clock under the test's hand) and the purchase
fulfilment driven against it, Connect played by connect-openapi-client's own mocker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from connect.client import ConnectClient
from connect.client.testing import ConnectClientMocker, get_requests_mocker

from m365move.connect.purchase_fulfilment import FulfilmentOutcome, fulfil_purchase
from m365move.connect.settings import ExtensionSettings
from m365move.estate.schema import estate_document
from m365move.partnercenter.client import TOKEN_CACHE, PartnerCenterClient, PartnerCenterCredentials
from m365move.partnercenter.limits import LIMITERS
from m365move.sandbox.partnercenter_state import PartnerCenterState
from m365move.sandbox.server import run_sandbox

ENDPOINT = "https://connect.test/public/v1"
TENANT = "11111111-2222-4333-8444-555555555555"
LEGACY = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
OTHER = "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee"
ADDON = "cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee"
REQUEST_ID = "PR-1000-2000-3000-001"
EPOCH = "2026-11-30T08:00:00Z"
MIGRATION_SECONDS = 60.0
CONFIG = {
    "CSP_PRODUCT_IDS": "PRD-100-000-001",
    "NCE_PRODUCT_IDS": "PRD-200-000-001",
    "LICENSE_MAPPING": "CspOfferId,NceProductIdSkuId\n91FD106F-4B2C-4938-95AC-F54F74E9A239,CFQ7TTC0LH18:0001",
    "ASSET_APPROVE_TEMPLATE_ID": "TL-ASSET-OK",
    "TIER_CONFIG_APPROVE_TEMPLATE_ID": "TL-TIER-OK",
    "MIGRATION_POLL_SECONDS": "300",
    "DRY_RUN": "false",
}


@dataclass
class LifecycleRig:
    state: PartnerCenterState
    pc: PartnerCenterClient
    connect: ConnectClient
    mocker: ConnectClientMocker
    stored: dict[str, str] = field(default_factory=dict)  # what fulfilment stored on the request so far
    addons: list[dict[str, Any]] = field(default_factory=list)  # the purchase's transaction_info_object addons[]
    schedule: dict[str, Any] | None = None  # the purchase's migration_schedule (None: migrate now)
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # every Connect call: method, URL, body

    def advance_hours(self, hours: float) -> None:
        self.state.clock.advance(hours * 3600.0)

    def fulfil(self) -> FulfilmentOutcome:
        """One delivery of the pending purchase, carrying what earlier deliveries stored (as Connect would)."""
        settings = ExtensionSettings.from_config(CONFIG)
        outcome = fulfil_purchase(purchase(self.stored.get("nce_migration_id"), self.addons, self.schedule), self.connect,
                                  self.pc, settings)
        for call in get_requests_mocker().calls:
            body = json.loads(call.request.body or b"{}")
            self.sent.append((str(call.request.method), str(call.request.url), body))
            if call.request.method == "PUT" and str(call.request.url).endswith(REQUEST_ID):
                for param in body["asset"]["params"]:
                    self.stored[param["id"]] = param["value"]
        get_requests_mocker().calls.reset()
        return outcome

    def connect_calls(self, suffix: str) -> list[dict[str, Any]]:
        """Bodies of the POSTs to Connect ending in ``suffix`` (``/approve``, ``/fail``) over every delivery so far."""
        return [body for method, url, body in self.sent if method == "POST" and url.endswith(suffix)]


def purchase(migration_id: str | None = None, addons: list[dict[str, Any]] | None = None,
             schedule: dict[str, Any] | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"transaction_type": "NCEmigration", "ms_customer_id": TENANT, "csp_order_id": "o-1",
                            "subscription_id": LEGACY, "purchaseFullTerm": False, "addons": addons or []}
    if schedule is not None:
        info["migration_schedule"] = schedule
    params = [{"id": "microsoft_domain", "value": "contoso.onmicrosoft.com"}, {"id": "transaction_id", "value": "t-1"},
              {"id": "transaction_info_object", "value": json.dumps(info)}]
    if migration_id:
        params.append({"id": "nce_migration_id", "value": migration_id})
    return {"id": REQUEST_ID, "type": "purchase", "status": "pending",
            "asset": {"id": "AS-1", "product": {"id": "PRD-200-000-001"}, "params": params,
                      "items": [{"id": "PRD-200-000-001-0002", "quantity": "12", "period": "monthly",
                                 "commitment": {"count": 12}}]}}


def subscription(subscription_id: str = LEGACY, **seed: Any) -> dict[str, Any]:
    return {"id": subscription_id, "offer_id": "91FD106F-4B2C-4938-95AC-F54F74E9A239", "quantity": 12,
            "status": "active", "term_end_hours": 24 * 200, **seed}


@contextmanager
def lifecycle_rig(*subscriptions: dict[str, Any], migrations: list[dict[str, Any]] | None = None) -> Iterator[LifecycleRig]:
    section = {"credentials": {"client_id": "app", "client_secret": "secret"}, "epoch": EPOCH,
               "time_scale": 1.0, "migration_seconds": MIGRATION_SECONDS,
               "customers": [{"tenant_id": TENANT, "domain": "contoso.onmicrosoft.com",
                              "subscriptions": list(subscriptions) or [subscription()]}],
               "migrations": migrations or []}
    TOKEN_CACHE.clear()
    LIMITERS.clear()
    document = estate_document({"version": 1, "partner_center": section})
    with run_sandbox(document) as server, ConnectClientMocker(ENDPOINT) as mocker:
        state: PartnerCenterState = server.app.state.partner_center
        # Frozen platform time: only the test moves it (time_scale 1 would let real seconds leak in otherwise).
        state.clock.time_scale = 0.0
        credentials = PartnerCenterCredentials("99999999-2222-4333-8444-555555555555", "app", "secret",
                                               token_url=f"{server.url}/partnercenter/oauth2/token")
        with PartnerCenterClient(credentials, base_url=f"{server.url}/partnercenter") as pc:
            # Each test reaches its own subset of these Connect calls; the test asserts which.
            get_requests_mocker().assert_all_requests_are_fired = False
            mocker.requests[REQUEST_ID].update(return_value={})
            mocker.requests[REQUEST_ID]("approve").post(return_value={})
            mocker.requests[REQUEST_ID]("fail").post(return_value={})
            yield LifecycleRig(state, pc, ConnectClient("ApiKey SU-1:x", endpoint=ENDPOINT, max_retries=0), mocker)
    TOKEN_CACHE.clear()
    LIMITERS.clear()
