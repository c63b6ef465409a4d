"""The README's demo: everything on this machine, on a generated estate and the embedded sandbox."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from m365move.cli import main as cli_main


def _step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run_demo(output_dir: Path, subscriptions: int) -> int:
    output_dir.mkdir(parents=True, exist_ok=True)
    estate = output_dir / "estate.yaml"
    _step(f"Generate a demo estate of {subscriptions} subscriptions")
    if cli_main(["estate", "generate", "--subscriptions", str(subscriptions), "--seed", "7",
                 "--output", str(estate)]) != 0:
        return 1
    for mode in ("new-subscription", "switch-plan"):
        _step(f"Preflight and plan, {mode} mode (read-only)")
        if cli_main(["plan", "--mode", mode, "--estate", str(estate)]) != 0:
            return 1
        target = output_dir / f"plan-{mode}.json"
        if cli_main(["plan", "--mode", mode, "--estate", str(estate), "--format", "json",
                     "--output", str(target)]) != 0:
            return 1
    _step("Done")
    print(f"Demo files are in {output_dir}/")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    parser.add_argument("--output-dir", type=Path, default=Path("demo-output"))
    parser.add_argument("--subscriptions", type=int, default=200)
    args = parser.parse_args()
    return run_demo(args.output_dir, args.subscriptions)


if __name__ == "__main__":
    sys.exit(main())
