"""Reading the users to import (CSV or JSON) and writing the bulk-import CSV files."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from m365move.call2teams.bulk_import import BulkImport, UserRow
from m365move.call2teams.powershell_json import decode_export, unwrap_collection
from m365move.errors import InputError
from m365move.files.atomic_files import atomic_writer
from m365move.files.input_text import parse_json_text, read_input_bytes
from m365move.files.spreadsheet_csv import FormulaSafeWriter


def read_users_file(path: str | Path) -> list[UserRow]:
    """Users from a CSV (header row; rows numbered as a spreadsheet shows them) or a JSON array of objects."""
    file = Path(path)
    where = str(file)
    data = read_input_bytes(file)
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("is binary or UTF-16 without a byte-order mark; save it as UTF-8 (or UTF-16 with a BOM)",
                         where=where)
    text = decode_export(data, where=where).lstrip("\ufeff")
    if "\x00" in text:
        raise InputError("holds NUL characters: not a text file", where=where)
    if not text.strip():
        raise InputError("is empty, expected users (CSV with a header row, or a JSON array)", where=where)
    if file.suffix.lower() == ".json" or text.lstrip()[:1] in "[{":
        return _from_json(text, where)
    return _from_csv(text, where)


def _from_json(text: str, where: str) -> list[UserRow]:
    value = parse_json_text(text, where=where)
    items = unwrap_collection(value)
    if items is None or not all(isinstance(item, dict) for item in items):
        raise InputError("must hold a JSON array of user objects", where=where)
    return [UserRow.from_mapping(index, item) for index, item in enumerate(items, start=1)]


def _from_csv(text: str, where: str) -> list[UserRow]:
    # newline="": the csv module itself reads CRLF, LF and CR-only (old Mac, some exports) line ends.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        headers = reader.fieldnames or []
        if not any(header and header.strip() for header in headers):
            raise InputError("has no header row", where=where)
        repeated = sorted({h for h in headers if h and [x.strip().lower() for x in headers].count(h.strip().lower()) > 1})
        if repeated:
            raise InputError(f"column {', '.join(repeated)} appears twice in the header row", where=f"{where}:1")
        # Row 1 is the header, so the first user is row 2, as a spreadsheet numbers it.
        return [
            UserRow.from_mapping(row, {key: value for key, value in record.items() if key is not None})
            for row, record in enumerate(reader, start=2)
        ]
    except csv.Error as error:
        raise InputError(f"not readable as CSV: {error}", where=f"{where}:{reader.line_num}") from None


def write_import_files(bulk: BulkImport, output_dir: str | Path) -> list[Path]:
    """Write ``call2teams_<template>_import_NNN.csv`` files (template header, ≤ 1,000 rows each)."""
    folder = Path(output_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot be created ({error.strerror})", where=str(folder)) from None
    written: list[Path] = []
    for number, rows in enumerate(bulk.files(), start=1):
        path = folder / f"call2teams_{bulk.template.value}_import_{number:03d}.csv"
        _write_csv(path, bulk.template.columns, bulk.template.number_columns, rows)
        written.append(path)
    return written


def _write_csv(path: Path, columns: Sequence[str], numbers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    # The number columns hold E.164 numbers validated by build_import: their leading + stays.
    with atomic_writer(path, newline="") as handle:
        writer = FormulaSafeWriter(handle, columns, e164_columns=numbers, lineterminator="\r\n")
        writer.writerows(rows)
