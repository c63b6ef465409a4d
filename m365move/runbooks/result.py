"""The result channel between a runbook and the runner, without scrapbook.

Inside a notebook::

    from m365move.runbooks.result import record_result
    record_result({"subscriptions": 12, "ready": 11})

displays the data as a JSON MIME bundle (``application/vnd.m365move.result+json``) with a
``text/plain`` fallback, so the executed notebook and the HTML report both show it. After the run the
runner reads the *last* such output of the executed notebook into ``result.json``.

This module is imported inside the kernel: it must stay free of heavy imports (no papermill).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from typing import Any

RESULT_MIME_TYPE = "application/vnd.m365move.result+json"


def record_result(data: Mapping[str, Any]) -> None:
    """Record ``data`` (a JSON-serialisable mapping) as the run's result; call it once, at the end."""
    if not isinstance(data, Mapping):
        raise TypeError(f"record_result takes a mapping, got {type(data).__name__}")
    try:
        # Round-trip now: a value JSON cannot hold must fail in the cell that recorded it, not later.
        payload = json.loads(json.dumps(dict(data), allow_nan=False))
    except (TypeError, ValueError) as error:
        raise TypeError(f"record_result needs JSON-serialisable data: {error}") from error
    from IPython.display import display as untyped_display  # imported late: only meaningful inside a kernel

    display: Callable[..., None] = untyped_display
    pretty = json.dumps(payload, indent=2, sort_keys=True)
    text = "m365move result:\n" + pretty
    # Reviewers read the HTML report: the machine-readable result is there, folded, not a 60-line dump.
    folded = ("<details><summary>Machine-readable result (also in result.json)</summary>"
              f"<pre>{html.escape(pretty)}</pre></details>")
    display({RESULT_MIME_TYPE: payload, "text/html": folded, "text/plain": text}, raw=True)


def recorded_result(notebook: Mapping[str, Any]) -> dict[str, Any] | None:
    """The last result recorded in an executed notebook, or None if the notebook recorded none."""
    found: dict[str, Any] | None = None
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data", {}) if isinstance(output, Mapping) else {}
            value = data.get(RESULT_MIME_TYPE)
            if isinstance(value, str):  # some writers store JSON MIME data as text
                value = json.loads(value)
            if isinstance(value, Mapping):
                found = dict(value)
    return found
