"""What the sweep tells the operator in the extension's log: each asset's reasons, and one summary per chunk.

Connect shows an extension's log at INFO by default; a per-asset reason such as ``mca-not-accepted`` is what an
operator acts on, so it is logged at INFO (one line per asset that has reasons), followed by the chunk's summary.
"""

from __future__ import annotations

import logging
from typing import Any

from m365move.connect.sweep import SweepReport
from m365move.connect.sweep_cursor import SweepCursor


def log_chunk(logger: logging.Logger | logging.LoggerAdapter[Any], cursor: SweepCursor, report: SweepReport) -> None:
    """The chunk just swept (``cursor`` is the position after it)."""
    for outcome in report.outcomes:
        if outcome.reasons:
            logger.info("asset %s: %s: %s", outcome.asset_id, outcome.status.value, "; ".join(outcome.reasons))
    duplicates = f", duplicate purchases failed: {', '.join(report.duplicates_failed)}" if report.duplicates_failed \
        else ""
    logger.info("New Subscription sweep: chunk %d of the pass started %s: %d CSP assets %s, %d requests created%s; "
                "%d assets swept in this pass so far", cursor.chunk, cursor.pass_started, len(report.outcomes),
                report.counts(), report.created, duplicates, cursor.swept)
