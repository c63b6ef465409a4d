"""``m365move runs list|show RUN_ID``: what the journal knows about earlier runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from m365move.execution.journal import Journal
from m365move.terminal_text import visible


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("runs", help="list or show runs recorded in the journal")
    parser.add_argument("--workspace", default="m365move-work", metavar="DIR")
    parser.add_argument("--journal", metavar="FILE|URL")
    commands = parser.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    commands.add_parser("list", help="one line per run").set_defaults(func=run_list)
    show = commands.add_parser("show", help="one run: parameters, summary, results file")
    show.add_argument("run_id")
    show.set_defaults(func=run_show)


def _journal(args: argparse.Namespace) -> Journal:
    return Journal(args.journal or str(Path(args.workspace) / "journal.sqlite"))


def run_list(args: argparse.Namespace) -> int:
    runs = _journal(args).runs()
    if not runs:
        print("no runs in the journal")
    for run in runs:
        kind = "dry-run" if run["dry_run"] else "executed"
        counts = ", ".join(f"{n} {s}" for s, n in sorted(run["summary"].items()))
        print(visible(f"{run['run_id']}  {run['mode']:16} {kind:8} {run['status']:11} {run['user']}@{run['host']}  {counts}"))
    return 0


def run_show(args: argparse.Namespace) -> int:
    print(json.dumps(_journal(args).run(args.run_id), indent=2, default=str))
    return 0
