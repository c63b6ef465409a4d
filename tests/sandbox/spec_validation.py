"""Validates JSON against the Commerce SimpleAPI 1.15 spec's component schemas (jsonschema)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from m365move.sandbox.spec_validation import COMMERCE_SPEC

# The copy the sandbox ships and its spec gate enforces (test_shipped_specs.py keeps it equal to the published one).
SPEC = COMMERCE_SPEC
_URI = "urn:commerce-simpleapi-1.15"


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource(_URI, Resource.from_contents(_spec(), default_specification=DRAFT7))


def schema_properties(name: str) -> set[str]:
    """Top-level property names of a component schema, through ``allOf``."""
    schema = _spec()["components"]["schemas"][name]
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            names |= schema_properties(part["$ref"].rsplit("/", 1)[1])
        names |= set(part.get("properties", {}))
    return names


def validate(instance: Any, name: str) -> None:
    """Raise if ``instance`` breaks the schema, or carries a top-level field the spec does not name (the spec
    allows extra fields, so a typo would otherwise pass)."""
    validator = jsonschema.Draft7Validator(
        {"$ref": f"{_URI}#/components/schemas/{name}"},
        registry=_registry(),
        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
    )
    validator.validate(instance)
    items = instance["data"] if name.startswith("ResultList") else [instance]
    item_schema = _item_schema(name)
    allowed = schema_properties(item_schema)
    for item in items:
        unknown = set(item) - allowed
        assert not unknown, f"{item_schema} has fields outside the spec: {sorted(unknown)}"


def _item_schema(name: str) -> str:
    if not name.startswith("ResultList"):
        return name
    ref: str = _spec()["components"]["schemas"][name]["properties"]["data"]["items"]["$ref"]
    return ref.rsplit("/", 1)[1]
