"""``m365move runbook list | show NAME | run NAME … | render RUN_DIR | check``.

Exit codes of ``run``: 0 ok, 2 bad parameters (nothing started), 3 cell error, 4 timeout, 5 dead
kernel (see ``m365move/runbooks/outcome.py``). ``check`` exits 1 when it finds a problem. ``render`` of a
sealed folder exits 3, changing nothing, when the folder no longer matches its manifest.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from m365move.cli.option_types import finite_number, output_dir_path
from m365move.runbooks.catalog import find_runbook, list_runbooks, notebooks_dir
from m365move.runbooks.parameters import Parameter
from m365move.text.terminal_text import visible, visible_lines

EXIT_CHECK_FAILED = 1
EXIT_NOT_INTACT = 3  # as `audit verify`


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "runbook",
        help="list, inspect, run and check the papermill runbooks",
        description="Runbooks are the notebooks of notebooks/ (or --notebooks-dir, or $M365MOVE_NOTEBOOKS_DIR).",
    )
    parser.add_argument("--notebooks-dir", type=Path, help="where the runbooks are (default: notebooks/)")
    actions = parser.add_subparsers(dest="runbook_action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="name, mode, title and purpose of every runbook")
    listing.set_defaults(func=_list)

    show = actions.add_parser("show", help="a runbook's parameters and the confirmation it needs")
    show.add_argument("name", help="runbook name (`m365move runbook list`)")
    show.set_defaults(func=_show)

    run = actions.add_parser("run", help="validate parameters, execute the runbook, write its run folder")
    run.add_argument("name", help="runbook name (`m365move runbook list`)")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="a parameter value, read by its declared type (repeatable; overrides -f)",
    )
    run.add_argument("-f", "--parameters-file", type=Path, help="a YAML mapping of parameter values")
    run.add_argument("--output-dir", type=output_dir_path, help="the run folder (default: runs/<name>-<UTC timestamp>/)")
    run.add_argument(
        "--cell-timeout",
        type=finite_number(above=0, at_most=7 * 86400),
        default=3600.0,
        metavar="SECONDS",
        help="longest a single cell may run (default: %(default)s)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    run.set_defaults(func=_run)

    render = actions.add_parser("render", help="re-render a run folder's HTML report")
    render.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder written by `runbook run`")
    render.add_argument("--show-code", action="store_true", help="include the code (written to report-with-code.html)")
    render.set_defaults(func=_render)

    check = actions.add_parser("check", help="verify every runbook follows the conventions")
    check.set_defaults(func=_check)


def _list(args: argparse.Namespace) -> int:
    runbooks = list_runbooks(args.notebooks_dir)
    if not runbooks:
        print(f"no runbooks in {notebooks_dir(args.notebooks_dir)}")
        return 0
    width = max(len(runbook.name) for runbook in runbooks)
    for runbook in runbooks:
        print(visible(f"{runbook.name:<{width}}  {runbook.mode:<9}  {runbook.title}"))
        if runbook.purpose:
            print(visible(f"{'':<{width}}  {'':<9}  {runbook.purpose}"))
    return 0


def _show(args: argparse.Namespace) -> int:
    runbook = find_runbook(args.name, args.notebooks_dir)
    parameters = runbook.parameters_cell().parameters
    print(f"{runbook.name}: {runbook.title}")
    if runbook.purpose:
        print(runbook.purpose)
    print()
    print(f"mode: {runbook.mode}")
    if runbook.mutating:
        print(f"confirmation: {runbook.confirm or 'execute=true and confirm=… (not described by the runbook)'}")
        print("  without it the runbook changes nothing")
    print()
    print(visible_lines(_parameters_table(parameters)) if parameters else "no parameters")
    return 0


def _parameters_table(parameters: tuple[Parameter, ...]) -> str:
    rows = [("NAME", "TYPE", "DEFAULT", "HELP")]
    for parameter in parameters:
        default = "(required)" if parameter.required else repr(parameter.default)
        rows.append((parameter.name, str(parameter.type), default, parameter.help))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(
        f"{name:<{widths[0]}}  {kind:<{widths[1]}}  {default:<{widths[2]}}  {text}".rstrip()
        for name, kind, default, text in rows
    )


def _run(args: argparse.Namespace) -> int:
    from m365move.runbooks.runner import run_runbook  # papermill is slow to import; only `run` needs it

    def progress(step: object) -> None:
        print(step, file=sys.stderr, flush=True)

    outcome = run_runbook(
        args.name,
        {key: value for key, value in args.parameter},
        args.output_dir,
        params_file=args.parameters_file,
        notebooks_dir=args.notebooks_dir,
        cell_timeout=args.cell_timeout,
        progress=None if args.quiet else progress,
    )
    print(visible_lines(outcome.summary()), file=sys.stdout if outcome.ok else sys.stderr)
    return outcome.exit_code


def _render(args: argparse.Namespace) -> int:
    """Render again; a sealed folder is verified first and sealed again after (see ``bundle.reseal``)."""
    from m365move.bundle.reseal import NotIntact, change_and_reseal, is_sealed
    from m365move.runbooks.render import render_report

    if not is_sealed(args.run_dir):
        print(render_report(args.run_dir, show_code=args.show_code))
        return 0
    try:
        report, resealed = change_and_reseal(args.run_dir, lambda: render_report(args.run_dir, show_code=args.show_code),
                                             reason="runbook render")
    except NotIntact as refused:
        for problem in refused.verification.problems:
            print(visible(problem.line()), file=sys.stderr)
        print(f"{visible(str(args.run_dir))}: changed since it was sealed: not rendered (a re-render would seal over "
              "the change); `m365move audit verify` shows the same", file=sys.stderr)
        return EXIT_NOT_INTACT
    print(report)
    print(f"re-sealed: {resealed.seal.describe()} (supersedes {resealed.previous_hash})")
    return 0


def _check(args: argparse.Namespace) -> int:
    from m365move.runbooks.check import check_all

    folder = notebooks_dir(args.notebooks_dir)
    findings = check_all(folder)
    for finding in findings:
        print(visible(finding))
    count = len(list(folder.glob("*.ipynb")))
    if findings:
        print(f"{len(findings)} problem(s) in {count} runbook(s)", file=sys.stderr)
        return EXIT_CHECK_FAILED
    print(f"{count} runbook(s) checked: all good")
    return 0
