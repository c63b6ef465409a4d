"""Reading Connect JSON objects (assets, requests, tier configs): parameters, tiers, items, the legacy subscription
behind a CSP item."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Json = dict[str, Any]


def params_of(obj: Mapping[str, Any]) -> list[Json]:
    """The parameter list of an asset, a request (its asset's) or a tier-config request."""
    if "params" in obj and isinstance(obj["params"], list):
        return obj["params"]
    asset = obj.get("asset")
    if isinstance(asset, Mapping) and isinstance(asset.get("params"), list):
        return list(asset["params"])
    return []


def param_value(obj: Mapping[str, Any], param_id: str) -> str | None:
    """A parameter's value (None when absent or empty); structured values are returned as given."""
    for param in params_of(obj):
        if param.get("id") == param_id:
            value = param.get("value")
            if value is None or value == "":
                structured = param.get("structured_value")
                return structured if structured not in (None, "", {}) else None
            return str(value)
    return None


def nested_id(obj: Mapping[str, Any], *path: str) -> str | None:
    """``nested_id(asset, "tiers", "tier1")`` → the ``id`` at that path, or None."""
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    if isinstance(node, Mapping):
        value = node.get("id")
        return str(value) if value is not None else None
    return None


def quantity_of(item: Mapping[str, Any]) -> int:
    """Connect sends item quantities as strings (``"12"``, or ``"unlimited"``, which we treat as 0)."""
    try:
        return int(str(item.get("quantity", "0")).strip())
    except ValueError:
        return 0


def legacy_subscription_of(asset: Json, csp_item: Json) -> str | None:
    """The Microsoft (legacy CSP) subscription behind a CSP item, from the asset parameter ``ms_subscription_ids``
    (a JSON object: CSP item id, or its MPN, -> subscription id)."""
    raw = param_value(asset, "ms_subscription_ids")
    if not raw:
        return None
    try:
        mapping = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(mapping, dict):
        return None
    value = mapping.get(str(csp_item["id"])) or mapping.get(str(csp_item.get("mpn", "")))
    return str(value) if value else None
