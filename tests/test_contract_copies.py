"""The vendored contract copies must equal ../shared/contracts when it is there."""

from __future__ import annotations

import pytest

from tests.contract_schemas import SHARED, VENDORED


@pytest.mark.parametrize("name", ["plan.schema.json", "call2teams.schema.json"])
def test_vendored_copy_matches_shared(name: str) -> None:
    if not (SHARED / name).exists():
        pytest.skip("../shared/contracts is not beside this checkout")
    assert (VENDORED / name).read_text() == (SHARED / name).read_text()
