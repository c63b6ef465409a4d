"""A journal whose disk fills up mid-run: one clear error, the run marked interrupted, and resume completes it.

SQLite's ``max_page_count`` makes the journal refuse to grow exactly as a full disk does (SQLITE_FULL,
"database or disk is full").
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from m365move.cli import main
from m365move.execution import journal as journal_module
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import duplicate_keys, migrate_args, sandbox_on, state, use_credentials, write_estate


def test_full_journal_disk_then_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    use_credentials(monkeypatch)
    builder = standard()
    for n in range(30):
        builder.subscription(str(3000001 + n), resources=[(BASE, 1 + n), (ADDON, 1)])
    path, workspace = write_estate(tmp_path, builder.doc), tmp_path / "work"
    limit: dict[str, int] = {}
    pragmas = journal_module._sqlite_pragmas

    def with_limit(connection: Any, record: Any) -> None:
        pragmas(connection, record)
        if limit:
            connection.execute(f"PRAGMA max_page_count={limit['pages']}")

    monkeypatch.setattr(journal_module, "_sqlite_pragmas", with_limit)
    with sandbox_on(path) as server:
        assert main(migrate_args("new-subscription", path, server, workspace)) == 0  # dry run: journal exists
        with sqlite3.connect(workspace / "journal.sqlite") as connection:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
        limit["pages"] = pages + 4  # room for some intents, not for all of them and the results
        capsys.readouterr()
        assert main(migrate_args("new-subscription", path, server, workspace, "--execute")) == 1
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and "database or disk is full" in error[0] and "m365move resume" in error[0], error
        assert "Traceback" not in "\n".join(error)
        with sqlite3.connect(workspace / "journal.sqlite") as connection:
            run_id, status = connection.execute(
                "SELECT run_id, status FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        assert status == "interrupted"

        limit.clear()  # space freed
        assert main(["resume", run_id, "--execute", "--workspace", str(workspace), "--poll-interval", "0.02",
                     "--rate-limit", "0"]) == 0
        snapshot = state(server)
    assert duplicate_keys(snapshot) == []
    kinds = [o["type"] for o in snapshot["orders"]]
    assert (kinds.count("sales"), kinds.count("cancellation")) == (60, 30)
    newest = max((workspace / "results").glob("*.csv"), key=lambda p: p.stat().st_mtime_ns)
    with newest.open() as handle:
        assert {row["final_status"] for row in csv.DictReader(handle)} == {"migrated"}
