"""The resume rule shared by the CLI and the runbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from m365move.domain.orders import MigrationMode
from m365move.errors import InputError, JournalError
from m365move.execution.journal import Journal
from m365move.execution.results_file import write_results
from m365move.execution.resume import find_resume_target


def finished_run(journal: Journal, folder: Path, mode: MigrationMode) -> tuple[str, Path]:
    run_id = journal.start_run(mode, False, {"mode": mode.value})
    rows = [{"run_id": run_id, "subscription_id": sub, "mode": mode.value, "decision": "migrate",
             "final_status": status, "orders": "", "new_subscription_ids": "", "reasons": ""}
            for sub, status in (("1", "migrated"), ("2", "partially-migrated"), ("3", "skipped"), ("4", "blocked"))]
    path = folder / f"{run_id}.csv"
    write_results(path, rows)
    journal.record_results(run_id, rows)
    return run_id, path


class TestFindResumeTarget:
    def test_file_and_id_name_the_same_unfinished_subscriptions(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "j.sqlite")
        run_id, path = finished_run(journal, tmp_path, MigrationMode.SWITCH_PLAN)
        by_file, by_id = find_resume_target(journal, str(path)), find_resume_target(journal, run_id)
        assert by_file == by_id
        assert (by_file.mode, by_file.subscription_ids) == (MigrationMode.SWITCH_PLAN, frozenset({"2", "4"}))

    def test_a_run_killed_before_its_results_is_taken_up_whole(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "j.sqlite")
        run_id = journal.start_run(MigrationMode.NEW_SUBSCRIPTION, False, {"mode": "new-subscription"})
        assert find_resume_target(journal, run_id).subscription_ids is None

    def test_a_file_whose_mode_differs_from_its_run(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "j.sqlite")
        _, path = finished_run(journal, tmp_path, MigrationMode.NEW_SUBSCRIPTION)
        path.write_text(path.read_text().replace("new-subscription", "switch-plan"))
        with pytest.raises(InputError, match="differs from the journal|was new-subscription"):
            find_resume_target(journal, str(path))

    def test_an_unknown_run(self, tmp_path: Path) -> None:
        with pytest.raises(JournalError, match="not in the journal"):
            find_resume_target(Journal(tmp_path / "j.sqlite"), "20990101T000000Z-abcdef")
