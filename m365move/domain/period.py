"""Billing and subscription periods, written ``"<n> <unit>"`` and compared exactly."""

from __future__ import annotations

from typing import Final, NamedTuple

UNITS: Final = ("day", "month", "year", "statement_day")
# The longest real period is a few years; anything beyond a century is a typo or a hostile file, and a
# period of 10^23 years must not reach a price or an order.
MAX_DURATION: Final = {"day": 36_525, "month": 1_200, "year": 100, "statement_day": 36_525}


class Period(NamedTuple):
    """A period such as ``1 month``. 12 months is not 1 year: Commerce compares them exactly.

    A NamedTuple rather than a dataclass: periods are hashed in every planner cache look-up, and a
    tuple hashes in C. Build them with ``Period.parse`` (validated) or ``Period.of``.
    """

    duration: int
    unit: str

    @classmethod
    def of(cls, duration: int, unit: str) -> Period:
        """A validated period."""
        if unit not in UNITS:
            raise ValueError(f"unit {unit!r} is not one of {', '.join(UNITS)}")
        if duration <= 0:
            raise ValueError(f"duration must be a positive whole number, not {duration}")
        if duration > MAX_DURATION[unit]:
            raise ValueError(f"{duration} {unit} is longer than any real period (at most {MAX_DURATION[unit]} {unit})")
        return cls(duration, unit)

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``"1 month"``, ``"3 year"``; plural units (``"2 years"``) are accepted."""
        parts = str(text).strip().split()
        if len(parts) != 2 or not (parts[0].isascii() and parts[0].isdigit()):
            raise ValueError(f"{text!r} is not a period; write '<n> <unit>' such as '1 month' or '1 year'")
        if len(parts[0]) > 9:
            raise ValueError(f"a period of {len(parts[0])} digits is longer than any real period")
        unit = parts[1].lower()
        if unit.endswith("s") and unit[:-1] in UNITS:
            unit = unit[:-1]
        return cls.of(int(parts[0]), unit)

    def __str__(self) -> str:
        return f"{self.duration} {self.unit}"
