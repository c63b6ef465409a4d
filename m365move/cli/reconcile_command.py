"""``m365move reconcile``: what Commerce must do about the sources Partner Center shows migrated (dry run first).

Lists, per Commerce subscription Partner Center's view concerns, the action (``terminate-in-commerce``, ``wait``,
``review``) with the legacy and new-commerce subscription ids. With ``--execute`` it applies the
``terminate-in-commerce`` rows in Commerce: one cancellation order per source, carrying the new-commerce
subscription id as the ``NceSubscriptionId`` attribute (recorded with the termination), its ``poNumber`` a
deterministic key (``m365move-reconcile:<subscription>``) looked up before placing, so a repeated run never places
a second.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from m365move.cli.option_types import output_file
from m365move.cli.partner_center_lookup import (
    add_partner_center_lookup_options,
    credentials_given,
    with_partner_center_view,
    write_reconciliation_csv,
)
from m365move.cli.plan_inputs import add_live_commerce_arguments, add_plan_input_arguments, load_plan_inputs
from m365move.domain.planner import source_subscriptions
from m365move.domain.reconciliation import TERMINATE, ReconciliationRow, reconciliation_rows_for
from m365move.errors import InputError
from m365move.files.atomic_files import atomic_writer
from m365move.text.terminal_text import visible


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reconcile", help="what Commerce must do about subscriptions Microsoft already migrated (dry run unless "
                          "--execute)",
        description="Ask Partner Center (credentials: PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_CLIENT_ID, "
                    "PARTNER_CENTER_CLIENT_SECRET) which legacy subscriptions of the estate are already migrated "
                    "(Microsoft-led or by any partner) or migrating, and list what to do in Commerce. --execute "
                    "terminates the migrated ones in Commerce (one cancellation order each, recording the "
                    "new-commerce subscription id).")
    add_plan_input_arguments(parser, estate_required=False)
    add_live_commerce_arguments(parser)
    add_partner_center_lookup_options(parser)
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table",
                        help="table for a person, csv or json (default: %(default)s)")
    parser.add_argument("--output", type=output_file, metavar="FILE",
                        help="write here (atomically) instead of standard output")
    parser.add_argument("--execute", action="store_true",
                        help="terminate the terminate-in-commerce rows in Commerce at --commerce-url (default: dry run)")
    parser.set_defaults(func=run_reconcile)


def run_reconcile(args: argparse.Namespace) -> int:
    if not credentials_given():
        raise InputError("reconcile asks Partner Center, whose credentials are not set", where="environment",
                         hint="set PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_CLIENT_ID and PARTNER_CENTER_CLIENT_SECRET")
    if args.execute and not args.commerce_url:
        raise InputError("--execute terminates subscriptions in Commerce and needs --commerce-url URL",
                         where="--execute")
    commerce_url = args.commerce_url
    if args.estate:
        args.commerce_url = None  # with --estate the subscriptions come from the file; Commerce only applies
    inputs = load_plan_inputs(args)
    estate = with_partner_center_view(args, inputs.estate, inputs.selection)
    sources = [s for s in source_subscriptions(estate, inputs.selection) if s.active]
    rows = reconciliation_rows_for(((s.id, s.customer_id) for s in sources), estate.partner_center)
    if args.output:
        with atomic_writer(args.output, newline="") as handle:
            write_rows(rows, args.format, handle)
        print(f"reconciliation written to {args.output}: {len(rows)} subscriptions", file=sys.stderr)
    else:
        write_rows(rows, args.format, sys.stdout)
    terminate = [r for r in rows if r.action == TERMINATE]
    if not args.execute:
        if terminate:
            print(f"dry run: {len(terminate)} subscriptions to terminate in Commerce; add --execute to do it",
                  file=sys.stderr)
        return 0
    return _apply(terminate, commerce_url)


def write_rows(rows: list[ReconciliationRow], fmt: str, handle: IO[str]) -> None:
    if fmt == "json":
        json.dump({"subscriptions": [r.as_dict() for r in rows]}, handle, indent=1)
        handle.write("\n")
    elif fmt == "csv":
        write_reconciliation_csv(rows, handle)
    else:
        if not rows:
            handle.write("nothing to reconcile: Partner Center shows none of these subscriptions migrated or "
                         "migrating\n")
        for row in rows:
            led = "Microsoft-led " if row.microsoft_led else ""
            handle.write(visible(f"{row.subscription_id}  {row.action}  legacy {row.legacy_subscription_id} "
                                 f"({row.legacy_status or 'not listed'})  {led}migration {row.migration_id or '-'} "
                                 f"{row.migration_status}  new-commerce {row.nce_subscription_id or '-'}") + "\n")
            handle.write(visible(f"    {row.detail}") + "\n")


def _apply(rows: list[ReconciliationRow], commerce_url: str) -> int:
    from m365move.commerce.credentials import load_credentials
    from m365move.commerce.simpleapi_client import SimpleApiClient
    from m365move.execution.commerce_terminations import terminate_migrated

    with SimpleApiClient(commerce_url, load_credentials(), max_retries=6) as client:
        client.verify_access()
        nce_of = {row.subscription_id: row.nce_subscription_id for row in rows}
        for termination in terminate_migrated(rows, client):
            print(visible(termination.line(nce_of[termination.subscription_id])))
    return 0
