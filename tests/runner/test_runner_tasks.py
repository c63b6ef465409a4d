"""Every handler branch through connect-extension-runner's own task managers, on the sandbox (issue 12).

The runner decides what the handlers see and what becomes of their answers: it counts the object with the event
definition's filter first (no match: skip, handler not called), gives the handler a ConnectClient that repeats
requests (max_retries=3), and turns an exception or a timeout into retry. These tests assert on the runner's
answers (what Connect would receive) and on Connect's state after them.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from m365move.connect.purchase_fulfilment import MIGRATION_ID_PARAM
from m365move.sandbox.spec_validation import Exchange
from m365move.sandbox.traffic import TrafficLog, recording
from tests.runner.conftest import RunnerRig, runner_rig

# The runner's AsyncConnectClient keeps one HTTP session per asyncio context and never closes them (a runner
# lives as long as its container); each test's event loop ends with them open.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

PURCHASE = "asset_purchase_request_processing"
SETUP = "tier_config_setup_request_processing"
VALIDATION = "tier_config_setup_request_validation"


def _pending_tier_config_request(rig: RunnerRig) -> dict[str, Any]:
    return next(r for r in rig.connect.tier_config_requests.values() if r["status"] == "pending")


def _param(obj: dict[str, Any], name: str) -> Any:
    return next((p.get("value") for p in obj.get("params", obj.get("asset", {}).get("params", [])) if p["id"] == name),
                None)


class TestTierConfigs:
    def test_complete_configuration_is_approved(self, rig: RunnerRig) -> None:
        request = _pending_tier_config_request(rig)
        answer = rig.runtime.deliver(SETUP, request["id"])
        assert answer.result == "success"
        assert rig.connect.tier_config_requests[request["id"]]["status"] == "approved"

    def test_bad_parameter_is_inquired(self, rig: RunnerRig) -> None:
        request = _pending_tier_config_request(rig)
        next(p for p in request["params"] if p["id"] == "mpn_id")["value"] = "12ab"
        answer = rig.runtime.deliver(SETUP, request["id"])
        assert answer.result == "success"
        assert rig.connect.tier_config_requests[request["id"]]["status"] == "inquiring"
        assert _param_error(rig.connect.tier_config_requests[request["id"]], "mpn_id")

    def test_tier_two_configuration_is_failed_with_the_reason(self, rig: RunnerRig) -> None:
        request = _pending_tier_config_request(rig)
        request["configuration"]["tier_level"] = 2
        answer = rig.runtime.deliver(SETUP, request["id"])
        assert answer.result == "success"
        stored = rig.connect.tier_config_requests[request["id"]]
        assert stored["status"] == "failed" and "tier level 2" in stored["reason"]

    def test_a_request_no_longer_pending_is_skipped_by_the_runner(self, rig: RunnerRig) -> None:
        """The runner counts the object with the event's statuses first: the handler is not even called."""
        request = _pending_tier_config_request(rig)
        request["status"] = "approved"
        answer = rig.runtime.deliver(SETUP, request["id"])
        assert answer.result == "skip" and "supported statuses" in (answer.message or "")

    def test_another_products_configuration_is_skipped_not_failed(self, rig: RunnerRig) -> None:
        request = _pending_tier_config_request(rig)
        request["configuration"]["product"] = {"id": "PRD-999-999-999"}
        answer = rig.runtime.deliver(SETUP, request["id"])
        assert answer.result == "skip" and "PRD-999-999-999" in (answer.message or "")
        assert rig.connect.tier_config_requests[request["id"]]["status"] == "pending"

    def test_draft_validation_answers_with_value_errors(self, rig: RunnerRig) -> None:
        request = dict(_pending_tier_config_request(rig), status="draft")
        request["params"] = [dict(p, value="nobody") if p["id"] == "contact_email" else p for p in request["params"]]
        answer = rig.runtime.deliver(VALIDATION, request["id"], data=request)
        assert answer.result == "success"
        params = {p["id"]: p for p in answer.data["body"]["params"]} if "body" in (answer.data or {}) else {
            p["id"]: p for p in answer.data["params"]}
        assert params["contact_email"]["value_error"] and not params["mpn_id"].get("value_error")

    def test_a_draft_change_request_is_validated_the_same_way(self, rig: RunnerRig) -> None:
        request = dict(_pending_tier_config_request(rig), status="draft", type="update")
        request["params"] = [dict(p, value="12ab") if p["id"] == "mpn_id" else p for p in request["params"]]
        answer = rig.runtime.deliver("tier_config_change_request_validation", request["id"], data=request)
        assert answer.result == "success", answer.message
        params = {p["id"]: p for p in answer.data["body"]["params"]} if "body" in (answer.data or {}) else {
            p["id"]: p for p in answer.data["params"]}
        assert params["mpn_id"]["value_error"] and not params["contact_email"].get("value_error")


def _param_error(request: dict[str, Any], name: str) -> str:
    return str(next(p.get("value_error") or "" for p in request["params"] if p["id"] == name))


class TestPurchases:
    def test_sweep_then_purchase_rescheduled_then_approved(self, rig: RunnerRig) -> None:
        sweep = rig.sweep()
        assert sweep.result == "success", sweep.message
        purchases = rig.requests(type="purchase", status="pending")
        assert purchases
        first = purchases[0]
        answer = rig.runtime.deliver(PURCHASE, first["id"])
        assert answer.result == "reschedule" and answer.countdown >= 30
        assert _param(rig.connect.requests[first["id"]], MIGRATION_ID_PARAM)
        rig.partner_center.clock.advance(rig.partner_center.migration_seconds + 1)
        answer = rig.runtime.deliver(PURCHASE, first["id"])
        assert answer.result == "success"
        assert rig.connect.requests[first["id"]]["status"] == "approved"
        # Redelivered after it moved on: the runner's count answers skip, nothing is called twice.
        again = rig.runtime.deliver(PURCHASE, first["id"])
        assert again.result == "skip"
        assert sum(rig.partner_center.created_for.values()) == 1

    def test_create_refused_by_partner_center_fails_the_request_once_with_its_description(self) -> None:
        """Eligible by validation, refused at create (SMB seat cap): Microsoft's description is the request's reason."""
        def capped(section: dict[str, Any]) -> None:
            for customer in section["partner_center"]["customers"]:
                for subscription in customer["subscriptions"]:
                    subscription["seat_cap"] = 0

        with runner_rig(change=capped) as rig:
            rig.sweep()
            purchase = rig.requests(type="purchase", status="pending")[0]
            answer = rig.runtime.deliver(PURCHASE, purchase["id"])
            assert answer.result == "success"
            stored = rig.connect.requests[purchase["id"]]
            assert stored["status"] == "failed" and "exceeds the limit of 0 licenses" in stored["reason"]
            assert "800003" in stored["reason"]
            assert rig.runtime.deliver(PURCHASE, purchase["id"]).result == "skip"  # no retry loop

    def test_missing_partner_center_credentials_fail_the_request_once_not_retry(self, rig: RunnerRig) -> None:
        """The extension's configuration cannot fulfil the purchase: the request is failed once with the reason
        naming the variables (no retry loop, no request pending for ever)."""
        rig.sweep()
        purchase = rig.requests(type="purchase", status="pending")[0]
        runtime = rig.with_variables(PARTNER_CENTER_CLIENT_SECRET="")
        answer = runtime.deliver(PURCHASE, purchase["id"])
        assert answer.result == "success", answer.message
        stored = rig.connect.requests[purchase["id"]]
        assert stored["status"] == "failed" and "PARTNER_CENTER_CLIENT_SECRET" in stored["reason"]
        assert runtime.deliver(PURCHASE, purchase["id"]).result == "skip"

    def test_wrong_partner_center_secret_fails_the_task_once(self, rig: RunnerRig) -> None:
        rig.sweep()
        purchase = rig.requests(type="purchase", status="pending")[0]
        answer = rig.with_variables(PARTNER_CENTER_CLIENT_SECRET="wrong").deliver(PURCHASE, purchase["id"])
        assert answer.result == "fail" and "secret" in (answer.message or "")

    def test_an_unexpected_handler_error_fails_once_with_the_reason(self, rig: RunnerRig) -> None:
        rig.sweep()
        purchase = rig.requests(type="purchase", status="pending")[0]
        rig.connect.requests[purchase["id"]]["asset"]["items"].append(dict(purchase["asset"]["items"][0]))
        answer = rig.runtime.deliver(PURCHASE, purchase["id"])
        assert answer.result != "retry", answer.message
        stored = rig.connect.requests[purchase["id"]]
        assert stored["status"] == "failed" and "exactly one NCE item" in stored["reason"]

    def test_a_bad_schedule_parameter_fails_the_schedule_with_the_reason(self, rig: RunnerRig) -> None:
        answer = rig.sweep({"expiration_date": "next tuesday"})
        assert answer.result == "fail" and "schedule parameter" in (answer.message or "")

    def test_an_exception_escaping_a_handler_becomes_retry_in_the_runner(self, rig: RunnerRig) -> None:
        """What the runner does with an escaping exception (why none may escape): retry, with the traceback."""
        rig.sweep()
        purchase = rig.requests(type="purchase", status="pending")[0]
        application = rig.runtime.handler.get_application()
        original = application.handle_asset_purchase_request

        @functools.wraps(original)  # keeps the @event registration
        def broken(self: Any, request: dict[str, Any]) -> Any:
            raise RuntimeError("boom")

        application.handle_asset_purchase_request = broken
        try:
            answer = rig.runtime.deliver(PURCHASE, purchase["id"])
        finally:
            application.handle_asset_purchase_request = original
        assert answer.result == "retry" and "boom" in (answer.message or "")


class TestDuplicates:
    def test_one_task_delivered_twice_at_once_creates_one_migration(self, rig: RunnerRig) -> None:
        rig.sweep()
        purchase = rig.requests(type="purchase", status="pending")[0]
        tasks = [rig.runtime.task(PURCHASE, purchase["id"]) for _ in range(2)]
        answers = rig.runtime.deliver_many(tasks)
        assert all(a.result in ("reschedule", "skip", "success") for a in answers), answers
        assert sum(rig.partner_center.created_for.values()) == 1


class TestInstallations:
    """Installed by another account, a task comes with that installation; the handlers act as that account."""

    INSTALLATION = {"id": "EIN-777-777-777", "api_key": "ApiKey SU-777-777-777:installation",
                    "owner": {"id": "PA-777-777", "name": "Installing distributor"}, "status": "installed",
                    "settings": {}, "environment": {"id": "ENV-LOCAL", "type": "development",
                                                    "extension": {"id": "SRVC-LOCAL"}, "hostname": "m365move",
                                                    "domain": "ext.example", "runtime": "local"}}

    def _handler_calls(self, traffic: TrafficLog) -> list[Exchange]:
        # The runner puts EAAS_TASK_TYPE on the clients it makes for the application (not on its own look-ups).
        return [r.exchange for r in traffic.requests if r.api == "connect" and r.exchange.header("eaas_task_type")]

    def test_an_installations_task_acts_with_the_installations_key(self, rig: RunnerRig) -> None:
        rig.connect.add_installation(self.INSTALLATION)
        rig.sweep()
        purchase = rig.requests(type="purchase", status="pending")[0]
        key = self.INSTALLATION["api_key"]
        with recording() as traffic:
            answer = rig.runtime.deliver(PURCHASE, purchase["id"], installation_id=self.INSTALLATION["id"],
                                         api_key=key)
        assert answer.result == "reschedule", answer.message
        assert _param(rig.connect.requests[purchase["id"]], MIGRATION_ID_PARAM)
        calls = self._handler_calls(traffic)
        assert any(e.method == "PUT" for e in calls)  # the migration id was stored by the handler
        assert {e.header("authorization") for e in calls} == {key}

    def test_without_an_installation_the_environments_key_is_used(self, rig: RunnerRig) -> None:
        rig.sweep()
        purchase = rig.requests(type="purchase", status="pending")[0]
        with recording() as traffic:
            answer = rig.runtime.deliver(PURCHASE, purchase["id"])
        assert answer.result == "reschedule", answer.message
        assert {e.header("authorization") for e in self._handler_calls(traffic)} == {rig.section["connect"]["api_key"]}

    def test_the_sweep_covers_each_installations_assets_with_its_own_key(self, rig: RunnerRig) -> None:
        """The schedule belongs to the environment (no installation_client): the sweep lists the installations and
        creates each one's purchases with that installation's key (Connect's impersonate), not the owner's."""
        rig.connect.add_installation(self.INSTALLATION)
        with recording() as traffic:
            answer = rig.sweep()
        assert answer.result == "success", answer.message
        creates = [r.exchange for r in traffic.requests
                   if r.api == "connect" and r.exchange.method == "POST" and r.exchange.path.endswith("/requests")]
        assert creates and {e.header("authorization") for e in creates} == {self.INSTALLATION["api_key"]}
        assert any(r.exchange.path.endswith(f"/installations/{self.INSTALLATION['id']}/impersonate")
                   for r in traffic.requests)

    def test_an_installations_own_partner_center_credentials_are_its_own(self, rig: RunnerRig) -> None:
        """An installation's settings carry its own Partner Center app: its sweep and its purchases use them, not
        the environment's (here they are refused, while the environment's are good)."""
        rig.sweep()  # the environment's own account (no installation yet): purchases with the environment's tenant
        purchase = rig.requests(type="purchase", status="pending")[0]
        own = {**self.INSTALLATION, "settings": {"PARTNER_CENTER_CLIENT_ID": "installing-partners-app",
                                                 "PARTNER_CENTER_CLIENT_SECRET": "installing-partners-secret"}}
        rig.connect.add_installation(own)
        answer = rig.runtime.deliver(PURCHASE, purchase["id"], installation_id=own["id"], api_key=own["api_key"])
        assert answer.result == "fail" and "installing-partners-app" in (answer.message or ""), answer.message
        before = len(rig.requests(type="purchase"))
        swept = rig.sweep()
        assert swept.result == "fail" and f"installation {own['id']}" in (swept.message or ""), swept.message
        assert "no purchase is created" in (swept.message or "")
        assert len(rig.requests(type="purchase")) == before
