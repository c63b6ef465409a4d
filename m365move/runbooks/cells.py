"""Reading cells of a notebook: tags, the ``parameters`` cell, and a short human name for each step."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

PARAMETERS_TAG = "parameters"
INJECTED_PARAMETERS_TAG = "injected-parameters"  # papermill's tag for the cell it adds after ours
LABEL_WIDTH = 60

Cell = Mapping[str, Any]

# nbformat is untyped; these typed handles keep the untyped calls in one place.
_read: Callable[..., nbformat.NotebookNode] = nbformat.read
_writes: Callable[..., str] = nbformat.writes
_new_markdown_cell: Callable[[str], nbformat.NotebookNode] = nbformat.v4.new_markdown_cell


def read_notebook_file(path: Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4 (errors as nbformat raises them)."""
    return _read(str(path), as_version=4)


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    return _writes(notebook)


def markdown_cell(text: str) -> nbformat.NotebookNode:
    return _new_markdown_cell(text)


def source_of(cell: Cell) -> str:
    """A cell's source as one string (nbformat allows a list of lines on disk)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def tags_of(cell: Cell) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def is_step(cell: Cell) -> bool:
    """Whether the kernel runs this cell: nbclient skips markdown and empty code cells."""
    return cell.get("cell_type") == "code" and bool(source_of(cell).strip())


def cells_tagged(cells: Sequence[Cell], tag: str) -> list[int]:
    return [index for index, cell in enumerate(cells) if tag in tags_of(cell)]


def step_label(cell: Cell) -> str:
    """A short name for progress lines and failure summaries.

    The parameters cells are named by their tag; otherwise a leading ``# comment`` names the cell
    (runbook authors are asked to open each cell with one), else its first line.
    """
    tags = tags_of(cell)
    for tag in (INJECTED_PARAMETERS_TAG, PARAMETERS_TAG):
        if tag in tags:
            return tag
    for line in source_of(cell).splitlines():
        text = line.strip()
        if not text:
            continue
        label = text.lstrip("#").strip() if text.startswith("#") else text
        return label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "…"
    return "(empty cell)"
