"""The specs the sandbox ships are the published ones: Commerce verbatim, Connect a faithful extract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from m365move.sandbox.spec_validation import COMMERCE_SPEC, CONNECT_SPEC

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


def test_commerce_spec_is_the_published_one() -> None:
    """Byte for byte the published spec (skipped where the reference copy is absent)."""
    reference = REFERENCE / COMMERCE_SPEC.name
    if not reference.exists():
        pytest.skip(f"{reference} is not present")
    assert COMMERCE_SPEC.read_bytes() == reference.read_bytes()


@pytest.mark.slow
def test_connect_subset_is_current() -> None:
    """The package's Connect extract equals a fresh one of the reference spec (skipped where it is absent)."""
    from extract_connect_openapi import SPEC, extract

    if not SPEC.exists():
        pytest.skip(f"{SPEC} is not present")
    spec = yaml.load(SPEC.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert extract(spec) == json.loads(CONNECT_SPEC.read_text(encoding="utf-8")), (
        "rerun tests/sandbox/extract_connect_openapi.py to refresh " + CONNECT_SPEC.name)
