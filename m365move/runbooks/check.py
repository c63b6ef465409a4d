"""``runbook check``: every runbook follows the conventions the runner relies on.

Findings are returned, not raised, so one pass reports every problem of every notebook. Rules:

- the notebook is readable and its kernelspec is ``python3``;
- it has a title (a markdown heading) and its ``m365move`` metadata says ``mutating`` true or false;
- exactly one cell is tagged ``parameters``, each of its lines reads ``name: type = default  # help``;
- papermill's own inspection (``papermill --help-notebook``, ``papermill.inspect_notebook``) sees every
  parameter with the same type and default, so plain ``papermill -p`` runs work and are checked;
- no parameter looks like a secret (papermill writes parameters into the executed notebook);
- a mutating runbook declares ``execute: bool = False``, a ``confirm`` parameter and a ``confirm`` text;
- no outputs or execution counts are committed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from papermill.translators import PythonTranslator

from m365move.errors import InputError
from m365move.runbooks.catalog import KERNEL_NAME, METADATA_KEY, notebooks_dir, read_notebook, title_and_purpose
from m365move.runbooks.cells import PARAMETERS_TAG, cells_tagged, source_of
from m365move.runbooks.parameters import Parameter, parse_parameters_cell

# Matched against the underscore-separated words of a name, so `keyword` passes and `api_key` does not.
SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "secret", "token", "key", "apikey", "credential", "credentials", "passphrase"}
)
_SECRET_JOINED = re.compile(r"password|passwd|secret|token|apikey|api_key|credential", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """One broken rule: the notebook, where inside it (cell number, line) and what is wrong."""

    notebook: Path
    message: str
    cell: int | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = str(self.notebook)
        if self.cell is not None:
            where += f": cell {self.cell}"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where}: {self.message}"


def looks_secret(name: str) -> bool:
    """Whether a parameter name suggests a secret (password, token, api_key, client_secret, …)."""
    words = set(name.lower().split("_"))
    return bool(words & SECRET_WORDS) or bool(_SECRET_JOINED.search(name))


def check_notebook(path: Path) -> list[Finding]:
    """Every rule of the module docstring, applied to one notebook."""
    try:
        notebook = read_notebook(path)
    except InputError as error:
        return [Finding(path, error.message)]
    findings: list[Finding] = []
    findings += _check_metadata(path, notebook)
    findings += _check_outputs(path, notebook)
    findings += _check_parameters(path, notebook)
    return findings


def check_all(directory: Path | str | None = None) -> list[Finding]:
    """Check every notebook of the notebooks folder; an empty list means all is well."""
    folder = notebooks_dir(directory)
    if not folder.is_dir():
        raise InputError("the notebooks folder does not exist", where=str(folder))
    return [finding for path in sorted(folder.glob("*.ipynb")) for finding in check_notebook(path)]


def _check_metadata(path: Path, notebook: nbformat.NotebookNode) -> list[Finding]:
    findings: list[Finding] = []
    kernel = notebook.metadata.get("kernelspec", {}).get("name")
    if kernel != KERNEL_NAME:
        findings.append(Finding(path, f"kernelspec is {kernel!r}, expected {KERNEL_NAME!r}"))
    title, purpose = title_and_purpose(notebook.cells)
    if not title:
        findings.append(Finding(path, "no markdown heading: the first heading is the runbook's title"))
    elif not purpose:
        findings.append(Finding(path, "no paragraph after the title: it is the runbook's one-line purpose"))
    declared = notebook.metadata.get(METADATA_KEY)
    if not isinstance(declared, dict) or not isinstance(declared.get("mutating"), bool):
        findings.append(Finding(path, f'metadata["{METADATA_KEY}"]["mutating"] must be true or false'))
    elif declared["mutating"] and not str(declared.get("confirm", "")).strip():
        findings.append(Finding(path, f'a mutating runbook needs metadata["{METADATA_KEY}"]["confirm"]'))
    return findings


def _check_outputs(path: Path, notebook: nbformat.NotebookNode) -> list[Finding]:
    findings: list[Finding] = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            findings.append(Finding(path, "outputs committed: clear them before committing", cell=number))
        elif cell.get("execution_count") is not None:
            findings.append(Finding(path, "execution count committed: clear outputs before committing", cell=number))
    return findings


def _check_parameters(path: Path, notebook: nbformat.NotebookNode) -> list[Finding]:
    indexes = cells_tagged(notebook.cells, PARAMETERS_TAG)
    if len(indexes) != 1:
        return [Finding(path, f"expected one cell tagged {PARAMETERS_TAG!r}, found {len(indexes)}")]
    number = indexes[0] + 1
    parsed = parse_parameters_cell(source_of(notebook.cells[indexes[0]]))
    findings = [Finding(path, problem.message, cell=number, line=problem.line) for problem in parsed.problems]
    for parameter in parsed.parameters:
        if not parameter.help:
            findings.append(
                Finding(path, f"{parameter.name} has no `# help` comment", cell=number, line=parameter.line)
            )
        if looks_secret(parameter.name):
            findings.append(
                Finding(
                    path,
                    f"{parameter.name} looks like a secret: read secrets from the environment, never parameters",
                    cell=number,
                    line=parameter.line,
                )
            )
    if not parsed.problems:  # a line we cannot read also misleads papermill: one finding for it is enough
        findings += _check_papermill_view(path, notebook.cells[indexes[0]], parsed.parameters, number)
    declared = notebook.metadata.get(METADATA_KEY)
    if isinstance(declared, dict) and declared.get("mutating") is True:
        by_name = parsed.by_name()
        execute = by_name.get("execute")
        if execute is None or execute.type.base != "bool" or execute.default is not False:
            findings.append(Finding(path, "a mutating runbook needs `execute: bool = False`", cell=number))
        if "confirm" not in by_name:
            findings.append(Finding(path, "a mutating runbook needs a `confirm` parameter", cell=number))
    return findings


def _papermill_type(parameter: Parameter) -> str:
    return f"Optional[{parameter.type.base}]" if parameter.type.optional else parameter.type.base


def _check_papermill_view(
    path: Path, cell: nbformat.NotebookNode, parameters: tuple[Parameter, ...], number: int
) -> list[Finding]:
    """What papermill's own inspection sees must be what the runner declares (name, type, default)."""
    # The same call papermill.inspect_notebook makes for a Python kernel, on the cell in hand.
    seen = {p.name: p for p in PythonTranslator.inspect(cell)}
    findings = []
    for parameter in parameters:
        found = seen.get(parameter.name)
        if found is None:
            findings.append(Finding(
                path, f"papermill does not see {parameter.name} (`papermill --help-notebook` skips it): write the "
                "type as `Optional[X]` (with `from typing import Optional`) and keep `=` out of the help text",
                cell=number, line=parameter.line))
            continue
        if found.inferred_type_name != _papermill_type(parameter):
            findings.append(Finding(
                path, f"papermill reads the type of {parameter.name} as {found.inferred_type_name!r}, "
                f"not {_papermill_type(parameter)!r}", cell=number, line=parameter.line))
        if _literal(found.default) != parameter.default:
            findings.append(Finding(
                path, f"papermill reads the default of {parameter.name} as {found.default!r}, not "
                f"{parameter.default!r}", cell=number, line=parameter.line))
    return findings


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return _UNREADABLE


_UNREADABLE = object()
