"""Extract, from the Connect OpenAPI 21.0 spec, the RQL filters each collection the sandbox serves declares.

Connect documents every list filter as a query parameter whose description names its lookups
(``**lookups:** eq, ne, in``) and whether it may order (``**ordering:** true``); a parameter described as an
"explicit negative select" (``select(-items)``) names a field the caller may leave out, one described as an
"explicit select" (``select(template)``, ``**default:** *hidden*``) a field answered only when asked for. The
sandbox accepts exactly those (``m365move/sandbox/rql.py``); this script writes them to
``m365move/sandbox/data/connect_filters.json``.
Rerun after a spec change::

    .venv/bin/python tests/connect/extract_connect_filters.py path/to/connect-openapi-21.0.yml
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

OUTPUT = Path(__file__).resolve().parents[2] / "m365move" / "sandbox" / "data" / "connect_filters.json"
# sandbox collection -> the spec's path of its list operation
COLLECTIONS = {
    "assets": "/assets",
    "requests": "/requests",
    "tier/configs": "/tier/configs",
    "tier/config-requests": "/tier/config-requests",
    "listings": "/listings",
    "marketplaces": "/marketplaces",
    "products": "/products",
    "products/items": "/products/{product_product_id}/items",
    "products/connections": "/products/{product_product_id}/connections",
}
_LOOKUPS = re.compile(r"\*\*lookups:\*\*([^\n]*)")


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, path in COLLECTIONS.items():
        filters: dict[str, Any] = {}
        for parameter in spec["paths"][path]["get"].get("parameters", []):
            if "$ref" in parameter or parameter.get("in") != "query":
                continue
            description = parameter.get("description") or ""
            match = _LOOKUPS.search(description)
            lookups = sorted(x.strip() for x in match.group(1).split(",") if x.strip()) if match else []
            schema = parameter.get("schema") or {}
            filters[parameter["name"]] = {
                "lookups": lookups,
                "ordering": "**ordering:** true" in description,
                "type": "datetime" if schema.get("format") == "date-time" else "string",
                **_select(description),
            }
        out[name] = dict(sorted(filters.items()))
    return out


def _select(description: str) -> dict[str, str]:
    """``{"select": "exclude"}`` for a negative select, ``{"select": "include"}`` for a field hidden unless selected."""
    if "explicit negative select" in description:
        return {"select": "exclude"}
    if "explicit select" in description:
        return {"select": "include"}
    return {}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: extract_connect_filters.py CONNECT_OPENAPI_YAML", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    OUTPUT.write_text(json.dumps(extract(spec), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
