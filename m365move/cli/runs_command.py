"""``m365move runs list|show RUN_ID``: what the journal knows about earlier runs (read-only)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from m365move.errors import InputError
from m365move.execution.journal import Journal
from m365move.files.workspace import DEFAULT_HELP, default_workspace
from m365move.text.secret_redaction import redacted
from m365move.text.terminal_text import visible

# What a run looks like in JSON and in the table (parameters only in `show`).
RUN_FIELDS = ("run_id", "mode", "dry_run", "status", "started_at", "finished_at", "user", "host", "summary",
              "results_path")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("runs", help="list or show runs recorded in the journal (read-only)")
    parser.add_argument("--workspace", default=default_workspace(), metavar="DIR",
                        help=f"workspace whose journal to read, shared by the CLI and the runbooks (default: {DEFAULT_HELP})")
    parser.add_argument("--journal", metavar="FILE|URL", help="journal location (default: WORKSPACE/journal.sqlite)")
    commands = parser.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    listing = commands.add_parser("list", help="one line per run, oldest first")
    _add_format(listing)
    listing.set_defaults(func=run_list)
    show = commands.add_parser("show", help="one run: parameters, summary, results file")
    show.add_argument("run_id", metavar="RUN_ID", help="a run id from `m365move runs list`")
    _add_format(show)
    show.set_defaults(func=run_show)


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="table for a person, json for scripts (default: %(default)s)")


def _journal(args: argparse.Namespace) -> Journal | None:
    """The journal, or None when its SQLite file does not exist: reading never creates one."""
    location = args.journal or str(Path(args.workspace) / "journal.sqlite")
    if "://" not in location and not Path(location).is_file():
        return None
    if "://" not in location and not _holds_runs(Path(location)):
        raise InputError("not an m365move journal (no runs table); `runs` reads a journal and never writes one",
                         where=location)
    return Journal(location)


def _holds_runs(path: Path) -> bool:
    """Whether a SQLite file has the journal's ``runs`` table, read without writing (an empty file has none)."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
    except sqlite3.Error:
        return False
    return found is not None


def _public(run: dict[str, Any], *, with_parameters: bool = False) -> dict[str, Any]:
    fields = RUN_FIELDS + (("parameters",) if with_parameters else ())
    result = {name: run.get(name) for name in fields}
    result["dry_run"] = bool(result["dry_run"])
    return result


def run_list(args: argparse.Namespace) -> int:
    journal = _journal(args)
    runs = journal.runs() if journal else []
    if args.format == "json":
        print(json.dumps({"runs": [_public(r) for r in runs]}, indent=1, default=str))
        return 0
    if not runs:
        where = redacted(args.journal or str(Path(args.workspace) / "journal.sqlite"))
        print(f"no runs in the journal ({where})" if journal else f"no journal at {where}: no runs yet")
        return 0
    print(f"{'RUN':<24} {'MODE':<16} {'KIND':<8} {'STATUS':<11} {'STARTED (UTC)':<19} {'BY':<24} SUBSCRIPTIONS")
    for run in runs:
        kind = "dry-run" if run["dry_run"] else "executed"
        counts = ", ".join(f"{n} {s}" for s, n in sorted(run["summary"].items())) or "-"
        started = str(run["started_at"] or "")[:19].replace("T", " ")
        by = f"{run['user']}@{run['host']}"
        print(visible(f"{run['run_id']:<24} {run['mode']:<16} {kind:<8} {run['status']:<11} {started:<19} {by:<24} "
                      f"{counts}"))
    return 0


def run_show(args: argparse.Namespace) -> int:
    journal = _journal(args)
    if journal is None:
        where = redacted(args.journal or str(Path(args.workspace) / "journal.sqlite"))
        raise InputError(f"no journal here, so no run {args.run_id}", where=where,
                         hint="give --workspace or --journal of the run")
    run = _public(journal.run(args.run_id), with_parameters=True)
    duplicates = journal.run(args.run_id)["duplicates"]
    if duplicates:  # only then: the document of every other run stays as it was
        run["duplicates"] = duplicates
    if args.format == "json":
        print(json.dumps(run, indent=1, default=str))
        return 0
    for name in RUN_FIELDS:
        value = run[name]
        if name == "summary":
            value = ", ".join(f"{n} {s}" for s, n in sorted(value.items())) or "-"
        print(visible(f"{name + ':':<14} {value if value is not None else '-'}"))
    print("parameters:")
    for name, value in run["parameters"].items():
        if value not in (None, [], ""):
            print(visible(f"  {name}: {value}"))
    if duplicates:
        print("orders the platform holds twice under one poNumber (cancel the younger before it completes):")
        for duplicate in duplicates:
            listed = ", ".join(f"{o['id']} (created {o['created']}, {o['status']})" for o in duplicate["orders"])
            print(visible(f"  {duplicate['subscription_id']}: {duplicate['po_number']}: {listed}; "
                          f"cancel {', '.join(duplicate['cancel'])}, keep {duplicate['keep']}"))
    failures = {sid: row for sid, row in journal.results(args.run_id).items() if row.get("failure_message")}
    if failures:
        print("why orders failed (the platform's message):")
        for subscription_id, row in sorted(failures.items()):
            print(visible(f"  {subscription_id} ({row['final_status']}): {row['failure_message']}"))
    return 0
