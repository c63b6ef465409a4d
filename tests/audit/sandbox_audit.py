"""An executed migration on the sandbox, then anomalies planted in the sandbox's saved state.

The sandbox saves its whole Commerce state to a file and resumes from it: editing that file between two
sandbox runs is how a test changes "the platform" behind the journal's back, as someone would by hand.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from m365move.cli import main
from m365move.sandbox.faults import Faults
from m365move.sandbox.state_log import read_state
from tests.estate_builder import ADDON, BASE, NCE_BASE, standard
from tests.execution.sandbox_run import migrate_args, sandbox_on, write_estate

FAILING = ("3000005", "3000006")  # their sales orders end in error: partially migrated


@dataclass(frozen=True)
class MigratedSandbox:
    estate: Path
    state_file: Path
    journal: Path


def migrate_on_sandbox(folder: Path, customer_name: str = "Contoso", failing: tuple[str, ...] = FAILING) -> MigratedSandbox:
    builder = standard()
    builder.commerce["customers"][0]["name"] = customer_name
    builder.subscription("3000001", resources=[(BASE, 12), (ADDON, 3)])
    builder.subscription("3000002", resources=[(BASE, 5)])
    builder.subscription("3000004", billing="1 year")  # blocked
    for sub in failing:
        builder.subscription(sub, resources=[(BASE, 4)])
    estate = write_estate(folder, builder.doc)
    state_file, workspace = folder / "sandbox-state.json", folder / "work"
    faults = Faults(order_processing_seconds=0.05, error_subscriptions=list(failing))
    with sandbox_on(estate, faults, state_file=state_file) as server:
        # 6: some orders failed (on purpose)
        assert main(migrate_args("new-subscription", estate, server, workspace, "--execute")) in (0, 6)
    return MigratedSandbox(estate, state_file, workspace / "journal.sqlite")


def plant_anomalies(state_file: Path) -> dict[str, str]:
    """Edit the saved state: one anomaly of each platform kind; returns the ids a test should find."""
    state: dict[str, Any] = read_state(state_file)
    orders, subscriptions = state["orders"], state["subscriptions"]

    def sales_of(source: str) -> dict[str, Any]:
        return next(o for o in orders if o["type"] == "sales" and f"-{source}-sales-{BASE}" in (o["po_number"] or ""))

    # seat-mismatch: the reseller cut 3000001's NCE base subscription from 12 to 10 seats.
    target = sales_of("3000001")["subscription_id"]
    next(s for s in subscriptions if s["id"] == target)["products"] = [{"mpn": NCE_BASE, "quantity": 10}]
    # duplicate-target: a second completed sales order carrying 3000002's key, with its own subscription.
    original = sales_of("3000002")
    duplicate = copy.deepcopy(original) | {"id": "8800001", "order_number": "SO8800001", "subscription_id": "8800002"}
    orders.append(duplicate)
    subscriptions.append(copy.deepcopy(next(s for s in subscriptions if s["id"] == original["subscription_id"]))
                         | {"id": "8800002"})
    # orphan-target: a sales order placed by hand for the same customer.
    orphan = copy.deepcopy(original) | {"id": "8800003", "order_number": "SO8800003", "po_number": "HAND-PLACED-1",
                                        "subscription_id": "8800004"}
    orders.append(orphan)
    # cancelled-before-targets-completed: someone cancelled 3000005 although its sales order failed.
    cancellation = copy.deepcopy(original) | {"id": "8800005", "order_number": "SO8800005", "type": "cancellation",
                                              "po_number": None, "subscription_id": "3000005", "products": [],
                                              "plan_id": None}
    orders.append(cancellation)
    next(s for s in subscriptions if s["id"] == "3000005")["status"] = "terminated"
    state_file.write_text(json.dumps(state))
    return {"seat-mismatch": "3000001", "duplicate-target": "3000002", "orphan-target": "8800003",
            "cancelled-before-targets-completed": "3000005", "stuck-migration": "3000006"}
