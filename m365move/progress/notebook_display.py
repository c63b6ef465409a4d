"""Progress inside a runbook cell: one output per counted thing, updated in place.

Each thing gets one Jupyter display (``display_id``) that is updated at most every ``every_seconds``:
a live bar for someone watching the notebook, and in the saved notebook only the last state (nbclient and
Jupyter replace the output on each update), so an hour of progress stays one small output.

Every update also carries ``application/vnd.m365move.progress+json`` (what, done, total, detail, elapsed):
``m365move runbook run`` relays it to the operator's terminal, where the cell's step line alone would
otherwise say nothing for an hour.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass
from typing import Any

from m365move.progress.formatting import PROGRESS_MIMETYPE, rate_line


@dataclass
class _Shown:
    handle: Any
    started: float
    last: float = 0.0
    done: int = 0
    total: int = 0
    detail: str = ""


class NotebookDisplay:
    """The kernel's display: ``IPython.display`` outputs with a ``display_id``, throttled."""

    def __init__(self, every_seconds: float = 2.0, show_after: float = 2.0) -> None:
        self.every_seconds = every_seconds
        self.show_after = show_after  # quicker work shows nothing: the report stays about the results
        self._lock = threading.Lock()
        self._shown: dict[str, _Shown] = {}

    def update(self, what: str, done: int, total: int, detail: str = "") -> None:
        now = time.monotonic()
        with self._lock:
            shown = self._shown.get(what)
            if shown is None:
                shown = self._shown[what] = _Shown(handle=None, started=now)
            shown.done, shown.total, shown.detail = done, total, detail
            if shown.handle is None:
                if now - shown.started >= self.show_after:
                    from IPython.display import display

                    shown.handle = display(  # type: ignore[no-untyped-call]
                        self._bundle(what, shown, now), raw=True, display_id=True)
                    shown.last = now
                return
            ended = bool(total) and done >= total
            if ended or now - shown.last >= self.every_seconds:
                shown.last = now
                shown.handle.update(self._bundle(what, shown, now), raw=True)

    def finish(self, what: str) -> None:
        now = time.monotonic()
        with self._lock:
            shown = self._shown.pop(what, None)
            if shown is not None and shown.handle is not None:
                shown.handle.update(self._bundle(what, shown, now, finished=True), raw=True)

    @staticmethod
    def _bundle(what: str, shown: _Shown, now: float, finished: bool = False) -> dict[str, Any]:
        elapsed = now - shown.started
        line = rate_line(what, shown.done, shown.total, elapsed, shown.detail)
        return {
            "text/plain": line,
            "text/html": progress_html(line, shown.done, shown.total),
            PROGRESS_MIMETYPE: {"what": what, "done": shown.done, "total": shown.total, "detail": shown.detail,
                                "elapsed": round(elapsed, 1), "finished": finished},
        }


def progress_html(line: str, done: int, total: int) -> str:
    """A native ``<progress>`` bar with the line beside it (no script, so the saved report shows it too)."""
    bar = f'<progress value="{done}" max="{total}" style="width:16em"></progress> ' if total else ""
    return f'<div class="m365move-progress" style="font-family:monospace">{bar}{html.escape(line)}</div>'
