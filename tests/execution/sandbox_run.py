"""Helpers for executor tests: a sandbox on an estate file, credentials in the environment, state look-ups."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import yaml

from m365move.sandbox.faults import Faults
from m365move.sandbox.server import SandboxServer, run_sandbox

CREDENTIALS = {
    "M365MOVE_COMMERCE_USER": "sandbox",
    "M365MOVE_COMMERCE_PASSWORD": "sandbox",
    "M365MOVE_COMMERCE_SUBSCRIPTION_KEY": "sandbox",
}


def write_estate(folder: Path, document: dict[str, Any]) -> Path:
    path = folder / "estate.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@contextmanager
def sandbox_on(estate: Path, faults: Faults | None = None, state_file: Path | None = None) -> Iterator[SandboxServer]:
    with run_sandbox(estate, faults or Faults(order_processing_seconds=0.05), state_file=state_file) as server:
        yield server


def state(server: SandboxServer) -> dict[str, Any]:
    return json.loads(httpx.get(f"{server.url}/_sandbox/state", auth=server.admin_auth, timeout=30).text)  # type: ignore[no-any-return]


def set_faults(server: SandboxServer, faults: Faults) -> None:
    httpx.put(f"{server.url}/_sandbox/faults", auth=server.admin_auth, json=msgspec.to_builtins(faults),
              timeout=30).raise_for_status()


def migrate_args(mode: str, estate: Path, server: SandboxServer | str, workspace: Path, *extra: str) -> list[str]:
    """``migrate`` on the sandbox; with ``--execute``, confirmed with ``--yes N`` as an operator would after
    reading the plan's migrate count (unless the test gives its own ``--yes``)."""
    url = server if isinstance(server, str) else server.url
    args = ["migrate", "--mode", mode, "--estate", str(estate), "--commerce-url", url, "--workspace",
            str(workspace), "--poll-interval", "0.02", "--rate-limit", "0", *extra]
    return confirmed(args)


def confirmed(args: list[str]) -> list[str]:
    """``args`` of ``migrate --execute`` with ``--yes N``, N the migrate count of ``m365move plan`` on the same
    estate and filters (what the confirmation asks for); other arguments are returned as they are."""
    if "--execute" not in args or "--yes" in args or "--plan" in args or "migrate" not in args:
        return args
    return [*args, "--yes", str(planned_count(args))]


def planned_count(args: list[str]) -> int:
    import argparse

    from m365move.cli.plan_inputs import load_plan_inputs
    from m365move.domain.orders import MigrationMode
    from m365move.domain.planner import plan_migration

    def value(option: str) -> str | None:
        return args[args.index(option) + 1] if option in args else None

    def values(option: str) -> list[str] | None:
        found = [args[i + 1] for i, a in enumerate(args) if a == option]
        return found or None

    namespace = argparse.Namespace(
        estate=value("--estate") or value("--catalog"), catalog=None, commerce_url=None,
        license_mapping=value("--license-mapping"),
        plans_mapping=value("--plans-mapping"), source_data=value("--source-data"), reseller=values("--reseller"),
        customer=values("--customer"), for_expiration_date=value("--for-expiration-date"))
    inputs = load_plan_inputs(namespace)
    plan = plan_migration(inputs.estate, MigrationMode(value("--mode")), plans_mapping=inputs.plans_mapping,
                          selection=inputs.selection)
    return len(plan.migrating())


def use_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)


def duplicate_keys(snapshot: dict[str, Any]) -> list[str]:
    seen: dict[str, int] = {}
    for order in snapshot["orders"]:
        if order.get("po_number"):
            seen[order["po_number"]] = seen.get(order["po_number"], 0) + 1
    return [k for k, n in seen.items() if n > 1]
