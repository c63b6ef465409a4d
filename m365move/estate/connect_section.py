"""The estate's ``connect`` section: Connect API objects the sandbox serves, checked before anything runs.

Objects keep Connect's own JSON shapes (any further field is allowed, as the API has many), but what the
sandbox and the extension rely on is checked here, so a malformed section is a bad-input error naming
the field at ``estate validate`` time, not a ``TypeError`` in the middle of ``connect run-events``:
each collection is a list of objects with a non-empty string ``id``, nested references are objects,
item lists are lists of objects, quantities are whole numbers, and the numbers are finite.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from m365move.estate.schema import MAX_SEATS


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}")
    return value


FiniteNumber = Annotated[float, AfterValidator(_finite)]
ObjectId = Annotated[StrictStr, Field(min_length=1)]


def _seat_count(value: Any) -> Any:
    # Connect writes item quantities as text ("12"); either form must be a whole number of seats.
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or int(text) > MAX_SEATS:
        raise ValueError(f"must be a whole number of seats from 0 to {MAX_SEATS}, not {value!r}")
    return value


class _ConnectObject(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Connect objects carry many more fields; only ours are checked


class Reference(_ConnectObject):
    id: ObjectId


class WithId(_ConnectObject):
    id: ObjectId


class Item(WithId):
    quantity: Annotated[Any, AfterValidator(_seat_count)] = "0"


class Product(WithId):
    items: list[Item] = Field(default_factory=list)


class Parameter(_ConnectObject):
    id: ObjectId


class Asset(WithId):
    product: Reference | None = None
    marketplace: Reference | None = None
    connection: dict[str, Any] | None = None
    items: list[Item] = Field(default_factory=list)
    params: list[Parameter] = Field(default_factory=list)
    tiers: dict[str, Reference] = Field(default_factory=dict)


class Listing(WithId):
    product: Reference
    marketplace: Reference | None = None


class TierConfig(WithId):
    product: Reference | None = None
    account: Reference | None = None
    params: list[Parameter] = Field(default_factory=list)


class TierConfigRequest(WithId):
    configuration: dict[str, Any] | None = None
    params: list[Parameter] = Field(default_factory=list)


class AssetRequest(WithId):
    asset: dict[str, Any] | None = None


class ConnectSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: StrictStr | None = None
    time_scale: FiniteNumber = Field(default=1.0, gt=0)
    cancel_approval_seconds: FiniteNumber = Field(default=30.0, ge=0)
    marketplaces: list[WithId] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    listings: list[Listing] = Field(default_factory=list)
    tier_configs: list[TierConfig] = Field(default_factory=list)
    tier_config_requests: list[TierConfigRequest] = Field(default_factory=list)
    assets: list[Asset] = Field(default_factory=list)
    requests: list[AssetRequest] = Field(default_factory=list)
    extension_variables: dict[str, StrictStr | int | float | bool] = Field(default_factory=dict)
