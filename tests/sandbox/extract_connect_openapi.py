"""Extract the part of the Connect OpenAPI 21.0 spec that the sandbox serves into a small, valid OpenAPI document.

The sandbox validates every request to its Connect routes (and, in test mode, every answer) with openapi-core
against ``m365move/sandbox/specs/connect-openapi-21.0-subset.json``. The full spec is 2.3 MB and ~86k lines: too
large for the package and slow to parse. This script copies, verbatim, the path items of ``OPERATIONS`` (only the
listed methods) and every ``components`` entry (schemas, parameters, responses, headers, examples) they reach
through ``$ref``, plus ``openapi``, ``info``, ``security`` and ``securitySchemes``. Where Connect answers
differently from its own spec, the sandbox applies documented patches at load time
(``m365move/sandbox/connect_spec_deviations.py``); this file stays a faithful extract. Rerun after changing
``OPERATIONS`` or the spec::

    .venv/bin/python tests/sandbox/extract_connect_openapi.py [path/to/connect-openapi-21.0.yml]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "connect-openapi-21.0.yml"
OUTPUT = Path(__file__).resolve().parents[2] / "m365move" / "sandbox" / "specs" / "connect-openapi-21.0-subset.json"
# (method, path as the spec spells it): what the sandbox serves under /public/v1, and the reads a Connect client
# may add next (hubs, connections, single listings and marketplaces), so a new sandbox route starts validated.
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
    ("get", "/products/{product_id}"),
    ("get", "/products/{product_product_id}/items"),
    ("get", "/products/{product_product_id}/items/{verbose_id}"),
    ("get", "/products/{product_product_id}/connections"),
    ("get", "/listings"),
    ("get", "/listings/{id}"),
    ("get", "/marketplaces"),
    ("get", "/marketplaces/{id}"),
    ("get", "/hubs"),
    ("get", "/hubs/{id}"),
    ("get", "/hubs/{hub_id}/connections"),
    # What connect-extension-runner reads for a scheduled task and for a multi-account installation.
    ("get", "/devops/services/{extension_id}/environments/{environment_id}/schedules/{id}"),
    # The chunked sweep keeps its position on its schedule and triggers the schedule for the next chunk.
    ("put", "/devops/services/{extension_id}/environments/{environment_id}/schedules/{id}"),
    ("post", "/devops/services/{extension_id}/environments/{environment_id}/schedules/{id}/trigger"),
    ("get", "/devops/services/{extension_id}/installations/{id}"),
    # The sweep covers each installation's assets with the installation's own key (multi-account).
    ("get", "/devops/services/{extension_id}/installations"),
    ("post", "/devops/services/{extension_id}/installations/{id}/impersonate"),
]
_SECTIONS = ("schemas", "parameters", "responses", "headers", "examples", "requestBodies")


def _references(node: Any, components: dict[str, Any], found: set[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            section, name = ref[len("#/components/"):].split("/", 1)
            name = name.replace("~1", "/").replace("~0", "~")
            if (section, name) not in found:
                found.add((section, name))
                _references(components[section][name], components, found)
        for value in node.values():
            _references(value, components, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, components, found)


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 document with only ``OPERATIONS`` and what they reference."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        item = spec["paths"][path]
        paths.setdefault(path, {k: v for k, v in item.items() if k == "parameters"})[method] = item[method]
    found: set[tuple[str, str]] = set()
    _references(paths, spec["components"], found)
    components: dict[str, Any] = {"securitySchemes": spec["components"]["securitySchemes"]}
    for section in _SECTIONS:
        names = sorted(name for kind, name in found if kind == section)
        if names:
            components[section] = {name: spec["components"][section][name] for name in names}
    return {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "x-extracted-from": SPEC.name},
        "servers": [{"url": "/public/v1"}],
        "security": spec["security"],
        "paths": paths,
        "components": components,
    }


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else SPEC
    spec = yaml.load(source.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    OUTPUT.write_text(json.dumps(extract(spec), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv)
