"""Validates JSON against the response schemas of the Connect OpenAPI 21.0 spec (jsonschema).

The schemas come from the Connect extract the sandbox itself ships (``m365move/sandbox/specs/``, checked against the
published spec by ``test_shipped_specs.py``): the 2xx response schemas of the operations connect-openapi-client calls
on the sandbox, and the component schemas they reach. At load time the OpenAPI 3.0 dialect is turned into
JSON Schema: ``nullable: true`` admits ``null``, a ``readOnly`` property is never required of a request body and a
``writeOnly`` one never of a response (we only validate responses, so ``writeOnly`` properties are dropped from
``required``). The spec sets no ``additionalProperties``, so extra fields pass the schema; ``validate`` adds a check
that an object's top-level fields are ones the schema names (or documented extensions), so a typo cannot hide.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from m365move.sandbox.spec_validation import CONNECT_SPEC

SUBSET = CONNECT_SPEC
_URI = "urn:connect-openapi-21.0"
Patch = Callable[[dict[str, Any]], None]


def _openapi_to_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_openapi_to_json_schema(value) for value in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _openapi_to_json_schema(value) for key, value in node.items()}
    properties = converted.get("properties")
    if isinstance(properties, dict) and isinstance(converted.get("required"), list):
        converted["required"] = [name for name in converted["required"]
                                 if not (isinstance(properties.get(name), dict) and properties[name].get("writeOnly"))]
    if converted.pop("nullable", False):
        if "$ref" in converted:  # draft 7 ignores a $ref's siblings
            return {"anyOf": [{"$ref": converted.pop("$ref")}, {"type": "null"}], **converted}
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
        if isinstance(converted.get("enum"), list) and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
        for combinator in ("oneOf", "anyOf"):
            if isinstance(converted.get(combinator), list):
                converted[combinator] = [*converted[combinator], {"type": "null"}]
    return converted


_METHODS = ("get", "put", "post", "delete", "patch")


def _operations_view(spec: dict[str, Any]) -> dict[str, Any]:
    """Every operation of the extract as ``"METHOD path": {2xx status: response schema or None}``."""
    operations: dict[str, dict[str, Any]] = {}
    for path, item in spec["paths"].items():
        for method in _METHODS:
            if method not in item:
                continue
            answers: dict[str, Any] = {}
            for status, response in item[method]["responses"].items():
                if str(status).startswith("2"):
                    content = response.get("content", {}).get("application/json")
                    answers[str(status)] = None if content is None else content.get("schema", {})
            operations[f"{method.upper()} {path}"] = answers
    return {"info": spec["info"], "operations": operations,
            "components": {"schemas": spec["components"]["schemas"]}}


@lru_cache(maxsize=1)
def raw_subset() -> dict[str, Any]:
    """``{"info", "operations": {"METHOD path": {status: schema | None}}, "components": {"schemas": {…}}}``."""
    return _operations_view(json.loads(SUBSET.read_text(encoding="utf-8")))


class ConnectSpec:
    """The extracted schemas with ``patches`` (documented deviations) applied, then converted to JSON Schema."""

    def __init__(self, patches: Iterable[Patch] = ()) -> None:
        spec = copy.deepcopy(raw_subset())
        for patch in patches:
            patch(spec)
        self.spec: dict[str, Any] = _openapi_to_json_schema(spec)
        self._registry: Registry = Registry().with_resource(_URI, Resource.from_contents(self.spec, default_specification=DRAFT7))

    def response_schema(self, operation: str, status: int) -> dict[str, Any] | None:
        """The response schema of ``"GET /assets"``-style ``operation`` for ``status`` (None: no body)."""
        answers: dict[str, Any] = self.spec["operations"][operation]
        assert str(status) in answers, f"{operation} answers {sorted(answers)} per the spec, not {status}"
        schema: dict[str, Any] | None = answers[str(status)]
        return schema

    def validate(self, instance: Any, operation: str, status: int = 200, *, extensions: frozenset[str] = frozenset()) -> None:
        """Raise if ``instance`` breaks ``operation``'s response schema for ``status``, or if a top-level field of it
        (or of its items, for an array) is named neither by the schema nor in ``extensions``."""
        schema = self.response_schema(operation, status)
        assert schema is not None, f"{operation} answers {status} without a body per the spec"
        validator = jsonschema.Draft7Validator(_rebase(schema), registry=self._registry,
                                               format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        assert not errors, f"{operation} {status}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors[:10])
        item_schema = self._resolve(schema)
        objects = instance if isinstance(instance, list) else [instance]
        if item_schema.get("type") == "array":
            item_schema = self._resolve(item_schema.get("items", {}))
        allowed = set(item_schema.get("properties", {})) | extensions
        for obj in objects:
            unknown = set(obj) - allowed
            assert not unknown, f"{operation}: fields outside the spec and the documented extensions: {sorted(unknown)}"

    def _resolve(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            ref: str = schema["$ref"]
            node: Any = self.spec
            for part in ref.removeprefix("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
        return dict(schema)


def _rebase(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A free-standing schema whose ``#/components/...`` refs point into the registered spec."""
    text = json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{_URI}#/')
    rebased: dict[str, Any] = json.loads(text)
    return rebased
