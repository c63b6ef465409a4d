"""Benchmark: what the undo plan costs after an executed run, with Partner Center's windows.

On a generated estate with its Partner Center side (default 1,000 subscriptions, ``estate generate
--partner-center``), a New Subscription ``migrate --execute`` runs against a sandbox in this process; then the undo
plan of that run is made again and timed (``make_undo_plan``: the new subscriptions from the journal, one Commerce
listing per customer, one Partner Center read per new subscription, 8 at a time), with no client rate limit. The
baseline is the executed run itself.

Target (exit 1 when missed): undo plan ≤ 0.25 × the executed run (wall seconds), every window from Partner Center.

    .venv/bin/python benchmarks/undo_plan.py [--subscriptions 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 0.25
PARTNER_CENTER = {"PARTNER_CENTER_TENANT_ID": "00000000-0000-4000-8000-000000000001",
                  "PARTNER_CENTER_CLIENT_ID": "sandbox", "PARTNER_CENTER_CLIENT_SECRET": "sandbox"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=1000)
    args = parser.parse_args()
    from m365move.cli import main as cli
    from m365move.commerce.credentials import load_credentials
    from m365move.commerce.simpleapi_client import SimpleApiClient
    from m365move.domain.orders import MigrationMode
    from m365move.execution.journal import Journal
    from m365move.execution.undo_plan_files import make_undo_plan
    from m365move.partnercenter.cancellation_windows import window_reader
    from m365move.sandbox.faults import Faults
    from m365move.sandbox.server import run_sandbox

    os.environ.update({"M365MOVE_COMMERCE_USER": "sandbox", "M365MOVE_COMMERCE_PASSWORD": "sandbox",
                       "M365MOVE_COMMERCE_SUBSCRIPTION_KEY": "sandbox", **PARTNER_CENTER})
    with tempfile.TemporaryDirectory() as folder:
        estate, work = Path(folder) / "estate.json", Path(folder) / "work"
        with contextlib.redirect_stdout(io.StringIO()):
            cli(["estate", "generate", "--subscriptions", str(args.subscriptions), "--seed", "7", "--partner-center",
                 "--connect-assets", "0", "--output", str(estate)])
        with run_sandbox(estate, Faults(order_processing_seconds=0.05)) as sandbox:
            pc_url, token_url = f"{sandbox.url}/partnercenter", f"{sandbox.url}/partnercenter/oauth2/token"
            common = ["migrate", "--mode", "new-subscription", "--estate", str(estate), "--commerce-url", sandbox.url,
                      "--workspace", str(work), "--poll-interval", "0.05", "--rate-limit", "0", "--format", "json",
                      "--partner-center-url", pc_url, "--token-url", token_url]
            dry = _json(cli, common)
            started = time.perf_counter()
            done = _json(cli, [*common, "--execute", "--yes", str(dry["summary"].get("pending", 0))])
            run_seconds = time.perf_counter() - started
            journal = Journal(str(work / "journal.sqlite"))
            with SimpleApiClient(sandbox.url, load_credentials(), rate_limit_per_second=None) as client, \
                    window_reader(os.environ, pc_url, token_url) as read:
                started = time.perf_counter()
                plan = make_undo_plan(journal, done["run_id"], MigrationMode.NEW_SUBSCRIPTION, client, read)
                plan_seconds = time.perf_counter() - started
    from_partner_center = sum(1 for e in plan.entries if e.window_source == "partner-center")
    ratio = plan_seconds / run_seconds
    print(f"{args.subscriptions} subscriptions: migrate --execute {run_seconds:.1f} s; undo plan {plan_seconds:.2f} s "
          f"for {len(plan.entries)} new subscriptions ({from_partner_center} windows from Partner Center); "
          f"ratio {ratio:.2f} (target ≤ {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO and from_partner_center == len(plan.entries) > 0 else 1


def _json(cli: object, args: list[str]) -> dict[str, object]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
        cli(args)  # type: ignore[operator]
    out = buffer.getvalue()
    return json.loads(out[out.rindex('{\n "run_id"'):])  # type: ignore[no-any-return]


if __name__ == "__main__":
    raise SystemExit(main())
