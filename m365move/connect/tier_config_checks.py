"""Checking a reseller's NCE tier configuration (DESIGN §4): approve, fail, or inquire naming each bad parameter.

The same checks answer the synchronous ``draft`` validation (value errors written into the returned request)
and the ``pending`` processing (Connect calls made).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from connect.client import ConnectClient

from m365move.connect.payloads import Json, nested_id, param_value
from m365move.connect.requests_api import (
    RequestNotPending,
    approve_tier_config_request,
    fail_tier_config_request,
    inquire_tier_config_request,
)
from m365move.connect.settings import ExtensionSettings

# The reseller parameters an NCE tier configuration needs, with what a good value looks like.
MPN_ID = "mpn_id"
PARTNER_TENANT_ID = "ms_partner_tenant_id"
CONTACT_EMAIL = "contact_email"
_CHECKS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (MPN_ID, re.compile(r"^\d{6,10}$"), "must be the reseller's Microsoft Partner ID (MPN ID): 6 to 10 digits"),
    (PARTNER_TENANT_ID, re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE),
     "must be the reseller's Microsoft partner tenant id (a GUID)"),
    (CONTACT_EMAIL, re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "must be an e-mail address for migration notices"),
)


@dataclass(frozen=True)
class TierConfigVerdict:
    value_errors: dict[str, str] = field(default_factory=dict)
    fail_reason: str | None = None

    @property
    def ok(self) -> bool:
        return not self.value_errors and self.fail_reason is None


def check_tier_config_request(request: Json, settings: ExtensionSettings) -> TierConfigVerdict:
    """Every problem of a tier-config request: a fail reason (cannot be fixed by editing) or parameter errors."""
    configuration = request.get("configuration") or {}
    level = configuration.get("tier_level", 1)
    if str(level) != "1":
        return TierConfigVerdict(fail_reason=f"NCE migrations are set up for tier-1 resellers only; this configuration "
                                             f"is for tier level {level}")
    errors: dict[str, str] = {}
    for param_id, pattern, meaning in _CHECKS:
        value = param_value(request, param_id)
        if value is None:
            errors[param_id] = f"is required: it {meaning.removeprefix('must be ')}"
        elif not pattern.match(str(value).strip()):
            errors[param_id] = f"{str(value)!r} {meaning}"
    return TierConfigVerdict(errors)


def process_tier_config_request(client: ConnectClient, request: Json, settings: ExtensionSettings) -> tuple[str, str]:
    """Approve, fail or inquire a pending tier-config request; returns (action, detail)."""
    if not handles_product(request, settings):
        # Another product's configuration (the account may run other extensions): not ours to judge.
        return "skip", f"product {nested_id(request, 'configuration', 'product')} is not an NCE product of this extension"
    verdict = check_tier_config_request(request, settings)
    request_id = str(request["id"])
    try:
        if verdict.fail_reason:
            fail_tier_config_request(client, request_id, verdict.fail_reason)
            return "fail", verdict.fail_reason
        if verdict.value_errors:
            inquire_tier_config_request(client, request_id, verdict.value_errors)
            return "inquire", "; ".join(f"{k} {v}" for k, v in verdict.value_errors.items())
        approve_tier_config_request(client, request_id, settings.tier_config_approve_template_id)
        return "approve", "tier configuration complete"
    except RequestNotPending as moved:
        return "skip", f"the request moved on meanwhile: {moved}"


def handles_product(request: Json, settings: ExtensionSettings) -> bool:
    return nested_id(request, "configuration", "product") in settings.nce_product_ids


def validated_tier_config_request(request: Json, settings: ExtensionSettings) -> tuple[bool, Json]:
    """The draft request with each bad parameter's ``value_error`` set (what Connect shows the reseller); another
    product's request comes back unchanged."""
    if not handles_product(request, settings):
        return True, copy.deepcopy(request)
    verdict = check_tier_config_request(request, settings)
    answer = copy.deepcopy(request)
    for param in answer.get("params", []):
        if param.get("id") in verdict.value_errors:
            param["value_error"] = verdict.value_errors[param["id"]]
    missing = [p for p in verdict.value_errors if p not in {q.get("id") for q in answer.get("params", [])}]
    answer.setdefault("params", []).extend({"id": p, "value": "", "value_error": verdict.value_errors[p]} for p in missing)
    if verdict.fail_reason:
        answer["reason"] = verdict.fail_reason
    return verdict.ok, answer
