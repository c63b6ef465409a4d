"""The reconcile runbook, executed end to end (`m365move runbook run reconcile`) against the sandbox.

The estate's Partner Center holds, for Commerce's legacy subscriptions: a completed Microsoft-led migration, a
processing one, a failed one (legacy suspended), an untouched subscription beside a new-commerce one of its product,
a legacy subscription Microsoft deleted with nothing in new commerce; and a new-commerce subscription no Commerce
subscription bills. Dry run first; the terminations only with the confirmed count; never twice.
"""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from m365move.cli import main
from m365move.domain.microsoft_migrations import SUBSCRIPTION_ATTRIBUTE, TENANT_ATTRIBUTE
from m365move.partnercenter.client import TOKEN_CACHE
from m365move.sandbox.server import SandboxServer
from tests.cli.test_microsoft_led_migrations import NCE_OF_COMPLETED, PARTNER, estate_document
from tests.execution.sandbox_run import sandbox_on, state, use_credentials, write_estate

pytestmark = pytest.mark.slow

DELETED = "3000005"
DELETED_LEGACY = "aaaaaaaa-0005-4ccc-8ddd-eeeeeeeeeeee"
OTHER_TENANT = "22222222-2222-4333-8444-555555555555"
UNBILLED = "7a7a7a7a-0001-4bbb-8ccc-dddddddddddd"


def document() -> dict[str, Any]:
    doc = estate_document()
    subscriptions = doc["commerce"]["subscriptions"]
    gone = copy.deepcopy(subscriptions[-1])
    gone["id"] = DELETED
    # Another tenant, holding nothing in new commerce (beside a new-commerce subscription of its product the rule
    # is migrated-by-microsoft instead).
    gone["custom_attributes"] = {SUBSCRIPTION_ATTRIBUTE: DELETED_LEGACY, TENANT_ATTRIBUTE: OTHER_TENANT}
    subscriptions.append(gone)
    doc["partner_center"]["customers"].append({"tenant_id": OTHER_TENANT, "subscriptions": [
        {"id": DELETED_LEGACY, "quantity": 10, "status": "deleted", "offer_id": "91FD106F-4B2C-4938-95AC-F54F74E9A239",
         "term_end_hours": 2000}]})
    customer = doc["partner_center"]["customers"][0]
    customer["nce_subscriptions"] = [{"id": UNBILLED, "offer_id": "CFQ7TTC0LHXX:0002:0001", "quantity": 5,
                                      "cancellation_allowed_until": "2099-01-01T00:00:00Z"}]
    return doc


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, SandboxServer]]:
    use_credentials(monkeypatch)
    for name, value in (("PARTNER_CENTER_TENANT_ID", PARTNER), ("PARTNER_CENTER_CLIENT_ID", "app"),
                        ("PARTNER_CENTER_CLIENT_SECRET", "secret")):
        monkeypatch.setenv(name, value)
    estate = write_estate(tmp_path, document())
    TOKEN_CACHE.clear()
    with sandbox_on(estate) as server:
        yield estate, server
    TOKEN_CACHE.clear()


def run(estate: Path, server: SandboxServer, folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    status = main(["runbook", "run", "reconcile", "-q", "--output-dir", str(folder), "-p", "estate", str(estate),
                   "-p", "commerce_url", server.url, "-p", "partner_center_url", f"{server.url}/partnercenter",
                   "-p", "partner_center_login_url", f"{server.url}/partnercenter/oauth2/token", *extra])
    return status, json.loads((folder / "result.json").read_text())


def reconcile_orders(server: SandboxServer) -> list[dict[str, Any]]:
    return [o for o in state(server)["orders"] if (o.get("po_number") or "").startswith("m365move-reconcile:")]


def test_a_dry_run_lists_both_sides_with_what_to_do_and_changes_nothing(
        rig: tuple[Path, SandboxServer], tmp_path: Path) -> None:
    estate, server = rig
    status, result = run(estate, server, tmp_path / "dry")
    assert status == 0 and result["executed"] is False
    assert result["actions"] == {"bill-in-commerce": 1, "review": 2, "terminate-in-commerce": 1, "wait": 2}
    assert result["to_terminate"] == 1 and not reconcile_orders(server)
    with (tmp_path / "dry" / "reconciliation.csv").open(newline="") as handle:
        legacy = {r["subscription_id"]: r for r in csv.DictReader(handle)}
    assert legacy["3000001"]["action"] == "terminate-in-commerce"
    assert legacy["3000001"]["nce_subscription_id"] == NCE_OF_COMPLETED
    assert legacy[DELETED]["action"] == "review" and "is deleted in Partner Center" in legacy[DELETED]["detail"]
    with (tmp_path / "dry" / "unbilled-new-commerce.csv").open(newline="") as handle:
        (unbilled,) = list(csv.DictReader(handle))
    # The completed migration's new subscription is the terminate row's to record, not listed again here.
    assert unbilled["nce_subscription_id"] == UNBILLED and unbilled["action"] == "bill-in-commerce"
    assert unbilled["cancellationAllowedUntilDate"] == "2099-01-01T00:00:00Z" and "import it" in unbilled["detail"]
    manifest = (tmp_path / "dry" / "manifest.json").read_text()
    assert "reconciliation.csv" in manifest and "unbilled-new-commerce.csv" in manifest
    report = (tmp_path / "dry" / "report.html").read_text()
    assert "Dry run: nothing was changed" in report and UNBILLED in report


def test_terminations_need_the_confirmed_count_and_happen_once(
        rig: tuple[Path, SandboxServer], tmp_path: Path) -> None:
    estate, server = rig
    status, result = run(estate, server, tmp_path / "wrong", "-p", "execute", "true", "-p", "confirm", "2")
    assert status == 3 and "refused" in result and not reconcile_orders(server)

    status, result = run(estate, server, tmp_path / "first", "-p", "execute", "true", "-p", "confirm", "1")
    assert status == 0 and result["terminated"] == ["3000001"]
    status, result = run(estate, server, tmp_path / "again", "-p", "execute", "true", "-p", "confirm", "1")
    assert status == 0
    (order,) = reconcile_orders(server)
    assert order["type"] == "cancellation" and order["subscription_id"] == "3000001"
    assert NCE_OF_COMPLETED in json.dumps(order)


def test_without_partner_center_credentials_it_stops_and_says_so(
        rig: tuple[Path, SandboxServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    estate, server = rig
    for name in ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    assert main(["runbook", "run", "reconcile", "-q", "--output-dir", str(tmp_path / "blind"), "-p", "estate",
                 str(estate), "-p", "commerce_url", server.url]) == 3
    assert "PARTNER_CENTER_TENANT_ID" in (tmp_path / "blind" / "report.html").read_text()
