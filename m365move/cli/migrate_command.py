"""``m365move migrate`` and ``m365move resume``: execute a plan on Commerce (dry run unless --execute)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from m365move.cli.option_types import finite_number, whole_number
from m365move.cli.partner_center_lookup import (
    add_partner_center_lookup_options,
    with_partner_center_view,
    write_reconciliation,
)
from m365move.cli.plan_inputs import add_mode_argument, add_plan_input_arguments, load_plan_inputs, selection_from_args
from m365move.cli.undo_command import write_run_undo_plan
from m365move.commerce.credentials import load_credentials
from m365move.commerce.estate_reader import read_estate
from m365move.commerce.live_identity import read_identity
from m365move.commerce.models import MIGRATION_PROGRAMS
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.estate import Estate
from m365move.domain.licenses import PlansMapping
from m365move.domain.microsoft_migrations import NOT_CONSULTED_MESSAGE
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection
from m365move.domain.undo_plan import UNDO_PLAN_JSON
from m365move.errors import InputError, JournalError
from m365move.estate.csv_files import read_license_mapping, read_plans_mapping
from m365move.estate.platform_identity import check_same_platform
from m365move.execution.commit_deadline import DEFAULT_SECONDS as DEFAULT_COMMIT_DEADLINE
from m365move.execution.commit_deadline import ENV_VAR as COMMIT_DEADLINE_ENV
from m365move.execution.commit_deadline import default_commit_deadline
from m365move.execution.executor import ExecutionOptions
from m365move.execution.journal import Journal
from m365move.execution.migration_run import RunReport, RunRequest, run_migration
from m365move.execution.resume import find_resume_target
from m365move.execution.run_progress import Progress
from m365move.files.workspace import DEFAULT_HELP, default_workspace
from m365move.plan_output.plan_file import ReviewedPlan, read_plan_file
from m365move.text.secret_redaction import redacted

EXIT_INTERRUPTED = 130
# A run that finished with subscriptions a person must look at (decided exit status 6).
EXIT_UNFINISHED = 6
_NEEDS_ATTENTION = ("failed", "partially-migrated")


def register(subparsers: Any) -> None:
    migrate = subparsers.add_parser(
        "migrate", help="run a CSP→NCE migration on Commerce (dry run unless --execute)",
        description="Plan and, with --execute, place the orders on Commerce. Credentials come from "
        "M365MOVE_COMMERCE_USER / _PASSWORD / _SUBSCRIPTION_KEY or the M365MOVE_CONFIG file, never from arguments.",
    )
    add_mode_argument(migrate, required=False)
    migrate.add_argument("--plan", metavar="FILE",
                         help="apply exactly this reviewed plan file (`m365move plan … --output FILE`) instead of "
                         "planning again: refused if it was made on another Commerce instance or edited since; each "
                         "subscription is read again right before its first order and refused (changed-since-plan) "
                         "if it changed since the plan")
    add_plan_input_arguments(migrate, estate_required=False)
    migrate.add_argument("--catalog", metavar="FILE",
                         help="catalog export (commerce.plans schema); subscriptions are then read live from Commerce")
    migrate.add_argument("--commerce-url", required=True, metavar="URL", help="SimpleAPI base URL")
    migrate.add_argument("--custom-order-params", action="store_true",
                         help="carry the source's ResellerType and Margin attributes onto new orders")
    migrate.add_argument("--migration-program", choices=sorted(MIGRATION_PROGRAMS), default="count",
                         help="Switch Plan add-on migration orders: whether the migrated period counts towards "
                         "billing (count, the default) or not (do-not-count); Commerce's migrationProgram")
    _add_execution_arguments(migrate)
    migrate.set_defaults(func=run_migrate)

    resume = subparsers.add_parser("resume", help="complete an earlier run (mode inferred from it)")
    resume.add_argument("source", metavar="RESULTS_CSV|RUN_ID",
                        help="the results file of the run to complete, or its run id (`m365move runs list`)")
    resume.add_argument("--mode", choices=[m.value for m in MigrationMode],
                        help="optional: must match the mode of the run being resumed")
    _add_execution_arguments(resume)
    resume.set_defaults(func=run_resume)


def _add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--execute", action="store_true", help="really place orders (default: dry run)")
    parser.add_argument("--yes", type=whole_number(0, 10_000_000), metavar="N",
                        help="with --execute and no --plan: go ahead without asking, if N is the number of "
                        "subscriptions the plan migrates (`m365move plan`'s migrate count on the same inputs; "
                        "otherwise nothing is placed); for automation")
    parser.add_argument("--workspace", default=default_workspace(), metavar="DIR",
                        help=f"journal and results folder, shared with the runbooks (default: {DEFAULT_HELP})")
    parser.add_argument("--journal", metavar="FILE|URL", help="journal location (default: WORKSPACE/journal.sqlite)")
    # Bounds: beyond them a value is a typo, and it must fail here, before anything talks to Commerce.
    parser.add_argument("--concurrency", type=whole_number(1, 256), default=8, metavar="N",
                        help="subscriptions worked on at once (default: %(default)s)")
    parser.add_argument("--order-timeout", type=finite_number(above=0, at_most=7 * 86400), default=600.0,
                        metavar="SECONDS", help="time an order may take to reach a final status (default: %(default)s)")
    parser.add_argument("--poll-interval", type=finite_number(above=0, at_most=3600), default=5.0, metavar="SECONDS",
                        help="time between order status polls (default: %(default)s)")
    parser.add_argument("--batch-size", type=whole_number(1, 100_000), default=200, metavar="N",
                        help="subscriptions per place-then-poll batch (default: %(default)s)")
    parser.add_argument("--rate-limit", type=finite_number(at_least=0, at_most=10_000), default=20.0,
                        metavar="PER_SECOND",
                        help="client-side limit of Commerce requests per second, 0 for none (default: %(default)s)")
    parser.add_argument("--commit-deadline", type=finite_number(at_least=0, at_most=86_400), default=None,
                        metavar="SECONDS",
                        help="the time within which Commerce commits an order it received: an order whose POST got "
                        "no certain answer (504, time-out) is looked up until this has passed, and only then sent "
                        f"again (default: ${COMMIT_DEADLINE_ENV} or {DEFAULT_COMMIT_DEADLINE:g})")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="table: lines for a person; json: one JSON document on standard output (default: "
                        "%(default)s)")
    add_partner_center_lookup_options(parser)


def run_migrate(args: argparse.Namespace) -> int:
    if args.plan:
        return _run_reviewed(args)
    if not args.mode:
        raise InputError("give --mode new-subscription|switch-plan, or --plan FILE (the mode is the plan's)",
                         where="m365move migrate")
    if bool(args.estate) == bool(args.catalog):
        raise InputError("give either --estate FILE or --catalog FILE (with subscriptions read from Commerce)",
                         where="m365move migrate")
    parameters = {
        "mode": args.mode, "estate": _abs(args.estate), "catalog": _abs(args.catalog),
        "license_mapping": _abs(args.license_mapping), "plans_mapping": _abs(args.plans_mapping),
        "source_data": _abs(args.source_data), "reseller": args.reseller, "customer": args.customer,
        "for_expiration_date": args.for_expiration_date, "commerce_url": args.commerce_url,
        "custom_order_params": args.custom_order_params, "migration_program": args.migration_program,
    }
    return _run(args, parameters, selection=None, confirm=_confirmation(args))


def _run_reviewed(args: argparse.Namespace) -> int:
    """``migrate --plan FILE``: the reviewed plan's orders, nothing re-planned, each source checked for drift."""
    given = [name for name in ("estate", "catalog", "license_mapping", "plans_mapping", "source_data", "reseller",
                               "customer", "for_expiration_date") if getattr(args, name)]
    if given or args.custom_order_params:
        option = "--" + (given[0] if given else "custom_order_params").replace("_", "-")
        raise InputError(f"{option} does not go with --plan: the plan file already holds what was reviewed",
                         where=option, hint="plan again with it, review the new plan file, then apply that")
    reviewed = read_plan_file(args.plan)
    if args.mode and args.mode != reviewed.plan.mode.value:
        raise InputError(f"the plan is a {reviewed.plan.mode.value} plan, not {args.mode}", where="--mode",
                         hint="drop --mode: the plan's mode is used")
    print(f"applying plan {args.plan} (plan_sha256 {reviewed.sha256}, made {reviewed.created_at})", file=sys.stderr)
    parameters = {
        "mode": reviewed.plan.mode.value, "plan": _abs(args.plan), "plan_sha256": reviewed.sha256,
        "commerce_url": args.commerce_url, "migration_program": args.migration_program,
        "source_data": None, "reseller": None, "customer": None, "for_expiration_date": None,
    }
    return _run(args, parameters, selection=Selection(subscription_ids=frozenset(
        s.subscription_id for s in reviewed.plan.subscriptions)), reviewed=reviewed)


def _confirmation(args: argparse.Namespace) -> Callable[[int], None]:
    """An execution without a reviewed plan places orders only for the count the operator typed (or --yes N)."""

    def confirm(count: int) -> None:
        if args.yes is not None:
            if args.yes != count:
                raise InputError(f"--yes {args.yes} but this run would migrate {count} subscription(s); nothing was "
                                 f"placed", where="--yes", hint=f"review the dry run, then --yes {count}")
            return
        if not sys.stdin.isatty():
            raise InputError(f"--execute without --plan needs the number of subscriptions to migrate: --yes {count}; "
                             f"nothing was placed", where="--execute",
                             hint="or apply a reviewed plan: `m365move plan … --output FILE`, then `migrate --plan FILE`")
        print(f"This run would place orders for {count} subscription(s) on {args.commerce_url}.", file=sys.stderr)
        answer = input(f"Type {count} to go ahead (anything else places nothing): ").strip()
        if answer != str(count):
            raise InputError(f"{answer!r} is not {count}: nothing was placed", where="--execute")

    return confirm


def run_resume(args: argparse.Namespace) -> int:
    journal = _journal(args, existing=True)
    target = find_resume_target(journal, args.source)
    if args.mode and args.mode != target.mode.value:
        raise InputError(f"run {target.run_id} is a {target.mode.value} run, not {args.mode}; drop --mode to resume it",
                         where="--mode")
    parameters = target.parameters | {"resumed_from": target.run_id}
    if target.subscription_ids is None:
        # The run died before writing results: its whole selection again (journal and platform keep it safe).
        print(f"run {target.run_id} left no results (it did not finish): resuming its whole selection", file=sys.stderr)
        return _run(args, parameters, selection=None, journal=journal)
    if not target.subscription_ids:
        if args.format == "json":
            print(json.dumps({"run_id": None, "resumed_from": target.run_id, "mode": target.mode.value,
                              "summary": {}, "exit_status": 0, "message": "nothing left to resume"}, indent=1))
        else:
            print(f"run {target.run_id}: nothing left to resume")
        return 0
    return _run(args, parameters, selection=Selection(subscription_ids=target.subscription_ids), journal=journal)


def _run(args: argparse.Namespace, parameters: dict[str, Any], selection: Selection | None,
         journal: Journal | None = None, *, reviewed: ReviewedPlan | None = None,
         confirm: Callable[[int], None] | None = None) -> int:
    mode = MigrationMode(parameters["mode"])
    journal = journal or _journal(args)
    # Pages of 1,000 (the most SimpleAPI serves): the run's one read of m365move's orders lists whole collections.
    client = SimpleApiClient(parameters["commerce_url"], load_credentials(), max_retries=6,
                             rate_limit_per_second=args.rate_limit or None, page_size=1000)
    try:
        client.verify_access()
        if reviewed is not None:
            check_same_platform(reviewed.platform, read_identity(client), what="plan", where=args.plan)
            estate, plans_mapping, file_selection = reviewed.estate, PlansMapping(), Selection()
        else:
            estate, plans_mapping, file_selection = _estate(parameters, client)
        selection = selection or file_selection
        # Microsoft-led migrations seen in Partner Center are skipped or blocked, never ordered again.
        estate = with_partner_center_view(args, estate, selection)
        request = RunRequest(
            mode=mode, estate=selected_only(estate, selection), plans_mapping=plans_mapping, selection=selection,
            execute=args.execute, parameters=parameters | {"execute": args.execute, "concurrency": args.concurrency},
            options=ExecutionOptions(concurrency=args.concurrency, order_timeout=args.order_timeout,
                                     poll_interval=args.poll_interval, batch_size=args.batch_size,
                                     migration_program=parameters.get("migration_program") or "count",
                                     commit_deadline_seconds=(default_commit_deadline() if args.commit_deadline is None
                                                              else args.commit_deadline)),
            custom_order_params=bool(parameters.get("custom_order_params")),
            reviewed=reviewed.plan if reviewed else None,
            reviewed_sources=reviewed.sources if reviewed else None,
            confirm=confirm,
        )
        stop = threading.Event()
        previous = _stop_on_interrupt(stop)
        try:
            report = run_migration(request, journal, client, Path(args.workspace), progress=Progress(0), stop=stop)
        finally:
            signal.signal(signal.SIGINT, previous)
        reconciliation = write_reconciliation(estate, selection, report.results_path, report.run_id)
        if reconciliation is not None:
            print(f"sources Partner Center shows migrated or migrating (not ordered): {reconciliation}",
                  file=sys.stderr)
        elif not estate.partner_center.consulted:
            print(f"m365move: {NOT_CONSULTED_MESSAGE}", file=sys.stderr)
        # After an executed run: what it created, still cancellable, and how to undo it (sealed, dry run first).
        undo_folder = write_run_undo_plan(args, journal, report, mode, client, parameters)
    finally:
        client.close()
    status = exit_status(report)
    if args.format == "json":
        document = report_json(report, mode, args, status)
        if undo_folder is not None:
            document["undo_plan"] = str(undo_folder / UNDO_PLAN_JSON)
        print(json.dumps(document, indent=1))
    else:
        _print_report(report, mode, args)
        if undo_folder is not None:
            print(f"undo plan: {undo_folder / UNDO_PLAN_JSON}")
    return status


def exit_status(report: RunReport) -> int:
    """130 interrupted; 6 when an executed run left failed or partially-migrated subscriptions; else 0."""
    if report.interrupted:
        return EXIT_INTERRUPTED
    if not report.dry_run and (any(report.summary.get(status) for status in _NEEDS_ATTENTION)
                               or report.needs_attention):  # blocked by the platform (seat-count-changed, ...)
        return EXIT_UNFINISHED
    return 0


def report_json(report: RunReport, mode: MigrationMode, args: argparse.Namespace, status: int) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "mode": mode.value,
        "dry_run": report.dry_run,
        "interrupted": report.interrupted,
        "summary": dict(sorted(report.summary.items())),
        "results_path": str(report.results_path),
        "exit_status": status,
        "resume_command": _resume_command(report, args),
        # Only when the platform holds a key twice after the run (cancel the younger order before it completes):
        # the document of every other run stays as it was.
        **({"duplicates": [d.as_json() for d in report.duplicates]} if report.duplicates else {}),
    }


def _resume_command(report: RunReport, args: argparse.Namespace) -> str | None:
    unfinished = sum(n for s, n in report.summary.items() if s in ("pending", "partially-migrated", "failed"))
    if report.interrupted or (unfinished and not report.dry_run):
        return f"m365move resume {report.results_path} --execute --workspace {args.workspace}"
    return None


def _estate(parameters: dict[str, Any], client: SimpleApiClient) -> tuple[Any, PlansMapping, Selection]:
    namespace = argparse.Namespace(**{k: parameters.get(k) for k in (
        "estate", "license_mapping", "plans_mapping", "source_data", "reseller", "customer", "for_expiration_date")})
    if parameters.get("estate"):
        inputs = load_plan_inputs(namespace)
        check_same_platform(inputs.platform, read_identity(client), what="estate", where=parameters["estate"])
        return inputs.estate, inputs.plans_mapping, inputs.selection
    reseller, customer = parameters.get("reseller"), parameters.get("customer")
    estate = read_estate(client, parameters["catalog"], reseller_ids=frozenset(reseller) if reseller else None,
                         customer_ids=frozenset(customer) if customer else None).estate
    if parameters.get("license_mapping"):
        estate = estate.with_license_mapping(read_license_mapping(parameters["license_mapping"]))
    plans = read_plans_mapping(parameters["plans_mapping"]) if parameters.get("plans_mapping") else PlansMapping()
    return estate, plans, selection_from_args(namespace)


def selected_only(estate: Estate, selection: Selection) -> Estate:
    """The estate without the subscriptions the selection leaves out, so that they are freed before executing.

    Nothing in a run reads them: a subscription's plan depends only on itself, its account and the catalog,
    and the results and the journal's unfinished work are within the selection. A run of a source-data CSV
    over a large estate would otherwise hold all of it for hours.
    """
    kept = tuple(s for s in estate.subscriptions if selection.selects(estate, s))
    return estate if len(kept) == len(estate.subscriptions) else replace(estate, subscriptions=kept)


def _stop_on_interrupt(stop: threading.Event) -> Any:
    def handler(_signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nm365move: stopping after the subscriptions in flight (Ctrl+C again to abort now)", file=sys.stderr)

    return signal.signal(signal.SIGINT, handler)


def _print_report(report: RunReport, mode: MigrationMode, args: argparse.Namespace) -> None:
    kind = "dry run (nothing placed; add --execute to place orders)" if report.dry_run else "executed"
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.summary.items()))
    print(f"run {report.run_id} ({mode.value}, {kind}): {counts}")
    print(f"results: {report.results_path}")
    for duplicate in report.duplicates:
        print(f"DUPLICATE, subscription {duplicate.subscription_id}: {duplicate.message()}")
    command = _resume_command(report, args)
    if command:
        print(f"to complete it: {command}")


def _journal(args: argparse.Namespace, *, existing: bool = False) -> Journal:
    """The run's journal; with ``existing`` (a resume), a journal file that is not there is bad input, not a new
    empty journal left in the current folder."""
    location = args.journal or str(Path(args.workspace) / "journal.sqlite")
    if existing and "://" not in location and not Path(location).is_file():
        raise InputError("no journal here, so no run to resume", where=location,
                         hint="give the --workspace (or --journal) of the run, as `m365move runs list` shows it")
    try:
        return Journal(location)
    except JournalError:
        raise
    except Exception as error:  # a malformed URL or a driver missing
        raise InputError(redacted(f"cannot open the journal: {error}", location), where=redacted(location)) from None


def _abs(path: str | None) -> str | None:
    return str(Path(path).resolve()) if path else None
