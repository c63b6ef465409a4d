"""The runbooks of notebooks/, executed end to end against the sandbox; assertions on result.json and platform state.

Every notebook runs at least once here (a test checks that none is left out). Estates are small (30
subscriptions) and orders fast, so the whole module stays well under two minutes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from m365move import cli
from m365move.call2teams.accounts import load_accounts
from m365move.call2teams.domain_checks import DomainRules
from m365move.call2teams.move_readiness import MoveMethod, MoveRequest, assess_move
from m365move.call2teams.snapshot_loader import load_tenant_dir
from m365move.call2teams.tenant_check import CheckOptions, check_tenants
from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.domain.orders import MigrationMode, OrderKind
from m365move.domain.planner import Selection, plan_migration
from m365move.domain.preflight import preflight_findings
from m365move.domain.reasons import Decision
from m365move.domain.reconciliation import partner_center_findings
from m365move.estate.loader import load_estate
from m365move.runbooks.catalog import list_runbooks, notebooks_dir
from m365move.runbooks.outcome import RunOutcome, RunStatus
from m365move.runbooks.runner import run_runbook
from m365move.sandbox.auth import SandboxCredentials
from m365move.sandbox.faults import Faults
from m365move.sandbox.server import SandboxServer, run_sandbox
from tests.call2teams.helpers import CONTOSO_ACCOUNT_DOMAINS
from tests.contract_schemas import validate

pytestmark = pytest.mark.slow

NOTEBOOKS = notebooks_dir()
C2T_FIXTURES = Path(__file__).resolve().parents[1] / "call2teams" / "fixtures"
FAST: dict[str, object] = {"poll_interval": 0.05, "order_timeout": 30.0}
RUNBOOKS_RUN_HERE = {
    "preflight", "switch_plan_migration", "new_subscription_migration",
    "call2teams_tenant_check", "call2teams_move_readiness",
}


@pytest.fixture(scope="module")
def estate_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("estate") / "estate.json"
    path.write_text(json.dumps(generate_estate(EstateSize.for_subscriptions(30), seed=1)))
    return path


def credentials_env(password: str = "sandbox") -> dict[str, str]:
    return {
        "M365MOVE_COMMERCE_USER": "sandbox",
        "M365MOVE_COMMERCE_PASSWORD": password,
        "M365MOVE_COMMERCE_SUBSCRIPTION_KEY": "sandbox",
    }


@pytest.fixture
def sandbox(estate_file: Path) -> Iterator[SandboxServer]:
    """A fresh sandbox per test: one test's orders never show in another's state."""
    with run_sandbox(estate_file, Faults(order_processing_seconds=0.1)) as server:
        yield server


def state(server: SandboxServer) -> dict[str, Any]:
    return httpx.get(f"{server.url}/_sandbox/state", auth=server.admin_auth).json()  # type: ignore[no-any-return]


def our_orders(server: SandboxServer) -> list[dict[str, Any]]:
    """Orders this project placed (they carry its idempotency key as poNumber)."""
    return [o for o in state(server)["orders"] if (o.get("po_number") or "").startswith("M365MOVE-")]


def run(name: str, params: Mapping[str, object], run_dir: Path, env: dict[str, str] | None = None) -> RunOutcome:
    if name.endswith("_migration"):  # each run its own journal, inside its run folder (the default is shared)
        params = {"workspace": str(run_dir / "m365move-work")} | dict(params)
    return run_runbook(name, params, run_dir, extra_env=env or credentials_env(), cell_timeout=120)


# Runbooks whose end-to-end tests live beside their package's tests.
RUNBOOKS_RUN_ELSEWHERE = {"audit_report": Path(__file__).parents[1] / "audit" / "test_audit_runbook.py",
                          "reconcile": Path(__file__).parent / "test_reconcile_runbook.py"}


def test_every_runbook_is_run_by_these_tests() -> None:
    """A new notebook without an end-to-end test (here, or in the file named above) fails this."""
    for name, test_file in RUNBOOKS_RUN_ELSEWHERE.items():
        assert f'"runbook", "run", "{name}"' in test_file.read_text(), f"{test_file} does not run {name}"
    assert {runbook.name for runbook in list_runbooks(NOTEBOOKS)} == RUNBOOKS_RUN_HERE | set(RUNBOOKS_RUN_ELSEWHERE)


class TestPreflight:
    def test_summary_equals_the_plan_of_the_same_estate(self, estate_file: Path, tmp_path: Path) -> None:
        """Run through the CLI, in New Subscription mode, filtered to one reseller."""
        estate = load_estate(estate_file).estate
        reseller = sorted(estate.resellers)[0]
        code = cli.main(["runbook", "run", "preflight", "-q", "-p", "estate", str(estate_file),
                         "-p", "mode", "new-subscription", "-p", "reseller", reseller,
                         "--output-dir", str(tmp_path / "run")])
        assert code == 0
        result = json.loads((tmp_path / "run" / "result.json").read_text())
        plan = plan_migration(estate, MigrationMode.NEW_SUBSCRIPTION, selection=Selection(reseller_ids=frozenset({reseller})))
        assert result["mode"] == "new-subscription"
        assert result["summary"] == plan.summary()
        assert 0 < result["subscriptions"] < len(estate.subscriptions)  # the filter applied
        # the plan's findings and, as `plan` says it, that Partner Center was not consulted (no PARTNER_CENTER_* here)
        assert result["findings"] == len(preflight_findings(plan, partner_center_findings(plan, estate.partner_center)))
        report = (tmp_path / "run" / "report.html").read_text()
        assert "Decisions by reseller" in report and 'alt="new-subscription: decisions by reseller.' in report
        for row in ("started", "ended", "duration"):  # the header a reviewer signs: never "unknown"
            assert re.search(rf"<th[^>]*>{row}</th><td>\d", report), row

    def test_live_read_from_commerce_plans_like_the_estate_file(
        self, estate_file: Path, sandbox: SandboxServer, tmp_path: Path
    ) -> None:
        """commerce_url + catalog: subscriptions come from the sandbox through the client."""
        outcome = run("preflight", {"commerce_url": sandbox.url, "catalog": str(estate_file)}, tmp_path / "run")
        assert outcome.status is RunStatus.OK, outcome.failure
        assert outcome.result is not None
        plan = plan_migration(load_estate(estate_file).estate, MigrationMode.SWITCH_PLAN)
        assert outcome.result["summary"] == plan.summary()


class TestSwitchPlanMigration:
    @pytest.fixture(scope="class")
    def executed(self, estate_file: Path, tmp_path_factory: pytest.TempPathFactory, secret: str) -> Iterator[
            tuple[RunOutcome, dict[str, Any], list[dict[str, Any]]]]:
        """One executed run against a sandbox whose password is a distinctive secret; its state after."""
        plan = plan_migration(load_estate(estate_file).estate, MigrationMode.SWITCH_PLAN)
        credentials = SandboxCredentials(password=secret)
        with run_sandbox(estate_file, Faults(order_processing_seconds=0.1), credentials=credentials) as server:
            outcome = run("switch_plan_migration",
                          {"commerce_url": server.url, "estate": str(estate_file), "execute": True,
                           "confirm": plan.summary()["migrate"]} | FAST,
                          tmp_path_factory.mktemp("runs") / "run", env=credentials_env(secret))
            yield outcome, state(server), our_orders(server)

    def test_migrates_every_subscription_the_plan_migrates(
        self, executed: tuple[RunOutcome, dict[str, Any], list[dict[str, Any]]], estate_file: Path
    ) -> None:
        outcome, _, _ = executed
        assert outcome.status is RunStatus.OK, outcome.failure
        plan = plan_migration(load_estate(estate_file).estate, MigrationMode.SWITCH_PLAN)
        result = outcome.result
        assert result is not None and result["executed"] is True
        assert result["final_status"]["migrated"] == plan.summary()["migrate"] > 0
        assert result["final_status"]["blocked"] == plan.summary()["blocked"]
        assert result["to_migrate"] == plan.summary()["migrate"]
        results_file = outcome.run_dir / result["results_file"]  # relative to the run folder
        assert not Path(result["results_file"]).is_absolute() and results_file.is_file()
        # A copy of the results CSV is sealed with the report: in the folder and in its manifest.
        copy = outcome.run_dir / "results.csv"
        assert copy.read_bytes() == results_file.read_bytes()
        manifest = json.loads((outcome.run_dir / "manifest.json").read_text())
        assert "results.csv" in json.dumps(manifest)

    def test_the_sandbox_shows_each_subscription_switched_to_its_nce_plan(
        self, executed: tuple[RunOutcome, dict[str, Any], list[dict[str, Any]]], estate_file: Path
    ) -> None:
        _, after, orders = executed
        plan = plan_migration(load_estate(estate_file).estate, MigrationMode.SWITCH_PLAN)
        plan_of = {s["id"]: s["plan_id"] for s in after["subscriptions"]}
        for sub in plan.migrating():
            change = next(o for o in sub.orders if o.kind is OrderKind.CHANGE)
            assert plan_of[sub.subscription_id] == change.plan_id
        expected = sum(len(s.orders) for s in plan.migrating())
        assert len(orders) == expected and {o["status"] for o in orders} == {"completed"}

    def test_the_undo_plan_is_written_and_sealed_with_the_report(
        self, executed: tuple[RunOutcome, dict[str, Any], list[dict[str, Any]]]
    ) -> None:
        """Every switched subscription (and add-on) inside its window; without Partner Center, estimates said so."""
        outcome, _, orders = executed
        undo = json.loads((outcome.run_dir / "undo-plan.json").read_text())
        created = [o for o in orders if o["type"] in ("change", "migration")]
        assert len(undo["entries"]) == len(created) > 0 and outcome.result is not None
        assert outcome.result["undo_plan"] == {"file": "undo-plan.json", "entries": len(created)}
        assert not undo["partner_center_consulted"] and undo["estimated_windows"] == len(created)
        assert {e["window_source"] for e in undo["entries"]} == {"estimate"}
        manifest = json.dumps(json.loads((outcome.run_dir / "manifest.json").read_text()))
        assert "undo-plan.json" in manifest and "undo-plan.csv" in manifest
        assert "Undo plan:" in outcome.report.read_text()

    def test_the_password_is_in_no_file_of_the_run_folder(
        self, executed: tuple[RunOutcome, dict[str, Any], list[dict[str, Any]]], secret: str
    ) -> None:
        outcome, _, orders = executed
        assert orders  # the secret was used: orders were placed with it
        files = [path for path in outcome.run_dir.rglob("*") if path.is_file()]
        assert any(path.suffix == ".sqlite" for path in files)  # the journal is in the run folder too
        leaked = [str(path) for path in files if secret.encode() in path.read_bytes()]
        assert leaked == []

    def test_the_report_reads_as_a_report(self, executed: tuple[RunOutcome, dict[str, Any], list[dict[str, Any]]]) -> None:
        outcome, _, _ = executed
        report = outcome.report.read_text()
        assert "Confirmed: placing the orders" in report and "Final status of 30 subscriptions" in report
        assert "from m365move" not in report  # code hidden

    def test_a_wrong_confirm_places_nothing(self, sandbox: SandboxServer, estate_file: Path, tmp_path: Path) -> None:
        before = state(sandbox)["orders"]
        outcome = run("switch_plan_migration",
                      {"commerce_url": sandbox.url, "estate": str(estate_file), "execute": True, "confirm": 1} | FAST,
                      tmp_path / "run")
        assert outcome.status is RunStatus.CELL_ERROR and outcome.exit_code == 3
        assert outcome.failure is not None and outcome.failure.label == "Check the confirmation"
        assert "nothing was placed" in outcome.failure.message
        assert outcome.result is not None and outcome.result["executed"] is False and "refused" in outcome.result
        assert state(sandbox)["orders"] == before and our_orders(sandbox) == []
        assert not (tmp_path / "run" / "m365move-work" / "results").exists()

    def test_a_dry_run_places_nothing(self, sandbox: SandboxServer, estate_file: Path, tmp_path: Path) -> None:
        plan = plan_migration(load_estate(estate_file).estate, MigrationMode.SWITCH_PLAN)
        outcome = run("switch_plan_migration", {"commerce_url": sandbox.url, "estate": str(estate_file)} | FAST,
                      tmp_path / "run")
        assert outcome.status is RunStatus.OK, outcome.failure
        assert outcome.result is not None and outcome.result["executed"] is False
        assert outcome.result["final_status"]["pending"] == plan.summary()["migrate"]
        assert our_orders(sandbox) == []
        assert "Dry run: nothing will be placed." in outcome.report.read_text()


class TestNewSubscriptionMigration:
    def test_a_failed_subscription_is_completed_by_a_resume(self, estate_file: Path, tmp_path: Path) -> None:
        """First run: one source's orders end in error; resume (results file, same workspace) completes it."""
        estate = load_estate(estate_file).estate
        plan = plan_migration(estate, MigrationMode.NEW_SUBSCRIPTION)
        failing = plan.migrating()[0].subscription_id
        workspace = tmp_path / "work"  # shared by both runs: the resume needs the first run's journal
        faults = Faults(order_processing_seconds=0.1, error_subscriptions=[failing])
        with run_sandbox(estate_file, faults) as server:
            common: dict[str, object] = {"commerce_url": server.url, "workspace": str(workspace)} | FAST
            first = run("new_subscription_migration",
                        common | {"estate": str(estate_file), "execute": True, "confirm": len(plan.migrating())},
                        tmp_path / "first")
            assert first.status is RunStatus.OK, first.failure
            assert first.result is not None
            statuses = first.result["final_status"]
            assert statuses["migrated"] == len(plan.migrating()) - 1
            assert statuses["partially-migrated"] + statuses["failed"] == 1
            assert first.exit_code == 6  # as `migrate` exits: a run with a subscription to look at
            results_file = first.result["results_file"]
            assert Path(results_file).is_absolute()  # the workspace is outside the run folder
            cancelled = {o["subscription_id"] for o in our_orders(server) if o["type"] == "cancellation"}
            assert len(cancelled) == len(plan.migrating()) - 1
            assert failing not in cancelled  # never cancel a source whose new subscriptions did not all complete

            httpx.put(f"{server.url}/_sandbox/faults", auth=server.admin_auth, json={"order_processing_seconds": 0.1})
            second = run("new_subscription_migration", common | {"resume_from": results_file, "execute": True,
                                                                  "confirm": 1}, tmp_path / "second")
            assert second.status is RunStatus.OK, second.failure
            assert second.result is not None
            assert second.result["resumed_from"] == first.result["run_id"]
            assert second.result["to_migrate"] == 1
            assert second.result["final_status"]["migrated"] == 1
            assert second.exit_code == 0
            source = next(s for s in state(server)["subscriptions"] if s["id"] == failing)
            assert source["status"] != "active"  # cancelled once its new subscriptions completed

    def test_a_resume_of_another_mode_is_refused(self, sandbox: SandboxServer, estate_file: Path, tmp_path: Path) -> None:
        workspace = tmp_path / "work"
        params: dict[str, object] = {"commerce_url": sandbox.url, "estate": str(estate_file), "workspace": str(workspace)}
        dry = run("switch_plan_migration", params | FAST, tmp_path / "dry")
        assert dry.result is not None
        outcome = run("new_subscription_migration",
                      {"commerce_url": sandbox.url, "workspace": str(workspace), "resume_from": dry.result["run_id"]},
                      tmp_path / "resume")
        assert outcome.status is RunStatus.CELL_ERROR
        assert outcome.failure is not None and "switch-plan run" in outcome.failure.message


class TestCall2Teams:
    def test_tenant_check_records_the_contract_and_writes_a_whatif_script(self, tmp_path: Path) -> None:
        folders = [C2T_FIXTURES / "contoso", C2T_FIXTURES / "fabrikam"]
        code = cli.main(["runbook", "run", "call2teams_tenant_check", "-q",
                         "-p", "tenant_dirs", ",".join(map(str, folders)),
                         "-p", "account_domains", ",".join(CONTOSO_ACCOUNT_DOMAINS),
                         "--output-dir", str(tmp_path / "run")])
        assert code == 7  # the verdict below is NOT-READY: the runbook exits as `call2teams check` does
        result = json.loads((tmp_path / "run" / "result.json").read_text())
        validate(result, "call2teams.schema.json")
        expected = check_tenants([load_tenant_dir(f) for f in folders],
                                 CheckOptions(domain_rules=DomainRules.of(account_domains=CONTOSO_ACCOUNT_DOMAINS)))
        assert result["verdict"] == expected.verdict.value == "not-ready"
        assert result["findings"] == json.loads(json.dumps(expected.to_dict()["findings"]))
        scripts = [tmp_path / "run" / name for name in result["cleanup_scripts"]]
        assert scripts and all(path.is_file() for path in scripts)
        text = scripts[0].read_text()
        assert "$DryRun = $true" in text and "{ Remove-CsOnlineVoiceRoute" in text
        assert "Verdict: not-ready" in (tmp_path / "run" / "report.html").read_text()

    def test_move_readiness_records_the_contract_with_checklist_and_cooling_off(self, tmp_path: Path) -> None:
        accounts = C2T_FIXTURES / "accounts.yaml"
        outcome = run_runbook("call2teams_move_readiness",
                              {"accounts": str(accounts), "source": "SA-101", "target": "SA-201",
                               "move_date": "2026-12-01"}, tmp_path / "run")
        assert outcome.status is RunStatus.OK, outcome.failure
        result = outcome.result
        assert result is not None
        validate(result, "call2teams.schema.json")
        expected = assess_move(load_accounts(accounts),
                               MoveRequest("SA-101", "SA-201", MoveMethod.MIGRATE, dt.date(2026, 12, 1)),
                               today=dt.date.today())
        assert result == json.loads(json.dumps(expected.to_dict()))
        assert result["cooling_off_ends"] == "2026-12-15"
        assert result["verdict"] == "not-ready" and result["checklist"]
        assert outcome.exit_code == 7
        assert "insufficient-licences" in {f["code"] for f in result["findings"]}


def test_decisions_the_tests_rely_on_exist(estate_file: Path) -> None:
    """The generated estate has something of every decision in both modes, or the tests above prove little."""
    estate = load_estate(estate_file).estate
    for mode in MigrationMode:
        summary = plan_migration(estate, mode).summary()
        assert all(summary[d.value] > 0 for d in Decision), (mode, summary)
