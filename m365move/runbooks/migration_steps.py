"""The steps the mutating migration runbooks share: resume, the confirmation gate, execution, results.

The gate is the runbook's own safety: orders are placed only when ``execute`` is true *and*
``confirm`` equals the number of subscriptions the run would migrate, counted exactly as the executor
will count them (the fresh plan's ``migrate`` decisions plus unfinished work the journal carries on).
A mistaken run (wrong count, a stale plan, a copy-pasted command) therefore places nothing.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection
from m365move.domain.subscription_plan import MigrationPlan
from m365move.domain.undo_plan import UndoPlan
from m365move.errors import InputError, JournalError
from m365move.execution.executor import ExecutionOptions
from m365move.execution.final_status import FINAL_STATUSES
from m365move.execution.journal import Journal
from m365move.execution.migration_run import RunReport, RunRequest, run_migration, unfinished_journal_work
from m365move.execution.results_file import read_results
from m365move.execution.resume import ResumeTarget, find_resume_target
from m365move.execution.run_progress import Progress
from m365move.execution.undo_plan_files import make_undo_plan, write_undo_plan
from m365move.partnercenter.cancellation_windows import window_reader
from m365move.rendering.report_tables import banner, key_value_table, show_html
from m365move.runbooks.partner_center_view import with_partner_center_view
from m365move.runbooks.plan_inputs import MigrationParameters, PlanInputs, load_inputs
from m365move.text.secret_redaction import redacted
from m365move.text.warning_summary import summarised

JOURNAL_ENV = "M365MOVE_JOURNAL_URL"  # a shared journal (PostgreSQL URL with its password): never a parameter
RESULT_HEADERS = ("subscription", "decision", "final status", "orders (kind:id:status)", "new subscriptions", "reasons",
                  "platform failure message")
UNFINISHED_STATUSES = ("pending", "partially-migrated", "failed")


class ConfirmationRefused(InputError):
    """``execute`` was asked for but ``confirm`` does not match what would be migrated: nothing was placed."""


@dataclass(frozen=True)
class PreparedRun:
    """What a run works on: its inputs, the parameters it journals, and the run it resumes (if any)."""

    inputs: PlanInputs
    parameters: dict[str, Any]
    resumed_from: str | None = None


def prepare_run(
    params: MigrationParameters, mode: MigrationMode, journal: Journal, client: SimpleApiClient | None
) -> PreparedRun:
    """A fresh run's inputs from the parameters; a resume's from the earlier run, narrowed to what it left unfinished.

    Either way Partner Center is asked about the selected sources now (when ``PARTNER_CENTER_*`` are set), so the plan
    never orders what Microsoft already migrated, also not on a resume of a run made before Microsoft did."""
    if not params.resume_from:
        recorded = params.recorded()
        return PreparedRun(_seen_by_partner_center(load_inputs(recorded, client), params), recorded)
    resume = resume_target(journal, params.resume_from, mode)
    # The earlier run's own files and filters, so a resume cannot quietly widen or change the run.
    recorded = resume.parameters | {"commerce_url": params.commerce_url, "resumed_from": resume.run_id}
    inputs = load_inputs(recorded, client)
    if resume.subscription_ids is not None:  # None: the run left no results, its whole selection again
        inputs = replace(inputs, selection=Selection(subscription_ids=resume.subscription_ids))
    return PreparedRun(_seen_by_partner_center(inputs, params), recorded, resume.run_id)


def _seen_by_partner_center(inputs: PlanInputs, params: MigrationParameters) -> PlanInputs:
    return with_partner_center_view(inputs, os.environ, params.partner_center_url, params.partner_center_login_url)


def journal_location(workspace: Path, environ: Mapping[str, str]) -> str:
    """``$M365MOVE_JOURNAL_URL`` when set (a shared journal), else ``WORKSPACE/journal.sqlite``."""
    return environ.get(JOURNAL_ENV) or str(workspace / "journal.sqlite")


def resume_target(journal: Journal, source: str, mode: MigrationMode) -> ResumeTarget:
    """The run named by a results file or a run id; InputError when it is another mode or the file was edited."""
    try:
        target = find_resume_target(journal, source)
    except JournalError:
        raise InputError(
            f"run {source} is not in the journal at {redacted(journal.url)}",
            where="resume_from", hint="give the workspace (or $M365MOVE_JOURNAL_URL) of the run being resumed",
        ) from None
    if target.mode is not mode:
        raise InputError(f"run {target.run_id} is a {target.mode.value} run; this runbook migrates in {mode.value} mode",
                         where="resume_from", hint=f"resume it with the {target.mode.value} runbook")
    return target


def subscriptions_to_migrate(plan: MigrationPlan, journal: Journal, selection: Selection) -> list[str]:
    """The sources an execution would work on: the plan's ``migrate`` ones plus unfinished journaled work.

    A Switch Plan source whose change order completed is on its NCE plan and no longer in a fresh plan,
    yet its add-on orders may be missing; the executor carries such work on, so the count includes it.
    """
    ids = [s.subscription_id for s in plan.migrating()]
    carried = unfinished_journal_work(journal, plan.mode, selection, exclude=frozenset(ids))
    return ids + sorted(carried)


def confirmation_refusal(execute: bool, confirm: int | None, to_migrate: int) -> str | None:
    """Why an execution must not go ahead, or None (a dry run always may: it places nothing)."""
    if not execute:
        return None
    if confirm is None:
        return f"execute=true needs confirm={to_migrate} (the number of subscriptions to migrate); nothing was placed."
    if confirm != to_migrate:
        return (f"confirm={confirm} but this run would migrate {to_migrate} subscription(s); nothing was placed. "
                f"Review the plan above, then run again with confirm={to_migrate}.")
    return None


def enforce_confirmation(execute: bool, confirm: int | None, to_migrate: int, result: Mapping[str, Any]) -> None:
    """Say plainly whether orders will be placed; on a mismatch record ``result`` as refused and raise."""
    from m365move.runbooks.result import record_result

    refusal = confirmation_refusal(execute, confirm, to_migrate)
    if refusal is not None:
        show_html(banner("Stopped: no orders were placed.", refusal, tone="bad"))
        record_result(dict(result) | {"executed": False, "refused": refusal})
        raise ConfirmationRefused(refusal)
    if execute:
        show_html(banner(f"Confirmed: placing the orders for {to_migrate} subscription(s).",
                         "execute=true and confirm matches the plan.", tone="warn"))
    else:
        show_html(banner("Dry run: nothing will be placed.",
                         f"To place the orders, run again with execute=true and confirm={to_migrate}.", tone="info"))


def execute_plan(
    inputs: PlanInputs,
    mode: MigrationMode,
    journal: Journal,
    client: SimpleApiClient | None,
    workspace: Path,
    *,
    execute: bool,
    options: ExecutionOptions,
    parameters: dict[str, Any],
    custom_order_params: bool = False,
) -> RunReport:
    """Journal the run, place and poll every order (when ``execute``) and write the results file."""
    request = RunRequest(
        mode=mode, estate=inputs.estate, plans_mapping=inputs.plans_mapping, selection=inputs.selection,
        execute=execute, parameters=parameters | {"execute": execute, "concurrency": options.concurrency},
        options=options, custom_order_params=custom_order_params,
    )
    # Progress goes to the cell's output (updated in place) and, relayed, to the terminal of `runbook run`.
    # Per-subscription warnings (migrated-in-other-mode, …): a few examples and a count per code, not one line each.
    with summarised():
        return run_migration(request, journal, client, workspace, progress=Progress(0), stop=threading.Event())


RESULTS_COPY = "results.csv"


def keep_in_run_folder(results_path: Path, run_dir: Path | None = None) -> Path:
    """Copy the results file into the run folder (the kernel's working folder) as ``results.csv``, so that the
    sealed folder holds it (its manifest lists it) even when the workspace is elsewhere or cleaned up."""
    target = (run_dir or Path.cwd()) / RESULTS_COPY
    shutil.copyfile(results_path, target)
    return target


def results_overview(report: RunReport, results_file: str, workspace: str) -> str:
    """HTML: a banner with the final statuses, and how to complete the run when something is unfinished."""
    counts = {status: n for status, n in status_counts(report.summary).items() if n}
    headline = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no subscriptions"
    left = unfinished_count(report.summary)
    if report.dry_run:
        tone, detail = "info", "Dry run: nothing was placed; 'pending' is what an execution would work on."
    elif report.interrupted or left:
        tone = "warn" if report.interrupted or not report.summary.get("failed") else "bad"
        detail = (f"{left} subscription(s) unfinished. To complete them, run this runbook again with "
                  f"resume_from={results_file} and workspace={workspace}, execute=true and the confirm it asks for.")
    else:
        tone, detail = "good", "Every subscription that could migrate has migrated."
    facts = {"run id": report.run_id, "results file": results_file, "journal workspace": workspace}
    return banner(f"Run {report.run_id}: {headline}", detail, tone=tone) + key_value_table(facts)


def result_rows(results_path: Path) -> list[tuple[str, ...]]:
    """The results file as table rows, the ones needing attention first."""
    order = {status: n for n, status in enumerate(("failed", "partially-migrated", "pending", "blocked",
                                                    "migrated", "skipped"))}
    rows = read_results(results_path).rows
    ordered = sorted(rows, key=lambda r: (order.get(r["final_status"], 9), r["subscription_id"]))
    return [
        (r["subscription_id"], r["decision"], r["final_status"], r["orders"].replace(";", "; "),
         r["new_subscription_ids"].replace(";", "; "), r["reasons"], r.get("failure_message") or "")
        for r in ordered
    ]


def status_counts(summary: Mapping[str, int]) -> dict[str, int]:
    """Every final status with its count (zeros included), in the results file's order of statuses."""
    return {status: int(summary.get(status, 0)) for status in FINAL_STATUSES}


def path_for_result(path: Path, run_dir: Path | None = None) -> str:
    """Relative to the run folder when inside it (the folder can move), else absolute."""
    base = (run_dir or Path.cwd()).resolve()
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(base))
    except ValueError:
        return str(absolute)


def unfinished_count(summary: Mapping[str, int]) -> int:
    return sum(int(summary.get(status, 0)) for status in UNFINISHED_STATUSES)


UNDO_HEADERS = ("cancellation window ends", "window from", "subscription", "source", "order", "what undoing does",
                "the legacy subscription")


def undo_plan_here(run: RunReport, journal: Journal, mode: MigrationMode, client: SimpleApiClient,
                   params: MigrationParameters, run_dir: Path | None = None) -> UndoPlan | None:
    """After an executed run: the undo plan (``undo-plan.json``, ``undo-plan.csv``) in the run folder, which the runner
    seals with the report; the windows from Partner Center when ``PARTNER_CENTER_*`` are set. None for a dry run."""
    if run.dry_run:
        return None
    with window_reader(os.environ, params.partner_center_url, params.partner_center_login_url) as read:
        plan = make_undo_plan(journal, run.run_id, mode, client, read)
    write_undo_plan(plan, run_dir or Path.cwd())
    return plan


def undo_overview(plan: UndoPlan | None) -> str:
    """HTML: what the undo plan holds and how to apply it (dry run first)."""
    if plan is None:
        return banner("No undo plan: a dry run created nothing.", "An executed run writes undo-plan.json here.",
                      tone="info")
    estimated = sum(1 for e in plan.entries if e.window_source == "estimate")
    detail = ("Each window is Partner Center's cancellationAllowedUntilDate." if not estimated else
              f"{estimated} window(s) are estimates (completion + 168 hours): Partner Center "
              f"{'could not say' if plan.partner_center_consulted else 'was not consulted (PARTNER_CENTER_* not set)'}.")
    return banner(f"Undo plan: {len(plan.entries)} new subscription(s) can still be cancelled",
                  f"{detail} To apply it: m365move undo undo-plan.json --commerce-url URL (a dry run; --execute "
                  "cancels, refusing any entry whose window has passed).", tone="warn" if plan.entries else "info")


def undo_rows(plan: UndoPlan | None) -> list[tuple[str, ...]]:
    """The undo plan as table rows, the window ending first on top."""
    if plan is None:
        return []
    return [(str(e.as_dict()["cancellationAllowedUntilDate"]), e.window_source, e.created.subscription_id,
             e.created.source_subscription_id, f"{e.created.order_kind}:{e.created.order_id}", e.undo_text(),
             e.legacy_text()) for e in plan.entries]
