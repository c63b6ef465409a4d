"""HTML pieces for runbook reports: tables, key/value lists and verdict banners, every value escaped.

Runbooks show these with :func:`show_html`; the functions return text so they are tested without a kernel.
pandas is not a dependency: a report table is a few dozen rows at most, plain HTML does it.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

Cell = object

_TABLE_STYLE = "border-collapse:collapse;margin:0.4em 0 1em 0;font-size:0.92em"
_HEAD_STYLE = "text-align:left;padding:4px 10px;border-bottom:2px solid #555;background:#f3f3f3"
_CELL_STYLE = "text-align:left;vertical-align:top;padding:4px 10px;border-bottom:1px solid #ddd"
_NUMBER_STYLE = _CELL_STYLE.replace("text-align:left", "text-align:right")
_TONES = {
    "good": ("#e6f4ea", "#1e7b34"),
    "bad": ("#fce8e6", "#b3261e"),
    "warn": ("#fff4e5", "#8a5300"),
    "info": ("#e8f0fe", "#1a4d9c"),
}


def cell_text(value: Cell) -> str:
    """How one value reads in a table: None as an empty cell, a bool as yes/no, sequences comma-joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple, frozenset, set)):
        return ", ".join(cell_text(item) for item in value)
    return str(value)


def shorten(items: Sequence[str], limit: int = 6) -> str:
    """``a, b, c … and 4 more``: long object lists stay one readable line."""
    shown = ", ".join(items[:limit])
    return shown + (f" … and {len(items) - limit} more" if len(items) > limit else "")


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    limit: int | None = None,
    empty: str = "Nothing to show.",
    nowrap: Collection[int] = (),
) -> str:
    """An HTML table; numbers right-aligned; beyond ``limit`` rows a line says how many were left out.

    ``nowrap``: indexes of columns whose cells never wrap (codes and ids read badly broken at hyphens).
    """
    all_rows = [list(row) for row in rows]
    for number, row in enumerate(all_rows, start=1):
        if len(row) != len(headers):
            raise ValueError(f"row {number} has {len(row)} cells for {len(headers)} headers")
    if not all_rows:
        return f"<p><em>{html.escape(empty)}</em></p>"
    shown = all_rows if limit is None or limit <= 0 else all_rows[:limit]
    head = "".join(f'<th style="{_HEAD_STYLE}">{html.escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(_td(value, index in nowrap) for index, value in enumerate(row)) + "</tr>" for row in shown
    )
    table = f'<table style="{_TABLE_STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    if len(shown) < len(all_rows):
        table += f"<p><em>First {len(shown)} of {len(all_rows)} rows shown.</em></p>"
    return table


def key_value_table(pairs: Mapping[str, Cell]) -> str:
    """A two-column table of labels and values (what was checked, with what)."""
    rows = [
        f'<tr><th style="{_HEAD_STYLE};border-bottom:1px solid #ddd">{html.escape(key)}</th>{_td(value)}</tr>'
        for key, value in pairs.items()
    ]
    return f'<table style="{_TABLE_STYLE}"><tbody>{"".join(rows)}</tbody></table>'


def banner(headline: str, detail: str = "", *, tone: str = "info") -> str:
    """A coloured box with a bold headline: the one line a reviewer must not miss."""
    background, colour = _TONES[tone]
    text = f"<strong>{html.escape(headline)}</strong>"
    if detail:
        text += f"<br>{html.escape(detail)}"
    return (
        f'<div style="background:{background};color:{colour};border-left:6px solid {colour};'
        f'padding:10px 14px;margin:0.6em 0 1em 0;font-size:1.05em">{text}</div>'
    )


def counts_line(counts: Mapping[str, int], order: Sequence[str] | None = None) -> str:
    """``12 migrate, 5 skip, 13 blocked`` in a given order, zero counts included when ordered."""
    keys = list(order) if order is not None else sorted(counts)
    return ", ".join(f"{counts.get(key, 0)} {key}" for key in keys)


def show_html(text: str) -> None:
    """Display HTML in the running notebook."""
    from IPython import display  # late: only meaningful inside a kernel

    untyped: Any = display  # IPython is untyped
    untyped.display(untyped.HTML(text))


def _td(value: Cell, nowrap: bool = False) -> str:
    style = _NUMBER_STYLE if isinstance(value, (int, float)) and not isinstance(value, bool) else _CELL_STYLE
    if nowrap:
        style += ";white-space:nowrap"
    return f'<td style="{style}">{html.escape(cell_text(value))}</td>'
