"""The migration runbooks' shared steps: the confirmation gate, resume look-ups, counts and result paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.estate import Estate
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection, plan_migration
from m365move.errors import InputError
from m365move.estate.loader import build_estate, parse_estate_document
from m365move.execution.journal import Journal
from m365move.execution.migration_run import RunReport
from m365move.execution.results_file import write_results
from m365move.runbooks.migration_steps import (
    JOURNAL_ENV,
    confirmation_refusal,
    journal_location,
    path_for_result,
    result_rows,
    results_overview,
    resume_target,
    status_counts,
    subscriptions_to_migrate,
)


@pytest.fixture(scope="module")
def estate() -> Estate:
    document = parse_estate_document(generate_estate(EstateSize.for_subscriptions(30), seed=1), "generated")
    return build_estate(document, "generated")


class TestConfirmation:
    @pytest.mark.parametrize(("execute", "confirm", "count", "refused"), [
        (False, None, 7, False),  # a dry run places nothing: always allowed
        (False, 3, 7, False),
        (True, 7, 7, False),
        (True, 0, 0, False),
        (True, None, 7, True),
        (True, 6, 7, True),
        (True, 8, 7, True),
    ])
    def test_execution_needs_the_exact_count(self, execute: bool, confirm: int | None, count: int, refused: bool) -> None:
        assert (confirmation_refusal(execute, confirm, count) is not None) == refused

    def test_the_refusal_says_nothing_was_placed_and_the_count_to_give(self) -> None:
        message = confirmation_refusal(True, 6, 7)
        assert message is not None and "nothing was placed" in message and "confirm=7" in message


class TestCounting:
    def test_with_an_empty_journal_it_is_the_plans_migrate_count(self, estate: Estate, tmp_path: Path) -> None:
        plan = plan_migration(estate, MigrationMode.SWITCH_PLAN)
        journal = Journal(tmp_path / "journal.sqlite")
        assert subscriptions_to_migrate(plan, journal, Selection()) == [s.subscription_id for s in plan.migrating()]

    def test_every_status_is_counted_zeros_included(self) -> None:
        counts = status_counts({"migrated": 3})
        assert counts["migrated"] == 3 and counts["failed"] == 0 and len(counts) == 6


class TestResume:
    def _run(self, journal: Journal, tmp_path: Path, mode: MigrationMode) -> tuple[str, Path]:
        run_id = journal.start_run(mode, False, {"mode": mode.value, "estate": "/e.yaml"})
        rows = [
            {"run_id": run_id, "subscription_id": sub, "mode": mode.value, "decision": "migrate",
             "final_status": status, "orders": "", "new_subscription_ids": "", "reasons": ""}
            for sub, status in (("1", "migrated"), ("2", "failed"), ("3", "pending"))
        ]
        path = tmp_path / f"{run_id}.csv"
        write_results(path, rows)
        journal.record_results(run_id, rows)
        return run_id, path

    def test_by_file_or_id_it_takes_the_unfinished_subscriptions(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        run_id, path = self._run(journal, tmp_path, MigrationMode.NEW_SUBSCRIPTION)
        for source in (str(path), run_id):
            target = resume_target(journal, source, MigrationMode.NEW_SUBSCRIPTION)
            assert target.run_id == run_id and target.subscription_ids == frozenset({"2", "3"})
            assert target.parameters["estate"] == "/e.yaml"

    def test_another_modes_run_is_refused(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        run_id, _ = self._run(journal, tmp_path, MigrationMode.SWITCH_PLAN)
        with pytest.raises(InputError, match="is a switch-plan run"):
            resume_target(journal, run_id, MigrationMode.NEW_SUBSCRIPTION)

    def test_an_edited_results_file_is_refused(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        _, path = self._run(journal, tmp_path, MigrationMode.NEW_SUBSCRIPTION)
        path.write_text(path.read_text().replace("failed", "migrated"))
        with pytest.raises(InputError, match="differs from the journal"):
            resume_target(journal, str(path), MigrationMode.NEW_SUBSCRIPTION)

    def test_an_unknown_run_names_the_journal_to_use(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        with pytest.raises(InputError, match="not in the journal") as caught:
            resume_target(journal, "20260101T000000Z-abcdef", MigrationMode.SWITCH_PLAN)
        assert caught.value.hint is not None and "workspace" in caught.value.hint


class TestFilesAndReport:
    def test_a_path_inside_the_run_folder_is_relative(self, tmp_path: Path) -> None:
        assert path_for_result(tmp_path / "w" / "r.csv", tmp_path) == "w/r.csv"
        outside = tmp_path.parent / "elsewhere.csv"
        assert path_for_result(outside, tmp_path) == str(outside.resolve())

    def test_the_journal_env_variable_wins(self, tmp_path: Path) -> None:
        assert journal_location(tmp_path, {}) == str(tmp_path / "journal.sqlite")
        assert journal_location(tmp_path, {JOURNAL_ENV: "postgresql://db/j"}) == "postgresql://db/j"

    def test_result_rows_put_what_needs_attention_first(self, tmp_path: Path) -> None:
        journal = Journal(tmp_path / "journal.sqlite")
        _, path = TestResume()._run(journal, tmp_path, MigrationMode.NEW_SUBSCRIPTION)
        assert [row[2] for row in result_rows(path)] == ["failed", "pending", "migrated"]

    def test_an_unfinished_run_says_how_to_resume(self) -> None:
        report = RunReport("run-1", Path("w/results/run-1.csv"), {"migrated": 2, "failed": 1}, False, False)
        text = results_overview(report, "w/results/run-1.csv", "w")
        assert "1 subscription(s) unfinished" in text and "resume_from=w/results/run-1.csv" in text

    def test_a_dry_run_says_nothing_was_placed(self) -> None:
        report = RunReport("run-1", Path("r.csv"), {"pending": 2}, False, True)
        assert "Dry run: nothing was placed" in results_overview(report, "r.csv", "w")
