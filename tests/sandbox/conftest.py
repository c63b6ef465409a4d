from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_fixtures import estate_document

from m365move.sandbox.faults import Faults
from m365move.sandbox.server import SandboxServer, run_sandbox


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A sandbox on a free loopback port whose orders finish on the next request."""
    with run_sandbox(estate_document(), Faults(order_processing_seconds=0)) as server:
        yield server


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[SandboxServer]:
    """One sandbox for a module's read-only tests (starting and stopping one costs about 0.2 s)."""
    with run_sandbox(estate_document(), Faults(order_processing_seconds=0)) as server:
        yield server
