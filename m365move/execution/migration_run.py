"""One run of ``m365move migrate`` or ``resume``: plan, journal the intents, execute, write the results."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.estate import Estate
from m365move.domain.licenses import PlansMapping
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection, plan_migration
from m365move.domain.reasons import Decision, Reason, ReasonCode
from m365move.domain.subscription_plan import MigrationPlan, SubscriptionPlan
from m365move.errors import JournalError, PlatformError
from m365move.execution.cross_mode import other_mode_blocks
from m365move.execution.duplicate_orders import DUPLICATE_CODE, DuplicateOrders, by_subscription, find_duplicate_orders
from m365move.execution.executor import ExecutionOptions, MigrationExecutor
from m365move.execution.final_status import final_status
from m365move.execution.intents import Intent, intents_for
from m365move.execution.journal import Journal
from m365move.execution.plan_drift import PlanDriftCheck, SourceState
from m365move.execution.platform_orders import read_platform_orders
from m365move.execution.results_context import context_columns
from m365move.execution.results_file import write_results
from m365move.execution.run_progress import Progress
from m365move.execution.subscription_work import SubscriptionWork

log = logging.getLogger(__name__)

# The peer script's --custom-order-params carries these custom attributes of the source onto new orders.
CUSTOM_ORDER_ATTRIBUTES = ("ResellerType", "Margin")


@dataclass(frozen=True)
class RunRequest:
    mode: MigrationMode
    estate: Estate
    plans_mapping: PlansMapping
    selection: Selection
    execute: bool
    parameters: dict[str, Any]
    options: ExecutionOptions = ExecutionOptions()
    custom_order_params: bool = False
    # migrate --plan: the reviewed plan applied as it is (no planning), and each source as it saw it (plan_drift).
    reviewed: MigrationPlan | None = None
    reviewed_sources: Mapping[str, SourceState] | None = None
    # An execution without a reviewed plan: called with the plan's "migrate" count before anything is read from
    # the platform's orders, journaled or placed; it raises to refuse (the CLI's count confirmation).
    confirm: Callable[[int], None] | None = None


# Subscriptions whose intents are journaled in one transaction.
_RECORD_CHUNK = 500
# Subscriptions whose results are built, written and recorded at a time.
_RESULTS_CHUNK = 2000

# Blocked by what the platform or the journal showed while running (not by the estate): these, like failed and
# partially-migrated subscriptions, make an executed run end with exit status 6.
PLATFORM_BLOCK_CODES = frozenset({ReasonCode.SEAT_COUNT_CHANGED, ReasonCode.MIGRATED_IN_OTHER_MODE,
                                  ReasonCode.CHANGED_SINCE_PLAN})
# What Partner Center's view says of a source (read when the run starts, `resume` included): Microsoft (or another
# partner) migrated it, or is migrating it. An earlier run's unfinished orders for such a source are not carried on.
PARTNER_CENTER_HOLD_CODES = frozenset({ReasonCode.MIGRATED_BY_MICROSOFT, ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS})


@dataclass(frozen=True)
class RunReport:
    run_id: str
    results_path: Path
    summary: dict[str, int]
    interrupted: bool
    dry_run: bool
    # Sources that failed, partially migrated or were blocked by the platform (what exit status 6 reports).
    needs_attention: tuple[str, ...] = ()
    # Keys the platform holds twice after the run (each names its orders and the younger to cancel).
    duplicates: tuple[DuplicateOrders, ...] = ()


def run_migration(
    request: RunRequest,
    journal: Journal,
    client: SimpleApiClient | None,
    workspace: Path,
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> RunReport:
    """Plan, then (with ``execute``) place and poll every order; always journal the run and write results."""
    already = journal.fully_migrated(request.mode)
    if request.reviewed is not None:
        plan = already_migrated(request.reviewed, already)
    else:
        plan = plan_migration(request.estate, request.mode, plans_mapping=request.plans_mapping,
                              selection=request.selection, already_migrated=already)
    if request.execute and request.confirm is not None:
        # The plan's "migrate" count as `m365move plan` shows it on the same inputs (the journal aside).
        request.confirm(sum(1 for s in plan.subscriptions if s.decision is Decision.MIGRATE or _already_migrated(s)))
    # One read of m365move's orders on the platform for the run's customers (before anything is journaled):
    # the other mode's keys block a source, this mode's keys are adopted by the executor instead of placed.
    held = held_by_partner_center(plan)
    platform = read_platform_orders(client, _customers(request, journal, plan.migrating(), held)) if client else None
    plan = _block_other_mode(plan, other_mode_blocks(request.mode, plan.migrating(), journal, platform))
    run_id = journal.start_run(request.mode, not request.execute, request.parameters)
    works: list[SubscriptionWork] = []
    duplicates: list[DuplicateOrders] = []
    interrupted = False
    journal_failure: JournalError | None = None
    try:
        try:
            if request.execute:
                if client is None:
                    raise ValueError("executing needs a Commerce client")
                works = _works(request, journal, run_id, plan.migrating(), held)
                progress = progress or Progress(len(works))
                progress.total = len(works)
                check = (PlanDriftCheck(client, journal, request.reviewed_sources)
                         if request.reviewed_sources is not None else None)
                executor = MigrationExecutor(client, journal, run_id, request.options, progress=progress, stop=stop,
                                             platform=platform, before_placing=check)
                executor.execute(works)
                interrupted = executor.interrupted
                progress.done()
                duplicates = _duplicates(client, works)
                if duplicates:
                    journal.record_duplicates(run_id, [d.as_json() for d in duplicates])
        except JournalError as error:
            # A full disk, a lost database: one clear error; what was committed stays, resume carries it on.
            journal_failure, interrupted = error, True
        except KeyboardInterrupt:
            # A second Ctrl+C, or one inside a runbook kernel: the run is recorded as interrupted, not finished.
            interrupted = True
            raise
    finally:
        # Also on a second Ctrl+C: the results say what the journal knows.
        results_path, summary, attention = _record_outcome(request, journal, run_id, plan, works, workspace,
                                                           interrupted, journal_failure, duplicates,
                                                           _left_unfinished(journal, request, held))
    if journal_failure is not None:
        raise JournalError(f"run {run_id} interrupted: {journal_failure}; once fixed: "
                           f"`m365move resume {run_id} --execute`") from journal_failure
    return RunReport(run_id, results_path, summary, interrupted, not request.execute, attention, tuple(duplicates))


def _duplicates(client: SimpleApiClient, works: list[SubscriptionWork]) -> list[DuplicateOrders]:
    """The run's keys held twice by the platform (read once more after placing); logged loudly."""
    try:
        found = find_duplicate_orders(client, (i for w in works for i in w.intents))
    except PlatformError as error:
        log.warning("could not list the orders by key after the run (duplicates unchecked): %s", error)
        return []
    for duplicate in found:
        log.error("subscription %s: %s", duplicate.subscription_id, duplicate.message())
    return found


def _record_outcome(
    request: RunRequest, journal: Journal, run_id: str, plan: MigrationPlan, works: list[SubscriptionWork],
    workspace: Path, interrupted: bool, journal_failure: JournalError | None,
    duplicates: list[DuplicateOrders] | None = None, held: frozenset[str] = frozenset(),
) -> tuple[Path, dict[str, int], tuple[str, ...]]:
    """Write the results file and the run's end in the journal; a journal or disk refusing that is one error.
    Returns the file, the count per final status and the subscriptions that need attention."""
    plans_by_id = {s.subscription_id: s for s in plan.subscriptions}
    twice = by_subscription(duplicates or ())
    results_path = workspace / "results" / f"{run_id}.csv"
    summary: Counter[str] = Counter()
    attention: list[str] = []
    try:
        intents_by_sub = {w.subscription_id: w.intents for w in works}
        done_before = frozenset(s.subscription_id for s in plan.subscriptions if _already_migrated(s))
        # What the journal holds is the truth (a worker may have died mid-way).
        from_journal = request.execute or bool(done_before)
        source_plans = {s.id: s.plan_id for s in request.estate.subscriptions}
        ids = _ordered_ids(plan.subscriptions, intents_by_sub)

        def rows() -> Iterator[dict[str, str]]:
            # Chunk by chunk (read, write, record, drop): a 100k run never holds every row or intent twice.
            for start in range(0, len(ids), _RESULTS_CHUNK):
                chunk = ids[start:start + _RESULTS_CHUNK]
                wanted = [s for s in chunk if s in intents_by_sub or s in done_before] if from_journal else []
                journaled = _group(journal.intents_of(wanted, request.mode)) if wanted else {}
                batch = []
                for sub_id in chunk:
                    intents = journaled.get(sub_id, intents_by_sub.get(sub_id, []))
                    row = _row(run_id, request.mode, plans_by_id.get(sub_id), sub_id, intents)
                    if sub_id in twice:
                        row["reasons"] = " | ".join([*filter(None, [row["reasons"]]),
                                                     *(d.message() for d in twice[sub_id])])
                    if sub_id in held:
                        row["reasons"] = " | ".join([*filter(None, [row["reasons"]]), HELD_MESSAGE])
                    batch.append(row | context_columns(request.estate, plans_by_id.get(sub_id), intents, source_plans))
                journal.record_results(run_id, batch)
                for row in batch:
                    summary[row["final_status"]] += 1
                    if needs_attention(row) or row["subscription_id"] in held:
                        attention.append(row["subscription_id"])
                yield from batch

        write_results(results_path, rows())
        journal.finish_run(run_id, "interrupted" if interrupted else "finished", dict(summary), str(results_path))
    except (JournalError, OSError) as error:
        # Even the results cannot be kept: leave the run marked interrupted if the journal still takes that
        # much (otherwise the next run finds its process gone and marks it).
        with contextlib.suppress(JournalError):
            journal.finish_run(run_id, "interrupted", {}, None)
        cause = journal_failure or error
        raise JournalError(f"run {run_id} interrupted: {cause}; once fixed: "
                           f"`m365move resume {run_id} --execute`") from cause
    return results_path, dict(summary), tuple(attention)


def needs_attention(row: Mapping[str, str]) -> bool:
    """Failed, partially migrated, blocked by the platform (its reasons start with such a code), or one of its keys
    is held twice by the platform."""
    if row["final_status"] in ("failed", "partially-migrated"):
        return True
    codes = {reason.split(":", 1)[0].strip() for reason in row["reasons"].split(" | ")}
    if DUPLICATE_CODE in codes:
        return True
    return row["final_status"] == "blocked" and bool(codes & {c.value for c in PLATFORM_BLOCK_CODES})


def already_migrated(plan: MigrationPlan, done: frozenset[str]) -> MigrationPlan:
    """A reviewed plan with the sources the journal shows fully migrated since turned to already-migrated skips."""
    if not done:
        return plan
    reason = Reason(ReasonCode.ALREADY_MIGRATED, "the journal shows every order of this subscription completed")
    return replace(plan, subscriptions=tuple(
        replace(s, decision=Decision.SKIP, reasons=(reason,), orders=())
        if s.subscription_id in done and s.decision is Decision.MIGRATE else s for s in plan.subscriptions))


def _block_other_mode(plan: MigrationPlan, blocks: Mapping[str, Reason]) -> MigrationPlan:
    if not blocks:
        return plan
    return replace(plan, subscriptions=tuple(
        replace(s, decision=Decision.BLOCKED, reasons=(blocks[s.subscription_id],), orders=())
        if s.subscription_id in blocks else s for s in plan.subscriptions))


def _works(request: RunRequest, journal: Journal, run_id: str, migrating: tuple[SubscriptionPlan, ...],
           held: frozenset[str] = frozenset()) -> list[SubscriptionWork]:
    subscriptions = {s.id: s for s in request.estate.subscriptions}
    works: list[SubscriptionWork] = []
    for start in range(0, len(migrating), _RECORD_CHUNK):
        chunk = migrating[start:start + _RECORD_CHUNK]
        fresh: list[list[Intent]] = []
        for sub_plan in chunk:
            attributes: dict[str, str] = {}
            if request.custom_order_params:
                source = subscriptions[sub_plan.subscription_id].custom_attributes
                attributes = {k: source[k] for k in CUSTOM_ORDER_ATTRIBUTES if k in source}
            fresh.append(intents_for(request.mode, sub_plan, attributes))
        # One transaction per chunk: nothing has been sent yet, so a crash here only leaves intents "planned".
        recorded = iter(journal.record_intents(run_id, [i for intents in fresh for i in intents]))
        for sub_plan, intents in zip(chunk, fresh, strict=True):
            works.append(SubscriptionWork(sub_plan.subscription_id, sub_plan.customer_id,
                                          [next(recorded) for _ in intents]))
    planned = frozenset(w.subscription_id for w in works)
    for sub_id, intents in unfinished_journal_work(journal, request.mode, request.selection, planned | held).items():
        works.append(SubscriptionWork(sub_id, intents[0].customer_id, intents))
    for work in works:
        work.intents = [_retried(journal, i, run_id) if i.failed else i for i in work.intents]
    return works


def _retried(journal: Journal, intent: Intent, run_id: str) -> Intent:
    """The failed intent under its next attempt; if another worker changed it since it was read (took the retry up
    itself, or placed it), the journal's version: never a reset of someone else's attempt."""
    retried = journal.retry(intent, run_id)
    if retried is not None:
        return retried
    return journal.intent(intent.key) or intent


def held_by_partner_center(plan: MigrationPlan) -> frozenset[str]:
    """Sources the plan does not migrate because Partner Center shows them migrated or migrating: whatever an earlier
    run left unfinished for them is not carried on (ordering now would buy a second new-commerce subscription)."""
    return frozenset(s.subscription_id for s in plan.subscriptions if s.decision is not Decision.MIGRATE
                     and any(r.code in PARTNER_CENTER_HOLD_CODES for r in s.reasons))


HELD_MESSAGE = ("an earlier run's unfinished orders for this subscription are not carried on: Partner Center shows it "
                "migrated or migrating (what that run created is in its undo plan, WORKSPACE/runs/RUN_ID/; "
                "`m365move reconcile` for the rest)")


def _left_unfinished(journal: Journal, request: RunRequest, held: frozenset[str]) -> frozenset[str]:
    """The held sources that do have unfinished journaled work (the ones the results must name)."""
    if not held:
        return frozenset()
    return frozenset(unfinished_journal_work(journal, request.mode, replace(request.selection,
                                                                             subscription_ids=held)))


def _customers(request: RunRequest, journal: Journal, migrating: tuple[SubscriptionPlan, ...],
               held: frozenset[str] = frozenset()) -> set[str]:
    """The customers whose orders a run may place: of the planned sources and of unfinished journaled work."""
    planned = frozenset(p.subscription_id for p in migrating)
    unfinished = unfinished_journal_work(journal, request.mode, request.selection, planned | held)
    return {p.customer_id for p in migrating} | {intents[0].customer_id for intents in unfinished.values()}


def unfinished_journal_work(
    journal: Journal, mode: MigrationMode, selection: Selection, exclude: frozenset[str] = frozenset()
) -> dict[str, list[Intent]]:
    """Sources started earlier whose orders are not all completed, within the selection: a run carries them on
    even when a fresh plan no longer says "migrate" (a Switch Plan source is on its NCE plan once its change
    order completed)."""
    candidates = journal.unfinished_subscriptions(mode) - exclude
    if selection.subscription_ids is not None:
        candidates &= set(selection.subscription_ids)
    ordered = sorted(candidates)
    found: dict[str, list[Intent]] = {}
    for start in range(0, len(ordered), _RECORD_CHUNK):  # bounded IN lists
        for sub_id, intents in _group(journal.intents_of(ordered[start:start + _RECORD_CHUNK], mode)).items():
            if _selected(selection, intents[0]):
                found[sub_id] = intents
    return found


def _selected(selection: Selection, intent: Intent) -> bool:
    return (
        (selection.subscription_ids is None or intent.subscription_id in selection.subscription_ids)
        and (selection.reseller_ids is None or intent.reseller_id in selection.reseller_ids)
        and (selection.customer_ids is None or intent.customer_id in selection.customer_ids)
    )


def _group(intents: list[Intent]) -> dict[str, list[Intent]]:
    grouped: defaultdict[str, list[Intent]] = defaultdict(list)
    for intent in intents:
        grouped[intent.subscription_id].append(intent)
    return {k: sorted(v, key=lambda i: i.seq) for k, v in grouped.items()}


def _ordered_ids(plans: tuple[SubscriptionPlan, ...], intents: Mapping[str, list[Intent]]) -> list[str]:
    ids = [s.subscription_id for s in plans]
    seen = set(ids)
    return ids + [s for s in intents if s not in seen]


def _already_migrated(plan: SubscriptionPlan) -> bool:
    return any(r.code is ReasonCode.ALREADY_MIGRATED for r in plan.reasons)


def _row(run_id: str, mode: MigrationMode, plan: SubscriptionPlan | None, sub_id: str, intents: list[Intent]) -> dict[str, str]:
    done_before = plan is not None and _already_migrated(plan)
    decision = Decision.MIGRATE if plan is None or (intents and not done_before) else plan.decision
    reasons = plan.reasons if plan is not None and decision is not Decision.MIGRATE else ()
    held = [i.hold_reason for i in intents if i.hold_reason and not i.completed]
    if held:
        # Blocked by the platform while running: the cancellation waits for the seats to match.
        decision = Decision.BLOCKED
    return {
        "run_id": run_id,
        "subscription_id": sub_id,
        "mode": mode.value,
        "decision": decision.value,
        # Migrated by an earlier run: the decision says skip (already-migrated), the status says where it stands.
        "final_status": "migrated" if done_before else final_status(decision, intents),
        "orders": ";".join(f"{i.kind.value}:{i.platform_order_id or '-'}:{i.platform_status or i.state.value}"
                           for i in intents),
        "new_subscription_ids": ";".join(i.created_subscription_id for i in intents if i.created_subscription_id),
        "reasons": " | ".join([*(f"{r.code.value}: {r.message}" for r in reasons), *held]),
        "failure_message": failure_messages(intents),
    }


def failure_messages(intents: list[Intent]) -> str:
    """The platform's words for each order it refused or failed, naming the order (kind and licence)."""
    return " | ".join(f"{i.kind.value} {i.license or 'SOURCE'}: {i.failure_message}"
                      for i in intents if i.failed and i.failure_message)
