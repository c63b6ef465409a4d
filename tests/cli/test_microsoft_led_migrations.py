"""The Commerce path asks Partner Center before ordering: sources Microsoft already migrated are never ordered.

A Commerce estate whose Partner Center (the sandbox's) holds Microsoft-led migrations of three of its legacy
subscriptions (Completed, Processing, Failed with the legacy subscription suspended) and one untouched: `plan`,
`migrate --execute` (both modes, through the real CLI), `reconcile` and `schedule` against the sandbox.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from m365move.cli import main
from m365move.domain.microsoft_migrations import SUBSCRIPTION_ATTRIBUTE, TENANT_ATTRIBUTE
from m365move.partnercenter.client import TOKEN_CACHE
from m365move.sandbox.server import SandboxServer
from tests.estate_builder import ADDON, BASE, NCE_BASE, standard
from tests.execution.sandbox_run import migrate_args, sandbox_on, state, use_credentials, write_estate

TENANT = "11111111-2222-4333-8444-555555555555"
PARTNER = "99999999-2222-4333-8444-555555555555"
# Commerce subscription -> its legacy Microsoft subscription
LEGACY = {
    "3000001": "aaaaaaaa-0001-4ccc-8ddd-eeeeeeeeeeee",  # Microsoft migrated it: Completed
    "3000002": "aaaaaaaa-0002-4ccc-8ddd-eeeeeeeeeeee",  # Microsoft is migrating it: Processing
    "3000003": "aaaaaaaa-0003-4ccc-8ddd-eeeeeeeeeeee",  # Microsoft's migration Failed, legacy suspended
    "3000004": "aaaaaaaa-0004-4ccc-8ddd-eeeeeeeeeeee",  # untouched: migrates
}
NCE_OF_COMPLETED = "5e0c3a9f-2b1d-4c7e-8f6a-9d8c7b6a5f4e"
MIGRATION = {"3000001": "0d9f5a0e-0001-4c8e-9a51-3b2f1e0d9c8b", "3000002": "0d9f5a0e-0002-4c8e-9a51-3b2f1e0d9c8b",
             "3000003": "0d9f5a0e-0003-4c8e-9a51-3b2f1e0d9c8b"}
UNTOUCHED = "3000004"
TOUCHED = ("3000001", "3000002", "3000003")
SCHEMA = json.loads((Path(__file__).parents[1] / "contracts" / "plan.schema.json").read_text())


def estate_document() -> dict[str, Any]:
    builder = standard().nce_plan(6002, NCE_BASE, billing="1 year", periods=("1 year",))
    for subscription_id in LEGACY:
        builder.subscription(subscription_id, resources=[(BASE, 10), (ADDON, 2)], billing="1 month")
    document = builder.doc
    for subscription in document["commerce"]["subscriptions"]:
        subscription["custom_attributes"] = {SUBSCRIPTION_ATTRIBUTE: LEGACY[subscription["id"]],
                                             TENANT_ATTRIBUTE: TENANT}
    legacy_status = {"3000001": "suspended", "3000003": "suspended"}
    document["partner_center"] = {
        "credentials": {"client_id": "app", "client_secret": "secret"},
        "epoch": "2026-11-30T08:00:00Z",
        "customers": [{"tenant_id": TENANT, "subscriptions": [
            {"id": legacy, "quantity": 10, "status": legacy_status.get(sub, "active"), "offer_id": BASE,
             "catalog_item_id": f"{NCE_BASE}:0001", "term_end_hours": 2000} for sub, legacy in LEGACY.items()]}],
        "migrations": [
            {"id": MIGRATION["3000001"], "currentSubscriptionId": LEGACY["3000001"], "customerTenantId": TENANT,
             "status": "Completed", "microsoftLed": True, "newCommerceSubscriptionId": NCE_OF_COMPLETED,
             "catalogItemId": f"{NCE_BASE}:0001", "quantity": 10},
            {"id": MIGRATION["3000002"], "currentSubscriptionId": LEGACY["3000002"], "customerTenantId": TENANT,
             "status": "Processing", "microsoftLed": True, "catalogItemId": f"{NCE_BASE}:0001", "quantity": 10},
            {"id": MIGRATION["3000003"], "currentSubscriptionId": LEGACY["3000003"], "customerTenantId": TENANT,
             "status": "Failed", "microsoftLed": True, "catalogItemId": f"{NCE_BASE}:0001", "quantity": 10},
        ],
    }
    return document


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, SandboxServer, list[str]]]:
    use_credentials(monkeypatch)
    for name in ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    estate = write_estate(tmp_path, estate_document())
    TOKEN_CACHE.clear()
    with sandbox_on(estate) as server:
        server.app.state.partner_center.clock.time_scale = 0.0  # only the test moves Partner Center's time
        yield estate, server, ["--partner-center-url", f"{server.url}/partnercenter",
                               "--token-url", f"{server.url}/partnercenter/oauth2/token"]
    TOKEN_CACHE.clear()


def with_partner_center(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_CENTER_TENANT_ID", PARTNER)
    monkeypatch.setenv("PARTNER_CENTER_CLIENT_ID", "app")
    monkeypatch.setenv("PARTNER_CENTER_CLIENT_SECRET", "secret")


def plan_json(estate: Path, connection: list[str], capsys: pytest.CaptureFixture[str], mode: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["plan", "--mode", mode, "--estate", str(estate), "--format", "json", *connection]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    return document


def by_id(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["subscription_id"]: s for s in plan["subscriptions"]}


@pytest.mark.parametrize("mode", ["new-subscription", "switch-plan"])
def test_the_plan_skips_what_microsoft_migrated_and_blocks_what_it_is_migrating(
        rig: tuple[Path, SandboxServer, list[str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], mode: str) -> None:
    estate, _, connection = rig
    with_partner_center(monkeypatch)
    planned = by_id(plan_json(estate, connection, capsys, mode))

    completed = planned["3000001"]
    assert completed["decision"] == "skip" and [r["code"] for r in completed["reasons"]] == ["migrated-by-microsoft"]
    assert NCE_OF_COMPLETED in completed["reasons"][0]["message"] and not completed["orders"]
    for pending in ("3000002", "3000003"):
        assert planned[pending]["decision"] == "blocked" and not planned[pending]["orders"]
        assert "customer-migration-in-progress" in [r["code"] for r in planned[pending]["reasons"]]
        assert MIGRATION[pending] in planned[pending]["reasons"][0]["message"]
    assert planned[UNTOUCHED]["decision"] == "migrate"


def test_without_credentials_the_plan_says_once_that_it_cannot_see_microsoft_led_migrations(
        rig: tuple[Path, SandboxServer, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    estate, _, connection = rig
    plan = plan_json(estate, connection, capsys, "new-subscription")
    unseen = [f for f in plan["findings"] if f["code"] == "partner-center-not-consulted"]
    assert len(unseen) == 1 and "cannot see Microsoft-led migrations" in unseen[0]["message"]
    assert by_id(plan)["3000001"]["decision"] == "migrate"  # what it cannot see, it cannot skip: hence the warning
    capsys.readouterr()
    assert main(["plan", "--mode", "new-subscription", "--estate", str(estate), *connection]) == 0
    assert capsys.readouterr().out.count("cannot see Microsoft-led migrations") == 1


def test_some_partner_center_variables_but_not_all_is_bad_input(
        rig: tuple[Path, SandboxServer, list[str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    estate, _, connection = rig
    monkeypatch.setenv("PARTNER_CENTER_CLIENT_ID", "app")
    assert main(["plan", "--mode", "new-subscription", "--estate", str(estate), *connection]) == 2
    assert "PARTNER_CENTER_TENANT_ID" in capsys.readouterr().err


def _orders_on(server: SandboxServer) -> dict[str, list[dict[str, Any]]]:
    """Commerce orders per source subscription (a sales order names its source in its poNumber key)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for order in state(server)["orders"]:
        text = json.dumps(order)
        for subscription_id in LEGACY:
            if subscription_id in text:
                found.setdefault(subscription_id, []).append(order)
    return found


@pytest.mark.parametrize("mode", ["new-subscription", "switch-plan"])
def test_migrate_execute_orders_nothing_for_them_and_writes_the_reconciliation(
        rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], mode: str) -> None:
    estate, server, connection = rig
    with_partner_center(monkeypatch)
    workspace = tmp_path / "work"
    before = {k: len(v) for k, v in _orders_on(server).items()}
    assert main([*migrate_args(mode, estate, server, workspace, "--format", "json"), *connection]) == 0  # dry run
    # Confirmed with the count the dry run would migrate: the one source Partner Center shows untouched.
    assert main([*migrate_args(mode, estate, server, workspace, "--execute", "--yes", "1", "--format", "json"),
                 *connection]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out[out.rindex('{\n "run_id"'):])

    orders = _orders_on(server)
    for subscription_id in TOUCHED:
        assert len(orders.get(subscription_id, [])) == before.get(subscription_id, 0), subscription_id
    assert len(orders[UNTOUCHED]) > before.get(UNTOUCHED, 0)
    assert report["summary"].get("migrated") == 1

    path = next(Path(report["results_path"]).parent.glob(f"reconciliation-{report['run_id']}.csv"))
    assert str(path) in err
    with path.open(newline="") as handle:
        rows = {r["subscription_id"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {*TOUCHED, UNTOUCHED}
    # the untouched one is ordered, and named for review: the customer holds the completed migration's new-commerce
    # subscription of the same product beside it
    assert rows[UNTOUCHED]["action"] == "review" and NCE_OF_COMPLETED in rows[UNTOUCHED]["detail"]
    assert rows["3000001"]["action"] == "terminate-in-commerce"
    assert rows["3000001"]["nce_subscription_id"] == NCE_OF_COMPLETED
    assert rows["3000001"]["microsoft_led"] == "true"
    assert {rows[s]["action"] for s in ("3000002", "3000003")} == {"wait"}
    assert {rows[s]["migration_id"] for s in TOUCHED} == set(MIGRATION.values())
    assert {rows[s]["legacy_subscription_id"] for s in TOUCHED} == {LEGACY[s] for s in TOUCHED}


def test_reconcile_lists_each_then_terminates_the_migrated_once(
        rig: tuple[Path, SandboxServer, list[str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    estate, server, connection = rig
    with_partner_center(monkeypatch)
    capsys.readouterr()
    assert main(["reconcile", "--estate", str(estate), "--format", "json", *connection]) == 0
    out, err = capsys.readouterr()
    rows = {r["subscription_id"]: r for r in json.loads(out)["subscriptions"]}
    assert set(rows) == {*TOUCHED, UNTOUCHED} and rows[UNTOUCHED]["action"] == "review" and "add --execute" in err
    assert [rows[s]["action"] for s in TOUCHED] == ["terminate-in-commerce", "wait", "wait"]
    assert not _orders_on(server)  # a dry run changes nothing

    reconcile = ["reconcile", "--estate", str(estate), "--commerce-url", server.url, "--execute", *connection]
    assert main(reconcile) == 0
    assert "termination order" in capsys.readouterr().out
    assert main(reconcile) == 0
    assert "terminated already" in capsys.readouterr().out
    orders = _orders_on(server)
    assert list(orders) == ["3000001"]
    (order,) = orders["3000001"]
    assert order["type"] == "cancellation"
    assert NCE_OF_COMPLETED in json.dumps(order)  # the new-commerce subscription is recorded with the termination


def test_reconcile_needs_partner_center(rig: tuple[Path, SandboxServer, list[str]],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    estate, _, connection = rig
    assert main(["reconcile", "--estate", str(estate), *connection]) == 2
    assert "PARTNER_CENTER_TENANT_ID" in capsys.readouterr().err


@pytest.mark.parametrize("subscription_id", TOUCHED)
def test_schedule_refuses_a_subscription_microsoft_migrated_or_is_migrating(
        rig: tuple[Path, SandboxServer, list[str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], subscription_id: str) -> None:
    _, server, connection = rig
    with_partner_center(monkeypatch)
    capsys.readouterr()
    assert main(["schedule", "--customer", TENANT, "--subscription", LEGACY[subscription_id], "--on-renewal",
                 "--term", "P1Y", "--billing", "Monthly", "--quantity", "10", *connection]) == 1
    err = capsys.readouterr().err
    assert MIGRATION[subscription_id] in err and err.strip().count("\n") == 0
    assert not server.app.state.partner_center.schedules


def test_schedule_still_schedules_an_untouched_subscription(
        rig: tuple[Path, SandboxServer, list[str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, server, connection = rig
    with_partner_center(monkeypatch)
    ask = ["schedule", "--customer", TENANT, "--subscription", LEGACY[UNTOUCHED], "--on-renewal",
           "--term", "P1Y", "--billing", "Monthly", "--quantity", "10", *connection]
    assert main(ask) == 0  # a dry run: says what it would create
    assert not server.app.state.partner_center.schedules
    assert main([*ask, "--execute"]) == 0
    assert len(server.app.state.partner_center.schedules) == 1


def test_a_generated_estate_holds_each_kind_of_microsoft_led_migration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from m365move.demo.commerce_partner_center import add_commerce_partner_center
    from m365move.demo.estate_generator import EstateSize, generate_estate

    document = generate_estate(EstateSize.for_subscriptions(150), seed=5)
    by_state = add_commerce_partner_center(document, 5, credentials=("app", "secret"))
    assert all(by_state[state] for state in ("Completed", "Processing", "Failed"))
    estate = write_estate(tmp_path, document)
    use_credentials(monkeypatch)
    with_partner_center(monkeypatch)
    TOKEN_CACHE.clear()
    with sandbox_on(estate) as server:
        connection = ["--partner-center-url", f"{server.url}/partnercenter",
                      "--token-url", f"{server.url}/partnercenter/oauth2/token"]
        planned = by_id(plan_json(estate, connection, capsys, "new-subscription"))
    TOKEN_CACHE.clear()
    for subscription_id in by_state["Completed"]:
        assert "migrated-by-microsoft" in [r["code"] for r in planned[subscription_id]["reasons"]]
    for subscription_id in by_state["Processing"] + by_state["Failed"]:
        assert planned[subscription_id]["decision"] != "migrate"


def test_the_lookup_reads_the_same_variables_as_the_partner_center_options() -> None:
    from m365move.cli import partner_center_lookup, partner_center_options

    assert partner_center_lookup.ENVIRONMENT == partner_center_options.ENVIRONMENT


def test_migrate_without_credentials_says_once_that_it_cannot_see_them(
        rig: tuple[Path, SandboxServer, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    estate, server, _ = rig
    capsys.readouterr()
    assert main(migrate_args("new-subscription", estate, server, tmp_path / "work")) == 0
    assert capsys.readouterr().err.count("cannot see Microsoft-led migrations") == 1
