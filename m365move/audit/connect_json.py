"""The parts of Connect's asset and request JSON that a Connect audit reads, as msgspec structs.

A 10k-asset audit reads some 47 MB of Connect pages. Decoding them into dicts and lists first (what
``ConnectClient.get`` does) and then picking a few fields out costs several times more CPU than decoding only
those fields: msgspec skips every other key while it decodes, and builds no dict for it. Every field is
optional and typed as loosely as Connect may send it (an item's ``quantity`` is a string, or a number), so an
answer the dict-based reading accepted is accepted here too; a page that is not JSON, or whose fields have a
type no Connect answer has (an object where an id is), is refused with ``msgspec.ValidationError``.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Ref(msgspec.Struct, gc=False):
    id: str | None = None


class Party(msgspec.Struct, gc=False):
    id: str | None = None
    name: str | None = None


class Tiers(msgspec.Struct, gc=False):
    customer: Party | None = None
    tier1: Ref | None = None


class Item(msgspec.Struct, gc=False):
    id: str | int | None = None
    mpn: str | None = None
    quantity: int | float | str | None = None


class Param(msgspec.Struct, gc=False):
    id: str | None = None
    value: Any = None
    structured_value: Any = None


class Asset(msgspec.Struct, gc=False):
    id: str | None = None
    status: str | None = None
    external_id: str | None = None
    product: Ref | None = None
    marketplace: Ref | None = None
    tiers: Tiers | None = None
    items: list[Item] | None = None
    params: list[Param] | None = None


class Request(msgspec.Struct, gc=False):
    id: str | None = None
    type: str | None = None
    status: str | None = None
    created: str | None = None
    updated: str | None = None
    reason: str | None = None
    asset: Asset | None = None


ASSET_PAGE = msgspec.json.Decoder(list[Asset])
REQUEST_PAGE = msgspec.json.Decoder(list[Request])


def param_value(params: list[Param] | None, param_id: str) -> Any:
    """A parameter's value (None when absent or empty); a structured value is returned as given (as
    ``m365move.connect.payloads.param_value`` reads it from a dict)."""
    for param in params or ():
        if param.id == param_id:
            if param.value is None or param.value == "":
                structured = param.structured_value
                return structured if structured not in (None, "", {}) else None
            return str(param.value)
    return None


def quantity_of(item: Item) -> int:
    """Connect sends item quantities as strings (``"12"``, or ``"unlimited"``, which counts 0)."""
    try:
        return int(str(item.quantity if item.quantity is not None else "0").strip())
    except ValueError:
        return 0
