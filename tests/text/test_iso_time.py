import datetime as dt

import pytest

from m365move.text.iso_time import parse_iso_time

UTC = dt.timezone.utc


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-30T08:00:00Z", dt.datetime(2026, 11, 30, 8, tzinfo=UTC)),  # Partner Center
    ("2026-11-30T09:00:00+01:00", dt.datetime(2026, 11, 30, 8, tzinfo=UTC)),  # Connect, another offset
    ("2026-11-30T08:00:00", dt.datetime(2026, 11, 30, 8, tzinfo=UTC)),  # naive: taken as UTC
    ("2026-11-30", dt.datetime(2026, 11, 30, tzinfo=UTC)),  # a bare date parameter: its midnight
])
def test_platform_times_are_aware_utc(text: str, expected: dt.datetime) -> None:
    parsed = parse_iso_time(text)
    assert parsed == expected and parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize("value", [None, "", "soon", "2026-13-01", 1733000000, b"2026-11-30"])
def test_unknown_times_are_none(value: object) -> None:
    assert parse_iso_time(value) is None
