"""JSON Schemas of the estate and catalog files, generated from their pydantic models.

``python -m m365move.estate.json_schemas docs/schemas`` rewrites the published copies; a test keeps
them equal to the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from m365move.estate.catalog_file import CatalogDocument
from m365move.estate.schema import EstateDocument
from m365move.files.atomic_files import write_text_atomically

SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "estate.schema.json": (EstateDocument, "m365move estate file"),
    "catalog.schema.json": (CatalogDocument, "m365move catalog file (catalog export, completed by hand)"),
}


def schema_text(model: type[BaseModel], title: str) -> str:
    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title}
    schema.update({k: v for k, v in model.model_json_schema(mode="validation").items() if k != "title"})
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
