"""The migration runbooks and the preflight ask Partner Center before they plan, as `plan` and `migrate` do.

The estate's Partner Center holds a completed, a processing and a failed Microsoft-led migration of three of its
four legacy subscriptions. With the Partner Center app's credentials in the environment, an executed migration
runbook (either mode) orders nothing for those three, and the confirmed count is the one untouched source; without
them, the report says it cannot see Microsoft-led migrations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from m365move.cli import main
from m365move.partnercenter.client import TOKEN_CACHE
from m365move.sandbox.server import SandboxServer
from tests.cli.test_microsoft_led_migrations import PARTNER, TOUCHED, UNTOUCHED, _orders_on, estate_document
from tests.execution.sandbox_run import sandbox_on, use_credentials, write_estate

pytestmark = pytest.mark.slow

PARTNER_CENTER_VARIABLES = {"PARTNER_CENTER_TENANT_ID": PARTNER, "PARTNER_CENTER_CLIENT_ID": "app",
                            "PARTNER_CENTER_CLIENT_SECRET": "secret"}


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, SandboxServer]]:
    use_credentials(monkeypatch)
    for name in PARTNER_CENTER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    estate = write_estate(tmp_path, estate_document())
    TOKEN_CACHE.clear()
    with sandbox_on(estate) as server:
        server.app.state.partner_center.clock.time_scale = 0.0
        yield estate, server
    TOKEN_CACHE.clear()


def runbook(name: str, estate: Path, server: SandboxServer, folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    status = main(["runbook", "run", name, "-q", "--output-dir", str(folder), "-p", "estate", str(estate),
                   "-p", "commerce_url", server.url, "-p", "partner_center_url", f"{server.url}/partnercenter",
                   "-p", "partner_center_login_url", f"{server.url}/partnercenter/oauth2/token", *extra])
    return status, json.loads((folder / "result.json").read_text())


@pytest.mark.parametrize("name", ["new_subscription_migration", "switch_plan_migration"])
def test_an_executed_migration_runbook_orders_nothing_microsoft_migrated(
        rig: tuple[Path, SandboxServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    estate, server = rig
    for variable, value in PARTNER_CENTER_VARIABLES.items():
        monkeypatch.setenv(variable, value)
    workspace = ("-p", "workspace", str(tmp_path / "work"))
    before = {k: len(v) for k, v in _orders_on(server).items()}
    status, dry = runbook(name, estate, server, tmp_path / "dry", *workspace)
    assert status == 0 and dry["executed"] is False
    assert dry["to_migrate"] == 1  # the untouched source only: the three Microsoft moved are not counted
    status, done = runbook(name, estate, server, tmp_path / "run", *workspace, "-p", "execute", "true",
                           "-p", "confirm", "1")
    assert status == 0, done
    orders = _orders_on(server)
    for subscription_id in TOUCHED:
        assert len(orders.get(subscription_id, [])) == before.get(subscription_id, 0), subscription_id
    assert len(orders[UNTOUCHED]) > before.get(UNTOUCHED, 0)
    report = (tmp_path / "run" / "report.html").read_text()
    assert "migrated-by-microsoft" in report and "cannot see Microsoft-led migrations" not in report


def test_without_credentials_the_preflight_says_it_cannot_see_them(
        rig: tuple[Path, SandboxServer], tmp_path: Path) -> None:
    estate, server = rig
    assert main(["runbook", "run", "preflight", "-q", "--output-dir", str(tmp_path / "blind"), "-p", "estate",
                 str(estate), "-p", "mode", "new-subscription"]) == 0
    assert "cannot see Microsoft-led migrations" in (tmp_path / "blind" / "report.html").read_text()


def test_with_credentials_the_preflight_skips_what_microsoft_migrated(
        rig: tuple[Path, SandboxServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    estate, server = rig
    for variable, value in PARTNER_CENTER_VARIABLES.items():
        monkeypatch.setenv(variable, value)
    assert main(["runbook", "run", "preflight", "-q", "--output-dir", str(tmp_path / "seen"), "-p", "estate",
                 str(estate), "-p", "mode", "new-subscription", "-p", "partner_center_url",
                 f"{server.url}/partnercenter", "-p", "partner_center_login_url",
                 f"{server.url}/partnercenter/oauth2/token"]) == 0
    result = json.loads((tmp_path / "seen" / "result.json").read_text())
    report = (tmp_path / "seen" / "report.html").read_text()
    assert "migrated-by-microsoft" in report and "cannot see Microsoft-led migrations" not in report
    assert result
