"""What ``resume`` takes up again: the run named by a results file or a run id, and what it left unfinished.

One rule for every front end (CLI ``m365move resume``, the migration runbooks' ``resume_from``):
a results file must agree with the journal row by row (an edited file is refused) and with its run's
mode; a run that left no results (killed, crashed) is taken up whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from m365move.domain.orders import MigrationMode
from m365move.errors import InputError
from m365move.execution.journal import Journal
from m365move.execution.results_file import read_results

# Final statuses a resume leaves alone.
DONE_STATUSES = frozenset({"migrated", "skipped"})


@dataclass(frozen=True)
class ResumeTarget:
    """A previous run to complete: its id, mode, recorded inputs and the subscriptions left unfinished
    (``None``: the run left no results, so its whole selection is taken up again)."""

    run_id: str
    mode: MigrationMode
    parameters: dict[str, Any]
    subscription_ids: frozenset[str] | None


def find_resume_target(journal: Journal, source: str) -> ResumeTarget:
    """The run ``source`` names (a results CSV or a run id); JournalError when the journal does not know it."""
    path = Path(source)
    if path.suffix.lower() == ".csv" or _exists(path):
        results = read_results(path)
        run = journal.run(results.run_id)
        recorded = journal.results(results.run_id)
        for row in results.rows:
            kept = recorded.get(row["subscription_id"])
            if kept is None or (kept["decision"], kept["final_status"]) != (row["decision"], row["final_status"]):
                raise InputError(
                    f"row of subscription {row['subscription_id']} differs from the journal of run {results.run_id}",
                    where=source, hint="the file was edited: resume the run by its id instead")
        if run["mode"] != results.mode.value:
            raise InputError(f"the file says mode {results.mode.value} but run {results.run_id} was {run['mode']}",
                             where=source)
        unfinished: frozenset[str] | None = results.unfinished()
    else:
        run = journal.run(source)
        recorded = journal.results(source)
        unfinished = frozenset(s for s, r in recorded.items() if r["final_status"] not in DONE_STATUSES) if recorded else None
    return ResumeTarget(run["run_id"], MigrationMode(run["mode"]), dict(run["parameters"]), unfinished)


def _exists(path: Path) -> bool:
    """Whether a file is there; a run id too long for a file name (``File name too long``) is not one."""
    try:
        return path.exists()
    except OSError:
        return False
