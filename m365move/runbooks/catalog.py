"""Finding runbooks and reading what they say about themselves: title, purpose, read-only or mutating.

The notebooks folder is, in order: the ``notebooks_dir`` argument, ``$M365MOVE_NOTEBOOKS_DIR``, or
``notebooks/`` next to the ``m365move`` package (the repository layout).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from m365move.errors import InputError
from m365move.runbooks.cells import PARAMETERS_TAG, cells_tagged, read_notebook_file, source_of
from m365move.runbooks.parameters import ParameterError, ParametersCell, parse_parameters_cell

NOTEBOOKS_DIR_ENV = "M365MOVE_NOTEBOOKS_DIR"
KERNEL_NAME = "python3"  # the only kernelspec runbooks may name; the runner starts it
METADATA_KEY = "m365move"
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


def notebooks_dir(override: Path | str | None = None) -> Path:
    """The folder holding the runbooks (see the module docstring for the order)."""
    if override is not None:
        return Path(override)
    from_env = os.environ.get(NOTEBOOKS_DIR_ENV)
    if from_env:
        return Path(from_env)
    return Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class Runbook:
    """One notebook of the notebooks folder, as ``list`` and ``show`` describe it."""

    name: str
    path: Path
    title: str
    purpose: str
    mutating: bool
    confirm: str

    @property
    def mode(self) -> str:
        return "mutating" if self.mutating else "read-only"

    def read(self) -> nbformat.NotebookNode:
        return read_notebook(self.path)

    def parameters_cell(self) -> ParametersCell:
        """The parsed ``parameters`` cell; an unreadable one is a ParameterError naming its lines."""
        notebook = self.read()
        indexes = cells_tagged(notebook.cells, PARAMETERS_TAG)
        if len(indexes) != 1:
            raise InputError(
                f"expected one cell tagged {PARAMETERS_TAG!r}, found {len(indexes)}",
                where=str(self.path),
                hint="run `m365move runbook check`",
            )
        cell = parse_parameters_cell(source_of(notebook.cells[indexes[0]]))
        if cell.problems:
            raise ParameterError(
                [f"line {problem.line}: {problem.message}" for problem in cell.problems],
                where=f"{self.path} (cell {indexes[0] + 1}, tagged {PARAMETERS_TAG!r})",
                hint="run `m365move runbook check`",
            )
        return cell


def read_notebook(path: Path) -> nbformat.NotebookNode:
    try:
        return read_notebook_file(path)
    except OSError as error:
        raise InputError(f"cannot read the notebook: {error.strerror}", where=str(path)) from error
    except Exception as error:  # nbformat raises plain ValueError/JSON errors for a damaged file
        raise InputError(f"not a readable notebook: {error}", where=str(path)) from error


def describe(path: Path, notebook: nbformat.NotebookNode) -> Runbook:
    """Title, purpose and mode of one notebook (missing pieces are empty, ``check`` reports them)."""
    title, purpose = title_and_purpose(notebook.cells)
    declared: Any = notebook.metadata.get(METADATA_KEY, {})
    declared = declared if isinstance(declared, dict) else {}
    return Runbook(
        name=path.stem,
        path=path,
        title=title,
        purpose=purpose,
        mutating=declared.get("mutating") is True,
        confirm=str(declared.get("confirm", "")),
    )


def title_and_purpose(cells: list[Any]) -> tuple[str, str]:
    """The first markdown heading, and the first paragraph after it joined into one line."""
    title = ""
    paragraph: list[str] = []
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        for line in source_of(cell).splitlines():
            heading = _HEADING.match(line)
            if not title:
                if heading:
                    title = heading.group("title")
                continue
            if heading or (not line.strip() and paragraph):
                return title, " ".join(paragraph)
            if line.strip():
                paragraph.append(line.strip())
        if paragraph:  # a paragraph ends with its cell
            break
    return title, " ".join(paragraph)


def list_runbooks(directory: Path | str | None = None) -> list[Runbook]:
    """Every ``*.ipynb`` of the notebooks folder, by name."""
    folder = notebooks_dir(directory)
    if not folder.is_dir():
        raise InputError(
            "the notebooks folder does not exist",
            where=str(folder),
            hint=f"pass --notebooks-dir or set ${NOTEBOOKS_DIR_ENV}",
        )
    return [describe(path, read_notebook(path)) for path in sorted(folder.glob("*.ipynb"))]


def find_runbook(name: str, directory: Path | str | None = None) -> Runbook:
    """The runbook called ``name`` (file name without ``.ipynb``); InputError lists the known ones."""
    folder = notebooks_dir(directory)
    path = folder / f"{name.removesuffix('.ipynb')}.ipynb"
    if "/" in name or not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.ipynb"))) or "none"
        raise InputError(f"no runbook named {name!r}", where=str(folder), hint=f"known runbooks: {known}")
    return describe(path, read_notebook(path))
