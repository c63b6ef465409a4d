"""Extract the Connect OpenAPI response schemas the sandbox conformance test needs into a small JSON file.

The Connect spec (``../shared/reference/connect-openapi-21.0.yml``) is 2.3 MB and ~86k lines: too large for the
repository (files over 2 MB are refused) and about a second to parse. This script copies, verbatim, the 2xx
response schema of every operation listed in ``OPERATIONS`` plus every ``components/schemas`` entry they reach
through ``$ref``, into ``data/connect-openapi-21.0-subset.json`` (~50 kB). The test applies OpenAPI → JSON Schema
conversion (``nullable``, ``readOnly``) and its documented deviations at load time, so this file stays a faithful
extract. Rerun after changing ``OPERATIONS`` or the spec::

    .venv/bin/python tests/sandbox/extract_connect_schemas.py [path/to/connect-openapi-21.0.yml]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "connect-openapi-21.0.yml"
OUTPUT = Path(__file__).parent / "data" / "connect-openapi-21.0-subset.json"
# (method, path as the spec spells it): the calls connect-openapi-client makes on the sandbox.
OPERATIONS: list[tuple[str, str]] = [
    ("get", "/assets"),
    ("get", "/assets/{id}"),
    ("get", "/requests"),
    ("post", "/requests"),
    ("get", "/requests/{id}"),
    ("put", "/requests/{id}"),
    ("post", "/requests/{id}/approve"),
    ("post", "/requests/{id}/fail"),
    ("post", "/requests/{id}/inquire"),
    ("post", "/requests/{id}/pend"),
    ("get", "/tier/configs"),
    ("get", "/tier/configs/{id}"),
    ("get", "/tier/config-requests"),
    ("get", "/tier/config-requests/{id}"),
    ("put", "/tier/config-requests/{id}"),
    ("post", "/tier/config-requests/{id}/approve"),
    ("post", "/tier/config-requests/{id}/fail"),
    ("post", "/tier/config-requests/{id}/inquire"),
    ("post", "/tier/config-requests/{id}/pend"),
    ("get", "/products"),
    ("get", "/products/{product_product_id}/items"),
    ("get", "/products/{product_product_id}/items/{verbose_id}"),
    ("get", "/listings"),
    ("get", "/marketplaces"),
]
_PREFIX = "#/components/schemas/"


def _references(node: Any, schemas: dict[str, Any], found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_PREFIX) and ref[len(_PREFIX):] not in found:
            found.add(ref[len(_PREFIX):])
            _references(schemas[ref[len(_PREFIX):]], schemas, found)
        for value in node.values():
            _references(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, schemas, found)


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """``{"info", "operations": {"METHOD path": {status: schema | None}}, "components": {"schemas": {…}}}``."""
    schemas = spec["components"]["schemas"]
    operations: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        responses = spec["paths"][path][method]["responses"]
        answers: dict[str, Any] = {}
        for status, response in responses.items():
            if str(status).startswith("2"):
                content = response.get("content", {}).get("application/json")
                answers[str(status)] = None if content is None else content.get("schema", {})
        operations[f"{method.upper()} {path}"] = answers
    found: set[str] = set()
    _references(operations, schemas, found)
    return {
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"], "source": SPEC.name},
        "operations": operations,
        "components": {"schemas": {name: schemas[name] for name in sorted(found)}},
    }


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else SPEC
    spec = yaml.load(source.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    OUTPUT.write_text(json.dumps(extract(spec), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv)
