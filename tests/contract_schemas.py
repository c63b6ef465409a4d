"""The JSON Schemas of our outputs (../shared/contracts), with a vendored copy for a checkout without shared/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

VENDORED = Path(__file__).parent / "contracts"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "contracts"


def schema(name: str) -> dict[str, Any]:
    source = SHARED if (SHARED / name).exists() else VENDORED
    return json.loads((source / name).read_text())  # type: ignore[no-any-return]


def validate(document: Any, name: str) -> None:
    """Raise jsonschema.ValidationError when ``document`` breaks the contract ``name``."""
    jsonschema.validate(document, schema(name), format_checker=jsonschema.FormatChecker())
