"""The ``m365move`` command. Each subcommand lives in its own module with a ``register`` function."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from m365move.errors import InputError, M365MoveError
from m365move.text.secret_redaction import redacted
from m365move.text.terminal_text import visible
from m365move.text.warning_summary import summarised

# Each module registers one top-level subcommand: ``register(subparsers) -> None`` and sets ``func``.
_COMMAND_MODULES = (
    "m365move.cli.plan_command",
    "m365move.cli.estate_command",
    "m365move.cli.catalog_command",
    "m365move.cli.migrate_command",
    "m365move.cli.runs_command",
    "m365move.cli.sandbox_command",
    "m365move.cli.runbook_command",
    "m365move.cli.call2teams_command",
    "m365move.cli.connect_command",
    "m365move.cli.audit_command",
    "m365move.cli.schedule_commands",
    "m365move.cli.reconcile_command",
    "m365move.cli.undo_command",
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what, which option, where to read more), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {visible(redacted(message))} (see {self.prog} --help)\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; given the ``command`` about to run, only the module named after it.

    Importing every command module costs about a second of CPU (the sandbox, SQLAlchemy, papermill):
    `m365move plan` should not pay it. Help and unknown commands get the whole parser.
    """
    module = f"m365move.cli.{command}_command"
    if command is not None and module in _COMMAND_MODULES:
        parser = _parser((module,))
        if command in _subcommands(parser):
            return parser
    return _parser(_COMMAND_MODULES)


def _parser(modules: Sequence[str]) -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="m365move",
        description="Safe, resumable Microsoft 365 migrations inside the CloudBlue ecosystem.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    parser.add_argument("--version", action=_VersionAction,
                        help="print the version (and the git commit when run from a checkout) and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> Sequence[str]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(actions[0].choices) if actions else []


class _VersionAction(argparse.Action):
    """``--version``; asks git for the commit only when used, not on every command."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        # Imported here: it reads the git commit through the bundle package (cryptography), which no other
        # command of this parser needs at start.
        from m365move.version_info import version_text

        print(f"m365move {version_text()}")
        parser.exit()


def _quiet_broken_pipe() -> int:
    """The reader went away (``m365move runs list | head``): no traceback, nothing more to write."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 failure, 2 bad input, others per command)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in arguments if not a.startswith("-")), None)
    args = build_parser(command).parse_args(arguments)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        with summarised():  # per-subscription warnings: the first few of each code, then a count per code
            return int(args.func(args) or 0)
    except InputError as error:
        print(f"m365move: error: {visible(redacted(error.one_line()))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except M365MoveError as error:
        print(f"m365move: error: {visible(redacted(str(error)))}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        print("m365move: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
