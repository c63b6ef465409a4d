"""A sandbox seeded with a generated Connect estate, and Connect's tasks sent to the real extension through
connect-extension-runner's own task managers (``EventDriver`` over ``LocalRuntime``).

The runner is a dev requirement of the project; under scripts/test (M365MOVE_REQUIRE_RUNNER) a missing runner is a
failure, elsewhere the tests using this module are skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

if os.environ.get("M365MOVE_REQUIRE_RUNNER"):
    import connect.eaas.runner  # noqa: F401
else:
    pytest.importorskip("connect.eaas.runner", reason="connect-extension-runner is not installed here "
                                                      "(`pip install -e .[dev]` installs it)")

from m365move.connect.client import make_connect_client, sandbox_endpoint  # noqa: E402
from m365move.connect.event_driver import EventDriver  # noqa: E402
from m365move.connect.runtime import LocalRuntime  # noqa: E402
from m365move.demo.connect_walkthrough import sandbox_config  # noqa: E402
from m365move.demo.estate_generator import generate_connect_section  # noqa: E402
from m365move.estate.schema import estate_document  # noqa: E402
from m365move.partnercenter.client import TOKEN_CACHE  # noqa: E402
from m365move.partnercenter.limits import LIMITERS  # noqa: E402
from m365move.sandbox.connect_state import ConnectState  # noqa: E402
from m365move.sandbox.partnercenter_state import PartnerCenterState  # noqa: E402
from m365move.sandbox.server import SandboxServer, run_sandbox  # noqa: E402


@dataclass
class Rig:
    server: SandboxServer
    driver: EventDriver
    connect: ConnectState
    partner_center: PartnerCenterState
    section: dict[str, Any]

    def requests(self, **match: str) -> list[dict[str, Any]]:
        return self.connect.snapshot(lambda r: all(r.get(k) == v for k, v in match.items()))

    def purchases_of(self, asset_id: str) -> list[dict[str, Any]]:
        return [r for r in self.requests(type="purchase") if r["asset"].get("external_id") == asset_id]

    def cancels_of(self, asset_id: str) -> list[dict[str, Any]]:
        return [r for r in self.requests(type="cancel") if r["asset"]["id"] == asset_id]


@contextmanager
def connect_rig(n_assets: int = 8, *, seed: int = 11, time_scale: float = 600.0,
                change: Callable[[dict[str, Any]], None] | None = None, workers: int = 8,
                **generator: Any) -> Iterator[Rig]:
    generator.setdefault("ineligible_share", 0.0)
    generator.setdefault("unmapped_share", 0.0)
    section = generate_connect_section(seed, n_assets, time_scale=time_scale, **generator)
    if change is not None:
        change(section)
    document = estate_document(json.loads(json.dumps({"version": 1, **section})))
    TOKEN_CACHE.clear()
    LIMITERS.clear()
    with run_sandbox(document) as server:
        client = make_connect_client(section["connect"]["api_key"], sandbox_endpoint(server.url))
        config = sandbox_config(section["connect"], section["partner_center"], server.url)
        runtime = LocalRuntime(sandbox_endpoint(server.url), section["connect"]["api_key"], config)
        with EventDriver(runtime, client, config, add_schedule=server.app.state.connect.add_schedule,
                         take_triggered=server.app.state.connect.take_triggered,
                         time_scale=time_scale, workers=workers) as driver:
            yield Rig(server, driver, server.app.state.connect, server.app.state.partner_center, section)
    TOKEN_CACHE.clear()
    LIMITERS.clear()
