"""``m365move schedule`` / ``schedules list`` / ``schedules cancel`` against the Partner Center sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from m365move.cli import main
from m365move.estate.schema import estate_document
from m365move.partnercenter.client import TOKEN_CACHE
from m365move.sandbox.partnercenter_state import PartnerCenterState
from m365move.sandbox.server import run_sandbox

TENANT = "11111111-2222-4333-8444-555555555555"
LEGACY = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], PartnerCenterState]]:
    section = {"credentials": {"client_id": "app", "client_secret": "secret"}, "epoch": "2026-11-30T08:00:00Z",
               "customers": [{"tenant_id": TENANT, "subscriptions": [
                   {"id": LEGACY, "quantity": 5, "status": "active", "term_end_hours": 100}]}]}
    monkeypatch.setenv("PARTNER_CENTER_TENANT_ID", "99999999-2222-4333-8444-555555555555")
    monkeypatch.setenv("PARTNER_CENTER_CLIENT_ID", "app")
    monkeypatch.setenv("PARTNER_CENTER_CLIENT_SECRET", "secret")
    TOKEN_CACHE.clear()
    with run_sandbox(estate_document({"version": 1, "partner_center": section})) as server:
        state: PartnerCenterState = server.app.state.partner_center
        state.clock.time_scale = 0.0  # only the test moves platform time
        yield (["--partner-center-url", f"{server.url}/partnercenter",
                "--token-url", f"{server.url}/partnercenter/oauth2/token"], state)
    TOKEN_CACHE.clear()


def test_schedule_twice_then_list_then_cancel(sandbox: tuple[list[str], PartnerCenterState],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    connection, state = sandbox
    ask = ["schedule", "--customer", TENANT, "--subscription", LEGACY, "--term", "P1Y", "--billing", "Monthly",
           "--quantity", "5", *connection]
    # A dry run by default: it says what it would do and changes nothing.
    assert main([*ask, "--date", "2026-12-02T00:00:00Z"]) == 0
    assert capsys.readouterr().out.startswith("dry run: would create a schedule ")
    assert state.schedules == {}
    ask.append("--execute")
    assert main([*ask, "--date", "2026-12-02T00:00:00Z"]) == 0
    assert capsys.readouterr().out.startswith("created schedule ")
    assert main([*ask, "--date", "2026-12-02T00:00:00Z"]) == 0
    assert capsys.readouterr().out.startswith("unchanged schedule ")
    assert main([*ask, "--on-renewal"]) == 0
    assert "updated schedule" in (out := capsys.readouterr().out) and "on renewal (2026-12-04T12:00:00Z)" in out
    assert len(state.schedules) == 1

    assert main(["schedules", "list", "--subscription", LEGACY, "--format", "json", *connection]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["status"] == "Created" and listed["migrateOnRenewal"] is True

    assert main(["schedules", "cancel", "--customer", TENANT, "--subscription", LEGACY, *connection]) == 0
    assert capsys.readouterr().out.startswith("dry run: would cancel schedule ")
    assert main(["schedules", "cancel", "--customer", TENANT, "--subscription", LEGACY, "--execute", *connection]) == 0
    assert capsys.readouterr().out.startswith("cancelled schedule ")
    assert main(["schedules", "cancel", "--customer", TENANT, "--subscription", LEGACY, "--execute", *connection]) == 0
    assert "nothing cancelled" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "where"), [
    (["schedule", "--customer", "nope", "--subscription", LEGACY, "--term", "P1Y", "--billing", "Monthly",
      "--quantity", "5", "--on-renewal"], "--customer"),
    (["schedule", "--customer", TENANT, "--subscription", LEGACY, "--term", "P1M", "--billing", "Annual",
      "--quantity", "5", "--on-renewal"], "not billed Annual"),
    (["schedule", "--customer", TENANT, "--subscription", LEGACY, "--term", "P1Y", "--billing", "Monthly",
      "--quantity", "5", "--date", "soon"], "--date"),
    (["schedules", "list"], "schedules list"),
])
def test_bad_input_is_one_line_and_exit_2(sandbox: tuple[list[str], PartnerCenterState], args: list[str], where: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    connection, _ = sandbox
    assert main([*args, *connection]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and where in err
