"""``m365move connect run-events | demo``: the Connect extension driven locally against the sandbox."""

from __future__ import annotations

import argparse
from pathlib import Path

from m365move.cli.option_types import finite_number, output_dir_path
from m365move.errors import InputError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("connect", help="the Connect extension (New Subscription mode) on the sandbox")
    commands = parser.add_subparsers(dest="connect_command", metavar="ACTION", required=True)
    run = commands.add_parser("run-events", help="start the sandbox on an estate and send the extension Connect's "
                                                 "tasks through connect-extension-runner's task managers until Connect "
                                                 "settles (needs connect-extension-runner: the dev extra)")
    run.add_argument("estate", type=Path, help="estate file with connect and partner_center sections")
    run.add_argument("--output", type=output_dir_path, default=Path("demo-output/connect"),
                     help="where the summary goes (default: %(default)s)")
    run.add_argument("--timeout", type=finite_number(above=0, at_most=7 * 86400), default=300.0,
                     help="real seconds before giving up (default 300)")
    run.set_defaults(func=_run_events)


def _run_events(args: argparse.Namespace) -> int:
    from m365move.demo.connect_walkthrough import run_connect_demo

    try:
        text = run_connect_demo(args.estate, args.output, timeout=args.timeout)
    except ImportError as missing:  # the tasks run through connect-extension-runner's code (the dev extra)
        raise InputError(f"connect run-events needs connect-extension-runner ({missing.name or missing}); install "
                         "the dev extra (`pip install -e .[dev]`; scripts/test and scripts/demo make .venv with it)",
                         where="environment") from None
    return 0 if "(settled)" in text.splitlines()[0] else 1
