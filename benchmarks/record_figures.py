"""Run one benchmark and write what it printed into docs/performance.md, so the page holds measured figures.

    .venv/bin/python benchmarks/record_figures.py plan_scale.py --sizes 1000 10000

The benchmark runs as it would by hand (its exit status is passed on); its standard output, the command, the
date, the commit and the load average before and after go into the block
``<!-- recorded:NAME -->`` … ``<!-- /recorded:NAME -->`` under the benchmark's own section of the page (the
block is added at the end of that section the first time). Nothing else on the page changes: the prose, the
targets and the history stay as they were written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"


def recorded_block(name: str, command: str, output: str, exit_status: int, when: dt.datetime, commit: str,
                   load_before: str, load_after: str) -> str:
    """The Markdown block that replaces the benchmark's previous recording."""
    return (f"<!-- recorded:{name} -->\n"
            f"Recorded {when:%Y-%m-%d %H:%M} UTC, commit {commit or 'unknown'}, load {load_before} → {load_after}, "
            f"exit {exit_status}:\n\n"
            f"    {command}\n\n"
            "```text\n" + output.rstrip("\n") + "\n```\n"
            f"<!-- /recorded:{name} -->\n")


def with_recording(page: str, name: str, block: str) -> str:
    """``page`` with ``block`` in place of the old recording of ``name``, or at the end of its ``## name`` section."""
    old = re.compile(rf"<!-- recorded:{re.escape(name)} -->\n.*?<!-- /recorded:{re.escape(name)} -->\n", re.S)
    if old.search(page):
        return old.sub(lambda _: block, page, count=1)
    heading = re.search(rf"^## {re.escape(name)}\n", page, flags=re.M)
    if heading is None:
        raise SystemExit(f"record_figures: docs/performance.md has no section '## {name}': add one (what it "
                         "measures, its target, its command) before recording it")
    following = re.search(r"^## ", page[heading.end():], flags=re.M)
    end = heading.end() + following.start() if following else len(page)
    before = page[:end].rstrip("\n") + "\n\n"
    return before + block + ("\n" + page[end:] if following else "")


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmark", help="a script in benchmarks/, e.g. plan_scale.py")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the benchmark's own options")
    parser.add_argument("--page", type=Path, default=PAGE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    script = Path(args.benchmark) if Path(args.benchmark).is_file() else ROOT / "benchmarks" / Path(args.benchmark).name
    if not script.is_file():
        parser.error(f"{args.benchmark}: no such benchmark in benchmarks/")
    load_before = _load()
    when = dt.datetime.now(dt.timezone.utc)
    finished = subprocess.run([sys.executable, str(script), *args.arguments], stdout=subprocess.PIPE, text=True)
    sys.stdout.write(finished.stdout)
    command = " ".join([".venv/bin/python", f"benchmarks/{script.name}", *args.arguments])
    block = recorded_block(script.name, command, finished.stdout, finished.returncode, when, _commit(),
                           load_before, _load())
    args.page.write_text(with_recording(args.page.read_text(encoding="utf-8"), script.name, block), encoding="utf-8")
    print(f"recorded in {args.page}", file=sys.stderr)
    return finished.returncode


if __name__ == "__main__":
    sys.exit(main())
