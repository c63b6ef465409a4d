"""Suite-wide test set-up.

The sandbox polices itself in the tests: every answer of its Commerce and Connect routes is checked against the
spec (``m365move.sandbox.response_checks``), in this process and in every subprocess a test starts (runbook
kernels, ``m365move sandbox serve``), and a test during which any answer broke the spec fails with the list.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from m365move.sandbox.response_checks import ENV_VARIABLE, read_from

_VIOLATIONS = Path(tempfile.mkdtemp(prefix="m365move-response-checks-")) / "violations.jsonl"
# An empty value given from outside turns the checks off (to measure the sandbox without them).
os.environ.setdefault(ENV_VARIABLE, str(_VIOLATIONS))


@pytest.fixture(autouse=True)
def sandbox_answers_conform_to_the_spec() -> Iterator[None]:
    """Fail the test if any sandbox answered it outside the spec (the answers went out unchanged)."""
    _, start = read_from(_VIOLATIONS, 0) if _VIOLATIONS.exists() else ([], 0)
    yield
    found, _ = read_from(_VIOLATIONS, start)
    if found:
        lines = "\n".join(f"  {v.describe()}" for v in found[:20])
        more = f"\n  … and {len(found) - 20} more" if len(found) > 20 else ""
        pytest.fail(f"the sandbox answered {len(found)} request(s) outside the spec:\n{lines}{more}", pytrace=False)
