"""A Connect migration run by the real extension on the sandbox, then anomalies planted in the platforms'
state (Connect requests and assets, Partner Center migrations), as someone would leave them by hand."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from m365move.connect.payloads import param_value
from tests.connect.sandbox_fixtures import Rig


def connect_environment(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The audit's credentials in the environment; returns the CLI options naming the sandbox and products."""
    config = rig.driver.config
    monkeypatch.setenv("M365MOVE_CONNECT_API_KEY", rig.section["connect"]["api_key"])
    monkeypatch.setenv("M365MOVE_PARTNER_CENTER_TENANT_ID", config["PARTNER_CENTER_TENANT_ID"])
    monkeypatch.setenv("M365MOVE_PARTNER_CENTER_CLIENT_ID", config["PARTNER_CENTER_CLIENT_ID"])
    monkeypatch.setenv("M365MOVE_PARTNER_CENTER_CLIENT_SECRET", config["PARTNER_CENTER_CLIENT_SECRET"])
    monkeypatch.setenv("M365MOVE_PARTNER_CENTER_TOKEN_URL", config["PARTNER_CENTER_TOKEN_URL"])
    options = ["--connect-url", f"{rig.server.url}/public/v1", "--partner-center-url", config["PARTNER_CENTER_ENDPOINT"]]
    for product in config["CSP_PRODUCT_IDS"].split(","):
        options += ["--csp-product", product.strip()]
    for product in config["NCE_PRODUCT_IDS"].split(","):
        options += ["--nce-product", product.strip()]
    return options


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def plant_connect_anomalies(rig: Rig) -> dict[str, str]:
    """One anomaly per kind on distinct migrated CSP assets; returns code → the CSP asset it was planted on."""
    connect, pc = rig.connect, rig.partner_center
    microsoft_led = {m["currentSubscriptionId"].lower() for m in pc.migrations.values()
                     if m.get("microsoftLed") is True}
    purchases: dict[str, list[dict[str, Any]]] = {}
    for request in connect.requests.values():
        if request["type"] == "purchase" and request["asset"].get("external_id"):
            purchases.setdefault(request["asset"]["external_id"], []).append(request)
    cancels = {r["asset"]["id"]: r for r in connect.requests.values() if r["type"] == "cancel"}

    def ours(request: dict[str, Any]) -> dict[str, Any]:
        return pc.migrations[str(param_value(request, "nce_migration_id"))]

    def legacy(request: dict[str, Any]) -> str:
        return ours(request)["currentSubscriptionId"]

    candidates = sorted(a for a, found in purchases.items()
                        if a in cancels and cancels[a]["status"] == "approved" and all(r["status"] == "approved" for r in found)
                        and not any(legacy(r).lower() in microsoft_led for r in found))
    assert len(candidates) >= 6, candidates
    duplicate, early, seats, microsoft, stuck, failed = candidates[:6]
    now = dt.datetime.now(dt.timezone.utc)

    # duplicate-target: a second NCE purchase for the same CSP item (created by hand, still pending).
    first = purchases[duplicate][0]
    body = {"type": "purchase", "marketplace": first.get("marketplace"),
            "asset": {"external_id": duplicate, "external_uid": "hand-made-duplicate",
                      "product": first["asset"]["product"], "connection": {"id": first["asset"]["connection"]["id"]},
                      "items": [{"id": i["id"], "quantity": int(i["quantity"])} for i in first["asset"]["items"]],
                      "params": [p for p in copy.deepcopy(first["asset"]["params"])
                                 if p["id"] in ("transaction_info_object", "microsoft_domain", "migration_source")],
                      "tiers": first["asset"].get("tiers") or {}}}
    connect.create_request(body)
    # cancelled-before-targets-completed: the cancel request was created an hour before a purchase's approval
    # (the purchase had been requested an hour before that).
    last = max(purchases[early], key=lambda r: r["updated"])
    approval = dt.datetime.fromisoformat(last["updated"].replace("Z", "+00:00"))
    last["created"] = _iso(approval - dt.timedelta(hours=2))
    cancels[early]["created"] = _iso(approval - dt.timedelta(hours=1))
    # seat-mismatch: the NCE asset holds 2 seats fewer than the CSP item.
    item = purchases[seats][0]["asset"]["items"][0]
    item["quantity"] = str(int(item["quantity"]) - 2)
    # microsoft-led-duplicate: Microsoft migrated the legacy subscription too.
    target = purchases[microsoft][0]
    pc.migrations["ms-led-planted"] = {
        "id": "ms-led-planted", "status": "Completed", "currentSubscriptionId": legacy(target),
        "customerTenantId": ours(target)["customerTenantId"], "newCommerceSubscriptionId": "ms-led-new-subscription",
        "migrationType": "MicrosoftLed", "microsoftLed": True}
    # stuck-migration: a purchase still pending three days on, its migration still Processing; no cancel yet.
    request = purchases[stuck][0]
    request["status"], request["created"] = "pending", _iso(now - dt.timedelta(days=3))
    migration = ours(request)
    migration["status"], migration["_started"] = "Processing", 1e12
    del connect.requests[cancels[stuck]["id"]]
    connect.assets[stuck]["status"] = "active"
    # approved-migration-failed: the purchase is approved, Partner Center's migration failed.
    ours(purchases[failed][0])["status"] = "Failed"
    connect.changed()  # the edits above were made on the stored objects, behind the sandbox's writes
    return {"duplicate-target": duplicate, "cancelled-before-targets-completed": early, "seat-mismatch": seats,
            "microsoft-led-duplicate": microsoft, "stuck-migration": stuck, "approved-migration-failed": failed}
