"""The Connect emulation's state: products and items, listings, tier configs and their requests, assets and
asset requests, seeded from the estate's ``connect`` section (objects in Connect API JSON shapes).

Request life cycle as Connect runs it: a created request is ``pending``; ``approve``/``fail``/``inquire`` move
it (only from ``pending``/``inquiring``, else 400 as Connect answers); approving a purchase activates its new
asset, approving a cancel terminates the asset. The CSP vendor's connector is played by the sandbox: cancel
requests of CSP assets are approved ``cancel_approval_seconds`` (platform time) after creation. An asset with
an open request refuses another one, as Connect does.

Objects follow the Connect OpenAPI spec's response schemas (tests/sandbox/test_connect_spec_conformance.py): seeded
and created assets get the fields the spec requires that an estate need not spell out (``external_uid``,
``contract``, the ``connection``'s provider, vendor and hub, ``params``), and product items a ``unit`` and ``name``.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from m365move.sandbox.listing_cache import ListingCache
from m365move.sandbox.platform_clock import PlatformClock

Json = dict[str, Any]
SANDBOX_API_KEY = "ApiKey SU-000-000-000:sandbox"
OPEN_STATUSES = ("draft", "tiers_setup", "pending", "inquiring")
# What Connect fills in on every asset and item (dp.Subscription, dp.UIItem) when the estate leaves it out.
DEFAULT_CONNECTION: Json = {"provider": {"id": "PA-000-000", "name": "Sandbox provider"},
                            "vendor": {"id": "VA-000-000", "name": "Sandbox vendor"},
                            "hub": {"id": "HB-0000-0000", "name": "Sandbox hub"}}
DEFAULT_CONTRACT: Json = {"id": "CRD-00000-00000-00000", "type": "distribution", "name": "Sandbox distribution contract"}
DEFAULT_UNIT: Json = {"id": "unit-license", "name": "License", "title": "License"}


class ConnectApiProblem(Exception):
    """An error answer: HTTP status, Connect error code, messages."""

    def __init__(self, status: int, code: str, *errors: str) -> None:
        self.status = status
        self.code = code
        self.errors = list(errors)
        super().__init__(f"{status} {code}: {'; '.join(errors)}")


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


class ConnectState:
    """Thread-safe: routes run on the server's loop, tests read and change it from their own threads."""

    def __init__(self, section: Json, clock: PlatformClock | None = None) -> None:
        section = copy.deepcopy(section or {})
        self.lock = threading.RLock()
        self.api_key: str = str(section.get("api_key") or SANDBOX_API_KEY)
        self.clock = clock or PlatformClock(float(section.get("time_scale", 1.0)))
        self.cancel_approval_seconds = float(section.get("cancel_approval_seconds", 30.0))
        self.marketplaces: dict[str, Json] = {m["id"]: m for m in section.get("marketplaces", [])}
        self.products: dict[str, Json] = {}
        self.items: dict[str, list[Json]] = {}
        self.connections: dict[str, list[Json]] = {}  # product id -> its connections (one per hub it is sold on)
        for product in section.get("products", []):
            product = dict(product)
            self.items[product["id"]] = [_complete_item(dict(i)) for i in product.pop("items", [])]
            self.connections[product["id"]] = [_complete_connection(dict(c)) for c in product.pop("connections", [])] or [
                _complete_connection({"id": default_connection_id(product["id"])})]
            self.products[product["id"]] = product
        self.listings: list[Json] = list(section.get("listings", []))
        self.tier_configs: dict[str, Json] = {t["id"]: t for t in section.get("tier_configs", [])}
        self.tier_config_requests: dict[str, Json] = {r["id"]: r for r in section.get("tier_config_requests", [])}
        self.assets: dict[str, Json] = {a["id"]: _complete_asset(a, _seeded_at(n))
                                        for n, a in enumerate(section.get("assets", []))}
        self.requests: dict[str, Json] = {r["id"]: r for r in section.get("requests", [])}
        # Indexes of what never changes once stored, so a list call filtered on them (the sweep and the extension
        # ask for one asset's requests, or objects by id) reads its candidates instead of scanning everything.
        self._position: dict[str, dict[str, int]] = {
            name: {object_id: n for n, object_id in enumerate(store)} for name, store in self._id_stores().items()}
        self._requests_by_asset: dict[str, list[str]] = {}
        for request in self.requests.values():
            self._requests_by_asset.setdefault(request["asset"]["id"], []).append(request["id"])
        # EaaS objects the runner reads: the extension's schedules and its installations (multi-account).
        devops = section.get("devops") or {}
        self.schedules: dict[str, Json] = {s["id"]: s for s in devops.get("schedules", [])}
        self.installations: dict[str, Json] = {i["id"]: i for i in devops.get("installations", [])}
        self.triggered: list[str] = []  # schedule ids whose execution was triggered (POST …/trigger), in order
        # An API key whose role may not change schedules (PUT and trigger answer 403), as Connect refuses them.
        self.schedule_changes_refused = False
        # API keys of installations (the runner's installation_client calls with the task's own key).
        self.api_keys: tuple[str, ...] = (self.api_key, *(str(i["api_key"]) for i in devops.get("installations", [])
                                                          if i.get("api_key")))
        self._due: dict[str, float] = {}  # cancel request id -> platform time the vendor approves it
        self._ids = itertools.count(len(self.requests) + 1)
        self._asset_ids = itertools.count(len(self.assets) + 1)
        self.transitions: list[tuple[str, str, str]] = []  # (request id, from, to): what tests assert on
        # Bumped by every write, so a cached listing is computed again after any change.
        self.version = 0
        self.listing_cache = ListingCache()  # the list routes' filtered, ordered collections, per query and version

    # -- reads ---------------------------------------------------------------------------------------

    def _id_stores(self) -> dict[str, dict[str, Json]]:
        return {"assets": self.assets, "requests": self.requests, "tier/configs": self.tier_configs,
                "tier/config-requests": self.tier_config_requests, "marketplaces": self.marketplaces,
                "products": self.products}

    def candidates(self, name: str, hints: Mapping[str, frozenset[str]]) -> list[Json] | None:
        """The objects of ``name`` that can match a query whose every match has one of ``hints[field]`` (by id,
        or a request's asset id), in storage order; None when no index serves the hints (read everything)."""
        with self.lock:
            self._tick()
            store = self._id_stores().get(name)
            if store is None:
                return None
            ids: set[str] | None = None
            if "id" in hints:
                ids = set(hints["id"])
            if name == "requests" and "asset.id" in hints:
                by_asset = {r for a in hints["asset.id"] for r in self._requests_by_asset.get(a, ())}
                ids = by_asset if ids is None else ids & by_asset
            if ids is None:
                return None
            position = self._position[name]
            return [store[i] for i in sorted((i for i in ids if i in store), key=position.__getitem__)]

    def changed(self) -> None:
        """Say the objects changed: every write here calls it; a test that edits stored objects in place calls it
        too, so the next list call does not page over a listing computed before the edit."""
        with self.lock:
            self.version += 1

    def listing_version(self, name: str) -> tuple[int, int]:
        """What a cached listing of ``name`` is valid for: the state's version (after due changes are made) and
        the collection's size (an object added or removed by hand also invalidates)."""
        with self.lock:
            self._tick()
            store = self._id_stores().get(name)
            return self.version, len(store) if store is not None else len(self.listings)

    def collection(self, name: str) -> list[Json]:
        with self.lock:
            self._tick()
            if name == "assets":
                return list(self.assets.values())
            if name == "requests":
                return list(self.requests.values())
            if name == "tier/configs":
                return list(self.tier_configs.values())
            if name == "tier/config-requests":
                return list(self.tier_config_requests.values())
            if name == "listings":
                return list(self.listings)
            if name == "marketplaces":
                return list(self.marketplaces.values())
            if name == "products":
                return list(self.products.values())
        raise ConnectApiProblem(404, "REQ_404", f"unknown collection {name}")

    def product_items(self, product_id: str) -> list[Json]:
        with self.lock:
            if product_id not in self.products:
                raise ConnectApiProblem(404, "PRD_404", f"product {product_id} not found")
            return [dict(i) for i in self.items[product_id]]

    def product_connections(self, product_id: str) -> list[Json]:
        with self.lock:
            if product_id not in self.products:
                raise ConnectApiProblem(404, "PRD_404", f"product {product_id} not found")
            return copy.deepcopy(self.connections[product_id])

    def devops_object(self, kind: str, object_id: str) -> Json:
        with self.lock:
            store = self.schedules if kind == "schedules" else self.installations
            if object_id not in store:
                raise ConnectApiProblem(404, "DO_404", f"{kind[:-1]} {object_id} not found")
            return {k: v for k, v in copy.deepcopy(store[object_id]).items() if k != "api_key"}

    def add_schedule(self, schedule: Json) -> None:
        with self.lock:
            self.schedules[schedule["id"]] = copy.deepcopy(schedule)

    def installation_list(self) -> list[Json]:
        """GET …/services/{id}/installations: every installation of the extension (API keys never shown)."""
        with self.lock:
            return [{k: v for k, v in copy.deepcopy(i).items() if k != "api_key"} for i in self.installations.values()]

    def impersonate(self, installation_id: str) -> Json:
        """POST …/installations/{id}/impersonate: the installation's API key, for the extension acting as that
        account outside an installation's task (its scheduled sweep)."""
        with self.lock:
            installation = self.installations.get(installation_id)
            if installation is None:
                raise ConnectApiProblem(404, "DO_404", f"installation {installation_id} not found")
            return {"installation_api_key": str(installation["api_key"])}

    def add_installation(self, installation: Json) -> None:
        """The extension installed by another account: its installation (read by the runner) and the installation's
        API key, which Connect then accepts (``installation["api_key"]``, never shown by the devops API)."""
        with self.lock:
            self.installations[installation["id"]] = copy.deepcopy(installation)
            self.api_keys = (*self.api_keys, str(installation["api_key"]))

    def update_schedule(self, schedule_id: str, body: Json) -> Json:
        """PUT …/schedules/{id}: the writable fields given replace the stored ones (``id``, ``status``, ``events``
        are read-only)."""
        with self.lock:
            stored = self._schedule(schedule_id)
            self._refuse_schedule_change(schedule_id)
            for key in ("name", "description", "method", "parameter", "trigger"):
                if key in body:
                    stored[key] = copy.deepcopy(body[key])
            stored.setdefault("events", {})["updated"] = {"at": _now_iso()}
            return copy.deepcopy(stored)

    def trigger_schedule(self, schedule_id: str) -> Json:
        """POST …/schedules/{id}/trigger: Connect runs the schedule now, i.e. sends the extension a scheduled task
        (queued in ``triggered`` for whatever stands in for the EaaS websocket). A disabled schedule is refused."""
        with self.lock:
            stored = self._schedule(schedule_id)
            self._refuse_schedule_change(schedule_id)
            if stored.get("status", "enabled") != "enabled":
                raise ConnectApiProblem(400, "DO_003", f"schedule {schedule_id} is {stored.get('status')}")
            stored.setdefault("events", {})["last_triggered"] = {"at": _now_iso()}
            self.triggered.append(schedule_id)
            return copy.deepcopy(stored)

    def _refuse_schedule_change(self, schedule_id: str) -> None:
        if self.schedule_changes_refused:
            raise ConnectApiProblem(403, "AUTH_003", f"this API key is not allowed to change schedule {schedule_id}")

    def take_triggered(self) -> list[str]:
        """The schedule executions triggered since the last call (each is one scheduled task to deliver)."""
        with self.lock:
            taken, self.triggered = self.triggered, []
            return taken

    def _schedule(self, schedule_id: str) -> Json:
        if schedule_id not in self.schedules:
            raise ConnectApiProblem(404, "DO_404", f"schedule {schedule_id} not found")
        return self.schedules[schedule_id]

    def get(self, name: str, object_id: str) -> Json:
        with self.lock:
            self._tick()
            store = self._store(name)
            if object_id not in store:
                raise ConnectApiProblem(404, "REQ_404", f"{name} {object_id} not found")
            return store[object_id]

    def _store(self, name: str) -> dict[str, Json]:
        stores: dict[str, dict[str, Json]] = {"assets": self.assets, "requests": self.requests, "tier/configs": self.tier_configs,
                  "tier/config-requests": self.tier_config_requests}
        return stores[name]

    # -- asset requests ------------------------------------------------------------------------------

    def create_request(self, body: Json, created: str | None = None) -> Json:
        """A new purchase or cancel request; ``created`` is when it arrived when that was before now (a request
        committed after its answer carries its arrival time, and is seen only now)."""
        with self.lock:
            self._tick()
            kind = body.get("type")
            if kind == "purchase":
                return self._create_purchase(body, created)
            if kind == "cancel":
                return self._create_on_asset(body, "cancel", created)
            raise ConnectApiProblem(400, "REQ_001", f"request type {kind!r} is not supported by the sandbox")

    def _create_purchase(self, body: Json, created: str | None = None) -> Json:
        asset_in = body.get("asset") or {}
        product_id = (asset_in.get("product") or {}).get("id")
        if product_id not in self.products:
            raise ConnectApiProblem(400, "REQ_002", f"product {product_id} does not exist")
        # Connect takes the connection by id and it must be one of the product's (the hub it is sold through).
        connection_in = asset_in.get("connection")
        connection_id = connection_in.get("id") if isinstance(connection_in, dict) else None
        connection = next((c for c in self.connections[product_id] if c["id"] == connection_id), None)
        if connection is None:
            raise ConnectApiProblem(400, "REQ_009", f"connection {connection_id} is not a connection of product {product_id}")
        catalog = {i["id"]: i for i in self.items[product_id]}
        items = []
        for item in asset_in.get("items", []):
            known = catalog.get(item.get("id"))
            if known is None:
                raise ConnectApiProblem(400, "REQ_003", f"item {item.get('id')} is not an item of {product_id}")
            quantity = item.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise ConnectApiProblem(400, "REQ_003", f"items: quantity of {item.get('id')} must be a whole number, "
                                                        f"not {quantity!r}")
            copied: Json = {k: known[k] for k in ("id", "mpn", "display_name", "period", "commitment", "type") if k in known}
            # Assets report quantities as text ("12"), as Connect's responses do.
            items.append({**copied, "quantity": str(quantity)})
        asset_id = f"AS-9{next(self._asset_ids):03d}-{len(self.assets):04d}-{next(self._ids):04d}"
        marketplace = body.get("marketplace") or {}
        asset = _complete_asset({
            "id": asset_id, "status": "processing", "external_id": asset_in.get("external_id"),
            "external_uid": asset_in.get("external_uid"), "product": {"id": product_id},
            "connection": copy.deepcopy(connection), "items": items,
            "params": [dict(p) for p in asset_in.get("params", [])], "tiers": asset_in.get("tiers") or {},
            "marketplace": marketplace,
        })
        self.assets[asset_id] = asset
        self._position["assets"][asset_id] = len(self._position["assets"])
        self.changed()
        return self._new_request("purchase", asset, marketplace, created)

    def _create_on_asset(self, body: Json, kind: str, created: str | None = None) -> Json:
        asset_id = (body.get("asset") or {}).get("id")
        asset = self.assets.get(asset_id or "")
        if asset is None:
            raise ConnectApiProblem(400, "REQ_002", f"asset {asset_id} does not exist")
        if asset.get("status") != "active":
            raise ConnectApiProblem(400, "REQ_004", f"asset {asset_id} is {asset.get('status')}, not active")
        open_ = [r for r in self._requests_by_asset.get(asset_id or "", ())
                 if self.requests[r]["status"] in OPEN_STATUSES]
        if open_:
            raise ConnectApiProblem(400, "REQ_005", f"asset {asset_id} already has an open request {open_[0]}")
        request = self._new_request(kind, asset, asset.get("marketplace") or {}, created)
        if kind == "cancel":
            self._due[request["id"]] = self.clock.now() + self.cancel_approval_seconds
        return request

    def _new_request(self, kind: str, asset: Json, marketplace: Json, created: str | None = None) -> Json:
        request_id = f"PR-{next(self._ids):04d}-{len(self.requests):04d}-{len(self.assets):04d}"
        now = _now_iso()
        request = {"id": request_id, "type": kind, "status": "pending", "created": created or now, "updated": now,
                   "asset": asset, "marketplace": marketplace, "note": "", "reason": ""}
        self.requests[request_id] = request
        self._position["requests"][request_id] = len(self._position["requests"])
        self._requests_by_asset.setdefault(asset["id"], []).append(request_id)
        self.transitions.append((request_id, "", "pending"))
        self.changed()
        return request

    def update_request(self, request_id: str, body: Json) -> Json:
        with self.lock:
            request = self.get("requests", request_id)
            if request["status"] not in OPEN_STATUSES:
                raise ConnectApiProblem(400, "REQ_006", f"request {request_id} is {request['status']}; it cannot change")
            _merge_params(request["asset"].setdefault("params", []), (body.get("asset") or {}).get("params", []))
            request["updated"] = _now_iso()
            self.changed()
            return request

    def transition_request(self, request_id: str, action: str, body: Json) -> Json:
        with self.lock:
            request = self.get("requests", request_id)
            status = request["status"]
            allowed = {"approve": ("pending",), "fail": ("pending", "inquiring"), "inquire": ("pending",),
                       "pend": ("inquiring",)}[action]
            if status not in allowed:
                raise ConnectApiProblem(400, "REQ_007", f"request {request_id} is {status}; cannot {action} it")
            asset = request["asset"]
            if action == "approve":
                if not body.get("template_id") and not body.get("activation_tile"):
                    raise ConnectApiProblem(400, "REQ_008", "template_id or activation_tile is required")
                self._set(request, "approved")
                if body.get("template_id"):
                    request["template"] = _template(body["template_id"])
                request["effective_date"] = _now_iso()
                asset["status"] = "terminated" if request["type"] == "cancel" else "active"
            elif action == "fail":
                self._set(request, "failed")
                request["reason"] = str(body.get("reason") or "")
                if request["type"] == "purchase":
                    asset["status"] = "rejected"
            elif action == "inquire":
                self._set(request, "inquiring")
            else:
                self._set(request, "pending")
            return request

    def _set(self, request: Json, status: str) -> None:
        self.transitions.append((request["id"], request["status"], status))
        request["status"] = status
        request["updated"] = _now_iso()
        self.changed()

    def _tick(self) -> None:
        """The CSP vendor's connector approves due cancel requests."""
        now = self.clock.now()
        for request_id, due in list(self._due.items()):
            if due <= now:
                del self._due[request_id]
                request = self.requests[request_id]
                if request["status"] == "pending":
                    self._set(request, "approved")
                    request["asset"]["status"] = "terminated"

    # -- tier configs --------------------------------------------------------------------------------

    def update_tier_config_request(self, request_id: str, body: Json) -> Json:
        with self.lock:
            request = self.get("tier/config-requests", request_id)
            if request["status"] not in OPEN_STATUSES:
                raise ConnectApiProblem(400, "TC_006", f"tier config request {request_id} is {request['status']}")
            _merge_params(request.setdefault("params", []), body.get("params", []))
            self.changed()
            return request

    def transition_tier_config_request(self, request_id: str, action: str, body: Json) -> Json | None:
        """Move a tier-config request; ``approve`` answers ``{template, effective_date}`` as Connect does, the other
        actions nothing (204)."""
        with self.lock:
            request = self.get("tier/config-requests", request_id)
            status = request["status"]
            allowed = {"approve": ("pending",), "fail": ("pending", "inquiring"), "inquire": ("pending",),
                       "pend": ("inquiring",)}[action]
            if status not in allowed:
                raise ConnectApiProblem(400, "TC_007", f"tier config request {request_id} is {status}; cannot {action} it")
            configuration = self.tier_configs.get((request.get("configuration") or {}).get("id", ""))
            if action == "approve":
                if not (body.get("template") or {}).get("id"):
                    raise ConnectApiProblem(400, "TC_008", "template.id is required")
                self._set(request, "approved")
                request["template"] = _template(body["template"]["id"])
                request["effective_date"] = _now_iso()
                if configuration is not None:
                    configuration["status"] = "active"
                    configuration["params"] = copy.deepcopy(request.get("params", []))
                return {"template": {"id": body["template"]["id"], "representation": ""},
                        "effective_date": request["effective_date"]}
            if action == "fail":
                self._set(request, "failed")
                request["reason"] = str(body.get("reason") or "")
            elif action == "inquire":
                self._set(request, "inquiring")
            else:
                self._set(request, "pending")
            return None

    def submit_tier_config_request(self, request_id: str, params: dict[str, str]) -> None:
        """The reseller answers an inquiry: new values, back to ``pending`` (tests and the demo)."""
        with self.lock:
            request = self.get("tier/config-requests", request_id)
            _merge_params(request.setdefault("params", []), [{"id": k, "value": v, "value_error": ""} for k, v in params.items()])
            self._set(request, "pending")

    def snapshot(self, select: Callable[[Json], bool] | None = None) -> list[Json]:
        with self.lock:
            self._tick()
            return [copy.deepcopy(r) for r in self.requests.values() if select is None or select(r)]


def _seeded_at(number: int) -> str:
    """When a seeded asset without ``events.created.at`` was created: one second apart, in estate order."""
    return (_SEED_EPOCH + dt.timedelta(seconds=number)).isoformat(timespec="milliseconds")


_SEED_EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def _complete_asset(asset: Json, created: str | None = None) -> Json:
    """The fields dp.Subscription requires that a seeded or purchased asset may lack (Connect sets them), and the
    ``events`` Connect's ``created``/``updated`` filters and orderings read."""
    events = asset.get("events")
    if not isinstance(events, dict):
        events = asset["events"] = {}
    stamp = created or _now_iso()
    events.setdefault("created", {"at": stamp})
    events.setdefault("updated", {"at": events["created"].get("at", stamp)})
    if not asset.get("external_uid"):
        asset["external_uid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"connect-sandbox-asset:{asset['id']}"))
    asset.setdefault("external_id", None)
    connection = asset.get("connection")
    if not isinstance(connection, dict):
        connection = asset["connection"] = {}
    for key, value in DEFAULT_CONNECTION.items():
        connection.setdefault(key, dict(value))
    asset.setdefault("contract", dict(DEFAULT_CONTRACT))
    asset.setdefault("params", [])
    return asset


def default_connection_id(product_id: str) -> str:
    """The connection a product without declared connections has on the sandbox hub."""
    return "CT-" + product_id.removeprefix("PRD-")


def _complete_connection(connection: Json) -> Json:
    """dp.Connection's required provider, vendor and hub (the sandbox hub by default), production by default."""
    for key, value in DEFAULT_CONNECTION.items():
        connection.setdefault(key, dict(value))
    connection.setdefault("type", "production")
    connection.setdefault("status", "approved")
    return connection


def _template(template_id: str) -> Json:
    """dp.TemplateReference; the sandbox has no templates, so a template is named by its id."""
    return {"id": template_id, "name": template_id}


def _complete_item(item: Json) -> Json:
    item.setdefault("name", item.get("display_name", item.get("id")))
    item.setdefault("unit", dict(DEFAULT_UNIT))
    return item


def _merge_params(current: list[Json], updates: list[Json]) -> None:
    by_id = {p.get("id"): p for p in current}
    for update in updates:
        param = by_id.get(update.get("id"))
        if param is None:
            param = {"id": update.get("id")}
            current.append(param)
            by_id[param["id"]] = param
        for key in ("value", "value_error", "structured_value"):
            if key in update:
                param[key] = update[key]
