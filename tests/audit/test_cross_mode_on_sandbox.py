"""On the sandbox: a New Subscription migration, then a Switch Plan run from the same (now stale) estate;
the audit judges from the final state (no false "reinstate" alarm), and catches a source that held more
seats when it was cancelled than its NCE subscription holds."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from m365move.cli import main
from tests.audit.sandbox_audit import migrate_on_sandbox
from tests.estate_builder import BASE
from tests.execution.sandbox_run import migrate_args, sandbox_on, use_credentials

pytestmark = pytest.mark.slow


def audit_json(journal: Path, url: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["audit", "--journal", str(journal), "--commerce-url", url, "--format", "json"])
    return code, json.loads(out.getvalue())


def test_stale_estate_in_the_other_mode_then_seats_grown_before_the_cancellation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_credentials(monkeypatch)
    migrated = migrate_on_sandbox(tmp_path, failing=())
    with sandbox_on(migrated.estate, state_file=migrated.state_file) as server:
        # The old estate still shows the sources active: a Switch Plan run tries them again, same journal.
        main(migrate_args("switch-plan", migrated.estate, server, tmp_path / "work", "--execute"))
        code, result = audit_json(migrated.journal, server.url)
    assert "cancelled-before-targets-completed" not in result["anomalies_by_code"]
    assert all("reinstate" not in f["action"] for f in result["findings"])
    assert result["summary"]["migrated"] == 2 and code == 0, result["findings"]

    # Now the case the executor must block: the source had grown from 5 to 8 seats when it was cancelled.
    state = json.loads(migrated.state_file.read_text())
    source = next(s for s in state["subscriptions"] if s["id"] == "3000002")
    source["products"] = [{"mpn": BASE, "quantity": 8} if p["mpn"] == BASE else p for p in source["products"]]
    migrated.state_file.write_text(json.dumps(state))
    # Cancelled by an executor that did not journal the seats it read before the cancellation (journals written
    # before source_seats existed): the audit reads the terminated source. (With the seats journaled, a terminated
    # source is taken from the journal: it cannot change once cancelled, see test_commerce_reader.)
    with sqlite3.connect(migrated.journal) as db:
        db.execute("UPDATE intents SET source_seats = NULL WHERE subscription_id = '3000002'")
    with sandbox_on(migrated.estate, state_file=migrated.state_file) as server:
        code, result = audit_json(migrated.journal, server.url)
    [finding] = [f for f in result["findings"] if f["code"] == "seat-mismatch"]
    assert finding["subscription_id"] == "3000002" and "3 seats lost" in finding["message"]
    assert finding["ids"]["csp_seats"] == "8" and finding["ids"]["nce_seats"] == "5"
    assert "do not reinstate" in finding["action"] and code == 3
