"""The sandbox's ``--state`` file: a snapshot followed by an append-only log of changed records.

Rewriting the whole state on every change made each order cost as much as the estate is large (a 50k
migration wrote gigabytes). Instead the file starts with one line holding the whole state (written
atomically when the sandbox starts, which also compacts what the previous run appended), and every
change appends one line with the records it touched and the counters. Loading replays the lines in
order, the last version of a record winning.

A line is appended and flushed to the operating system before the request that made the change is
answered, so a killed sandbox loses nothing it acknowledged. A line cut short by a crash while it was
being written (its request never got an answer) is ignored.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson


class StateLog:
    """Appends change lines to a state file whose first line is a complete snapshot."""

    def __init__(self, path: Path, snapshot: bytes) -> None:
        self.path = path
        _write_atomically(path, snapshot + b"\n")

    def append(self, change: dict[str, Any]) -> None:
        """One line: record lists (``{"orders": [...]}``, each record with its ``id``) and counters."""
        # Opened per change (no handle left to the garbage collector); the OS keeps what is written.
        with self.path.open("ab") as handle:
            handle.write(orjson.dumps(change) + b"\n")


def read_state(path: Path) -> dict[str, Any]:
    """The state a file holds: its snapshot with every complete change line applied in order.

    A file holding a single JSON document (an older state file, or one edited by hand or by a test) is
    a snapshot without changes. ValueError when the file is not a state file.
    """
    with path.open("rb") as handle:
        state = orjson.loads(handle.readline())
        if not isinstance(state, dict):
            raise ValueError("the first line is not a JSON object")
        positions: dict[str, dict[str, int]] = {}
        for change in _changes(handle):
            for key, value in change.items():
                if isinstance(value, list):
                    _upsert(state.setdefault(key, []), positions.setdefault(key, {}), value)
                else:
                    state[key] = value
    return state


def _upsert(records: list[dict[str, Any]], positions: dict[str, int], changed: list[Any]) -> None:
    if not positions and records:
        positions.update((str(r["id"]), i) for i, r in enumerate(records))
    for record in changed:
        if not isinstance(record, dict) or "id" not in record:
            raise ValueError("a changed record has no id")
        at = positions.get(str(record["id"]))
        if at is None:
            positions[str(record["id"])] = len(records)
            records.append(record)
        else:
            records[at] = record


def _changes(lines: Iterable[bytes]) -> Iterable[dict[str, Any]]:
    for line in lines:
        if not line.endswith(b"\n"):
            return  # cut short by a crash mid-write: its request was never answered
        change = orjson.loads(line)
        if not isinstance(change, dict):
            raise ValueError("a change line is not a JSON object")
        yield change


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write-then-rename so a crash mid-write leaves the previous complete file, never half of one.
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
