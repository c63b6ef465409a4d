"""Runbook runs and CLI runs share one workspace journal by default: `runs list` and `audit` see both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from m365move.cli import main
from m365move.files.workspace import WORKSPACE_ENV
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import sandbox_on, use_credentials, write_estate


@pytest.fixture
def operator_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder an operator works in: no workspace given anywhere, no M365MOVE_WORKSPACE."""
    folder = tmp_path / "ops"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv(WORKSPACE_ENV, raising=False)
    monkeypatch.delenv("M365MOVE_JOURNAL_URL", raising=False)
    use_credentials(monkeypatch)
    return folder


def _estate(folder: Path) -> Path:
    builder = standard()
    builder.subscription("3000001", resources=[(BASE, 12), (ADDON, 3)])
    builder.subscription("3000002", resources=[(BASE, 5)])
    return write_estate(folder, builder.doc)


def _runs(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["runs", *extra, "list", "--format", "json"]) == 0
    runs: list[dict[str, object]] = json.loads(capsys.readouterr().out)["runs"]
    return runs


@pytest.mark.slow
def test_a_runbook_run_then_runs_list_and_audit_show_it_beside_a_cli_run(
        operator_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    estate = _estate(operator_folder)
    with sandbox_on(estate) as server:
        assert main(["runbook", "run", "switch_plan_migration", "-q", "-p", "commerce_url", server.url,
                     "-p", "estate", str(estate)]) == 0
        assert main(["migrate", "--mode", "switch-plan", "--estate", str(estate), "--commerce-url", server.url]) == 0
    journal = operator_folder / "m365move-work" / "journal.sqlite"
    assert journal.is_file()
    run_folder = next((operator_folder / "runs").iterdir())
    assert json.loads((run_folder / "parameters.json").read_text())["workspace"] == str(journal.parent.resolve())
    runbook_run = json.loads((run_folder / "result.json").read_text())["run_id"]

    runs = _runs(capsys)
    assert len(runs) == 2 and runs[0]["run_id"] == runbook_run  # the runbook's run, then the CLI's
    assert {r["mode"] for r in runs} == {"switch-plan"}

    capsys.readouterr()
    assert main(["audit", "--format", "json"]) == 0  # no --journal: the shared workspace's
    audited = json.loads(capsys.readouterr().out)
    assert {str(r["run_id"]) for r in runs} <= set(json.dumps(audited).replace('"', " ").split())


def test_a_workspace_from_the_environment_is_the_default_everywhere(
        operator_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    shared = operator_folder.parent / "shared-work"
    monkeypatch.setenv(WORKSPACE_ENV, str(shared))
    estate = _estate(operator_folder)
    with sandbox_on(estate) as server:
        assert main(["migrate", "--mode", "switch-plan", "--estate", str(estate), "--commerce-url", server.url]) == 0
    assert (shared / "journal.sqlite").is_file() and not (operator_folder / "m365move-work").exists()
    assert len(_runs(capsys)) == 1


def test_reading_the_default_workspace_creates_nothing(operator_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "list"]) == 0  # "no runs yet"
    assert main(["audit"]) == 2  # nothing to audit: said in one line, no journal made
    assert not (operator_folder / "m365move-work").exists()
