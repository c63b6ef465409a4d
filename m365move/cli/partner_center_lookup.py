"""Asks Partner Center about the planned sources before `plan`, `migrate` and `reconcile` decide anything.

With the Partner Center app's credentials in the environment (``PARTNER_CENTER_TENANT_ID``,
``PARTNER_CENTER_CLIENT_ID``, ``PARTNER_CENTER_CLIENT_SECRET``, the Connect path's names), the estate gets Partner
Center's view of its sources (Microsoft-led migrations, schedules, new-commerce subscriptions); with none of them
set it is planned as before and the plan says, once, that it cannot see Microsoft-led migrations. Some set and
others not is a mistake in the environment (exit 2), not a reason to order blind.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import IO

from m365move.domain.estate import Estate
from m365move.domain.planner import Selection, source_subscriptions
from m365move.domain.reconciliation import COLUMNS, ReconciliationRow, reconciliation_rows_for
from m365move.files.atomic_files import atomic_writer
from m365move.files.spreadsheet_csv import FormulaSafeDictWriter

# The names ``partner_center_options.ENVIRONMENT`` reads (not imported from there: its client, and pydantic with it,
# must not be imported by a plan that does not ask Partner Center).
ENVIRONMENT = ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET")


def add_partner_center_lookup_options(parser: argparse.ArgumentParser) -> None:
    """``--partner-center-url`` and ``--token-url`` (the credentials come from the environment only)."""
    parser.add_argument("--partner-center-url", metavar="URL",
                        help="Partner Center's API, asked when PARTNER_CENTER_* are set (default Microsoft's; a "
                             "sandbox: SANDBOX_URL/partnercenter)")
    parser.add_argument("--token-url", metavar="URL",
                        help="the token endpoint (default Entra ID's for PARTNER_CENTER_TENANT_ID; a sandbox: "
                             "SANDBOX_URL/partnercenter/oauth2/token)")


def credentials_given() -> bool:
    return any(os.environ.get(name) for name in ENVIRONMENT)


def with_partner_center_view(args: argparse.Namespace, estate: Estate, selection: Selection | None) -> Estate:
    """``estate`` with Partner Center's view of its selected sources; unchanged without credentials (its view then
    says ``consulted`` False, and the command says so once)."""
    if not credentials_given():
        return estate
    # Imported here: a plan without Partner Center should not pay for its client.
    from m365move.cli.partner_center_options import partner_center_client
    from m365move.partnercenter.client import PARTNER_CENTER_URL
    from m365move.partnercenter.migration_facts import read_partner_center_view

    if not getattr(args, "partner_center_url", None):
        args.partner_center_url = PARTNER_CENTER_URL
    with partner_center_client(args) as pc:
        view = read_partner_center_view(pc, estate, source_subscriptions(estate, selection or Selection()))
    return replace(estate, partner_center=view)


def write_reconciliation(estate: Estate, selection: Selection | None, results_path: Path, run_id: str) -> Path | None:
    """Beside a run's results: what Commerce must do about the sources Partner Center shows migrated or migrating
    (``reconciliation-<run>.csv``, the columns of ``m365move reconcile --format csv``); None when there is nothing."""
    if not estate.partner_center.consulted:
        return None
    sources = ((s.id, s.customer_id) for s in source_subscriptions(estate, selection or Selection()) if s.active)
    rows = reconciliation_rows_for(sources, estate.partner_center)
    if not rows:
        return None
    path = results_path.with_name(f"reconciliation-{run_id}.csv")
    with atomic_writer(path, newline="") as handle:
        write_reconciliation_csv(rows, handle)
    return path


def write_reconciliation_csv(rows: Iterable[ReconciliationRow], handle: IO[str]) -> None:
    """The rows as CSV (spreadsheet-safe: no cell starts a formula); booleans as ``true``/``false``."""
    writer = FormulaSafeDictWriter(handle, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.as_dict().items()})
