"""``m365move audit``: the audit report's tables without a notebook.

    m365move audit --journal FILE [--journal FILE2] [--results CSV]… [--run RUN_ID]…
                   [--commerce-url URL | --platform-snapshot FILE] [--reseller ID]… [--customer ID]…
                   [--stuck-after-hours H] [--format table|json] [--rows N] [--output-dir DIR]
                   [--save-platform-snapshot FILE]

Exit status: 0 no critical anomaly, 3 critical anomalies found (a sign-off gate), 2 bad input, 1 other failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from m365move.audit.audit_report import build_audit, platform_scope, read_records
from m365move.audit.inputs import AuditInputs
from m365move.audit.platform_snapshot import write_platform_snapshot
from m365move.audit.tables import (
    AuditTable,
    all_tables,
    by_reseller_table,
    checks_table,
    executive_table,
    findings_table,
    status_by_mode_table,
    unfinished_table,
)
from m365move.audit.tables_csv import write_tables
from m365move.errors import InputError

EXIT_CRITICAL_ANOMALIES = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit", help="audit journals against the platform: statuses, reconciliation, anomalies",
        description="Audit migration journals (or results files) against the platform's current state.",
    )
    parser.add_argument("--journal", action="append", default=[], metavar="FILE|URL", help="journal (repeatable)")
    parser.add_argument("--results", action="append", default=[], metavar="CSV", help="results file (repeatable)")
    parser.add_argument("--run", action="append", default=[], metavar="RUN_ID", help="only this run (repeatable)")
    platform = parser.add_mutually_exclusive_group()
    platform.add_argument("--commerce-url", metavar="URL", help="read Commerce live (credentials from the environment)")
    platform.add_argument("--platform-snapshot", metavar="FILE", help="read the platform state from a snapshot file")
    parser.add_argument("--reseller", action="append", default=[], metavar="ID", help="only this reseller (repeatable)")
    parser.add_argument("--customer", action="append", default=[], metavar="ID", help="only this customer (repeatable)")
    parser.add_argument("--stuck-after-hours", type=float, default=24.0, metavar="H",
                        help="unfinished this long is an anomaly (default 24; 0: always)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--rows", type=int, default=20, help="rows per table in table format (0: all)")
    parser.add_argument("--output-dir", metavar="DIR", help="write every table in full as CSV files here")
    parser.add_argument("--save-platform-snapshot", metavar="FILE", help="save the platform state read, to audit again offline")
    parser.set_defaults(func=run_audit_command)


def run_audit_command(args: argparse.Namespace) -> int:
    try:
        inputs = AuditInputs(
            journal=",".join(args.journal) or None, results=",".join(args.results) or None, run=",".join(args.run) or None,
            commerce_url=args.commerce_url, platform_snapshot=args.platform_snapshot,
            reseller=",".join(args.reseller) or None, customer=",".join(args.customer) or None,
            stuck_after_hours=args.stuck_after_hours,
        )
    except ValidationError as error:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
        raise InputError(problems, where="m365move audit") from None
    options = inputs.options()
    records = read_records(inputs.journals, inputs.results_files)
    unknown = sorted(set(options.run_ids or ()) - {r.run_id for r in records.runs})
    if unknown:
        raise InputError(f"run {', '.join(unknown)} is in none of the journals", hint="`m365move runs list` shows the runs")
    with inputs.platform() as source:
        state = source.read(platform_scope(records.select_runs(options.run_ids))) if source else None
    if state is not None and args.save_platform_snapshot:
        write_platform_snapshot(state, args.save_platform_snapshot)
    report = build_audit(records, state, dt.datetime.now(dt.timezone.utc), options)
    if args.output_dir:
        write_tables(args.output_dir, all_tables(report))
    if args.format == "json":
        print(json.dumps(report.result(findings_limit=len(report.findings)), indent=2))
    else:
        for table in (executive_table(report), checks_table(report), findings_table(report), unfinished_table(report),
                      status_by_mode_table(report), by_reseller_table(report)):
            print(text_table(table, args.rows))
    return EXIT_CRITICAL_ANOMALIES if report.severity_counts()["critical"] else 0


def text_table(table: AuditTable, limit: int) -> str:
    """A plain-text table with a title; rows beyond ``limit`` are counted, not shown."""
    rows = table.rows if limit <= 0 else table.rows[:limit]
    cells = [list(table.headers)] + [["" if v is None else str(v) for v in row] for row in rows]
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
