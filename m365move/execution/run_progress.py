"""The executor's progress: subscriptions and orders, each with its end, batch N of M, orders by status.

Two counted things go through ``m365move.progress`` (a bar with rate and ETA on a terminal, periodic plain
lines on stderr otherwise, a live output in a runbook cell):

* ``subscriptions``: the sources whose batch is over (``batch 2 of 5`` says which batch is running);
* ``orders``: the orders this run has to see to an end (the ones not already final when it started).
  An order counts once it is over for this run: final on the platform, refused, held back, left to
  another worker or to a resume. Within a batch the count follows each event; when a batch ends every
  order of it is over for this run, so the count is set exactly then.

The detail says where the run is and what happened so far:
``phase 1: placing, batch 2 of 5; placed 180, completed 120``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from m365move import progress as shown
from m365move.execution.intents import IntentState

if TYPE_CHECKING:
    from m365move.execution.subscription_work import SubscriptionWork

# Events that do not end an order for this run (it is polled or looked up next); every other event does.
_NOT_ENDING = frozenset({"placed", "found on platform", "placement uncertain", "left for resume"})
_REDRAW_SECONDS = 0.25


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, every_seconds: float = 5.0) -> None:
        self.total = total  # subscriptions
        self.counts: Counter[str] = Counter()
        self.step = ""
        self.batches = 0  # batch N of M
        self._display: shown.Display | None = None
        if stream is not None:  # an explicit stream (tests, a log): lines there, not on this process's display
            from m365move.progress.terminal_display import ProgressDisplay

            self._display = ProgressDisplay(stream, every_seconds=every_seconds)
        self._lock = threading.Lock()
        self._batch = 0
        self._batches_over = 0
        self._batch_sizes: list[int] = []  # subscriptions per batch
        self._batch_orders: list[int] = []  # orders to see to an end per batch
        self._orders_before = 0  # orders of the batches that are over
        self._ended_in_batch = 0
        self._subscriptions: shown.Task | None = None
        self._orders: shown.Task | None = None
        # Counts arrive several times per order from 8 threads; redrawing on each cost more than the order's journal
        # writes. They are shown at most this often (phases and the end are always shown at once).
        self._redraw_every = min(every_seconds, _REDRAW_SECONDS)
        self._redrawn_at = -float("inf")

    def expect(self, works: Sequence[SubscriptionWork], batch_size: int) -> None:
        """What the run has ahead: its batches, their subscriptions and the orders not yet final."""
        self.total = len(works)
        self.batches = -(-len(works) // batch_size) if works else 0
        self._batch_sizes = [len(works[s:s + batch_size]) for s in range(0, len(works), batch_size)]
        self._batch_orders = [sum(1 for w in works[s:s + batch_size] for i in w.intents if i.state is not IntentState.FINAL)
                              for s in range(0, len(works), batch_size)]

    def phase(self, step: str) -> None:
        with self._lock:
            if step.startswith("phase 1: placing"):
                if self._batch:
                    self._end_batch()
                self._batch += 1
            self.step = step
        self._show()

    def count(self, status: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[status] += amount
            if status not in _NOT_ENDING:
                self._ended_in_batch += amount
            now = time.monotonic()
            if now - self._redrawn_at < self._redraw_every:
                return
        self._show()

    def done(self) -> None:
        with self._lock:
            if self._batch:
                self._end_batch()
                self._batch = 0
        if self._subscriptions is None and not self.total and not self.counts:
            return  # nothing was to be done: no progress to leave behind
        self._show()
        for task in (self._subscriptions, self._orders):
            if task is not None:
                task.close()

    def _end_batch(self) -> None:
        index = self._batch - 1
        if index < len(self._batch_orders):
            self._orders_before += self._batch_orders[index]
        self._batches_over = self._batch
        self._ended_in_batch = 0

    def _show(self) -> None:
        with self._lock:
            self._redrawn_at = time.monotonic()
            batch = f", batch {self._batch} of {self.batches}" if self.batches > 1 and self._batch else ""
            counts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "none yet"
            detail = f"{self.step}{batch}; {counts}" if self.step else counts
            subscriptions_done = sum(self._batch_sizes[:self._batches_over])
            orders_total = sum(self._batch_orders)
            in_batch = self._batch_orders[self._batch - 1] if 0 < self._batch <= len(self._batch_orders) else 0
            orders_done = self._orders_before + min(self._ended_in_batch, in_batch)
            if self._subscriptions is None:
                display = self._display or shown.display()
                self._subscriptions = shown.Task("subscriptions", self.total, detail, display)
                self._orders = shown.Task("orders", orders_total, detail, display)
            subscriptions, orders = self._subscriptions, self._orders
        subscriptions.update(subscriptions_done, total=self.total, detail=f"batch {self._batch} of {self.batches}"
                             if self.batches > 1 and self._batch else "")
        assert orders is not None
        orders.update(orders_done, total=orders_total, detail=detail)
