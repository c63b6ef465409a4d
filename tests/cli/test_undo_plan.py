"""Undo inside the window: after an executed run, the undo plan is written, sealed, and applied (dry run first).

Through the real CLI against the sandbox, whose Commerce provisions its new-commerce orders in the sandbox's Partner
Center (the Microsoft connector's part): each new subscription there carries ``cancellationAllowedUntilDate``, and a
cancellation after it is refused, as Partner Center refuses it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from m365move.cli import main
from m365move.domain.microsoft_migrations import SUBSCRIPTION_ATTRIBUTE, TENANT_ATTRIBUTE
from m365move.partnercenter.client import TOKEN_CACHE
from m365move.sandbox.faults import Faults
from m365move.sandbox.server import SandboxServer
from m365move.text.iso_time import parse_iso_time
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import migrate_args, sandbox_on, set_faults, state, use_credentials, write_estate

TENANT = "11111111-2222-4333-8444-555555555555"
PARTNER = "99999999-2222-4333-8444-555555555555"
LEGACY = {"3000001": "aaaaaaaa-0001-4ccc-8ddd-eeeeeeeeeeee", "3000002": "aaaaaaaa-0002-4ccc-8ddd-eeeeeeeeeeee"}
PC_VARIABLES = ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET")


def estate_document() -> dict[str, Any]:
    builder = standard()
    builder.subscription("3000001", resources=[(BASE, 10), (ADDON, 2)])
    builder.subscription("3000002", resources=[(BASE, 4)])
    document = builder.doc
    for subscription in document["commerce"]["subscriptions"]:
        subscription["custom_attributes"] = {SUBSCRIPTION_ATTRIBUTE: LEGACY[subscription["id"]],
                                             TENANT_ATTRIBUTE: TENANT}
    document["partner_center"] = {
        "credentials": {"client_id": "app", "client_secret": "secret"},
        "customers": [{"tenant_id": TENANT, "subscriptions": [
            {"id": legacy, "quantity": 10, "status": "active", "offer_id": BASE, "term_end_hours": 2000}
            for legacy in LEGACY.values()]}],
    }
    return document


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, SandboxServer, list[str]]]:
    use_credentials(monkeypatch)
    for name in PC_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    estate = write_estate(tmp_path, estate_document())
    TOKEN_CACHE.clear()
    with sandbox_on(estate) as server:
        yield estate, server, ["--partner-center-url", f"{server.url}/partnercenter",
                               "--token-url", f"{server.url}/partnercenter/oauth2/token"]
    TOKEN_CACHE.clear()


def with_partner_center(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in zip(PC_VARIABLES, (PARTNER, "app", "secret"), strict=True):
        monkeypatch.setenv(name, value)


def execute(mode: str, estate: Path, server: SandboxServer, workspace: Path, connection: list[str],
            capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    capsys.readouterr()
    assert main([*migrate_args(mode, estate, server, workspace, "--execute", "--format", "json"), *connection]) == 0
    out, err = capsys.readouterr()
    return json.loads(out[out.rindex('{\n "run_id"'):]), err


def undo_plan(report: dict[str, Any]) -> dict[str, Any]:
    return json.loads(Path(report["undo_plan"]).read_text())  # type: ignore[no-any-return]


def nce_in_partner_center(server: SandboxServer) -> dict[str, dict[str, Any]]:
    return server.app.state.partner_center.nce_subscriptions  # type: ignore[no-any-return]


def subscriptions(server: SandboxServer) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in state(server)["subscriptions"]}


class TestTheUndoPlanAfterAnExecutedRun:
    def test_new_subscription_run_writes_the_windows_partner_center_gives_ordered_and_sealed(
            self, rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        """Every new subscription, its window read from Partner Center (not computed), by window end, sealed."""
        estate, server, connection = rig
        with_partner_center(monkeypatch)
        # Microsoft's own date for one of them is earlier than 168 h: the plan must carry it, not a computation.
        report, err = execute("new-subscription", estate, server, tmp_path / "work", connection, capsys)
        plan = undo_plan(report)
        assert "undo plan" in err and plan["run_id"] == report["run_id"] and plan["partner_center_consulted"]
        entries = plan["entries"]
        assert {e["source_subscription_id"] for e in entries} == {"3000001", "3000002"} and len(entries) == 3
        commerce = subscriptions(server)
        pc = nce_in_partner_center(server)
        for entry in entries:
            assert entry["window_source"] == "partner-center" and entry["order_kind"] == "sales"
            linked = commerce[entry["subscription_id"]]["attributes"]
            assert entry["nce_subscription_id"] == linked[SUBSCRIPTION_ATTRIBUTE] and entry["tenant_id"] == TENANT
            created = parse_iso_time(pc[entry["nce_subscription_id"]]["created"])
            assert created is not None
            assert parse_iso_time(entry["cancellationAllowedUntilDate"]) == created + dt.timedelta(hours=168)
            assert "cancellation order" in entry["undo"] and "was cancelled by order" in entry["legacy"]
        ends = [e["cancellationAllowedUntilDate"] for e in entries]
        assert ends == sorted(ends)
        folder = Path(report["undo_plan"]).parent
        assert folder == tmp_path / "work" / "runs" / report["run_id"]
        assert {"undo-plan.json", "undo-plan.csv", "results.csv", "manifest.json"} <= {p.name for p in folder.iterdir()}
        assert main(["audit", "verify", str(folder), "--allow-unsigned"]) == 0
        (folder / "undo-plan.csv").write_text("subscription_id\n")
        assert main(["audit", "verify", str(folder), "--allow-unsigned"]) == 3

    def test_the_window_is_partner_centers_even_when_it_differs_from_168_hours(
            self, rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        """A Partner Center date that is not purchase + 168 h is the one written (read, never computed)."""
        estate, server, connection = rig
        with_partner_center(monkeypatch)
        pc = server.app.state.partner_center
        purchase = pc.purchase

        def shorter(tenant_id: str, offer_id: str, quantity: int, at: dt.datetime) -> str:
            subscription_id: str = purchase(tenant_id, offer_id, quantity, at)
            pc.nce_subscriptions[subscription_id]["cancellation_allowed_until"] = (
                at + dt.timedelta(hours=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
            return subscription_id

        monkeypatch.setattr(pc, "purchase", shorter)
        report, _ = execute("new-subscription", estate, server, tmp_path / "work", connection, capsys)
        for entry in undo_plan(report)["entries"]:
            created = parse_iso_time(pc.nce_subscriptions[entry["nce_subscription_id"]]["created"])
            assert created is not None
            assert parse_iso_time(entry["cancellationAllowedUntilDate"]) == created + dt.timedelta(hours=100)

    def test_without_partner_center_the_windows_are_estimates_and_say_so(
            self, rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path,
            capsys: pytest.CaptureFixture[str]) -> None:
        """No credentials: completion + 168 h, each entry marked estimate, the plan counts them."""
        estate, server, connection = rig
        report, err = execute("new-subscription", estate, server, tmp_path / "work", connection, capsys)
        plan = undo_plan(report)
        assert not plan["partner_center_consulted"] and plan["estimated_windows"] == len(plan["entries"]) == 3
        assert {e["window_source"] for e in plan["entries"]} == {"estimate"}
        assert "estimated" in err and "estimated" in plan["entries"][0]["undo"]
        for entry in plan["entries"]:
            assert (parse_iso_time(entry["cancellationAllowedUntilDate"])
                    == parse_iso_time(entry["completed_at"]) + dt.timedelta(hours=168))  # type: ignore[operator]

    def test_switch_plan_says_there_is_no_legacy_subscription_to_return_to(
            self, rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        estate, server, connection = rig
        with_partner_center(monkeypatch)
        report, _ = execute("switch-plan", estate, server, tmp_path / "work", connection, capsys)
        entries = {(e["source_subscription_id"], e["order_kind"]): e for e in undo_plan(report)["entries"]}
        assert set(entries) == {("3000001", "change"), ("3000001", "migration"), ("3000002", "change")}
        switched = entries[("3000001", "change")]
        assert switched["subscription_id"] == "3000001" and "none to return to" in switched["legacy"]
        assert switched["window_source"] == "partner-center"
        # the legacy subscription Microsoft held is suspended: the switched subscription names the new one
        assert switched["nce_subscription_id"] != LEGACY["3000001"]
        legacy = server.app.state.partner_center.subscriptions[LEGACY["3000001"]]
        assert legacy["status"] == "suspended"

    def test_resume_execute_writes_the_undo_plan_of_what_it_completed(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        """A source whose order failed is completed by `resume --execute`, whose own folder holds its undo plan."""
        use_credentials(monkeypatch)
        for name in PC_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        estate = write_estate(tmp_path, estate_document())
        workspace = tmp_path / "work"
        with sandbox_on(estate, Faults(order_processing_seconds=0.05, error_subscriptions=["3000002"])) as server:
            capsys.readouterr()
            assert main(migrate_args("new-subscription", estate, server, workspace, "--execute", "--format",
                                     "json")) == 6
            out = capsys.readouterr().out
            first = json.loads(out[out.rindex('{\n "run_id"'):])
            assert {e["source_subscription_id"] for e in undo_plan(first)["entries"]} == {"3000001"}
            set_faults(server, Faults(order_processing_seconds=0.05))
            assert main(["resume", first["results_path"], "--workspace", str(workspace), "--execute",
                         "--poll-interval", "0.02", "--rate-limit", "0", "--format", "json"]) == 0
            out = capsys.readouterr().out
            resumed = json.loads(out[out.rindex('{\n "run_id"'):])
        plan = undo_plan(resumed)
        assert plan["run_id"] == resumed["run_id"] != first["run_id"]
        assert [e["source_subscription_id"] for e in plan["entries"]] == ["3000002"]
        assert main(["audit", "verify", str(Path(resumed["undo_plan"]).parent), "--allow-unsigned"]) == 0

    def test_a_dry_run_writes_no_undo_plan(self, rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
        estate, server, connection = rig
        capsys.readouterr()
        assert main([*migrate_args("new-subscription", estate, server, tmp_path / "work", "--format", "json"),
                     *connection]) == 0
        assert "undo_plan" not in json.loads(capsys.readouterr().out)
        assert not (tmp_path / "work" / "runs").exists()


class TestApplyingTheUndoPlan:
    def test_dry_run_first_then_execute_cancels_each_once(
            self, rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        estate, server, connection = rig
        with_partner_center(monkeypatch)
        report, _ = execute("new-subscription", estate, server, tmp_path / "work", connection, capsys)
        folder = str(Path(report["undo_plan"]).parent)
        orders_before = len(state(server)["orders"])
        undo = ["undo", folder, "--commerce-url", server.url, "--poll-interval", "0.02", "--format", "json",
                *connection]
        assert main(undo) == 0
        outcomes = json.loads(capsys.readouterr().out)
        assert outcomes["dry_run"] and {e["outcome"] for e in outcomes["entries"]} == {"would-cancel"}
        assert len(state(server)["orders"]) == orders_before

        assert main([*undo, "--execute"]) == 0
        outcomes = json.loads(capsys.readouterr().out)
        assert {e["outcome"] for e in outcomes["entries"]} == {"cancelled"}
        commerce = subscriptions(server)
        pc = nce_in_partner_center(server)
        for entry in undo_plan(report)["entries"]:
            assert commerce[entry["subscription_id"]]["status"] == "terminated"
            assert pc[entry["nce_subscription_id"]]["status"] == "deleted"
        assert main([*undo, "--execute"]) == 0  # again: nothing placed twice
        assert {e["outcome"] for e in json.loads(capsys.readouterr().out)["entries"]} == {"already-cancelled"}
        assert len(state(server)["orders"]) == orders_before + 3

    def test_an_entry_whose_window_has_passed_is_refused_as_read_again_from_partner_center(
            self, rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        """The plan says inside; Partner Center, read right before, says it ended: refused, nothing placed."""
        estate, server, connection = rig
        with_partner_center(monkeypatch)
        report, _ = execute("new-subscription", estate, server, tmp_path / "work", connection, capsys)
        first, *others = undo_plan(report)["entries"]
        passed = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        nce_in_partner_center(server)[first["nce_subscription_id"]]["cancellation_allowed_until"] = passed
        orders_before = len(state(server)["orders"])
        capsys.readouterr()
        assert main(["undo", report["undo_plan"], "--commerce-url", server.url, "--poll-interval", "0.02",
                     "--format", "json", "--execute", *connection]) == 6
        outcomes = {e["subscription_id"]: e for e in json.loads(capsys.readouterr().out)["entries"]}
        assert outcomes[first["subscription_id"]]["outcome"] == "refused-window-passed"
        assert outcomes[first["subscription_id"]]["cancellationAllowedUntilDate"] == passed
        assert {outcomes[e["subscription_id"]]["outcome"] for e in others} == {"cancelled"}
        assert len(state(server)["orders"]) == orders_before + len(others)
        assert subscriptions(server)[first["subscription_id"]]["status"] == "active"

    def test_a_bad_plan_file_is_bad_input(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        bad = tmp_path / "undo-plan.json"
        bad.write_text('{"entries": [{"subscription_id": "1"}]}')
        assert main(["undo", str(bad), "--commerce-url", "http://127.0.0.1:9"]) == 2
        assert "entry 0" in capsys.readouterr().err


def test_the_sandbox_refuses_a_cancellation_after_the_window(
        rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """As Partner Center does: a Commerce cancellation order of a subscription past its window ends in error."""
    estate, server, connection = rig
    with_partner_center(monkeypatch)
    report, _ = execute("new-subscription", estate, server, tmp_path / "work", connection, capsys)
    entry = undo_plan(report)["entries"][0]
    passed = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    nce_in_partner_center(server)[entry["nce_subscription_id"]]["cancellation_allowed_until"] = passed
    # Applied from a plan without Partner Center credentials: the plan's date is used, the platform refuses.
    for name in ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    capsys.readouterr()
    assert main(["undo", report["undo_plan"], "--commerce-url", server.url, "--poll-interval", "0.02",
                 "--format", "json", "--execute"]) == 6
    outcome = {e["subscription_id"]: e for e in json.loads(capsys.readouterr().out)["entries"]}[entry["subscription_id"]]
    assert outcome["outcome"] == "failed" and "cancellation window ended" in outcome["detail"]
    assert subscriptions(server)[entry["subscription_id"]]["status"] == "active"


class TestResumeAsksPartnerCenterFirst:
    def test_a_source_microsoft_migrated_since_the_first_run_is_not_ordered_by_the_resume(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        """The first run's orders for 3000002 failed; Microsoft then migrated its legacy subscription: the resume
        reads Partner Center, places nothing for it, and names what was left (exit 6)."""
        use_credentials(monkeypatch)
        with_partner_center(monkeypatch)
        estate = write_estate(tmp_path, estate_document())
        workspace = tmp_path / "work"
        TOKEN_CACHE.clear()
        with sandbox_on(estate, Faults(order_processing_seconds=0.05, error_subscriptions=["3000002"])) as server:
            connection = ["--partner-center-url", f"{server.url}/partnercenter",
                          "--token-url", f"{server.url}/partnercenter/oauth2/token"]
            capsys.readouterr()
            assert main([*migrate_args("new-subscription", estate, server, workspace, "--execute", "--format",
                                       "json"), *connection]) == 6
            out = capsys.readouterr().out
            first = json.loads(out[out.rindex('{\n "run_id"'):])
            set_faults(server, Faults(order_processing_seconds=0.05))
            pc = server.app.state.partner_center
            pc.migrations["m-3000002"] = {
                "id": "m-3000002", "status": "Completed", "microsoftLed": True, "currentSubscriptionId": LEGACY["3000002"],
                "customerTenantId": TENANT, "newCommerceSubscriptionId": "5e0c3a9f-0002-4c7e-8f6a-9d8c7b6a5f4e",
                "quantity": 4}
            pc.subscriptions[LEGACY["3000002"]]["status"] = "suspended"
            orders_before = len(state(server)["orders"])
            assert main(["resume", first["results_path"], "--workspace", str(workspace), "--execute",
                         "--poll-interval", "0.02", "--rate-limit", "0", "--format", "json", *connection]) == 6
            out = capsys.readouterr().out
            resumed = json.loads(out[out.rindex('{\n "run_id"'):])
            assert len(state(server)["orders"]) == orders_before  # nothing ordered again
        TOKEN_CACHE.clear()
        row = next(r for r in (Path(resumed["results_path"]).read_text().splitlines()) if r.split(",")[1] == "3000002")
        assert "migrated-by-microsoft" in row and "not carried on" in row
