"""A runbook cell that places and polls orders shows its progress: in the cell (one output, updated in
place, so the saved notebook stays small) and, relayed, on the terminal of ``runbook run``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from m365move import progress
from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.estate.loader import load_estate
from m365move.progress import PROGRESS_MIMETYPE
from m365move.progress.terminal_display import ProgressDisplay
from m365move.runbooks.outcome import RunStatus
from m365move.runbooks.runner import run_runbook
from m365move.sandbox.faults import Faults
from m365move.sandbox.server import run_sandbox
from tests.runbooks.test_notebooks import credentials_env

pytestmark = pytest.mark.slow


def test_migration_cell_shows_live_progress_and_the_terminal_gets_it_too(tmp_path: Path) -> None:
    estate_file = tmp_path / "estate.json"
    estate_file.write_text(json.dumps(generate_estate(EstateSize.for_subscriptions(30), seed=1)))
    to_migrate = plan_migration(load_estate(estate_file).estate, MigrationMode.SWITCH_PLAN).summary()["migrate"]
    relayed = io.StringIO()
    steps: list[str] = []
    with run_sandbox(estate_file, Faults(order_processing_seconds=0.1)) as server, \
            progress.use(ProgressDisplay(relayed, every_seconds=0, terminal=False)):
        outcome = run_runbook(
            "switch_plan_migration",
            {"commerce_url": server.url, "estate": str(estate_file), "execute": True, "confirm": to_migrate,
             "poll_interval": 0.05, "order_timeout": 30.0, "workspace": str(tmp_path / "work")},
            tmp_path / "run", extra_env=credentials_env() | {"M365MOVE_PROGRESS_EVERY": "0"},
            cell_timeout=120, progress=lambda step: steps.append(str(step)))
    assert outcome.status is RunStatus.OK, outcome.failure

    notebook = json.loads((outcome.run_dir / "executed.ipynb").read_text())
    shown = [(n, output["data"][PROGRESS_MIMETYPE]) for n, cell in enumerate(notebook["cells"])
             for output in cell.get("outputs", []) if PROGRESS_MIMETYPE in output.get("data", {})]
    whats = [(n, update["what"]) for n, update in shown]
    assert {"orders", "subscriptions", "subscriptions planned"} <= {what for _, what in whats}
    assert len(whats) == len(set(whats))  # per cell, one output per counted thing (updated in place)
    orders = next(update for _, update in shown if update["what"] == "orders")
    assert orders["finished"] and orders["done"] == orders["total"] > 0
    subscriptions = next(update for _, update in shown if update["what"] == "subscriptions")
    assert subscriptions["done"] == subscriptions["total"] == to_migrate
    place_step = next(n for n, cell in enumerate(notebook["cells"]) if "execute_plan(" in "".join(cell["source"]))
    assert {n for n, update in shown if update["what"] == "orders"} == {place_step}
    assert "Place and poll" in " ".join(steps) or steps  # the runner's step lines still come

    lines = relayed.getvalue().splitlines()
    assert any(line.startswith("orders: ") and "/s" in line for line in lines), lines
    assert any(line.startswith(f"subscriptions: {to_migrate}/{to_migrate} (100%)") for line in lines), lines
    report = (outcome.run_dir / "report.html").read_text()
    assert "<progress" in report and "orders: " in report  # the report keeps the last state of the bar
