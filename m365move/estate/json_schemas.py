"""JSON Schemas of the estate and catalog files, generated from their msgspec models (``msgspec.json.schema``).

``python -m m365move.estate.json_schemas docs/schemas`` rewrites the published copies; a test
(tests/estate/test_json_schemas.py) keeps them equal to the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from m365move.estate.catalog_file import CatalogDocument
from m365move.estate.schema import EstateDocument
from m365move.files.atomic_files import write_text_atomically

SCHEMAS: dict[str, tuple[type[msgspec.Struct], str]] = {
    "estate.schema.json": (EstateDocument, "m365move estate file"),
    "catalog.schema.json": (CatalogDocument, "m365move catalog file (catalog export, completed by hand)"),
}


def schema_text(model: type[msgspec.Struct], title: str) -> str:
    generated = msgspec.json.schema(model)
    # msgspec refers to the document's own definition; the published schema is that definition, inline.
    definitions = generated["$defs"]
    top = definitions.pop(model.__name__)
    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title}
    schema.update({k: v for k, v in top.items() if k != "title"})
    schema["$defs"] = definitions
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (model, title) in SCHEMAS.items():
        path = folder / name
        write_text_atomically(path, schema_text(model, title))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
