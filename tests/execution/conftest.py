"""The executor's tests run with a commit deadline of 2 s (the default is 300 s): an uncertain POST whose order the
sandbox never made (a 503 before processing, a worker killed before its request left) is looked up until then and
only then sent again. The tests of late commits set their own deadline."""

from __future__ import annotations

import pytest

from m365move.execution.commit_deadline import ENV_VAR


@pytest.fixture(autouse=True)
def short_commit_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "2")
