"""Writing the audit's tables in full as CSV files (the report shows only aggregates and top rows)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from m365move.audit.tables import AuditTable
from m365move.files.atomic_files import atomic_writer
from m365move.files.spreadsheet_csv import FormulaSafeWriter


def write_tables(folder: str | Path, tables: Iterable[AuditTable]) -> list[Path]:
    """One ``<name>.csv`` per table in ``folder`` (created if needed); returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        path = folder / f"{table.name}.csv"
        with atomic_writer(path, newline="") as handle:
            writer = FormulaSafeWriter(handle, table.headers, lineterminator="\n")
            writer.writerows(table.rows)
        written.append(path)
    return written
