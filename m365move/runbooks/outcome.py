"""How a run ended: status, exit code, failure summary and timings.

Exit codes of ``m365move runbook run`` (and :attr:`RunStatus.exit_code`):

    0  ok            every cell ran
    1  failure       anything else of ours (e.g. no ``python3`` kernelspec)
    2  bad input     parameters rejected before any kernel started, unknown runbook, output folder not
                     empty (2 is shared with every command)
    3  cell error    a cell raised; the summary names the cell and the exception
    4  timeout       a cell ran longer than the per-cell timeout
    5  dead kernel   the kernel died or never started
    6  unfinished    every cell ran, but the migration it executed left subscriptions failed, partially migrated
                     or blocked by the platform (as ``migrate``/``resume`` exit 6)
    7  not ready     every cell ran, and the Call2Teams verdict it recorded is NOT-READY (as ``call2teams check``)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class RunStatus(enum.Enum):
    OK = "ok"
    CELL_ERROR = "cell_error"
    TIMEOUT = "timeout"
    DEAD_KERNEL = "dead_kernel"
    INTERRUPTED = "interrupted"  # Ctrl+C: the report is rendered and sealed from the cells that ran

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]


_EXIT_CODES = {RunStatus.OK: 0, RunStatus.CELL_ERROR: 3, RunStatus.TIMEOUT: 4, RunStatus.DEAD_KERNEL: 5,
               RunStatus.INTERRUPTED: 130}
# What to do after an interrupted migration runbook (the journal marks its run interrupted).
RESUME_HINT = ("to complete it: `m365move runs list` names the interrupted run; run this runbook again with "
               "resume_from=RUN_ID (the same workspace), execute=true and the confirm it asks for")
EXIT_BAD_PARAMETERS = 2
# The same statuses the CLI commands use for the same outcomes, so a script need not care which front end ran.
EXIT_UNFINISHED = 6
EXIT_NOT_READY = 7
_UNFINISHED_STATUSES = ("failed", "partially-migrated")


def verdict_exit_code(result: dict[str, Any] | None) -> int:
    """What a completed run's recorded result says about the work it did: 0, 6 or 7.

    A migration runbook records ``executed``, ``final_status`` (counts per status) and ``needs_attention``; a
    Call2Teams runbook records ``verdict``. A dry run is never unfinished: blocked subscriptions are a finding.
    """
    if not result:
        return 0
    if str(result.get("verdict", "")).lower() == "not-ready":
        return EXIT_NOT_READY
    if result.get("executed") is True:
        counts = result.get("final_status") or {}
        unfinished = sum(int(counts.get(status, 0) or 0) for status in _UNFINISHED_STATUSES)
        if unfinished or int(result.get("needs_attention", 0) or 0):
            return EXIT_UNFINISHED
    return 0


@dataclass(frozen=True)
class Failure:
    """Where and why a run stopped: the step (1-based among executed cells), its cell and the exception.

    The cell is named by its label and its nbformat id: papermill inserts cells on failure, so an index
    into the executed notebook would not point at the cell the reader means.
    """

    step: int
    steps: int
    label: str
    cell_id: str
    exception: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "steps": self.steps,
            "cell": self.label,
            "cell_id": self.cell_id,
            "exception": self.exception,
            "message": self.message,
        }


@dataclass
class RunOutcome:
    """The result of :func:`m365move.runbooks.runner.run_runbook`; files are inside ``run_dir``."""

    runbook: str
    status: RunStatus
    run_dir: Path
    parameters: dict[str, Any]
    result: dict[str, Any] | None
    failure: Failure | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # For the report header: the runbook's title, wall-clock start and end (UTC ISO), who and which m365move.
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.status is RunStatus.OK:
            return verdict_exit_code(self.result)
        return self.status.exit_code

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK

    @property
    def input_notebook(self) -> Path:
        return self.run_dir / "input.ipynb"

    @property
    def executed_notebook(self) -> Path:
        return self.run_dir / "executed.ipynb"

    @property
    def report(self) -> Path:
        return self.run_dir / "report.html"

    def summary(self, shown_dir: Path | None = None) -> str:
        """Lines for the console: the outcome, and on failure the failing cell and the executed notebook."""
        where = shown_dir or self.run_dir
        if self.failure is None:
            done = f"runbook {self.runbook}: ok ({self.timings.get('total', 0.0):.1f}s); results in {where}"
            verdict = verdict_exit_code(self.result)
            if verdict == EXIT_UNFINISHED:
                return done + ("\n  the migration left subscriptions failed, partially migrated or blocked by the "
                               "platform: see the results file, then resume (exit 6)")
            if verdict == EXIT_NOT_READY:
                return done + "\n  verdict NOT-READY: follow each error finding's action in the report (exit 7)"
            return done
        failure = self.failure
        lines = [
            f"runbook {self.runbook}: {self.status.value.replace('_', ' ')} "
            f"in step [{failure.step}/{failure.steps}] {failure.label!r}",
            f"  {failure.exception}: {failure.message}".rstrip(": "),
            f"  executed notebook: {where / 'executed.ipynb'}",
            f"  report: {where / 'report.html'}",
        ]
        if self.status is RunStatus.INTERRUPTED and "resume_from" in self.parameters:
            lines.append(f"  {RESUME_HINT}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """What ``run.json`` holds (no parameters: those are in ``parameters.json``)."""
        return {
            "runbook": self.runbook,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "failure": self.failure.as_dict() if self.failure else None,
            "timings": {key: round(value, 3) for key, value in self.timings.items()},
            **self.provenance,
        }
