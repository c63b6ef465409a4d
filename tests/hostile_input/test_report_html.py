"""The runbook report shows hostile parameters, run names and statuses as text: no markup gets through."""

from __future__ import annotations

import html
import json
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from m365move.runbooks.render import render_report
from m365move.text.markup_escaping import markdown_literal

XSS_PARAMETERS = {
    "customer": "1,`<img src=x onerror=alert(1)>`",
    "reseller": "</code><script>alert(2)</script>",
    "note": "**bold** [link](javascript:alert(3)) | pipe \\` ![i](x onerror=alert(4))",
    "<svg onload=alert(5)>": ["`", "<iframe srcdoc='<script>alert(6)</script>'>"],
    "lines": "a\n\n<img src=x onerror=alert(7)>\n",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _run_dir(tmp_path: Path, parameters: object, status: str) -> Path:
    run_dir = tmp_path / "20260301T090000Z-preflight"
    run_dir.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Preflight")])
    nbformat.write(notebook, str(run_dir / "executed.ipynb"))
    (run_dir / "parameters.json").write_text(json.dumps(parameters))
    (run_dir / "run.json").write_text(json.dumps({"status": status}))
    return run_dir


def _parsed(path: Path) -> _Tags:
    parser = _Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_hostile_parameters_are_shown_as_text(tmp_path: Path) -> None:
    plain = _parsed(render_report(_run_dir(tmp_path / "plain", {"customer": "1"}, "finished")))
    hostile = _parsed(render_report(_run_dir(tmp_path / "hostile", XSS_PARAMETERS, "<b onmouseover=alert(8)>x</b>")))
    # The template's own markup is the same with or without hostile values: nothing was added but the
    # parameter table's rows (one row, two cells and a <code> per parameter).
    rows = Counter({"tr": len(XSS_PARAMETERS) - 1, "td": 2 * (len(XSS_PARAMETERS) - 1), "code": len(XSS_PARAMETERS) - 1})
    assert Counter(tag for tag, _ in hostile.tags) == Counter(tag for tag, _ in plain.tags) + rows
    handlers = [(tag, name) for tag, attrs in hostile.tags for name in attrs if name.startswith("on")]
    assert handlers == [(tag, name) for tag, attrs in plain.tags for name in attrs if name.startswith("on")]
    text = "".join(hostile.text)
    for key, value in XSS_PARAMETERS.items():
        assert key in text and json.dumps(value, ensure_ascii=False) in text
    assert "<b onmouseover=alert(8)>x</b>" in text


@pytest.mark.parametrize("value", [*XSS_PARAMETERS, *map(str, XSS_PARAMETERS.values())])
def test_markdown_literal_leaves_no_markup_character(value: str) -> None:
    written = markdown_literal(value)
    assert not set(written) & set("<>`*_[]|\\!\n\r") and html.unescape(written) == value
