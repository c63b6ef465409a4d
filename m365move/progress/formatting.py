"""How progress reads: ``rate_line`` (count, rate, ETA) and ``clock``, shared by every display of ``tracking``.

Separate from ``tracking`` so that the displays, which ``tracking`` chooses, need nothing from it.
"""

from __future__ import annotations

# The MIME type of the progress updates a runbook kernel sends; the parent's relay (``kernel_relay``) reads them.
PROGRESS_MIMETYPE = "application/vnd.m365move.progress+json"


def clock(seconds: float) -> str:
    """``0:01:05``: hours unbounded, so an overnight run still reads as a time."""
    whole = int(round(max(0.0, seconds)))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def rate_line(what: str, done: int, total: int, elapsed: float, detail: str = "") -> str:
    """``orders final: 120/480 (25%), 4.0/s, ETA 0:01:30 [phase 1: placing, batch 2 of 5]``."""
    rate = done / elapsed if elapsed > 0 else 0.0
    percent = f" ({100 * done / total:.0f}%)" if total else ""
    if total and rate > 0 and done < total:
        ending = f", ETA {clock((total - done) / rate)}"
    elif total and done >= total:
        ending = f", done in {clock(elapsed)}"
    else:
        ending = f", {clock(elapsed)} so far"
    of_total = f"/{total:,}" if total else ""
    where = f" [{detail}]" if detail else ""
    return f"{what}: {done:,}{of_total}{percent}, {rate:.1f}/s{ending}{where}"
