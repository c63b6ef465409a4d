"""Benchmark: what refusing duplicate JSON keys costs when an estate is loaded (100,000 subscriptions, 70 MB).

Loads the same generated JSON estate with the check (as `m365move` does) and without it (the loader's call
replaced by a no-op), alternately, in one process, and compares their best CPU seconds: the ratio is the cost.
Also prints the check alone and, for comparison, the standard library's parser with a hook that sees every key
(the exact way the check replaces). Target: loading with the check ≤ 1.35× loading without it.

    .venv/bin/python benchmarks/duplicate_keys.py [--subscriptions 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_RATIO = 1.35


def cpu_seconds(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def stdlib_with_every_key(data: bytes) -> None:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(items)
        if len(found) != len(items):
            raise ValueError("a key twice")
        return found

    json.loads(data, object_pairs_hook=pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="loads of each kind; the best counts")
    args = parser.parse_args()

    from m365move.demo.estate_generator import EstateSize, generate_estate
    from m365move.estate import loader
    from m365move.files.json_duplicate_keys import find_duplicate_key, refuse_duplicate_keys
    from m365move.memory.cyclic_gc import cyclic_gc_paused

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "estate.json"
        path.write_text(json.dumps(generate_estate(EstateSize.for_subscriptions(args.subscriptions, 500, 2000), seed=42)))
        data = path.read_bytes()
        print(f"estate: {args.subscriptions:,} subscriptions, {len(data) / 1e6:.1f} MB of JSON; "
              f"load average {os.getloadavg()[0]:.1f}")

        def without_check() -> None:
            loader.refuse_duplicate_keys = lambda data, *, where: None  # type: ignore[assignment]
            try:
                loader.load_estate(path)
            finally:
                loader.refuse_duplicate_keys = refuse_duplicate_keys

        best_with = best_without = float("inf")
        for _ in range(args.runs):  # alternately, so that both see the same machine
            best_without = min(best_without, cpu_seconds(without_check))
            best_with = min(best_with, cpu_seconds(lambda: loader.load_estate(path)))
        check = min(cpu_seconds(lambda: find_duplicate_key(data)) for _ in range(args.runs))
        with cyclic_gc_paused():
            stdlib = cpu_seconds(lambda: stdlib_with_every_key(data))
    ratio = best_with / best_without
    print(f"loading without the check: {best_without:.2f} CPU s (best of {args.runs})")
    print(f"loading with the check:    {best_with:.2f} CPU s (best of {args.runs})")
    print(f"the check alone: {check:.2f} CPU s; the standard library's parser seeing every key: {stdlib:.2f} CPU s")
    verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
    print(f"ratio {ratio:.2f}x (target <= {TARGET_RATIO}x): {verdict}; load average {os.getloadavg()[0]:.1f}")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
