"""Exit codes of a runbook run whose cells all ran: 6 and 7 from its recorded result, as the CLI commands exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from m365move.runbooks.outcome import Failure, RunOutcome, RunStatus, verdict_exit_code


class TestVerdictExitCodes:
    """A run whose cells all ran still exits 6 or 7 when its recorded result says so, as the CLI commands do."""

    @pytest.mark.parametrize(("result", "code"), [
        (None, 0),
        ({"executed": True, "final_status": {"migrated": 3, "failed": 0, "partially-migrated": 0}, "needs_attention": 0}, 0),
        ({"executed": True, "final_status": {"migrated": 2, "failed": 1}, "needs_attention": 1}, 6),
        ({"executed": True, "final_status": {"migrated": 2, "partially-migrated": 1}}, 6),
        ({"executed": True, "final_status": {"migrated": 2, "blocked": 1}, "needs_attention": 1}, 6),
        ({"executed": False, "final_status": {"pending": 3, "failed": 0}, "needs_attention": 2}, 0),
        ({"verdict": "not-ready", "findings": []}, 7),
        ({"verdict": "ready", "findings": []}, 0),
    ])
    def test_the_recorded_result_decides(self, result: dict[str, object] | None, code: int) -> None:
        assert verdict_exit_code(result) == code

    def test_a_failed_run_keeps_its_own_code(self, tmp_path: Path) -> None:
        failure = Failure(1, 2, "step", "cell-1", "ValueError", "boom")
        outcome = RunOutcome("x", RunStatus.CELL_ERROR, tmp_path, {}, {"verdict": "not-ready"}, failure)
        assert outcome.exit_code == 3

    def test_the_summary_says_why_it_is_not_zero(self, tmp_path: Path) -> None:
        outcome = RunOutcome("x", RunStatus.OK, tmp_path, {}, {"executed": True, "final_status": {"failed": 1}})
        assert outcome.exit_code == 6 and "(exit 6)" in outcome.summary()
