"""``m365move plan``: decide every source subscription and list the orders, without touching anything."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from m365move.cli.option_types import output_file
from m365move.cli.partner_center_lookup import add_partner_center_lookup_options, with_partner_center_view
from m365move.cli.plan_inputs import (
    add_live_commerce_arguments,
    add_mode_argument,
    add_plan_input_arguments,
    load_plan_inputs,
)
from m365move.cli.plan_prices import plan_prices
from m365move.domain.migration_rules import DEFAULT_TERM_END_DAYS
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import plan_migration
from m365move.domain.preflight import preflight_findings, term_ending_finding, terms_ending_soon
from m365move.domain.price_comparison import PriceReport
from m365move.domain.reconciliation import partner_center_findings
from m365move.errors import InputError
from m365move.files.atomic_files import atomic_writer
from m365move.memory.cyclic_gc import cyclic_gc_paused
from m365move.plan_output.csv_format import write_plan_csv
from m365move.plan_output.json_format import write_plan_json
from m365move.plan_output.plan_file import write_plan_file
from m365move.plan_output.table_format import render_plan_table


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="plan a CSP→NCE migration (read-only)",
        description="Plan a CSP→NCE migration: decisions, reasons and orders per source subscription. "
        "Exit status 0 when the plan was produced, 2 for bad input.",
    )
    add_mode_argument(parser)
    add_plan_input_arguments(parser, estate_required=False)
    add_live_commerce_arguments(parser)
    add_partner_center_lookup_options(parser)
    parser.add_argument("--term-ends-within", type=_days, default=DEFAULT_TERM_END_DAYS, metavar="DAYS",
                        help="list in-scope sources whose legacy term ends within DAYS from today (UTC) as the "
                        "finding term-ends-soon: Microsoft migrates them itself at term end (default: %(default)s)")
    parser.add_argument("--format", choices=("table", "json", "csv"),
                        help="table for a person, json (the plan contract) or csv (default: table on standard "
                        "output, json with --output)")
    parser.add_argument("--output", type=output_file, metavar="FILE",
                        help="write here (atomically) instead of standard output; in json, the reviewed plan file "
                        "that `migrate --plan FILE` applies (with the platform it was read from and its plan_sha256)")
    parser.set_defaults(func=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    # The whole command with the cyclic GC paused: what it builds (estate, plan, output) holds no cycles,
    # and a collector resumed between the steps would scan all of it again after each (about 0.8 CPU s
    # at 100k subscriptions). Reference counting frees everything as usual.
    with cyclic_gc_paused():
        return _plan(args)


def _plan(args: argparse.Namespace) -> int:
    inputs = load_plan_inputs(args)
    estate, plans_mapping, selection, platform = inputs.estate, inputs.plans_mapping, inputs.selection, inputs.platform
    # Planning needs only the domain estate: the validated document (as big again) is let go here.
    del inputs
    estate = with_partner_center_view(args, estate, selection)  # Microsoft-led migrations, when credentials are set
    today = dt.datetime.now(dt.timezone.utc).date()
    plan = plan_migration(estate, MigrationMode(args.mode), plans_mapping=plans_mapping, selection=selection,
                          today=today)
    prices = plan_prices(args, plan, estate)
    ending = terms_ending_soon(plan, ((s.id, s.expiration_date) for s in estate.subscriptions),
                               today=today, days=args.term_ends_within)
    findings = preflight_findings(plan, [term_ending_finding(ending, args.term_ends_within),
                                         *partner_center_findings(plan, estate.partner_center)])
    fmt = args.format or ("json" if args.output else "table")
    if args.output and fmt == "json":
        if platform is None:
            raise InputError("the estate lists no reseller, so the plan cannot name the Commerce instance it is for",
                             where=args.estate or args.catalog, hint="add the resellers (commerce.resellers)")
        with atomic_writer(args.output, newline="") as handle:
            sha256 = write_plan_file(plan, findings, estate, platform, handle, prices)
        counts = ", ".join(f"{n} {d}" for d, n in plan.summary().items())
        print(f"plan written to {args.output}: {counts}\nplan_sha256 {sha256}\n"
              f"review it, then apply exactly it: m365move migrate --plan {args.output} --commerce-url "
              f"{platform.commerce_url or 'URL'} --execute", file=sys.stderr)
    elif args.output:
        with atomic_writer(args.output, newline="") as handle:
            _write(fmt, plan, findings, handle, prices)
        print(f"plan written to {args.output}: {plan.summary()}", file=sys.stderr)
    else:
        _write(fmt, plan, findings, sys.stdout, prices)
    return 0


def _write(fmt: str, plan: Any, findings: Any, handle: Any, prices: PriceReport) -> None:
    if fmt == "json":
        write_plan_json(plan, findings, handle, prices)
    elif fmt == "csv":
        write_plan_csv(plan, handle, prices)
    else:
        handle.write(render_plan_table(plan, findings, prices))


def _days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days")
    return int(text)
