"""`runbook check`: each convention violation is found; a clean notebook and every fixture pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from m365move.runbooks.check import Finding, check_all, check_notebook, looks_secret

CLEAN_PARAMETERS = "subscription_id: str = None  # the subscription\ncount: int = 1  # how many\n"


def make_notebook(
    parameters: str | None = CLEAN_PARAMETERS,
    *,
    kernel: str = "python3",
    metadata: dict[str, object] | None = None,
    extra_cells: list[nbformat.NotebookNode] | None = None,
) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell("# A runbook\n\nDoes one thing.")]
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells.append(nbformat.v4.new_code_cell("# Validate\nassert count > 0"))
    cells += extra_cells or []
    return nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": kernel, "display_name": kernel, "language": "python"},
            "m365move": {"mutating": False} if metadata is None else metadata,
        },
    )


def findings_for(tmp_path: Path, notebook: nbformat.NotebookNode) -> list[Finding]:
    path = tmp_path / "runbook.ipynb"
    nbformat.write(notebook, str(path))
    return check_notebook(path)


def with_output() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("# Show\nprint(1)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    cell.execution_count = 3
    return cell


def second_parameters_cell() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("other: int = 1  # other")
    cell.metadata["tags"] = ["parameters"]
    return cell


class TestCheck:
    def test_a_clean_notebook_passes(self, tmp_path: Path) -> None:
        assert findings_for(tmp_path, make_notebook()) == []

    def test_every_fixture_passes(self, fixtures_dir: Path) -> None:
        assert check_all(fixtures_dir) == []

    @pytest.mark.parametrize(
        ("build", "expected"),
        [
            (lambda: make_notebook(None), "expected one cell tagged 'parameters', found 0"),
            (lambda: make_notebook(extra_cells=[second_parameters_cell()]), "found 2"),
            (lambda: make_notebook("count = 1  # untyped\n"), "expected `name: type = default  # help`"),
            (lambda: make_notebook("count: int = 1\n"), "count has no `# help` comment"),
            (lambda: make_notebook(kernel="python2"), "kernelspec is 'python2', expected 'python3'"),
            (lambda: make_notebook(extra_cells=[with_output()]), "outputs committed"),
            (lambda: make_notebook(CLEAN_PARAMETERS + "commerce_password: str = None  # no\n"), "looks like a secret"),
            (lambda: make_notebook(CLEAN_PARAMETERS + "api_key: str = ''  # no\n"), "api_key looks like a secret"),
            (lambda: make_notebook(metadata={}), '["m365move"]["mutating"] must be true or false'),
            (lambda: make_notebook(metadata={"mutating": True}), 'needs metadata["m365move"]["confirm"]'),
            (
                lambda: make_notebook(metadata={"mutating": True, "confirm": "confirm=N"}),
                "needs `execute: bool = False`",
            ),
        ],
    )
    def test_finds_the_violation(
        self, tmp_path: Path, build: Callable[[], nbformat.NotebookNode], expected: str
    ) -> None:
        findings = findings_for(tmp_path, build())
        assert any(expected in str(finding) for finding in findings), findings

    def test_a_bad_line_is_located_by_cell_and_line(self, tmp_path: Path) -> None:
        findings = findings_for(tmp_path, make_notebook(CLEAN_PARAMETERS + "oops\n"))
        assert [(finding.cell, finding.line) for finding in findings] == [(2, 3)]
        assert str(findings[0]).startswith(f"{tmp_path / 'runbook.ipynb'}: cell 2, line 3: ")

    def test_an_unreadable_file_is_a_finding_not_a_crash(self, tmp_path: Path) -> None:
        path = tmp_path / "broken.ipynb"
        path.write_text("{not json")
        assert "not a readable notebook" in check_notebook(path)[0].message

    def test_check_all_reports_every_notebook(self, tmp_path: Path) -> None:
        nbformat.write(make_notebook(kernel="ir"), str(tmp_path / "a.ipynb"))
        nbformat.write(make_notebook(None), str(tmp_path / "b.ipynb"))
        assert sorted(finding.notebook.name for finding in check_all(tmp_path)) == ["a.ipynb", "b.ipynb"]


class TestSecretNames:
    @pytest.mark.parametrize(
        "name", ["password", "commerce_password", "client_secret", "token", "access_token", "api_key", "key", "apikey"]
    )
    def test_secret_looking(self, name: str) -> None:
        assert looks_secret(name)

    @pytest.mark.parametrize("name", ["subscription_id", "keyword", "monkey", "tenant", "confirm", "execute"])
    def test_not_secret_looking(self, name: str) -> None:
        assert not looks_secret(name)
