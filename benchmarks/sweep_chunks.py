"""The scheduled sweep in chunks against one pass (issue 12 item 5, issue 27): per-chunk time, chunks, same purchases.

The sweep runs as scheduled executions through connect-extension-runner's own ScheduledTasksManager; each
execution works through chunks (storing the position on the schedule in the sandbox's Connect after each) within
its time budget; the baseline is the same sweep in one call on a second sandbox with the same estate. A chunk's
time is read from the extension's per-chunk log lines. Needs the runner, which .venv has
(``scripts/test`` makes it)::

    .venv/bin/python benchmarks/sweep_chunks.py                    # 10,000 CSP assets, default chunks
    .venv/bin/python benchmarks/sweep_chunks.py --assets 2000 --chunk-size 100

Exits 1 when a chunk ran longer than ``--max-chunk-seconds`` (60) or the chunks' purchase requests differ from
the one pass's (compared by everything the sweep decides, duplicates included).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from m365move.connect.sweep import SweepParameters  # noqa: E402
from tests.runner.chunked_sweep import chunked_pass, one_pass_report, request_signatures  # noqa: E402
from tests.runner.conftest import runner_rig  # noqa: E402


class _AssetOutcomes(logging.Handler):
    """Keeps the extension's ``asset <id>: <status>: <reasons>`` lines, by asset, and when each chunk ended."""

    def __init__(self, into: dict[str, str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into
        self.chunk_ends: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "asset %s: %s: %s":
            asset, status, reasons = record.args  # type: ignore[misc]
            self.into[str(asset)] = f"{status} {reasons}".strip()
        elif str(record.msg).startswith("New Subscription sweep: chunk %d"):
            self.chunk_ends.append(record.created)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--chunk-size", type=int, default=SweepParameters().chunk_size)
    parser.add_argument("--batch-size", type=int, default=SweepParameters().batch_size)
    parser.add_argument("--max-chunk-seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    parameter = {"chunk_size": args.chunk_size, "batch_size": args.batch_size}

    with runner_rig(args.assets, seed=args.seed) as rig:
        one_pass_seconds, report = one_pass_report(rig, parameter)
        expected = request_signatures(rig.connect)
    one_pass_outcomes = report.by_asset()
    print(f"[one pass] {args.assets} CSP assets in one call: {one_pass_seconds:.1f} s, "
          f"{sum(expected.values())} purchase requests", flush=True)

    # What each chunk decided per asset (the extension logs it at debug level on the runner's events logger).
    chunk_outcomes: dict[str, str] = {}
    events_logger = logging.getLogger("eaas.eventsapp")
    events_logger.setLevel(logging.DEBUG)
    outcomes_handler = _AssetOutcomes(chunk_outcomes)
    events_logger.addHandler(outcomes_handler)
    events_logger.propagate = False  # its debug lines are kept, not printed; its errors are printed
    printed = logging.StreamHandler()
    printed.setLevel(logging.ERROR)
    events_logger.addHandler(printed)
    with runner_rig(args.assets, seed=args.seed) as rig:
        start_wall, start = time.time(), time.perf_counter()
        made = chunked_pass(rig, parameter)
        chunked_seconds = time.perf_counter() - start
        got = request_signatures(rig.connect)
        cancels = sum(request_signatures(rig.connect, "cancel").values())
    ends = [start_wall, *outcomes_handler.chunk_ends]
    chunk_seconds = [b - a for a, b in zip(ends, ends[1:], strict=False)] or [chunked_seconds]
    longest = max(chunk_seconds)
    print(f"[chunks] {len(chunk_seconds)} chunks of up to {args.chunk_size} assets in {made.chunks} scheduled "
          f"execution(s): longest {longest:.1f} s, "
          f"mean {statistics.mean(chunk_seconds):.1f} s, median {statistics.median(chunk_seconds):.1f} s, "
          f"whole pass {chunked_seconds:.1f} s (one pass {one_pass_seconds:.1f} s, ratio "
          f"{chunked_seconds / one_pass_seconds:.2f}); results {sorted(set(made.results))}")
    missing, extra = expected - got, got - expected
    # A create that failed (outcome ``error``, retried by the next pass) shows as a missing purchase: say so apart.
    chunk_counts = Counter(line.split(" ", 1)[0] for line in chunk_outcomes.values())
    print(f"[outcomes] one pass {report.counts()}; chunks {dict(sorted(chunk_counts.items()))}")
    print(f"[purchases] one pass {sum(expected.values())}, chunks {sum(got.values())}, "
          f"only in the one pass {sum(missing.values())}, only in the chunks {sum(extra.values())}, "
          f"cancel requests {cancels}")
    for label, signatures in (("only in the one pass", missing), ("only in the chunks", extra)):
        for signature, count in sorted(signatures.items())[:20]:
            fields = json.loads(signature)
            outcome = one_pass_outcomes.get(str(fields["external_id"]))
            print(f"  {label} ×{count}: asset {fields['external_id']} items {fields['items']} "
                  f"product {fields['product']}; one pass said "
                  f"{(outcome.status.value, outcome.reasons) if outcome else 'nothing'}; "
                  f"chunks have {chunk_outcomes.get(str(fields['external_id']), 'no log line')}")
    failed = False
    if longest > args.max_chunk_seconds:
        print(f"MISSED: a chunk ran {longest:.1f} s, above the {args.max_chunk_seconds:g} s target")
        failed = True
    if got != expected:
        print("MISSED: the chunks' purchase requests differ from the one pass's")
        failed = True
    if set(made.results) != {"success"}:
        print(f"MISSED: not every chunk succeeded: {made.messages}")
        failed = True
    print("met: every chunk within the target, the same purchases as one pass" if not failed else "")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
