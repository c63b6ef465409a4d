"""The platform's failure message per order (journal column ``failure_message``) reaches the audit: the
subscription's row, the unfinished list and the stuck-migration finding."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from m365move.audit.audit_report import AuditOptions, build_audit
from m365move.audit.findings import AnomalyCode
from m365move.audit.sources import read_journal
from m365move.audit.tables import subscriptions_table, unfinished_table
from tests.audit.builders import BASE, NOW, Scenario
from tests.audit.test_sources_and_summary import journal_with_one_migration

REFUSAL = "subscription 3000001 is terminated"


def add_message_columns(path: Path) -> None:
    """The columns later journals have (added when a newer m365move opens it), one failed order with a message."""
    with sqlite3.connect(path) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(intents)")}
        if "failure_message" not in columns:
            connection.execute("ALTER TABLE intents ADD COLUMN failure_message TEXT")
        if "failure_message" not in {row[1] for row in connection.execute("PRAGMA table_info(results)")}:
            connection.execute("ALTER TABLE results ADD COLUMN failure_message TEXT")
        connection.execute("UPDATE intents SET platform_status = 'rejected', failure_message = ?", (REFUSAL,))
        connection.execute("UPDATE results SET final_status = 'failed', failure_message = ?", (f"sales {BASE}: {REFUSAL}",))


def test_a_journal_without_the_column_reads_as_before(tmp_path: Path) -> None:
    journal_with_one_migration(tmp_path / "journal.sqlite")
    [item] = read_journal(tmp_path / "journal.sqlite").intents
    assert item.failure_message is None


def test_the_journal_s_failure_message_is_read_and_shown(tmp_path: Path) -> None:
    journal_with_one_migration(tmp_path / "journal.sqlite")
    add_message_columns(tmp_path / "journal.sqlite")
    records = read_journal(tmp_path / "journal.sqlite")
    [item] = records.intents
    assert item.failure_message == REFUSAL and item.failed
    assert records.results[0].failure_message == f"sales {BASE}: {REFUSAL}"
    report = build_audit(records, None, NOW, AuditOptions())
    assert report.statuses["3000001"].failure_message == f"sales {BASE}: {REFUSAL}"
    table = subscriptions_table(report)
    assert table.headers[-1] == "failure_message" and table.rows[0][-1] == f"sales {BASE}: {REFUSAL}"


def test_a_stuck_migration_says_why_the_platform_failed_it() -> None:
    scenario = Scenario().migrated("3000001", {BASE: 4}, cancel=False)
    sales = scenario.sales("3000001")
    scenario.replace_intent(sales.key, platform_status="error", failure_message="quantity exceeds the plan's limit")
    scenario.replace_order(str(sales.platform_order_id), status="error")
    report = build_audit(scenario.records(), scenario.platform(), NOW, AuditOptions())
    [stuck] = [f for f in report.findings if f.code is AnomalyCode.STUCK_MIGRATION]
    assert "the platform said: sales" in stuck.message and "quantity exceeds the plan's limit" in stuck.message
    assert unfinished_table(report).rows[0][-1] == f"sales {BASE}: quantity exceeds the plan's limit"
