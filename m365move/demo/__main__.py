"""The README's demo: everything on this machine, on a generated estate and the embedded sandbox.

1. generate a demo estate;  2. preflight and plan both modes (read-only);
3. on a sandbox seeded from the estate: a dry run, then an executed New Subscription migration with the
   CLI (reseller 1000001), whose undo plan (sealed in WORKSPACE/runs/RUN_ID/) is then applied as a dry run;
4. the runbooks: preflight, Switch Plan (reseller 1000002) and New Subscription (reseller 1000003), each first
   as a dry run whose plan gives the confirmation count (the executed ones write their undo plan);
5. the Connect extension's New Subscription mode through the local event driver (when the estate has a
   Connect section);  6. the audit of everything above, rendered as HTML.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from m365move.cli import main as cli_main
from m365move.errors import M365MoveError

# The sandbox Partner Center app's credentials (the estate's partner_center.credentials); a real run sets its own.
PARTNER_CENTER_SANDBOX = {
    "PARTNER_CENTER_TENANT_ID": "00000000-0000-4000-8000-000000000001",
    "PARTNER_CENTER_CLIENT_ID": "sandbox",
    "PARTNER_CENTER_CLIENT_SECRET": "sandbox",
}
SANDBOX_CREDENTIALS = {
    "M365MOVE_COMMERCE_USER": "sandbox",
    "M365MOVE_COMMERCE_PASSWORD": "sandbox",
    "M365MOVE_COMMERCE_SUBSCRIPTION_KEY": "sandbox",
}


def _step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def _cli(*args: str) -> None:
    status = cli_main(list(args))
    if status != 0:
        raise SystemExit(f"demo: `m365move {' '.join(args)}` exited with {status}")


def _runbook(name: str, params: Mapping[str, object], folder: Path,
             env: Mapping[str, str] | None = None) -> dict[str, Any]:
    from m365move.runbooks.runner import run_runbook

    outcome = run_runbook(name, dict(params), folder, extra_env=SANDBOX_CREDENTIALS | dict(env or {}))
    if not outcome.ok:
        raise SystemExit(f"demo: runbook {name} failed: {outcome.failure}; see {outcome.run_dir}")
    print(f"  {name}: {outcome.run_dir / 'report.html'}")
    return outcome.result or {}


def run_demo(output_dir: Path, subscriptions: int) -> int:
    from m365move.sandbox.faults import Faults
    from m365move.sandbox.server import run_sandbox

    # Runbooks run inside their own run folder: every path handed to them must be absolute.
    output_dir = output_dir.resolve()
    if output_dir.exists():
        shutil.rmtree(output_dir)
    output_dir.mkdir(parents=True)
    os.environ.update(SANDBOX_CREDENTIALS)  # the sandbox's own credentials; a real run sets its own
    estate = output_dir / "estate.json"  # JSON: a large estate loads several times faster than YAML
    workspace = output_dir / "work"

    _step(f"1. Generate a demo estate of {subscriptions} subscriptions")
    # --partner-center: each Commerce subscription names its Microsoft subscription, and the sandbox's Partner Center
    # holds Microsoft-led migrations (Completed, Processing, Failed) of a few of them.
    _cli("estate", "generate", "--subscriptions", str(subscriptions), "--seed", "7", "--partner-center",
         "--output", str(estate))

    for mode in ("new-subscription", "switch-plan"):
        _step(f"2. Preflight and plan, {mode} mode (read-only)")
        _cli("plan", "--mode", mode, "--estate", str(estate))
        _cli("plan", "--mode", mode, "--estate", str(estate), "--format", "json",
             "--output", str(output_dir / f"plan-{mode}.json"))

    with run_sandbox(estate, Faults(order_processing_seconds=0.3)) as sandbox:
        print(f"\nsandbox (Commerce SimpleAPI, Connect, Partner Center, Graph) at {sandbox.url}")
        common = ["--estate", str(estate), "--commerce-url", sandbox.url, "--workspace", str(workspace),
                  "--poll-interval", "0.2", "--rate-limit", "0"]
        _step("3. New Subscription migration with the CLI, reseller 1000001: a reviewed plan (Partner Center asked "
              "first: what Microsoft already migrated is reconciled, never ordered), its dry run, then applied")
        partner_center = ["--partner-center-url", f"{sandbox.url}/partnercenter",
                          "--token-url", f"{sandbox.url}/partnercenter/oauth2/token"]
        reviewed = output_dir / "plan-reseller-1000001.json"
        os.environ.update(PARTNER_CENTER_SANDBOX)
        try:
            _cli("plan", "--mode", "new-subscription", "--reseller", "1000001", "--estate", str(estate),
                 "--output", str(reviewed), *partner_center)
            applying = ["--plan", str(reviewed), *common[2:]]
            _cli("migrate", *applying)
            _cli("migrate", *applying, "--execute", *partner_center)
            # The executed run's undo plan: each new subscription still inside Partner Center's
            # cancellationAllowedUntilDate, sealed with the run's folder; applied here as a dry run only.
            (run_folder,) = (workspace / "runs").iterdir()
            shutil.copyfile(run_folder / "undo-plan.json", output_dir / "undo-plan.json")
            _cli("audit", "verify", str(run_folder), "--allow-unsigned")
            _cli("undo", str(run_folder), "--commerce-url", sandbox.url, *partner_center)
            _cli("reconcile", "--estate", str(estate), "--format", "csv", "--output",
                 str(output_dir / "reconciliation.csv"), *partner_center)
        finally:
            for name in PARTNER_CENTER_SANDBOX:
                os.environ.pop(name, None)

        _step("4. Runbooks (rendered reports for reviewers)")
        runs = output_dir / "runbooks"
        _runbook("preflight", {"estate": str(estate), "mode": "switch-plan"}, runs / "preflight")
        for name, reseller in (("switch_plan_migration", "1000002"), ("new_subscription_migration", "1000003")):
            params = {"estate": str(estate), "commerce_url": sandbox.url, "reseller": reseller,
                      "workspace": str(workspace.resolve()), "poll_interval": 0.2, "rate_limit": 0.0,
                      "partner_center_url": f"{sandbox.url}/partnercenter",
                      "partner_center_login_url": f"{sandbox.url}/partnercenter/oauth2/token"}
            # Partner Center's app (environment only, never a parameter): asked before planning, in the dry run as in
            # the executed one (so both count the same subscriptions), and for the undo plan's windows.
            dry = _runbook(name, params, runs / f"{name}-dry-run", env=PARTNER_CENTER_SANDBOX)
            result = _runbook(name, params | {"execute": True, "confirm": int(dry["to_migrate"])}, runs / name,
                              env=PARTNER_CENTER_SANDBOX)
            print(f"    {name}: {result.get('final_status')}")

        connect_section = _connect_demo(estate, output_dir)

        _step("6. Audit of everything above")

        report = render_audit(workspace / "journal.sqlite", sandbox.url, output_dir / "audit")
        print(f"  audit report: {report}")
    _step("Done")
    print(f"Everything is in {output_dir}/ (results CSVs in {workspace / 'results'}/){connect_section}")
    return 0


def _connect_demo(estate: Path, output_dir: Path) -> str:
    """The extension under connect-extension-runner's own task managers. The runner is a dev requirement of the
    project (one environment holds both: the runner's pins are the project's); without it the step is skipped."""
    _step("5. Connect extension: New Subscription mode through connect-extension-runner's task managers")
    output = output_dir / "connect"
    if importlib.util.find_spec("connect.eaas.runner") is None:
        print("  skipped: connect-extension-runner is not installed here (`pip install -e .[dev]` installs it)")
        return ""
    from m365move.demo.connect_walkthrough import run_connect_demo

    summary = run_connect_demo(estate, output)
    first = summary.splitlines()[0] if summary else ""
    return f"; Connect: {first}" if first and len(first) < 200 else ""


def render_audit(journal_path: str | Path, commerce_url: str | None, output_dir: str | Path) -> Path:
    """Run the audit_report runbook on one journal (and Commerce, when a URL is given); the report.html path.

    Commerce credentials come from the environment, as for every runbook; ``output_dir`` must be empty or new.
    """
    from m365move.runbooks.runner import run_runbook

    params: dict[str, object] = {"journal": str(Path(journal_path).resolve())}
    if commerce_url:
        params["commerce_url"] = commerce_url
    outcome = run_runbook("audit_report", params, Path(output_dir))
    if not outcome.ok:
        raise M365MoveError(outcome.summary())
    return outcome.report


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", type=Path, default=Path("demo-output"))
    parser.add_argument("--subscriptions", type=int, default=200)
    args = parser.parse_args()
    return run_demo(args.output_dir, args.subscriptions)


if __name__ == "__main__":
    sys.exit(main())
