"""Progress per step, and the timings the runner reports, from nbclient's cell hooks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from m365move.runbooks.cells import step_label


@dataclass(frozen=True)
class Step:
    """One executed cell: its number among the executed cells, the total, its index and label."""

    number: int
    total: int
    cell_index: int
    cell_id: str
    label: str

    def __str__(self) -> str:
        return f"[{self.number}/{self.total}] {self.label}"


ProgressCallback = Callable[[Step], None]


class StepTracker:
    """Passed to papermill as nbclient hooks; remembers the running step so failures can name it."""

    def __init__(self, total: int, on_step: ProgressCallback | None = None) -> None:
        self.total = total
        self.on_step = on_step
        self.current: Step | None = None
        self.first_started: float | None = None
        self.last_finished: float | None = None
        self.cell_seconds = 0.0
        self._started = 0.0

    def hooks(self) -> dict[str, Callable[..., None]]:
        """Engine keyword arguments: papermill hands them through to its nbclient NotebookClient."""
        # on_cell_execute, not on_cell_start: nbclient calls the latter for markdown and empty cells too.
        return {"on_cell_execute": self._cell_execute, "on_cell_executed": self._cell_executed}

    def _cell_execute(self, cell: Any, cell_index: int, **_: Any) -> None:
        number = self.current.number + 1 if self.current else 1
        self.current = Step(number, max(self.total, number), cell_index, str(cell.get("id", "")), step_label(cell))
        self._started = time.perf_counter()
        if self.first_started is None:
            self.first_started = self._started
        if self.on_step is not None:
            self.on_step(self.current)

    def _cell_executed(self, **_: Any) -> None:
        self.last_finished = time.perf_counter()
        self.cell_seconds += self.last_finished - self._started
