"""End to end: a run folder's contents, failures, timeouts, a dead kernel, and no secret on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from m365move import cli
from m365move.bundle import verify_folder
from m365move.runbooks.outcome import RunOutcome, RunStatus
from m365move.runbooks.render import render_report
from m365move.runbooks.runner import run_runbook

pytestmark = pytest.mark.slow


def cell_id(notebook_path: Path, tag: str) -> str:
    cells = json.loads(notebook_path.read_text())["cells"]
    return next(cell["id"] for cell in cells if tag in cell["metadata"].get("tags", []))


class TestPassingRun:
    def test_the_run_folder_holds_every_file(self, ok_run: tuple[RunOutcome, list[str]]) -> None:
        outcome, _ = ok_run
        assert outcome.status is RunStatus.OK and outcome.exit_code == 0
        names = {path.name for path in outcome.run_dir.iterdir()}
        assert {"input.ipynb", "executed.ipynb", "report.html", "result.json", "parameters.json", "run.json"} <= names

    def test_the_run_folder_ends_sealed_and_its_report_shows_the_manifest_hash(
        self, ok_run: tuple[RunOutcome, list[str]]
    ) -> None:
        outcome, _ = ok_run
        verification = verify_folder(outcome.run_dir, environ={})
        assert verification.intact, [p.line() for p in verification.problems]
        manifest = json.loads((outcome.run_dir / "manifest.json").read_text())
        assert manifest["kind"] == "runbook demo_ok" and manifest["parameters"]["subscription_id"] == "0012"
        assert {"report.html", "run.json", "result.json", "executed.ipynb"} <= {f["path"] for f in manifest["files"]}
        assert verification.manifest_hash in outcome.report.read_text()

    def test_input_is_the_runbook_as_it_was(self, ok_run: tuple[RunOutcome, list[str]], fixtures_dir: Path) -> None:
        outcome, _ = ok_run
        assert outcome.input_notebook.read_bytes() == (fixtures_dir / "demo_ok.ipynb").read_bytes()

    def test_result_json_is_the_recorded_result(self, ok_run: tuple[RunOutcome, list[str]]) -> None:
        outcome, _ = ok_run
        recorded = json.loads((outcome.run_dir / "result.json").read_text())
        assert recorded == outcome.result
        assert recorded["items"] == ["0012-0", "0012-1", "0012-2"]
        assert recorded["subscription_id"] == "0012"  # an id stays a string all the way through

    def test_parameters_json_has_every_value_typed(self, ok_run: tuple[RunOutcome, list[str]]) -> None:
        outcome, _ = ok_run
        assert json.loads((outcome.run_dir / "parameters.json").read_text()) == {
            "subscription_id": "0012",
            "count": 3,
            "ratio": 0.5,
            "verbose": False,
            "note": None,
        }

    def test_executed_notebook_carries_relative_paths_only(self, ok_run: tuple[RunOutcome, list[str]]) -> None:
        outcome, _ = ok_run
        text = outcome.executed_notebook.read_text()
        metadata = json.loads(text)["metadata"]["papermill"]
        assert (metadata["input_path"], metadata["output_path"]) == ("input.ipynb", "executed.ipynb")
        assert str(outcome.run_dir.resolve()) not in text
        assert "wrote artifact.txt" in text  # the cell printed an absolute path inside the run folder

    def test_progress_names_each_step(self, ok_run: tuple[RunOutcome, list[str]]) -> None:
        _, steps = ok_run
        assert steps[0] == "[1/6] parameters"
        assert steps[1] == "[2/6] injected-parameters"
        assert steps[-1] == "[6/6] Record the result"

    def test_report_hides_code_and_the_injected_cell_but_keeps_outputs(
        self, ok_run: tuple[RunOutcome, list[str]]
    ) -> None:
        outcome, _ = ok_run
        report = outcome.report.read_text()
        assert "items: 0012-0, 0012-1, 0012-2" in report
        assert "class Parameters" not in report and "msgspec" not in report
        assert f"cell-id={cell_id(outcome.executed_notebook, 'injected-parameters')}" not in report
        assert "In&nbsp;[" not in report  # no prompts

    def test_render_show_code_shows_code_but_still_not_the_injected_cell(
        self, ok_run: tuple[RunOutcome, list[str]]
    ) -> None:
        outcome, _ = ok_run
        report = render_report(outcome.run_dir, show_code=True).read_text()
        assert "msgspec" in report
        assert f"cell-id={cell_id(outcome.executed_notebook, 'parameters')}" in report
        assert f"cell-id={cell_id(outcome.executed_notebook, 'injected-parameters')}" not in report

    def test_the_secret_reaches_the_kernel_but_no_file(self, ok_run: tuple[RunOutcome, list[str]], secret: str) -> None:
        outcome, _ = ok_run
        assert outcome.result is not None and outcome.result["secret_present"] is True
        files = [path for path in outcome.run_dir.rglob("*") if path.is_file()]
        assert len(files) >= 7
        leaking = [path.name for path in files if secret.encode() in path.read_bytes()]
        assert leaking == []
        assert "M365MOVE_TEST_SECRET" not in os.environ  # the overlay was undone


class TestFailures:
    def test_a_failing_cell_names_the_cell_and_exception(self, tmp_path: Path, fixtures_dir: Path) -> None:
        outcome = run_runbook("demo_fail", {}, tmp_path / "run", notebooks_dir=fixtures_dir)
        assert outcome.status is RunStatus.CELL_ERROR and outcome.exit_code == 3
        assert outcome.failure is not None
        assert (outcome.failure.step, outcome.failure.label) == (4, "Divide by the divisor")
        assert outcome.failure.exception == "ZeroDivisionError"
        summary = outcome.summary()
        assert "cell error in step [4/5] 'Divide by the divisor'" in summary
        assert "ZeroDivisionError: division by zero" in summary
        assert str(tmp_path / "run" / "executed.ipynb") in summary
        run = json.loads((outcome.run_dir / "run.json").read_text())
        assert run["status"] == "cell_error" and run["failure"]["cell"] == "Divide by the divisor"
        assert json.loads((outcome.run_dir / "result.json").read_text()) is None
        assert outcome.report.is_file()

    def test_a_cell_past_its_timeout_is_a_timeout(self, tmp_path: Path, fixtures_dir: Path) -> None:
        outcome = run_runbook(
            "demo_sleep", {"seconds": "20"}, tmp_path / "run", notebooks_dir=fixtures_dir, cell_timeout=1
        )
        assert outcome.status is RunStatus.TIMEOUT and outcome.exit_code == 4
        assert outcome.failure is not None and outcome.failure.label == "Sleep"
        assert outcome.failure.exception == "CellTimeoutError"
        assert outcome.timings["total"] < 15  # it did not wait for the sleep to end
        assert outcome.executed_notebook.is_file()

    def test_a_dead_kernel_is_reported_as_such(self, tmp_path: Path, fixtures_dir: Path) -> None:
        outcome = run_runbook("demo_dies", {}, tmp_path / "run", notebooks_dir=fixtures_dir)
        assert outcome.status is RunStatus.DEAD_KERNEL and outcome.exit_code == 5
        assert outcome.failure is not None and outcome.failure.label == "Kill the kernel"


class TestCliRun:
    def test_run_through_the_cli(
        self,
        tmp_path: Path,
        fixtures_dir: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Default folder runs/<name>-<timestamp>/, progress on stderr, the failure summary, exit 3."""
        monkeypatch.chdir(tmp_path)
        assert (
            cli.main(["runbook", "--notebooks-dir", str(fixtures_dir), "run", "demo_fail", "-p", "divisor", "0"]) == 3
        )
        err = capsys.readouterr().err
        assert "[3/5] Prepare the numerator" in err
        assert "cell error in step [4/5] 'Divide by the divisor'" in err
        (run_dir,) = (tmp_path / "runs").iterdir()
        assert run_dir.name.startswith("demo_fail-") and run_dir.name.endswith("Z")
        assert f"executed notebook: runs/{run_dir.name}/executed.ipynb" in err

        assert cli.main(["runbook", "render", str(run_dir), "--show-code"]) == 0
        assert (run_dir / "report-with-code.html").is_file()
