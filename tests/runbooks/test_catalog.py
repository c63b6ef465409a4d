"""Finding runbooks and what they say about themselves."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from m365move.errors import InputError
from m365move.runbooks.catalog import NOTEBOOKS_DIR_ENV, find_runbook, list_runbooks, notebooks_dir, title_and_purpose
from m365move.runbooks.cells import step_label


class TestCatalog:
    def test_lists_every_fixture_with_title_purpose_and_mode(self, fixtures_dir: Path) -> None:
        runbooks = {runbook.name: runbook for runbook in list_runbooks(fixtures_dir)}
        assert set(runbooks) == {"demo_ok", "demo_fail", "demo_sleep", "demo_dies", "demo_mutating"}
        ok = runbooks["demo_ok"]
        assert ok.title == "Demo: a passing runbook"
        assert ok.purpose == "Records a result built from its parameters; the runner's tests run it."
        assert ok.mode == "read-only"
        assert runbooks["demo_mutating"].mutating
        assert "confirm=" in runbooks["demo_mutating"].confirm

    def test_the_environment_variable_chooses_the_folder(
        self, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(NOTEBOOKS_DIR_ENV, str(fixtures_dir))
        assert notebooks_dir() == fixtures_dir
        assert find_runbook("demo_ok").path == fixtures_dir / "demo_ok.ipynb"
        assert notebooks_dir("elsewhere") == Path("elsewhere")  # the argument wins

    def test_an_unknown_runbook_names_the_known_ones(self, fixtures_dir: Path) -> None:
        with pytest.raises(InputError, match="no runbook named 'nope'.*demo_fail, demo_mutating"):
            find_runbook("nope", fixtures_dir)

    def test_purpose_is_the_first_paragraph_after_the_heading_even_in_the_next_cell(self) -> None:
        cells = [
            nbformat.v4.new_markdown_cell("Intro before any heading.\n\n## The title ##"),
            nbformat.v4.new_markdown_cell("First line of the purpose\ncontinued here.\n\nNot this."),
        ]
        assert title_and_purpose(cells) == ("The title", "First line of the purpose continued here.")


class TestStepLabels:
    @pytest.mark.parametrize(
        ("source", "tags", "label"),
        [
            ("# Load the estate\nx = 1", [], "Load the estate"),
            ("\nx = compute()\n# later comment", [], "x = compute()"),
            ("a: int = 1", ["parameters"], "parameters"),
            ("# Parameters\na = 2", ["injected-parameters"], "injected-parameters"),
            ("# " + "x" * 80, [], "x" * 59 + "…"),
        ],
    )
    def test_label(self, source: str, tags: list[str], label: str) -> None:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = tags
        assert step_label(cell) == label
