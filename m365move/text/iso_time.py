"""ISO-8601 times as the platforms write them, read the one way every reader needs.

Partner Center writes ``2026-11-30T08:00:00Z``, Connect ``2026-11-30T08:00:00+00:00``, and a Connect
parameter such as ``commitment_end_date`` may hold a bare date. All are read as aware UTC datetimes (a naive
time or a bare date is taken as UTC, a bare date as its midnight); anything unreadable is None, because
every caller treats an unknown time as "not known" rather than as an error.
"""

from __future__ import annotations

from datetime import datetime, timezone


def parse_iso_time(value: object) -> datetime | None:
    """``value`` as an aware UTC datetime; None when absent, not a string, or not ISO-8601."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
