"""Relay a runbook cell's progress to the terminal of ``m365move runbook run``.

A cell that works for an hour (placing and polling orders) shows its progress in its own output (see
``m365move/progress/notebook_display.py``); without a relay the operator at the terminal would see only the step line
("[9/12] Place and poll the orders") for that hour. Papermill runs notebooks through an "engine"; ours is
papermill's own nbclient engine with one addition: every kernel message carrying the progress mimetype is
also handed to this process's progress display (a bar on a terminal, periodic lines otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger

from m365move.progress import formatting, tracking

ENGINE_NAME = "m365move-progress-relay"
Relay = Callable[[dict[str, Any]], None]


def relay_to_display(update: dict[str, Any]) -> None:
    """Show a kernel's progress update on this process's display (stderr)."""
    shown = tracking.display()
    what = str(update.get("what", "progress"))
    shown.update(what, int(update.get("done", 0)), int(update.get("total", 0)), str(update.get("detail", "")))
    if update.get("finished"):
        shown.finish(what)


class _RelayingClient(PapermillNotebookClient):  # type: ignore[misc]
    def __init__(self, nb_man: Any, relay: Relay, **kwargs: Any) -> None:
        super().__init__(nb_man, **kwargs)
        self._relay = relay

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        data = (msg.get("content") or {}).get("data") or {}
        update = data.get(formatting.PROGRESS_MIMETYPE)
        if isinstance(update, dict):
            self._relay(update)
        return super().process_message(msg, cell, cell_index)


class RelayingEngine(NBClientEngine):  # type: ignore[misc]
    """Papermill's nbclient engine, its client relaying progress (``relay=`` among the engine's arguments)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                 stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                 execution_timeout: float | None = None, **kwargs: Any) -> Any:
        relay: Relay = kwargs.pop("relay", relay_to_display)
        kwargs.pop("input_path", None)
        kwargs.pop("startup_timeout", None)
        timeout = execution_timeout or kwargs.pop("timeout", None)
        kwargs.pop("timeout", None)
        return _RelayingClient(nb_man, relay, timeout=timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                               log=logger, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                               **kwargs).execute()


papermill_engines.register(ENGINE_NAME, RelayingEngine)
