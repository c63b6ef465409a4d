"""Shared fixtures: the fixture notebooks folder, and one passing run reused by several tests."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "s3cr3t-Zq7vK-do-not-leak-91f0"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def secret() -> str:
    """A value distinctive enough that finding it in a file can only mean it leaked."""
    return SECRET


@pytest.fixture(scope="session")
def ok_run(tmp_path_factory: pytest.TempPathFactory, secret: str):  # type: ignore[no-untyped-def]
    """demo_ok run once, with a distinctive secret in its environment; the tests read its folder."""
    from m365move.runbooks.runner import run_runbook

    steps: list[str] = []
    outcome = run_runbook(
        "demo_ok",
        {"subscription_id": "0012", "count": "3"},
        tmp_path_factory.mktemp("runs") / "demo_ok-run",
        notebooks_dir=FIXTURES,
        extra_env={"M365MOVE_TEST_SECRET": secret},
        progress=lambda step: steps.append(str(step)),
    )
    return outcome, steps
