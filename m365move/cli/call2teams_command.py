"""``m365move call2teams``: check tenants, write the cleanup script, assess a move, make bulk-import CSVs."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from m365move.call2teams.accounts import load_accounts
from m365move.call2teams.bulk_import import MAX_ROWS_PER_FILE, Template, build_import, invalid_number_findings
from m365move.call2teams.bulk_import_files import read_users_file, write_import_files
from m365move.call2teams.cleanup_script import ScriptContext, render_cleanup_script
from m365move.call2teams.domain_checks import DEFAULT_DOMAIN_SUFFIX, DomainRules
from m365move.call2teams.export_script import export_script_text
from m365move.call2teams.findings import Verdict
from m365move.call2teams.graph_client import TOKEN_ENV_VAR, GraphClient
from m365move.call2teams.move_readiness import MoveMethod, MoveRequest, assess_move
from m365move.call2teams.render import render_check, render_move
from m365move.call2teams.residual_checks import DEFAULT_MARKERS, MarkerMatcher
from m365move.call2teams.snapshot_loader import load_tenant_dir, with_graph_domains
from m365move.call2teams.tenant_check import CheckOptions, check_tenants
from m365move.cli.option_types import output_dir, output_file
from m365move.errors import InputError
from m365move.files.atomic_files import write_text_atomically

_MAX_LISTED_ROWS = 10
# The verdict is not-ready (the report is still written in full): scripts can tell it from a failure (1, 2).
EXIT_NOT_READY = 7


def register(subparsers: Any) -> None:
    """Add ``call2teams`` and its subcommands."""
    parser = subparsers.add_parser("call2teams", help="Call2Teams tenant checks, cleanup and account moves")
    commands = parser.add_subparsers(dest="call2teams_command", metavar="SUBCOMMAND", required=True)

    check = commands.add_parser("check", help="residual voice objects and domain conflicts of exported tenants")
    check.add_argument("--exports", "--tenant-dir", dest="tenant_dir", action="append", required=True, metavar="DIR",
                       help="a folder written by Export-Call2TeamsTenant.ps1 (repeat for several tenants)")
    check.add_argument("--other-tenant-exports", action="append", default=[], metavar="DIR",
                       help="exports of other tenants, read only to find Call2Teams domains claimed twice "
                       "(repeatable; default: none)")
    _add_rule_options(check)
    check.add_argument("--graph-url", metavar="URL",
                       help=f"read domains live from Graph at URL (token in ${TOKEN_ENV_VAR}); one tenant only")
    _add_format_options(check)
    check.set_defaults(func=_check)

    cleanup = commands.add_parser("cleanup-script", help="write the PowerShell cleanup script for one tenant")
    cleanup.add_argument("--exports", "--tenant-dir", dest="tenant_dir", required=True, metavar="DIR",
                         help="the tenant's folder written by Export-Call2TeamsTenant.ps1")
    _add_rule_options(cleanup)
    cleanup.add_argument("--execute-removals", action="store_true",
                         help="make the changes for real (default: a dry run: each change re-reads its object and "
                              "prints what it would do)")
    cleanup.add_argument("--force-delete-domains", action="store_true",
                         help="offer Graph's forceDelete for domains still in use: it renames their users, groups "
                              "and applications to the initial domain (fails above 1,000 objects or with a "
                              "multi-tenant application)")
    cleanup.add_argument("--output", type=output_file, required=True, metavar="FILE", help="the PowerShell script to write")
    cleanup.set_defaults(func=_cleanup_script)

    move = commands.add_parser("move-readiness", help="is an account move between partners/sub-accounts ready")
    move.add_argument("--accounts", required=True, metavar="FILE", help="accounts hierarchy (YAML or JSON)")
    move.add_argument("--source", required=True, metavar="ID", help="the sub-account that moves")
    move.add_argument("--target", required=True, metavar="ID", help="the sub-account it moves to")
    move.add_argument("--method", choices=[m.value for m in MoveMethod], default=MoveMethod.MIGRATE.value,
                      help="migrate (users and services, same tenant) or diy (tenant changes) (default: %(default)s)")
    move.add_argument("--target-base", metavar="ID", help="the base account the target must be under")
    move.add_argument("--move-date", type=_date, metavar="YYYY-MM-DD", help="default: today")
    move.add_argument("--permission-confirmed", action="store_true",
                      help="written permission from both partners is held")
    move.add_argument("--service-desk-case", metavar="CASE", help="the service desk case raised for the move")
    _add_format_options(move)
    move.set_defaults(func=_move_readiness)

    bulk = commands.add_parser("bulk-import", help="Call2Teams bulk-import CSVs (≤ 1,000 rows a file)")
    bulk.add_argument("--users", required=True, metavar="FILE", help="users as CSV (header row) or JSON array")
    bulk.add_argument("--template", required=True, choices=[t.value for t in Template],
                      help="the Call2Teams bulk-import template to fill")
    bulk.add_argument("--output-dir", type=output_dir, required=True, metavar="DIR",
                      help="folder for the CSV files (at most 1,000 rows each)")
    bulk.add_argument("--skip-invalid", action="store_true",
                      help="write the valid rows and report the others instead of refusing")
    bulk.set_defaults(func=_bulk_import)

    export = commands.add_parser("export-script", help="write the read-only PowerShell export script")
    export.add_argument("--output", type=output_file, metavar="FILE", help="default: standard output")
    export.set_defaults(func=_export_script)


def _add_rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expected-domain", "--account-domains", dest="account_domains", action="extend",
                        nargs="+", default=None, metavar="DOMAIN",
                        help="the Call2Teams domains the current account should own, as the portal shows them "
                        "(repeatable; space or comma separated; default: none known, so none is foreign)")
    parser.add_argument("--marker", action="append", default=None, metavar="TEXT",
                        help=f"marker of residual objects (repeatable; default: {', '.join(DEFAULT_MARKERS)})")
    parser.add_argument("--domain-suffix", default=DEFAULT_DOMAIN_SUFFIX, metavar="SUFFIX",
                        help="parent domain of the Call2Teams domains (default: %(default)s)")


def _add_format_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["table", "json"], default="table",
                        help="table for a person, json (the Call2Teams contract) for scripts (default: %(default)s)")
    parser.add_argument("--output", type=output_file, metavar="FILE",
                        help="write the report here instead of standard output (default: standard output)")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _options(args: argparse.Namespace) -> CheckOptions:
    domains = None
    if args.account_domains:
        domains = [d for item in args.account_domains for d in item.split(",")]
    try:
        matcher = MarkerMatcher(tuple(args.marker)) if args.marker else MarkerMatcher()
    except ValueError as error:
        raise InputError(str(error), where="--marker") from None
    return CheckOptions(matcher=matcher, domain_rules=DomainRules.of(args.domain_suffix, domains))


def _emit(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    if not Path(output).parent.is_dir():  # an operator's typo, not a folder to create
        raise InputError("cannot be written (No such file or directory)", where=output)
    try:
        write_text_atomically(output, text)
    except OSError as error:
        raise InputError(f"cannot be written ({error.strerror})", where=output) from None


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _check(args: argparse.Namespace) -> int:
    options = _options(args)
    snapshots = [load_tenant_dir(directory) for directory in args.tenant_dir]
    if args.graph_url:
        if len(snapshots) != 1:
            raise InputError("--graph-url reads one tenant's domains: pass exactly one --tenant-dir",
                             where="--graph-url")
        with GraphClient(args.graph_url) as client:
            snapshots = [with_graph_domains(snapshots[0], client, domain_suffix=options.domain_rules.suffix)]
    others = [load_tenant_dir(directory) for directory in args.other_tenant_exports]
    report = check_tenants(snapshots, options, others=others)
    _emit(_json(report.to_dict()) if args.format == "json" else render_check(report), args.output)
    return EXIT_NOT_READY if report.verdict is Verdict.NOT_READY else 0


def _cleanup_script(args: argparse.Namespace) -> int:
    options = _options(args)
    snapshot = load_tenant_dir(args.tenant_dir)
    report = check_tenants([snapshot], options)
    context = ScriptContext(
        tenant=snapshot.tenant,
        tenant_id=snapshot.tenant_id,
        tenant_name=snapshot.tenant_name,
        source=snapshot.source,
        generated_at=datetime.now(timezone.utc),
        execute=args.execute_removals,
        force_delete_domains=args.force_delete_domains,
    )
    script = render_cleanup_script(report.plans[0], report.domains.removals_for(snapshot.tenant), context)
    _emit(script, args.output)
    mode = "EXECUTES the changes" if args.execute_removals else "dry run: every change carries -WhatIf"
    print(f"wrote {args.output} for tenant {snapshot.tenant!r} ({mode}); verdict {report.verdict.value}")
    if snapshot.not_exported:
        print(f"not exported, so not cleaned: {', '.join(snapshot.not_exported)}", file=sys.stderr)
    return 0


def _move_readiness(args: argparse.Namespace) -> int:
    hierarchy = load_accounts(args.accounts)
    source = hierarchy.sub(args.source)
    if source is None:
        kind = "a base account; only sub-accounts move" if hierarchy.base(args.source) else "not in the file"
        raise InputError(f"source {args.source!r} is {kind}", where=args.accounts)
    if args.source == args.target:
        raise InputError(f"source and target are the same account ({args.source})", where=args.accounts)
    request = MoveRequest(
        source=args.source,
        target=args.target,
        method=MoveMethod(args.method),
        move_date=args.move_date,
        target_base=args.target_base,
        permission_confirmed=args.permission_confirmed,
        service_desk_case=args.service_desk_case,
    )
    report = assess_move(hierarchy, request, today=date.today())
    _emit(_json(report.to_dict()) if args.format == "json" else render_move(report), args.output)
    return EXIT_NOT_READY if report.verdict is Verdict.NOT_READY else 0


def _bulk_import(args: argparse.Namespace) -> int:
    users = read_users_file(args.users)
    bulk = build_import(users, Template(args.template))
    if bulk.missing_fields:
        rows = sorted({f"{p.row.label()} {p.column}" for p in bulk.missing_fields})
        raise InputError(f"required fields are empty: {_listed(rows)}", where=args.users)
    if bulk.invalid_numbers and not args.skip_invalid:
        rows = [f"{p.row.label()} {p.column} {p.value!r}" for p in bulk.invalid_numbers]
        raise InputError(f"{len(rows)} number(s) are not E.164: {_listed(rows)}", where=args.users,
                         hint="correct them, or pass --skip-invalid to import the other rows")
    written = write_import_files(bulk, args.output_dir)
    for finding in invalid_number_findings(bulk.invalid_numbers, source=args.users):
        print(f"skipped {len(finding.objects)} row(s) with invalid numbers: {_listed(list(finding.objects))}",
              file=sys.stderr)
    print(f"wrote {len(bulk.rows)} {bulk.template.value} row(s) in {len(written)} file(s) "
          f"(at most {MAX_ROWS_PER_FILE} each; Password left empty) to {args.output_dir}")
    for path in written:
        print(f"  {path}")
    return 0


def _listed(items: list[str]) -> str:
    shown = "; ".join(items[:_MAX_LISTED_ROWS])
    return shown + (f"; and {len(items) - _MAX_LISTED_ROWS} more" if len(items) > _MAX_LISTED_ROWS else "")


def _export_script(args: argparse.Namespace) -> int:
    _emit(export_script_text(), args.output)
    return 0
