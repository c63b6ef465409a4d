"""The runner's tests need connect-extension-runner, a dev requirement of the project (installed in .venv with it)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

if os.environ.get("M365MOVE_REQUIRE_RUNNER"):
    # scripts/test (CI) sets this: there a missing runner is a failure, never a skip.
    import connect.eaas.runner  # noqa: F401
else:
    pytest.importorskip("connect.eaas.runner", reason="connect-extension-runner is not installed here "
                                                      "(`pip install -e .[dev]` installs it)")

from m365move.connect.runtime import LocalRuntime  # noqa: E402
from m365move.demo.connect_walkthrough import sandbox_config  # noqa: E402
from m365move.demo.estate_generator import generate_connect_section  # noqa: E402
from m365move.estate.schema import estate_document  # noqa: E402
from m365move.partnercenter.client import TOKEN_CACHE  # noqa: E402
from m365move.partnercenter.limits import LIMITERS  # noqa: E402
from m365move.sandbox.connect_state import ConnectState  # noqa: E402
from m365move.sandbox.partnercenter_state import PartnerCenterState  # noqa: E402
from m365move.sandbox.server import SandboxServer, TlsFiles, run_sandbox  # noqa: E402

SCHEDULE_ID = "EFS-000-001"


@dataclass
class RunnerRig:
    server: SandboxServer
    runtime: LocalRuntime
    connect: ConnectState
    partner_center: PartnerCenterState
    section: dict[str, Any]
    variables: dict[str, str]

    def requests(self, **match: Any) -> list[dict[str, Any]]:
        return self.connect.snapshot(lambda r: all(r.get(k) == v for k, v in match.items()))

    def sweep(self, parameter: dict[str, Any] | None = None) -> Any:
        self.connect.add_schedule({"id": SCHEDULE_ID, "name": "New Subscription sweep", "method": "new_subscription_sweep",
                                   "description": "", "parameter": parameter or {},
                                   "trigger": {"type": "recurring", "start": "2026-01-01T00:00:00+00:00",
                                               "unit": "hours", "amount": 1}})
        return self.runtime.deliver("scheduled_execution", SCHEDULE_ID)

    def sweep_pass(self, parameter: dict[str, Any] | None = None, *, max_tasks: int = 10_000) -> list[Any]:
        """One pass of the chunked sweep as Connect runs it: the schedule's execution, then every execution a chunk
        triggered (``POST …/trigger``), each delivered to the runner as its own scheduled task."""
        answers = [self.sweep(parameter)]
        while len(answers) < max_tasks:
            triggered = self.connect.take_triggered()
            if not triggered:
                return answers
            answers += self.runtime.deliver_many([self.runtime.task("scheduled_execution", s) for s in triggered])
        raise AssertionError(f"the sweep did not finish within {max_tasks} tasks")

    def with_variables(self, **changes: str) -> LocalRuntime:
        variables = {**self.variables, **changes}
        return LocalRuntime(f"{self.server.url}/public/v1", self.section["connect"]["api_key"], variables)


@contextmanager
def runner_rig(n_assets: int = 4, *, seed: int = 7, change: Callable[[dict[str, Any]], None] | None = None,
               timeouts: dict[str, int] | None = None, tls: TlsFiles | None = None,
               **generator: Any) -> Iterator[RunnerRig]:
    generator.setdefault("ineligible_share", 0.0)
    generator.setdefault("unmapped_share", 0.0)
    generator.setdefault("time_scale", 600.0)
    generator.setdefault("microsoft_led", 0)
    section = generate_connect_section(seed, n_assets, **generator)
    if change is not None:
        change(section)
    document = estate_document(json.loads(json.dumps({"version": 1, **section})))
    TOKEN_CACHE.clear()
    LIMITERS.clear()
    with run_sandbox(document, tls=tls) as server:
        variables = sandbox_config(section["connect"], section["partner_center"], server.url)
        runtime = LocalRuntime(f"{server.url}/public/v1", section["connect"]["api_key"], variables, timeouts=timeouts)
        yield RunnerRig(server, runtime, server.app.state.connect, server.app.state.partner_center, section, variables)
    TOKEN_CACHE.clear()
    LIMITERS.clear()


@pytest.fixture
def rig() -> Iterator[RunnerRig]:
    with runner_rig() as made:
        yield made
