"""The estate's ``connect`` section: Connect API objects the sandbox serves, checked before anything runs.

Objects keep Connect's own JSON shapes (any further field is allowed, as the API has many), but what the
sandbox and the extension rely on is checked here, so a malformed section is a bad-input error naming
the field at ``estate validate`` time, not a ``TypeError`` in the middle of ``connect run-events``:
each collection is a list of objects with a non-empty string ``id``, nested references are objects,
item lists are lists of objects, quantities are whole numbers, and the numbers are finite.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from m365move.estate.id_rules import ID_PATTERN, MAX_ID_LENGTH
from m365move.estate.schema import MAX_SEATS
from m365move.estate.typed import FieldProblem, finite

ObjectId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]


class _ConnectObject(msgspec.Struct, frozen=True, kw_only=True):
    """Connect objects carry many more fields; only ours are checked (unknown fields are ignored)."""


class Reference(_ConnectObject, frozen=True, kw_only=True):
    id: ObjectId


class WithId(_ConnectObject, frozen=True, kw_only=True):
    id: ObjectId


class Item(WithId, frozen=True, kw_only=True):
    quantity: Any = "0"

    def __post_init__(self) -> None:
        # Connect writes item quantities as text ("12"); either form must be a whole number of seats.
        value = self.quantity
        text = str(value).strip()
        if isinstance(value, bool) or not isinstance(value, int | str) or not (text.isascii() and text.isdigit()) \
                or int(text) > MAX_SEATS:
            raise FieldProblem("quantity", f"must be a whole number of seats from 0 to {MAX_SEATS}, not {value!r}")


class Product(WithId, frozen=True, kw_only=True):
    items: list[Item] = []


class Parameter(_ConnectObject, frozen=True, kw_only=True):
    id: ObjectId


class Asset(WithId, frozen=True, kw_only=True):
    product: Reference | None = None
    marketplace: Reference | None = None
    connection: dict[str, Any] | None = None
    items: list[Item] = []
    params: list[Parameter] = []
    tiers: dict[str, Reference] = {}


class Listing(WithId, frozen=True, kw_only=True):
    product: Reference
    marketplace: Reference | None = None


class TierConfig(WithId, frozen=True, kw_only=True):
    product: Reference | None = None
    account: Reference | None = None
    params: list[Parameter] = []


class TierConfigRequest(WithId, frozen=True, kw_only=True):
    configuration: dict[str, Any] | None = None
    params: list[Parameter] = []


class AssetRequest(WithId, frozen=True, kw_only=True):
    asset: dict[str, Any] | None = None


class ConnectSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    api_key: str | None = None
    time_scale: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    cancel_approval_seconds: Annotated[float, msgspec.Meta(ge=0)] = 30.0
    marketplaces: list[WithId] = []
    products: list[Product] = []
    listings: list[Listing] = []
    tier_configs: list[TierConfig] = []
    tier_config_requests: list[TierConfigRequest] = []
    assets: list[Asset] = []
    requests: list[AssetRequest] = []
    extension_variables: dict[str, str | int | float | bool] = {}

    def __post_init__(self) -> None:
        finite(self, "time_scale", "cancel_approval_seconds")
