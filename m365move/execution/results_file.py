"""The results file of a run: one row per source subscription (like CloudBlue's total_migration_results.csv).

Columns: run_id, subscription_id, mode, decision, final_status, orders (kind:order id:status, in placing
order), new_subscription_ids, reasons, then the appended ones: failure_message (the platform's own words for
an order it refused or failed), and the names a person looks for (customer, reseller, source and target
plans, ids and names). ``resume`` reads it back, checks it against the journal and infers the mode from
it; files written before a column was appended are read with that column empty.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from m365move.domain.orders import MigrationMode
from m365move.errors import InputError
from m365move.execution.final_status import FINAL_STATUSES
from m365move.execution.results_context import CONTEXT_COLUMNS
from m365move.files.atomic_files import atomic_writer
from m365move.files.spreadsheet_csv import FormulaSafeDictWriter, restore_row

# The first columns never change; new ones are appended after them.
REQUIRED_COLUMNS = (
    "run_id", "subscription_id", "mode", "decision", "final_status", "orders", "new_subscription_ids", "reasons",
)
RESULT_COLUMNS = (*REQUIRED_COLUMNS, "failure_message", *CONTEXT_COLUMNS)


def write_results(path: Path, rows: Iterable[dict[str, str]]) -> None:
    with atomic_writer(path, newline="") as handle:
        writer = FormulaSafeDictWriter(handle, fieldnames=RESULT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@dataclass(frozen=True)
class ResultsFile:
    path: Path
    run_id: str
    mode: MigrationMode
    rows: tuple[dict[str, str], ...]

    def unfinished(self) -> frozenset[str]:
        """Subscriptions a resume should take up again: everything not migrated and not out of scope."""
        return frozenset(r["subscription_id"] for r in self.rows if r["final_status"] not in ("migrated", "skipped"))


def read_results(path: str | Path) -> ResultsFile:
    """Read a results file; InputError naming the file and row when it is not one of ours or was edited."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"not an m365move results file: missing column {', '.join(missing)}", where=f"{path}:1")
            header = list(reader.fieldnames or [])
            repeated = sorted({name for name in header if header.count(name) > 1})
            if repeated:  # DictReader would keep the last one: an edited file could pass for ours
                raise InputError(f"column {', '.join(repeated)} appears more than once in the header row",
                                 where=f"{path}:1")
            rows = tuple({c: "" for c in RESULT_COLUMNS} | restore_row(r) for r in reader)
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"cannot read the results file: {error}", where=str(path)) from None
    if not rows:
        raise InputError("the results file has no rows", where=str(path))
    modes = {r["mode"] for r in rows}
    runs = {r["run_id"] for r in rows}
    for number, row in enumerate(rows, start=2):
        if row["mode"] not in {m.value for m in MigrationMode}:
            raise InputError(f"unknown mode {row['mode']!r}", where=f"{path}:{number}:mode")
        if row["final_status"] not in FINAL_STATUSES:
            raise InputError(f"unknown final status {row['final_status']!r}", where=f"{path}:{number}:final_status")
    if len(modes) > 1 or len(runs) > 1:
        raise InputError("rows of several runs or modes; resume one run's results file at a time", where=str(path))
    return ResultsFile(path, runs.pop(), MigrationMode(modes.pop()), rows)
