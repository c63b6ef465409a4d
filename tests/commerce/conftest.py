from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The test estate and its helpers live with the sandbox tests; the contract tests use the same ones.
sys.path.insert(0, str(Path(__file__).parents[1] / "sandbox"))

from client_fixtures import RecordingSleep, make_client  # noqa: E402
from sandbox_fixtures import estate_document  # noqa: E402

from m365move.commerce import SimpleApiClient  # noqa: E402
from m365move.sandbox.faults import Faults  # noqa: E402
from m365move.sandbox.server import SandboxServer, run_sandbox  # noqa: E402


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with run_sandbox(estate_document(), Faults(order_processing_seconds=0)) as server:
        yield server


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def client(sandbox: SandboxServer, sleep: RecordingSleep) -> Iterator[SimpleApiClient]:
    with make_client(sandbox, sleep) as made:
        yield made


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[SandboxServer]:
    """One sandbox for a module's read-only tests (starting and stopping one costs about 0.2 s)."""
    with run_sandbox(estate_document(), Faults(order_processing_seconds=0)) as server:
        yield server


@pytest.fixture(scope="module")
def shared_client(shared_sandbox: SandboxServer) -> Iterator[SimpleApiClient]:
    with make_client(shared_sandbox) as made:
        yield made
