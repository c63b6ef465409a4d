"""Billing and subscription periods, written ``"<n> <unit>"`` and compared exactly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

UNITS: Final = ("day", "month", "year", "statement_day")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A period such as ``1 month``. 12 months is not 1 year: Commerce compares them exactly."""

    duration: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.duration <= 0:
            raise ValueError(f"duration must be a positive whole number, not {self.duration}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``"1 month"``, ``"3 year"``; plural units (``"2 years"``) are accepted."""
        parts = str(text).strip().split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise ValueError(f"{text!r} is not a period; write '<n> <unit>' such as '1 month' or '1 year'")
        unit = parts[1].lower()
        if unit.endswith("s") and unit[:-1] in UNITS:
            unit = unit[:-1]
        return cls(int(parts[0]), unit)

    def __str__(self) -> str:
        return f"{self.duration} {self.unit}"
