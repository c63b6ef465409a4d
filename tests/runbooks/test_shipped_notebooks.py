"""The runbooks shipped in notebooks/ pass `runbook check` and declare what the runner and reviewers rely on."""

from __future__ import annotations

import pytest

from m365move import cli
from m365move.runbooks.catalog import find_runbook, list_runbooks, notebooks_dir
from m365move.runbooks.check import check_all

NOTEBOOKS = notebooks_dir()
MUTATING = {"switch_plan_migration", "new_subscription_migration", "reconcile"}


def test_runbook_check_passes_on_notebooks(capsys: pytest.CaptureFixture[str]) -> None:
    """The command itself, over the repository's notebooks/ folder."""
    assert cli.main(["runbook", "--notebooks-dir", str(NOTEBOOKS), "check"]) == 0
    count = len(list(NOTEBOOKS.glob("*.ipynb")))
    assert count >= 5
    assert f"{count} runbook(s) checked: all good" in capsys.readouterr().out
    assert check_all(NOTEBOOKS) == []


def test_exactly_the_migration_and_reconcile_runbooks_are_mutating() -> None:
    assert {r.name for r in list_runbooks(NOTEBOOKS) if r.mutating} == MUTATING


@pytest.mark.parametrize("name", sorted(MUTATING))
def test_a_mutating_runbook_is_a_dry_run_by_default_and_takes_no_secret(name: str) -> None:
    parameters = find_runbook(name, NOTEBOOKS).parameters_cell().by_name()
    assert parameters["execute"].default is False and parameters["confirm"].default is None
    assert parameters["commerce_url"].required
    assert not {"password", "subscription_key", "user", "journal"} & set(parameters)
