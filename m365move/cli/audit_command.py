"""``m365move audit``: the audit report's tables without a notebook.

    m365move audit --journal FILE [--journal FILE2] [--results CSV]… [--run RUN_ID]…
                   [--commerce-url URL | --platform-snapshot FILE] [--reseller ID]… [--customer ID]…
                   [--stuck-after-hours H] [--format table|json] [--rows N] [--output-dir DIR]
                   [--save-platform-snapshot FILE]
                   [--connect-url URL --csp-product ID… --nce-product ID… [--marketplace ID] [--partner-center-url URL]]
    m365move audit verify DIR [--manifest-sha256 HASH] [--format text|json] [--allow-unsigned]

Exit status: 0 no critical anomaly, 3 critical anomalies found (a sign-off gate), 2 bad input, 1 other failure.
``--output-dir`` also gets ``result.json`` and, last, ``manifest.json`` (see ``m365move.bundle``).
``audit verify``: 0 the folder is as sealed and signed by the configured key (``M365MOVE_VERIFY_KEY``), or, with
``--allow-unsigned``, consistent with its own manifest; 3 something was changed, added or removed (a symbolic
link included), the manifest is malformed, or the signature is bad (each problem named on its own line);
2 no manifest there, or intact but no configured key vouches for it and ``--allow-unsigned`` was not given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from m365move.audit.audit_report import build_audit, platform_scope, read_records
from m365move.audit.connect_checks import audit_connect
from m365move.audit.platform_snapshot import write_platform_snapshot
from m365move.audit.platform_state import CommercePlatform
from m365move.audit.tables import (
    AuditTable,
    all_tables,
    by_reseller_table,
    checks_table,
    executive_table,
    findings_table,
    platforms_table,
    status_by_mode_table,
    unfinished_table,
)
from m365move.audit.tables_csv import write_tables
from m365move.bundle import seal_folder, verify_folder
from m365move.bundle.signing import VERIFY_KEY_VARIABLE
from m365move.cli.option_types import finite_number, output_dir, output_file, whole_number
from m365move.errors import InputError
from m365move.estate import typed
from m365move.files.atomic_files import write_text_atomically
from m365move.files.workspace import DEFAULT_HELP, default_workspace, workspace_journal
from m365move.runbooks.audit_inputs import DEFAULT_RATE_LIMIT, AuditInputs
from m365move.text.secret_redaction import redacted
from m365move.text.terminal_text import visible

EXIT_CRITICAL_ANOMALIES = 3
EXIT_TAMPERED = 3
EXIT_UNVERIFIED = 2  # intact, but no configured key vouches for it and --allow-unsigned was not given


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit", help="audit journals against the platform: statuses, reconciliation, anomalies",
        description="Audit migration journals (or results files) against the platform's current state.",
    )
    parser.add_argument("--journal", action="append", default=[], metavar="FILE|URL",
                        help="journal (repeatable; default, when no journal, results or Connect is given: the shared "
                        f"workspace's journal, {DEFAULT_HELP})")
    parser.add_argument("--results", action="append", default=[], metavar="CSV", help="results file (repeatable)")
    parser.add_argument("--run", action="append", default=[], metavar="RUN_ID", help="only this run (repeatable)")
    platform = parser.add_mutually_exclusive_group()
    platform.add_argument("--commerce-url", metavar="URL", help="read Commerce live (credentials from the environment)")
    platform.add_argument("--platform-snapshot", metavar="FILE", help="read the platform state from a snapshot file")
    parser.add_argument("--reseller", action="append", default=[], metavar="ID", help="only this reseller (repeatable)")
    parser.add_argument("--customer", action="append", default=[], metavar="ID", help="only this customer (repeatable)")
    parser.add_argument("--stuck-after-hours", type=finite_number(at_least=0, at_most=100_000), default=24.0, metavar="H",
                        help="unfinished this long is an anomaly (default 24; 0: always)")
    parser.add_argument("--rate-limit", type=finite_number(at_least=0, at_most=10_000), default=DEFAULT_RATE_LIMIT,
                        metavar="PER_SECOND",
                        help="ceiling on Commerce requests per second of a live read (default 0: none, the platform's "
                             "pace; a live read always slows down when Commerce answers 429, honouring Retry-After)")
    parser.add_argument("--concurrency", type=whole_number(1, 64), default=8, metavar="N",
                        help="Commerce requests in flight at once during a live read (default 8)")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="table for a person, json for scripts (default: %(default)s)")
    parser.add_argument("--rows", type=whole_number(0, 10_000_000), default=20,
                        help="rows per table in table format, 0 for all (default: %(default)s)")
    parser.add_argument("--output-dir", type=output_dir, metavar="DIR", help="write every table in full as CSV files here")
    parser.add_argument("--save-platform-snapshot", type=output_file, metavar="FILE",
                        help="save the platform state read, to audit again offline")
    connect = parser.add_argument_group(
        "Connect", "audit the Connect path too (or only): CSP assets, NCE purchase and cancel requests, Partner Center "
                   "migrations; the API key from M365MOVE_CONNECT_API_KEY, Partner Center's app from "
                   "M365MOVE_PARTNER_CENTER_TENANT_ID, _CLIENT_ID, _CLIENT_SECRET (and _TOKEN_URL)")
    connect.add_argument("--connect-url", metavar="URL", help="Connect API root (e.g. https://api.connect.cloudblue.com/public/v1)")
    connect.add_argument("--csp-product", action="append", default=[], metavar="ID", help="CSP product id (repeatable)")
    connect.add_argument("--nce-product", action="append", default=[], metavar="ID", help="NCE product id (repeatable)")
    connect.add_argument("--marketplace", metavar="ID", help="only this marketplace")
    connect.add_argument("--partner-center-url", metavar="URL", help="Partner Center API root: read its migrations too")
    connect.add_argument("--partner-center-lookups", choices=("every-tenant", "where-needed"), default="every-tenant",
                         help="every-tenant: one look-up per customer tenant (complete); where-needed: our migrations "
                              "listed by the extension's tags, tenants read one by one only where those do not account "
                              "for every subscription (blind to a Microsoft-led migration of a subscription whose own "
                              "migration completed) (default: %(default)s)")
    parser.set_defaults(func=run_audit_command)
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=False)
    verify = actions.add_parser(
        "verify", help="check a sealed audit or runbook folder against its manifest",
        description="Say whether anything in a sealed folder (an audit's --output-dir, a runbook run folder) was "
                    "changed, added or removed since its manifest was written, and whether its signature holds. "
                    "The trusted public key comes from M365MOVE_VERIFY_KEY (else the public half of "
                    "M365MOVE_SIGNING_KEY); without one, only --allow-unsigned accepts a folder.",
    )
    verify.add_argument("folder", metavar="DIR", help="a sealed audit or runbook run folder")
    verify.add_argument("--manifest-sha256", metavar="HASH", help="the manifest hash quoted at sign-off: require it")
    verify.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for a person, json for scripts (default: %(default)s)")
    verify.add_argument("--allow-unsigned", action="store_true",
                        help="accept a folder that no configured key vouches for (unsigned, or signed by a key that is "
                             "not M365MOVE_VERIFY_KEY): it is then only shown consistent with its own manifest, which "
                             "anyone who can write the folder can rewrite (default: refused, exit 2)")
    verify.set_defaults(func=run_verify_command)


def run_verify_command(args: argparse.Namespace) -> int:
    verification = verify_folder(args.folder, expected_hash=args.manifest_sha256, allow_unsigned=args.allow_unsigned)
    if args.format == "json":
        print(json.dumps(verification.as_dict(), indent=2))
    else:
        signed = f", signed by Ed25519 key {verification.signed_by}" if verification.signed_by else ", not signed"
        print(visible(f"{verification.folder}: manifest sha256 {verification.manifest_hash or '-'} "
                      f"({verification.files} files{signed})"))
        for problem in verification.problems:
            print(visible(problem.line()))
        for note in verification.notes:
            print(visible(f"note: {note}"))
        print(verification.verdict)
    if not verification.intact:
        return EXIT_TAMPERED
    if not verification.trusted and not args.allow_unsigned:
        print(f"m365move: error: no configured key vouches for this folder: set {VERIFY_KEY_VARIABLE} to the public key "
              "of whoever seals the folders, or pass --allow-unsigned to accept a folder consistent with its own "
              "manifest", file=sys.stderr)
        return EXIT_UNVERIFIED
    return 0


def run_audit_command(args: argparse.Namespace) -> int:
    if not (args.journal or args.results or args.connect_url):
        shared = workspace_journal(default_workspace())  # where runbook and CLI runs are journaled by default
        args.journal = [str(shared)] if shared.is_file() else []
    try:
        inputs = AuditInputs(
            journal=",".join(args.journal) or None, results=",".join(args.results) or None, run=",".join(args.run) or None,
            commerce_url=args.commerce_url, platform_snapshot=args.platform_snapshot,
            reseller=",".join(args.reseller) or None, customer=",".join(args.customer) or None,
            stuck_after_hours=args.stuck_after_hours, connect_url=args.connect_url,
            csp_products=",".join(args.csp_product) or None, nce_products=",".join(args.nce_product) or None,
            marketplace=args.marketplace, partner_center_url=args.partner_center_url,
            partner_center_lookups=args.partner_center_lookups,
            rate_limit=args.rate_limit, concurrency=args.concurrency,
        )
    except ValueError as error:
        raise InputError(typed.refusal_text(error), where="m365move audit") from None
    options = inputs.options()
    records = read_records(inputs.journals, inputs.results_files, connect=bool(inputs.connect_url))
    unknown = sorted(set(options.run_ids or ()) - {r.run_id for r in records.runs})
    if unknown:
        raise InputError(f"run {', '.join(unknown)} is in none of the journals", hint="`m365move runs list` shows the runs")
    with inputs.platform() as source:
        state = source.read(platform_scope(records.select_runs(options.run_ids))) if source and records.sources else None
        if isinstance(source, CommercePlatform):
            stats = source.client.stats
            slowed = f" (throttled {stats.throttled} times: slowed down)" if stats.throttled else ""
            print(f"Commerce read with {stats.requests} requests{slowed}", file=sys.stderr)
    if state is not None and args.save_platform_snapshot:
        write_platform_snapshot(state, args.save_platform_snapshot)
    now = dt.datetime.now(dt.timezone.utc)
    with inputs.connect() as connect:
        connect_audit = audit_connect(connect.read(), now, options.reconciliation.stuck_after) if connect else None
    report = build_audit(records, state, now, options, connect_audit)
    if args.output_dir:
        write_tables(args.output_dir, all_tables(report))
        write_text_atomically(Path(args.output_dir) / "result.json",
                              json.dumps(report.result(findings_limit=len(report.findings)), indent=2) + "\n")
        seal = seal_folder(args.output_dir, kind="audit", parameters=_parameters(args))
        print(seal.describe(), file=sys.stderr)
    if args.format == "json":
        print(json.dumps(report.result(findings_limit=len(report.findings)), indent=2))
    else:
        shown = [executive_table(report), checks_table(report), findings_table(report), unfinished_table(report),
                 status_by_mode_table(report), by_reseller_table(report)]
        if report.connect is not None:
            shown[1:1] = [platforms_table(report)]
        for table in shown:
            print(text_table(table, args.rows))
    return EXIT_CRITICAL_ANOMALIES if report.severity_counts()["critical"] else 0


def _parameters(args: argparse.Namespace) -> dict[str, object]:
    """The options the audit ran with, for its manifest (no credentials: a journal URL's password is masked)."""
    names = ("journal", "results", "run", "commerce_url", "platform_snapshot", "reseller", "customer",
             "stuck_after_hours", "output_dir", "save_platform_snapshot", "connect_url", "csp_product", "nce_product",
             "marketplace", "partner_center_url", "partner_center_lookups")
    chosen = {name: getattr(args, name) for name in names if getattr(args, name, None) not in (None, [])}
    if "journal" in chosen:
        chosen["journal"] = [redacted(location) for location in chosen["journal"]]
    return chosen


def text_table(table: AuditTable, limit: int) -> str:
    """A plain-text table with a title; rows beyond ``limit`` are counted, not shown."""
    rows = table.rows if limit <= 0 else table.rows[:limit]
    cells = [list(table.headers)] + [["" if v is None else visible(v) for v in row] for row in rows]
    widths = [min(60, max(len(r[i]) for r in cells)) for i in range(len(table.headers))]
    lines = [f"{table.title}:"]
    if not table.rows:
        return lines[0] + " none\n"
    lines += ["  " + "  ".join(_fit(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    if len(rows) < len(table.rows):
        lines.append(f"  … {len(table.rows) - len(rows)} more rows (--rows 0, or --output-dir for CSV files)")
    return "\n".join(lines) + "\n"


def _fit(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


__all__: Sequence[str] = ("register", "text_table")
