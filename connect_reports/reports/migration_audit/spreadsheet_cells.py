"""Cells a spreadsheet shows as text, never as formulas: the rule of m365move's own CSV writers, for the report's
xlsx and csv renderers (a customer name such as ``=HYPERLINK(...)`` must not become a live formula).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (also after leading spaces or
line breaks, which spreadsheets trim, and in their full-width forms) gets a leading ``'``; plain negative numbers
keep their ``-``; a cell already starting with ``'`` before a risky character gets one more, so the prefix is
reversible. The same rule as ``m365move/files/spreadsheet_csv.py``, written again here because the report runs without
m365move (tests/connect_reports/test_report_runtime.py checks both give the same cells). Python 3.8.
"""

from __future__ import annotations

import re

TEXT_PREFIX = "'"
_FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_TRIMMED = " \t\r\n\x0b\x0c"
_NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?")


def _starts_formula(text: str) -> bool:
    if not text:
        return False
    if text[0] in _FORMULA_STARTS:
        return not _NEGATIVE_NUMBER.fullmatch(text)
    stripped = text.lstrip(_TRIMMED)
    return stripped != text and stripped[:1] in _FORMULA_STARTS


def _needs_prefix(text: str) -> bool:
    if text.startswith(TEXT_PREFIX):
        return _needs_prefix(text[len(TEXT_PREFIX):])
    return _starts_formula(text)


def neutralise_cell(value: object) -> object:
    """A text cell as a spreadsheet must see it (numbers and empty values are left as they are)."""
    if not isinstance(value, str):
        return value
    return TEXT_PREFIX + value if _needs_prefix(value) else value
