"""``m365move migrate`` and ``resume`` against the sandbox over HTTP, in both modes."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from m365move.cli import main
from m365move.execution import migration_run
from m365move.sandbox.faults import Faults
from tests.estate_builder import ADDON, BASE, NCE_ADDON, NCE_BASE, standard
from tests.execution.sandbox_run import (
    duplicate_keys,
    migrate_args,
    sandbox_on,
    set_faults,
    state,
    use_credentials,
    write_estate,
)


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)


def estate(tmp_path: Path) -> Path:
    builder = standard()
    builder.subscription("3000001", resources=[(BASE, 12), (ADDON, 3)])
    builder.subscription("3000002", resources=[(BASE, 5)], start="2026-01-15", expiration="2027-01-15")
    builder.subscription("3000003", resources=[(BASE, 7), (ADDON, 0)])
    builder.subscription("3000004", billing="1 year")  # blocked: billing-period-mismatch
    return write_estate(tmp_path, builder.doc)


def dump(journal: Path) -> list[tuple[object, ...]]:
    """The journal's rows, table by table (its bytes may change when SQLite checkpoints its WAL)."""
    with sqlite3.connect(journal) as connection:
        return [row for table in ("runs", "intents", "results")
                for row in connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]


def results(path: Path) -> dict[str, dict[str, str]]:
    with path.open() as handle:
        return {row["subscription_id"]: row for row in csv.DictReader(handle)}


def last_results(workspace: Path) -> dict[str, dict[str, str]]:
    return results(sorted((workspace / "results").glob("*.csv"), key=lambda p: p.stat().st_mtime)[-1])


class TestNewSubscription:
    def test_migrates_and_cancels_sources(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """New subscriptions exist with the right plans and quantities; sources are cancelled after them."""
        path, workspace = estate(tmp_path), tmp_path / "work"
        with sandbox_on(path) as server:
            assert main(migrate_args("new-subscription", path, server, workspace, "--execute")) == 0
            snapshot = state(server)
        rows = last_results(workspace)
        assert {k: r["final_status"] for k, r in rows.items()} == {
            "3000001": "migrated", "3000002": "migrated", "3000003": "migrated", "3000004": "blocked"}
        subs = {s["id"]: s for s in snapshot["subscriptions"]}
        for source in ("3000001", "3000002", "3000003"):
            assert subs[source]["status"] == "terminated"
        assert subs["3000004"]["status"] == "active"
        new = {(s["plan_id"], s["products"][0]["mpn"], s["products"][0]["quantity"])
               for s in snapshot["subscriptions"] if s["id"] in rows["3000001"]["new_subscription_ids"].split(";")}
        assert new == {(6001, NCE_BASE, 12), (6101, NCE_ADDON, 3)}
        orders = snapshot["orders"]
        assert sorted(o["type"] for o in orders) == ["cancellation"] * 3 + ["sales"] * 4
        for cancellation in (o for o in orders if o["type"] == "cancellation"):
            source = cancellation["subscription_id"]
            sales = [o for o in orders if o["type"] == "sales" and f"-{source}-" in o["po_number"]]
            assert sales and all(o["provisioning_time"] <= cancellation["creation_time"] for o in sales)
        assert duplicate_keys(snapshot) == []

    def test_results_are_written_chunk_by_chunk_without_losing_a_row(self, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
        """A large run builds, writes and records its results a chunk at a time: the same rows, in plan order, in the
        file and in the journal, whatever the chunk boundaries."""
        monkeypatch.setattr(migration_run, "_RESULTS_CHUNK", 3)
        path, workspace = estate(tmp_path), tmp_path / "work"
        with sandbox_on(path) as server:
            assert main(migrate_args("new-subscription", path, server, workspace, "--execute")) == 0
        rows = last_results(workspace)
        assert list(rows) == ["3000001", "3000002", "3000003", "3000004"]
        assert [r["final_status"] for r in rows.values()] == ["migrated", "migrated", "migrated", "blocked"]
        with sqlite3.connect(workspace / "journal.sqlite") as connection:
            recorded = dict(connection.execute("SELECT subscription_id, final_status FROM results").fetchall())
            summary = connection.execute("SELECT summary FROM runs").fetchone()[0]
        assert recorded == {k: r["final_status"] for k, r in rows.items()}
        assert json.loads(summary) == {"migrated": 3, "blocked": 1}

    def test_dry_run_places_nothing(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path, workspace = estate(tmp_path), tmp_path / "work"
        with sandbox_on(path) as server:
            assert main(migrate_args("new-subscription", path, server, workspace)) == 0
            assert state(server)["orders"] == []
        assert "dry run" in capsys.readouterr().out
        assert {r["final_status"] for r in last_results(workspace).values()} == {"pending", "blocked"}

    def test_rerun_places_nothing_twice(self, tmp_path: Path) -> None:
        path, workspace = estate(tmp_path), tmp_path / "work"
        with sandbox_on(path) as server:
            assert main(migrate_args("new-subscription", path, server, workspace, "--execute")) == 0
            count = len(state(server)["orders"])
            assert main(migrate_args("new-subscription", path, server, workspace, "--execute")) == 0
            assert len(state(server)["orders"]) == count
        assert last_results(workspace)["3000001"]["decision"] == "skip"  # already-migrated

    def test_failed_sales_order_blocks_cancellation_until_resume(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A sales order ending in error: no cancellation, partially-migrated; resume completes it, no duplicate."""
        path, workspace = estate(tmp_path), tmp_path / "work"
        with sandbox_on(path, Faults(order_processing_seconds=0.05, error_subscriptions=["3000001"])) as server:
            assert main(migrate_args("new-subscription", path, server, workspace, "--execute")) == 6  # a failed order: exit 6
            first = last_results(workspace)
            assert first["3000001"]["final_status"] == "partially-migrated"
            assert first["3000002"]["final_status"] == "migrated"
            assert first["3000001"]["failure_message"]  # the platform's reason, kept
            capsys.readouterr()
            assert main(["runs", "--workspace", str(workspace), "show", first["3000001"]["run_id"]]) == 0
            shown = capsys.readouterr().out
            assert "why orders failed" in shown and first["3000001"]["failure_message"] in shown
            snapshot = state(server)
            assert not [o for o in snapshot["orders"] if o["type"] == "cancellation" and o["subscription_id"] == "3000001"]
            assert {s["id"]: s["status"] for s in snapshot["subscriptions"]}["3000001"] == "active"
            results_file = sorted((workspace / "results").glob("*.csv"))[-1]
            set_faults(server, Faults(order_processing_seconds=0.05))
            capsys.readouterr()
            assert main(["resume", str(results_file), "--execute", "--workspace", str(workspace),
                         "--poll-interval", "0.02", "--rate-limit", "0"]) == 0
            snapshot = state(server)
        assert last_results(workspace)["3000001"]["final_status"] == "migrated"
        assert duplicate_keys(snapshot) == []
        cancellations = [o for o in snapshot["orders"] if o["type"] == "cancellation" and o["subscription_id"] == "3000001"]
        assert len(cancellations) == 1
        completed_sales = [o for o in snapshot["orders"]
                           if o["type"] == "sales" and "-3000001-" in o["po_number"] and o["status"] == "completed"]
        assert len(completed_sales) == 2  # one per licence, however many attempts it took


class TestSwitchPlan:
    def test_switches_plan_and_moves_addons_with_source_dates(self, tmp_path: Path) -> None:
        path, workspace = estate(tmp_path), tmp_path / "work"
        with sandbox_on(path) as server:
            assert main(migrate_args("switch-plan", path, server, workspace, "--execute")) == 0
            snapshot = state(server)
        rows = last_results(workspace)
        assert rows["3000001"]["final_status"] == "migrated"
        subs = {s["id"]: s for s in snapshot["subscriptions"]}
        switched = subs["3000001"]
        assert switched["plan_id"] == 6001 and switched["status"] == "active"
        assert (switched["start_date"], switched["expiration_date"]) == ("2026-03-01", "2027-03-01")
        assert [(p["mpn"], p["quantity"]) for p in switched["products"]] == [(NCE_BASE, 12)]
        addon_ids = rows["3000001"]["new_subscription_ids"].split(";")
        assert len(addon_ids) == 1
        addon = subs[addon_ids[0]]
        assert (addon["plan_id"], addon["start_date"], addon["expiration_date"]) == (6101, "2026-03-01", "2027-03-01")
        assert [(p["mpn"], p["quantity"]) for p in addon["products"]] == [(NCE_ADDON, 3)]
        assert not [o for o in snapshot["orders"] if o["type"] == "cancellation"]
        assert subs["3000002"]["plan_id"] == 6001


class TestBadInput:
    def test_unreachable_commerce(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path, workspace = estate(tmp_path), tmp_path / "work"
        status = main(migrate_args("new-subscription", path, "http://127.0.0.1:9", workspace, "--execute"))
        err = capsys.readouterr().err
        assert status != 0 and err.count("\n") == 1 and "127.0.0.1:9" in err

    def test_wrong_credentials(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        path, workspace = estate(tmp_path), tmp_path / "work"
        monkeypatch.setenv("M365MOVE_COMMERCE_PASSWORD", "wrong")
        with sandbox_on(path) as server:
            status = main(migrate_args("new-subscription", path, server, workspace, "--execute"))
            assert state(server)["orders"] == []
        err = capsys.readouterr().err
        assert status != 0 and err.count("\n") == 1 and "credential" in err.lower()
        assert "wrong" not in err

    def test_missing_credentials(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.delenv("M365MOVE_COMMERCE_PASSWORD")
        path = estate(tmp_path)
        assert main(["migrate", "--mode", "new-subscription", "--estate", str(path), "--commerce-url", "http://127.0.0.1:9",
                     "--workspace", str(tmp_path / "w")]) == 2
        assert "M365MOVE_COMMERCE_PASSWORD" in capsys.readouterr().err

    @pytest.mark.parametrize("tamper", ["mode", "status", "columns"])
    def test_tampered_results_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], tamper: str) -> None:
        path, workspace = estate(tmp_path), tmp_path / "work"
        with sandbox_on(path) as server:
            assert main(migrate_args("new-subscription", path, server, workspace)) == 0
            results_file = sorted((workspace / "results").glob("*.csv"))[-1]
            journal = workspace / "journal.sqlite"
            before = dump(journal)
            text = results_file.read_text()
            if tamper == "mode":
                text = text.replace("new-subscription", "switch-plan")
            elif tamper == "status":
                text = text.replace(",pending,", ",migrated,", 1)
            else:
                text = text.replace("final_status", "status")
            results_file.write_text(text)
            capsys.readouterr()
            status = main(["resume", str(results_file), "--execute", "--workspace", str(workspace)])
            assert state(server)["orders"] == []
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1 and str(results_file) in err
        assert dump(journal) == before

    def test_resume_with_other_mode(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path, workspace = estate(tmp_path), tmp_path / "work"
        with sandbox_on(path) as server:
            assert main(migrate_args("new-subscription", path, server, workspace)) == 0
            results_file = sorted((workspace / "results").glob("*.csv"))[-1]
            status = main(["resume", str(results_file), "--mode", "switch-plan", "--workspace", str(workspace)])
        assert status == 2 and "new-subscription" in capsys.readouterr().err

    def test_unknown_run_id(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        # No journal in that workspace: bad input, and no empty journal is left behind.
        assert main(["resume", "20990101T000000Z-abcdef", "--workspace", str(tmp_path / "w")]) == 2
        assert "no journal here" in capsys.readouterr().err and not (tmp_path / "w").exists()
        # A journal without that run: the journal cannot serve it (exit 1).
        from m365move.execution.journal import Journal

        (tmp_path / "w").mkdir()
        Journal(tmp_path / "w" / "journal.sqlite").close()
        assert main(["resume", "20990101T000000Z-abcdef", "--workspace", str(tmp_path / "w")]) == 1
        assert "not in the journal" in capsys.readouterr().err


class TestCustomOrderParams:
    @pytest.mark.parametrize("flag", [True, False])
    def test_reseller_type_and_margin_carried_only_when_asked(self, tmp_path: Path, flag: bool) -> None:
        """--custom-order-params copies the source's ResellerType and Margin (and nothing else) onto new orders."""
        builder = standard().subscription("3000001")
        builder.commerce["subscriptions"][0]["custom_attributes"] = {"ResellerType": "indirect", "Margin": "12",
                                                                     "Internal": "x"}
        path, workspace = write_estate(tmp_path, builder.doc), tmp_path / "work"
        extra = ["--custom-order-params"] if flag else []
        with sandbox_on(path) as server:
            assert main(migrate_args("new-subscription", path, server, workspace, "--execute", *extra)) == 0
            orders = state(server)["orders"]
        expected = {"ResellerType": "indirect", "Margin": "12"} if flag else {}
        assert orders and all(o["attributes"] == expected for o in orders)
