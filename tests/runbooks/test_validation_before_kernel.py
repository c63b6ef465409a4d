"""Bad parameters are refused before any kernel starts and before any run folder exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from m365move import cli
from m365move.runbooks import runner
from m365move.runbooks.parameters import ParameterError


@pytest.fixture(autouse=True)
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to execute a notebook fails the test."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("papermill was called: a kernel would have started")

    monkeypatch.setattr("papermill.execute_notebook", refuse)


CASES = [
    ({"subscription_id": "1", "colour": "red"}, "unknown parameter 'colour'"),
    ({"subscription_id": "1", "count": "three"}, "parameter 'count': expected int, got 'three'"),
    ({"subscription_id": "1", "verbose": "perhaps"}, "parameter 'verbose': expected bool"),
    ({"count": "3"}, "parameter 'subscription_id' (str) is required"),
]


class TestApi:
    @pytest.mark.parametrize(("params", "message"), CASES)
    def test_refused_with_the_parameter_named_and_no_folder(
        self, tmp_path: Path, fixtures_dir: Path, params: dict[str, object], message: str
    ) -> None:
        run_dir = tmp_path / "run"
        with pytest.raises(ParameterError) as caught:
            runner.run_runbook("demo_ok", params, run_dir, notebooks_dir=fixtures_dir)
        assert message in str(caught.value)
        assert not run_dir.exists()

    def test_a_mutating_runbook_needs_confirm_when_executing(self, tmp_path: Path, fixtures_dir: Path) -> None:
        with pytest.raises(ParameterError, match="'confirm' is required when execute is true"):
            runner.run_runbook("demo_mutating", {"execute": "true"}, tmp_path / "run", notebooks_dir=fixtures_dir)
        assert not (tmp_path / "run").exists()

    def test_ids_stay_strings_in_what_would_be_injected(self, fixtures_dir: Path) -> None:
        runbook = runner.find_runbook("demo_ok", fixtures_dir)
        assert runner.validate_parameters(runbook, {"subscription_id": "0012"})["subscription_id"] == "0012"

    def test_a_non_empty_output_folder_is_refused(self, tmp_path: Path, fixtures_dir: Path) -> None:
        (tmp_path / "left-over.txt").write_text("an earlier run")
        with pytest.raises(runner.InputError, match="not empty"):
            runner.run_runbook("demo_ok", {"subscription_id": "1"}, tmp_path, notebooks_dir=fixtures_dir)


class TestCli:
    @pytest.mark.parametrize(("params", "message"), CASES)
    def test_exit_status_2_and_no_runs_folder(
        self,
        tmp_path: Path,
        fixtures_dir: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        params: dict[str, str],
        message: str,
    ) -> None:
        monkeypatch.chdir(tmp_path)
        argv = ["runbook", "--notebooks-dir", str(fixtures_dir), "run", "demo_ok"]
        for key, value in params.items():
            argv += ["-p", key, value]
        assert cli.main(argv) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "runs").exists()

    def test_parameters_file_ids_stay_strings_and_p_overrides(
        self, tmp_path: Path, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """-f is read as text (0012 stays "0012"); -p overrides it."""
        seen: dict[str, object] = {}
        resolve = runner.resolve_parameters

        def spy(*args: Any, **kwargs: Any) -> dict[str, object]:
            seen.update(resolve(*args, **kwargs))
            raise runner.InputError("stop after validation")

        monkeypatch.setattr(runner, "resolve_parameters", spy)
        params_file = tmp_path / "params.yaml"
        params_file.write_text("subscription_id: 0012\ncount: 9\n")
        argv = ["runbook", "--notebooks-dir", str(fixtures_dir), "run", "demo_ok", "-f", str(params_file)]
        assert cli.main([*argv, "-p", "count", "4"]) == 2
        assert seen["subscription_id"] == "0012"
        assert seen["count"] == 4
