"""Per-subscription warnings as a summary: the first few of each code as they come, then a count per code.

A run over 20,000 subscriptions can warn about 7,000 of them with the same code (each one migrated in the
other mode, say): 7,000 lines on a terminal, a pink block of megabytes in a runbook report, and the one line
that differs is lost among them. A warning about one subscription therefore says so: it is logged with
``extra=per_subscription(code, subscription_id)``. While :func:`summarised` is in force the first
``EXAMPLES`` of each code are shown as they happen, the others only counted, and when the work ends one line per
code gives the count and the first subscriptions. Every subscription is still in the results CSV, whose row
names its code: that is the full list. Warnings that are not about one subscription are shown as they are.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

EXAMPLES = 3
_CODE = "m365move_code"
_SUBJECT = "m365move_subject"


def per_subscription(code: str, subscription_id: str) -> dict[str, Any]:
    """The ``extra`` of a warning about one subscription."""
    return {_CODE: code, _SUBJECT: subscription_id}


class WarningSummary(logging.Filter):
    """Lets the first ``EXAMPLES`` warnings of each code through and counts every one."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        code = getattr(record, _CODE, None)
        if code is None:
            return True
        with self._lock:
            self.counts[code] += 1
            examples = self.examples.setdefault(code, [])
            if len(examples) < EXAMPLES:
                examples.append(str(getattr(record, _SUBJECT, "")))
            return self.counts[code] <= EXAMPLES

    def lines(self) -> list[str]:
        """One line per code with more warnings than were shown."""
        with self._lock:
            return [f"{code}: {count:,} subscriptions in all ({EXAMPLES} shown above: "
                    f"{', '.join(self.examples[code])}); each one's row in the results CSV says why"
                    for code, count in sorted(self.counts.items()) if count > EXAMPLES]


@contextmanager
def summarised(stream: TextIO | None = None) -> Iterator[WarningSummary]:
    """Summarise per-subscription warnings on every handler of the root logger (a stderr handler is added for
    the ``with`` where there is none, as in a runbook kernel); the summary lines go to ``stream`` (stderr)."""
    summary = WarningSummary()
    root = logging.getLogger()
    added = None
    if not root.handlers:
        added = logging.StreamHandler(stream or sys.stderr)
        added.setLevel(logging.WARNING)
        added.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(added)
    handlers = list(root.handlers)
    for handler in handlers:
        handler.addFilter(summary)
    try:
        yield summary
    finally:
        for handler in handlers:
            handler.removeFilter(summary)
        if added is not None:
            root.removeHandler(added)
        out = stream or sys.stderr
        for line in summary.lines():
            out.write(f"WARNING m365move: {line}\n")
        out.flush()
