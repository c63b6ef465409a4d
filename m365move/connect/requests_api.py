"""Changing Connect requests: create purchase and cancel requests, approve, fail, inquire, update parameters.

Asset requests are approved with ``{"template_id": …}``; tier-config requests with ``{"template": {"id": …}}``
(the two APIs differ). Inquiring first writes each bad parameter's ``value_error``, then moves the request, so
the reseller sees which parameter to fix and why.
"""

from __future__ import annotations

from collections.abc import Mapping

from connect.client import ClientError, ConnectClient

from m365move.connect.client import ConnectApiError, connect_error, with_retries
from m365move.connect.payloads import Json
from m365move.errors import PlatformError
from m365move.text.url_path import segment


def create_request(client: ConnectClient, body: Json) -> Json:
    """POST /requests once: never retried blindly (a lost answer may hide a created request); callers look up first."""
    try:
        created: Json = client.requests.create(payload=body)
    except ClientError as error:
        raise connect_error(f"create {body.get('type', '')} request", error) from None
    return created


def cancel_request_body(asset: Json) -> Json:
    body: Json = {"type": "cancel", "asset": {"id": asset["id"]}}
    marketplace = asset.get("marketplace")
    if isinstance(marketplace, Mapping) and marketplace.get("id"):
        body["marketplace"] = {"id": marketplace["id"]}
    return body


def update_asset_request_params(client: ConnectClient, request_id: str, values: Mapping[str, str]) -> Json:
    """Write parameters of a pending request; Connect's answer (the request, with its ``updated`` on Connect's
    clock)."""
    params = [{"id": key, "value": value} for key, value in values.items()]
    try:
        written: Json = with_retries(
            client, f"update parameters of {request_id}",
            lambda: client.requests[segment(request_id)].update(payload={"asset": {"params": params}}))
        return written
    except ConnectApiError as error:
        # A redelivered task finds the request already approved or failed: nothing left to do.
        if error.status_code == 400:
            raise RequestNotPending(str(error)) from None
        raise


def approve_asset_request(client: ConnectClient, request_id: str, template_id: str) -> None:
    _transition(client, f"requests/{segment(request_id)}/approve", {"template_id": template_id}, f"approve {request_id}")


def fail_asset_request(client: ConnectClient, request_id: str, reason: str) -> None:
    _transition(client, f"requests/{segment(request_id)}/fail", {"reason": reason}, f"fail {request_id}")


def inquire_asset_request(client: ConnectClient, request_id: str, value_errors: Mapping[str, str],
                          template_id: str | None = None) -> None:
    params = [{"id": key, "value_error": message} for key, message in value_errors.items()]
    with_retries(client, f"mark parameters of {request_id}",
                 lambda: client.requests[segment(request_id)].update(payload={"asset": {"params": params}}))
    _transition(client, f"requests/{segment(request_id)}/inquire", {"template_id": template_id} if template_id else {},
                f"inquire {request_id}")


def approve_tier_config_request(client: ConnectClient, request_id: str, template_id: str) -> None:
    _transition(client, f"tier/config-requests/{segment(request_id)}/approve", {"template": {"id": template_id}},
                f"approve {request_id}")


def fail_tier_config_request(client: ConnectClient, request_id: str, reason: str) -> None:
    _transition(client, f"tier/config-requests/{segment(request_id)}/fail", {"reason": reason}, f"fail {request_id}")


def inquire_tier_config_request(client: ConnectClient, request_id: str, value_errors: Mapping[str, str]) -> None:
    params = [{"id": key, "value_error": message} for key, message in value_errors.items()]
    with_retries(client, f"mark parameters of {request_id}",
                 lambda: client.ns("tier").collection("config-requests")[segment(request_id)].update(payload={"params": params}))
    _transition(client, f"tier/config-requests/{segment(request_id)}/inquire", {}, f"inquire {request_id}")


class RequestNotPending(PlatformError):
    """Connect refused a transition because the request already moved on (e.g. a redelivered task)."""


def _transition(client: ConnectClient, path: str, payload: Json, what: str) -> None:
    """POST an action; retrying is safe because a repeated transition is refused, not repeated."""
    try:
        with_retries(client, what, lambda: client.create(path, payload=payload or None))
    except ConnectApiError as error:
        if error.status_code == 400:
            raise RequestNotPending(str(error)) from None
        raise
