"""The runbook runner's own cost per run (validation, kernel start and stop, conversion, rendering) beside
the work the notebook itself does. Target: at most 3 s of overhead per run.

    python benchmarks/runbook_overhead.py [--runs 3]

Runs the test fixtures: ``demo_ok`` (almost no work) and ``demo_sleep`` with a 1 s sleep (known work).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from m365move.runbooks.runner import run_runbook  # noqa: E402

FIXTURES = ROOT / "tests" / "runbooks" / "fixtures"
PHASES = ["validate", "prepare", "kernel_start", "kernel_stop", "finalize", "render", "overhead", "cells", "total"]
TARGET_OVERHEAD = 3.0
CASES = [("demo_ok", {"subscription_id": "0012", "count": "3"}), ("demo_sleep", {"seconds": "1"})]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per runbook (the median is shown)")
    args = parser.parse_args()
    print(f"median of {args.runs} runs, seconds; 'cells' is the notebook's own work, 'overhead' = total - cells")
    print(f"{'runbook':<12}" + "".join(f"{phase:>13}" for phase in PHASES))
    worst = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for name, params in CASES:
            samples: dict[str, list[float]] = {phase: [] for phase in PHASES}
            for index in range(args.runs):
                outcome = run_runbook(name, params, Path(scratch) / f"{name}-{index}", notebooks_dir=FIXTURES)
                if not outcome.ok:
                    print(outcome.summary(), file=sys.stderr)
                    return 1
                for phase in PHASES:
                    samples[phase].append(outcome.timings[phase])
            medians = {phase: statistics.median(values) for phase, values in samples.items()}
            worst = max(worst, medians["overhead"])
            print(f"{name:<12}" + "".join(f"{medians[phase]:>13.3f}" for phase in PHASES))
    verdict = "within" if worst <= TARGET_OVERHEAD else "OVER"
    print(f"worst median overhead {worst:.2f}s: {verdict} the {TARGET_OVERHEAD:.0f} s target")
    return 0 if worst <= TARGET_OVERHEAD else 1


if __name__ == "__main__":
    sys.exit(main())
