"""A sealed report renders the same with the network off: no file of a run folder loads anything remote.

nbconvert's lab template loads require.js and MathJax from a CDN when the page opens: a signed record that
changed with the network and rendered incompletely offline. Every file the run folder holds (the reports with
and without code, the notebooks) is searched for a remote load: a script or stylesheet source, a CSS
``url(...)`` or ``@import``, a module ``import()``. URLs written as text (an endpoint in the header, a link in a
CSS comment) load nothing and are allowed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from m365move.runbooks.render import render_report

_REMOTE_LOAD = re.compile(
    r"""(?:\b(?:src|href|data)\s*=\s*["']?\s*(?:https?:)?//)"""  # <script src=…>, <link href=…>, <object data=…>
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)"""  # CSS url(//…)
    r"""|(?:@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//)"""  # CSS @import
    r"""|(?:\bimport\(\s*["'](?:https?:)?//)""",  # a module loaded by script
    re.IGNORECASE,
)


def remote_loads(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".ipynb", ".json", ".css", ".js", ".svg"):
            text = path.read_text(encoding="utf-8", errors="replace")
            hits = [text[max(0, m.start() - 40):m.end() + 60] for m in _REMOTE_LOAD.finditer(text)]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def test_no_report_file_loads_anything_remote(ok_run: tuple[Any, list[str]]) -> None:
    outcome, _ = ok_run
    render_report(outcome.run_dir, show_code=True)  # the reviewer's version with code too
    assert (outcome.run_dir / "report.html").is_file()
    assert remote_loads(outcome.run_dir) == {}


def test_the_check_finds_what_nbconvert_loads_by_default(tmp_path: Path) -> None:
    """The search is not blind: the lab template's own script tags are remote loads."""
    (tmp_path / "page.html").write_text(
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>'
        '<style>/* see https://github.com/x */ @import url("https://fonts.example/css");</style>')
    found = remote_loads(tmp_path)["page.html"]
    assert len(found) == 2
