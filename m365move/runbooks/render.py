"""The HTML report of a run: outputs kept, code and prompts hidden, papermill's injected cell removed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from m365move.errors import InputError
from m365move.files.atomic_files import write_text_atomically
from m365move.runbooks.cells import INJECTED_PARAMETERS_TAG, markdown_cell, read_notebook_file
from m365move.runbooks.report_header import report_header

# nbconvert is untyped: typed handles keep mypy's untyped-call checks meaningful elsewhere.
_html_exporter: Callable[..., Any] = HTMLExporter
_tag_remover: Callable[..., Any] = TagRemovePreprocessor

# nbconvert's lab template less its remote scripts (require.js, MathJax, mermaid, widgets): a sealed report renders
# the same offline, and opening it fetches nothing.
OFFLINE_TEMPLATE = "m365move-offline"
_TEMPLATES = Path(__file__).parent / "report_template"
REPORT_NAME = "report.html"
REPORT_WITH_CODE_NAME = "report-with-code.html"


def render_report(run_dir: Path, *, show_code: bool = False) -> Path:
    """Write the run's report next to its executed notebook and return its path.

    The report with code goes to its own file so the code-free one, the one to share, stays as it is.
    """
    executed = run_dir / "executed.ipynb"
    if not executed.is_file():
        raise InputError("no executed.ipynb here: not a run folder", where=str(run_dir))
    notebook = read_notebook_file(executed)
    notebook.cells.insert(0, markdown_cell(_run_header(run_dir)))
    body = notebook_to_html(notebook, show_code=show_code)
    target = run_dir / (REPORT_WITH_CODE_NAME if show_code else REPORT_NAME)
    write_text_atomically(target, body)
    return target


def notebook_to_html(notebook: nbformat.NotebookNode, *, show_code: bool = False) -> str:
    """nbconvert's lab template (nothing loaded from the network), minus the injected parameters cell, code
    optional, prompts off."""
    # The injected cell repeats parameters.json in code form; it says nothing a reader of the report needs.
    remover = _tag_remover(remove_cell_tags={INJECTED_PARAMETERS_TAG}, enabled=True)
    exporter = _html_exporter(
        template_name=OFFLINE_TEMPLATE,
        extra_template_basedirs=[str(_TEMPLATES)],
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(remover, enabled=True)
    body, _ = exporter.from_notebook_node(notebook)
    return str(body)


def _run_header(run_dir: Path) -> str:
    """The sign-off header (see report_header), read from the run's JSON files."""
    run = _read_json(run_dir / "run.json") or {}
    parameters = _read_json(run_dir / "parameters.json") or {}
    return report_header(run if isinstance(run, dict) else {}, parameters if isinstance(parameters, dict) else {},
                         run_dir.name)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
