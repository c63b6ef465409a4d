"""``m365move undo``: apply a run's undo plan (dry run unless --execute), and the undo plan every executed run writes.

After ``migrate --execute`` and ``resume --execute`` the run's folder ``WORKSPACE/runs/<run id>/`` holds
``undo-plan.json``, ``undo-plan.csv`` and a copy of the results file, sealed (``manifest.json``; ``audit verify``
checks it). ``m365move undo FOLDER|undo-plan.json --commerce-url URL`` lists what it would cancel; with
``--execute`` it places one cancellation order per entry still inside its window, reading the window from Partner
Center again right before each (``PARTNER_CENTER_*`` credentials) and refusing entries whose window has passed.

Exit status: 0 done (or a dry run), 6 with --execute when an entry was refused or its cancellation failed or is
still pending, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from m365move.cli.option_types import finite_number
from m365move.cli.partner_center_lookup import add_partner_center_lookup_options
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.orders import MigrationMode
from m365move.execution.journal import Journal
from m365move.execution.migration_run import RunReport
from m365move.execution.undo_apply import NOT_DONE, apply_undo_plan, outcomes_json, read_undo_plan
from m365move.execution.undo_plan_files import RUN_FOLDERS, make_undo_plan, write_sealed_run_folder
from m365move.partnercenter.cancellation_windows import window_reader
from m365move.text.terminal_text import visible

EXIT_NOT_ALL_UNDONE = 6


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "undo", help="cancel what an executed run created, while Microsoft's cancellation window is open (dry run "
                     "unless --execute)",
        description="Apply a run's undo plan (WORKSPACE/runs/RUN_ID/undo-plan.json): one Commerce cancellation order "
                    "per new subscription still inside its cancellation window (Partner Center's "
                    "cancellationAllowedUntilDate, read again right before each; credentials from "
                    "PARTNER_CENTER_TENANT_ID, _CLIENT_ID, _CLIENT_SECRET). Entries whose window has passed are "
                    "refused. Commerce credentials from M365MOVE_COMMERCE_*.")
    parser.add_argument("plan", metavar="RUN_FOLDER|UNDO_PLAN_JSON", help="the run's folder or its undo-plan.json")
    parser.add_argument("--commerce-url", required=True, metavar="URL", help="SimpleAPI base URL")
    parser.add_argument("--execute", action="store_true", help="place the cancellation orders (default: dry run)")
    parser.add_argument("--order-timeout", type=finite_number(above=0, at_most=7 * 86400), default=600.0,
                        metavar="SECONDS", help="time a cancellation order may take to end (default: %(default)s)")
    parser.add_argument("--poll-interval", type=finite_number(above=0, at_most=3600), default=5.0, metavar="SECONDS",
                        help="time between order status polls (default: %(default)s)")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="table for a person, json for scripts (default: %(default)s)")
    add_partner_center_lookup_options(parser)
    parser.set_defaults(func=run_undo)


def run_undo(args: argparse.Namespace) -> int:
    from m365move.commerce.credentials import load_credentials

    run_id, entries = read_undo_plan(args.plan)
    with window_reader(os.environ, args.partner_center_url, args.token_url) as read_window, \
            SimpleApiClient(args.commerce_url, load_credentials(), max_retries=6) as client:
        client.verify_access()
        if read_window is None:
            print("m365move: Partner Center credentials are not set: windows are not read again, the plan's dates "
                  "are used", file=sys.stderr)
        outcomes = apply_undo_plan(entries, client, read_window, execute=args.execute,
                                   order_timeout=args.order_timeout, poll_interval=args.poll_interval)
    if args.format == "json":
        print(json.dumps(outcomes_json(run_id, outcomes, args.execute), indent=1))
    else:
        kind = "executed" if args.execute else "dry run (nothing placed; add --execute to cancel)"
        print(f"undo plan of run {run_id or '-'}: {len(entries)} entries, {kind}")
        for outcome in outcomes:
            print(visible(f"{outcome.subscription_id}  {outcome.outcome}  until {outcome.window_end}  "
                          f"{outcome.detail}"))
    if args.execute and any(o.outcome in NOT_DONE for o in outcomes):
        return EXIT_NOT_ALL_UNDONE
    return 0


def write_run_undo_plan(args: argparse.Namespace, journal: Journal, report: RunReport, mode: MigrationMode,
                        client: SimpleApiClient, parameters: Mapping[str, Any]) -> Path | None:
    """After an executed run: its undo plan in ``WORKSPACE/runs/<run id>/``, sealed; the folder (None: dry run)."""
    if report.dry_run:
        return None
    folder = Path(args.workspace) / RUN_FOLDERS / report.run_id
    with window_reader(os.environ, getattr(args, "partner_center_url", None), getattr(args, "token_url", None)) as read:
        plan = make_undo_plan(journal, report.run_id, mode, client, read)
    seal = write_sealed_run_folder(plan, folder, report.results_path, parameters)
    estimated = sum(1 for e in plan.entries if e.window_source == "estimate")
    note = (f", {estimated} window(s) estimated (completion + 168 h: Partner Center "
            f"{'could not say' if read else 'not consulted'})" if estimated else "")
    print(f"undo plan: {folder / 'undo-plan.json'} ({len(plan.entries)} subscription(s) inside their cancellation "
          f"window{note}; `m365move undo {folder} --commerce-url URL` to apply, dry run first); {seal.describe()}",
          file=sys.stderr)
    return folder
