"""Runbooks: papermill notebooks run, checked and reported by ``m365move runbook``.

Conventions a runbook (``notebooks/<name>.ipynb``) follows; ``m365move runbook check`` enforces them:

- kernelspec ``python3``; no outputs committed;
- the first markdown heading is its title, the paragraph after it its one-line purpose;
- notebook metadata declares whether it changes anything, and for a mutating runbook the
  confirmation a run needs (shown by ``runbook show``)::

      "metadata": {"m365move": {"mutating": false}}
      "metadata": {"m365move": {"mutating": true,
                                "confirm": "execute=true and confirm=<number of subscriptions to migrate>"}}

  A mutating runbook declares ``execute: bool = False`` and ``confirm: int | None = None`` and refuses,
  itself, to change anything unless ``execute`` is true and ``confirm`` matches what it would change.
  The runner rejects ``execute=true`` without ``confirm`` before a kernel starts;
- one cell tagged ``parameters`` of ``name: type = default  # help`` lines (see ``parameters.py``);
  the next cell validates them into a typed model; secrets come from the environment, never from
  parameters: papermill writes parameters into the executed notebook;
- each code cell opens with a ``# comment`` that names the step (progress lines and failure summaries
  use it);
- the result is recorded with :func:`m365move.runbooks.result.record_result`.

Modules: ``catalog`` (finding runbooks), ``parameters``, ``runner`` (``run_runbook``), ``outcome``
(statuses and exit codes), ``progress``, ``environment``, ``render``, ``result``, ``check``.
The runner and renderer are imported lazily: ``result`` is imported inside every kernel and must
not pull in papermill.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Finding",
    "ParameterError",
    "RunOutcome",
    "RunStatus",
    "Runbook",
    "check_all",
    "find_runbook",
    "list_runbooks",
    "record_result",
    "render_report",
    "run_runbook",
]

_HOMES = {
    "Finding": "check",
    "check_all": "check",
    "ParameterError": "parameters",
    "RunOutcome": "outcome",
    "RunStatus": "outcome",
    "Runbook": "catalog",
    "find_runbook": "catalog",
    "list_runbooks": "catalog",
    "record_result": "result",
    "render_report": "render",
    "run_runbook": "runner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
