"""Test mode: every answer of the sandbox's Commerce and Connect routes is checked against the spec, and each one
that does not conform is written down so the test that caused it fails.

Enabled by ``M365MOVE_SANDBOX_RESPONSE_VIOLATIONS=<file>`` (the test suite sets it for every sandbox it starts,
in its own process or in a subprocess such as a runbook kernel or ``m365move sandbox serve``): each violation is
appended to the file as one JSON line. ``tests/conftest.py`` reads the lines a test added and fails it with them.
Answers are sent unchanged; only the record is kept.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

ENV_VARIABLE = "M365MOVE_SANDBOX_RESPONSE_VIOLATIONS"
_lock = threading.Lock()


@dataclass(frozen=True)
class ResponseViolation:
    api: str
    method: str
    path: str
    status: int
    problems: list[str]

    def describe(self) -> str:
        return f"{self.api} {self.method} {self.path} -> {self.status}: " + "; ".join(p[:500] for p in self.problems)


def violations_file() -> Path | None:
    """Where violations go in test mode; None when response checking is off."""
    value = os.environ.get(ENV_VARIABLE)
    return Path(value) if value else None


def report(target: Path, violation: ResponseViolation) -> None:
    line = json.dumps(asdict(violation)) + "\n"
    with _lock, target.open("a", encoding="utf-8") as handle:
        handle.write(line)


def read_from(target: Path, offset: int) -> tuple[list[ResponseViolation], int]:
    """Violations written after byte ``offset``, and the new offset."""
    if not target.exists():
        return [], offset
    with target.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    found = [ResponseViolation(**json.loads(line)) for line in data.decode("utf-8").splitlines() if line.strip()]
    return found, offset + len(data)
