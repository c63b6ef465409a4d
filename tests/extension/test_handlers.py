"""Each handler branch with connect-openapi-client's ConnectClientMocker and a Partner Center double."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from connect.client import ConnectClient
from connect.client.testing import ConnectClientMocker, get_requests_mocker
from connect.eaas.core.enums import ResultType

from extension.events import M365MoveEventsApplication
from m365move.connect.purchase_fulfilment import migration_reference
from m365move.partnercenter.eligibility import ELIGIBILITY_CODES
from tests.extension.fakes import CONFIG, ENDPOINT, LEGACY, TENANT, FakePartnerCenter

REQUEST_ID = "PR-1000-2000-3000-001"
TCR_ID = "TCR-100-200-300-001"


def app_for(pc: FakePartnerCenter | None = None, **config: str) -> M365MoveEventsApplication:
    class Application(M365MoveEventsApplication):
        partner_center_transport = (pc or FakePartnerCenter()).transport()

    import logging

    return Application(ConnectClient("ApiKey SU-1:x", endpoint=ENDPOINT, max_retries=0), logging.getLogger("test.ext"),
                       {**CONFIG, **config})


def sent_bodies(method: str, suffix: str) -> list[dict[str, Any]]:
    return [json.loads(c.request.body or b"{}") for c in get_requests_mocker().calls
            if c.request.method == method and c.request.url.endswith(suffix)]


# -- tier configurations ---------------------------------------------------------------------------

GOOD_PARAMS = {"mpn_id": "4001234", "ms_partner_tenant_id": "0f0e0d0c-0b0a-4909-8807-060504030201",
               "contact_email": "ops@reseller.example"}


def tier_config_request(params: dict[str, str | None] | None = None, tier_level: int = 1) -> dict[str, Any]:
    values = GOOD_PARAMS if params is None else params
    return {"id": TCR_ID, "type": "setup", "status": "pending",
            "configuration": {"id": "TC-1", "tier_level": tier_level, "account": {"id": "TA-1"},
                              "product": {"id": "PRD-200-000-001"}},
            "params": [{"id": k, "value": v} for k, v in values.items() if v is not None]}


class TestTierConfigProcessing:
    def test_complete_parameters_are_approved_with_the_template(self, mocker: ConnectClientMocker) -> None:
        """A tier config with every parameter right is approved with {template: {id}}."""
        mocker.ns("tier").collection("config-requests")[TCR_ID]("approve").post(
            return_value={}, match_body={"template": {"id": "TL-TIER-OK"}})
        response = app_for().handle_tier_config_setup_request(tier_config_request())
        assert response.status == ResultType.SUCCESS

    def test_change_request_uses_the_same_checks(self, mocker: ConnectClientMocker) -> None:
        mocker.ns("tier").collection("config-requests")[TCR_ID]("approve").post(return_value={})
        assert app_for().handle_tier_config_change_request(tier_config_request()).status == ResultType.SUCCESS

    def test_tier_two_configuration_is_failed_with_a_reason(self, mocker: ConnectClientMocker) -> None:
        mocker.ns("tier").collection("config-requests")[TCR_ID]("fail").post(return_value={})
        response = app_for().handle_tier_config_setup_request(tier_config_request(tier_level=2))
        assert response.status == ResultType.SUCCESS
        (body,) = sent_bodies("POST", "/fail")
        assert "tier-1" in body["reason"] and "tier level 2" in body["reason"]

    @pytest.mark.parametrize(("param", "bad"), [
        ("mpn_id", "12ab"), ("mpn_id", None),
        ("ms_partner_tenant_id", "not-a-guid"), ("ms_partner_tenant_id", None),
        ("contact_email", "nobody"), ("contact_email", None),
    ])
    def test_each_bad_parameter_is_inquired_by_name(self, mocker: ConnectClientMocker, param: str, bad: str | None) -> None:
        """Only the bad parameter gets a value_error, then the request is inquired."""
        tcr = mocker.ns("tier").collection("config-requests")[TCR_ID]
        tcr.update(return_value={})
        tcr("inquire").post(return_value={})
        app_for().handle_tier_config_setup_request(tier_config_request({**GOOD_PARAMS, param: bad}))
        (update,) = sent_bodies("PUT", TCR_ID)
        assert [p["id"] for p in update["params"]] == [param]
        assert update["params"][0]["value_error"]

    def test_draft_validation_answers_synchronously(self) -> None:
        """The validation event returns the request with the value errors, calling nothing."""
        response = app_for().validate_tier_config_setup_request(tier_config_request({**GOOD_PARAMS, "mpn_id": "x"}))
        params = {p["id"]: p for p in response.body["params"]}
        assert params["mpn_id"]["value_error"] and "value_error" not in params["contact_email"]


# -- migration purchases ---------------------------------------------------------------------------


def purchase(info: Any = None, domain: str = "contoso.onmicrosoft.com", migration_id: str | None = None,
             product: str = "PRD-200-000-001") -> dict[str, Any]:
    if info is None:
        info = {"transaction_type": "NCEmigration", "ms_customer_id": TENANT, "csp_order_id": "o-1",
                "subscription_id": LEGACY, "purchaseFullTerm": False, "addons": []}
    params = [{"id": "microsoft_domain", "value": domain}, {"id": "transaction_id", "value": "t-1"}]
    if info is not False:
        params.append({"id": "transaction_info_object", "value": info if isinstance(info, str) else json.dumps(info)})
    if migration_id:
        params.append({"id": "nce_migration_id", "value": migration_id})
    return {"id": REQUEST_ID, "type": "purchase", "status": "pending",
            "asset": {"id": "AS-1", "product": {"id": product}, "params": params,
                      "items": [{"id": "PRD-200-000-001-0002", "quantity": "12", "period": "monthly",
                                 "commitment": {"count": 12}}]}}


class TestPurchaseFulfilment:
    def test_purchase_without_migration_info_is_skipped(self, mocker: ConnectClientMocker) -> None:
        pc = FakePartnerCenter()
        response = app_for(pc).handle_asset_purchase_request(purchase(info=False))
        assert response.status == ResultType.SKIP and pc.calls == []

    def test_other_transaction_type_is_skipped(self, mocker: ConnectClientMocker) -> None:
        info = {"transaction_type": "purchase", "ms_customer_id": TENANT, "subscription_id": LEGACY}
        pc = FakePartnerCenter()
        assert app_for(pc).handle_asset_purchase_request(purchase(info)).status == ResultType.SKIP
        assert pc.calls == []

    def test_eligible_migration_is_created_stored_and_rescheduled(self, mocker: ConnectClientMocker) -> None:
        """Look-up, validate, create tagged with the NCE product's externalReferenceId, store the id, reschedule."""
        mocker.requests[REQUEST_ID].update(return_value={})
        pc = FakePartnerCenter(complete_after_gets=2)
        response = app_for(pc).handle_asset_purchase_request(purchase())
        assert response.status == ResultType.RESCHEDULE and response.countdown == 300
        (migration,) = pc.migrations.values()
        assert migration["externalReferenceId"] == migration_reference("PRD-200-000-001")
        assert (migration["termDuration"], migration["billingCycle"], migration["quantity"]) == ("P1Y", "Monthly", 12)
        (update,) = sent_bodies("PUT", REQUEST_ID)
        assert update == {"asset": {"params": [{"id": "nce_migration_id", "value": migration["id"]}]}}

    def test_one_tag_per_product_never_stands_for_a_migration(self, mocker: ConnectClientMocker) -> None:
        """Every migration of one NCE product carries the same externalReferenceId (so an audit lists them in bulk);
        another customer's migration under that tag is not taken for this purchase's: a new one is created."""
        mocker.requests[REQUEST_ID].update(return_value={})
        pc = FakePartnerCenter(complete_after_gets=2)
        tag = migration_reference("PRD-200-000-001")
        other = pc.add_migration("Processing", currentSubscriptionId="cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee",
                                 customerTenantId="22222222-2222-4333-8444-555555555555", externalReferenceId=tag)
        response = app_for(pc).handle_asset_purchase_request(purchase())
        assert response.status == ResultType.RESCHEDULE and pc.created == 1
        (created,) = [m for m in pc.migrations.values() if m["id"] != other["id"]]
        assert created["externalReferenceId"] == tag and created["currentSubscriptionId"] == LEGACY
        assert migration_reference("prd-200-000-001") == tag != migration_reference("PRD-200-000-002")

    def test_a_lost_create_answer_finds_the_migration_by_its_subscription(self, mocker: ConnectClientMocker) -> None:
        """The create reached Partner Center but its answer was lost (a 503): the migration is found again by the
        legacy subscription, not by the shared tag, and stored; nothing is created twice."""
        mocker.requests[REQUEST_ID].update(return_value={})
        pc = FakePartnerCenter(complete_after_gets=2)
        answer = pc.handle

        def lose_the_create_answer(request: httpx.Request) -> httpx.Response:
            response = answer(request)
            if request.method == "POST" and request.url.path.endswith("/migrations/newcommerce"):
                return httpx.Response(503, json={"code": 503, "description": "gateway timeout"})
            return response

        pc.handle = lose_the_create_answer  # type: ignore[method-assign]
        response = app_for(pc).handle_asset_purchase_request(purchase())
        assert response.status == ResultType.RESCHEDULE and pc.created == 1
        (migration,) = pc.migrations.values()
        (update,) = sent_bodies("PUT", REQUEST_ID)
        assert update == {"asset": {"params": [{"id": "nce_migration_id", "value": migration["id"]}]}}

    def test_processing_migration_is_rescheduled_without_changes(self, mocker: ConnectClientMocker) -> None:
        pc = FakePartnerCenter(complete_after_gets=5)
        migration = pc.add_migration("Processing")
        response = app_for(pc).handle_asset_purchase_request(purchase(migration_id=migration["id"]))
        assert response.status == ResultType.RESCHEDULE
        assert pc.created == 0 and not any("validate" in c for c in pc.calls)

    def test_completed_migration_is_approved_with_the_new_subscription_id(self, mocker: ConnectClientMocker) -> None:
        pc = FakePartnerCenter(complete_after_gets=1)
        migration = pc.add_migration("Processing")
        mocker.requests[REQUEST_ID].update(return_value={})
        mocker.requests[REQUEST_ID]("approve").post(return_value={}, match_body={"template_id": "TL-ASSET-OK"})
        response = app_for(pc).handle_asset_purchase_request(purchase(migration_id=migration["id"]))
        assert response.status == ResultType.SUCCESS
        (update,) = sent_bodies("PUT", REQUEST_ID)
        assert update["asset"]["params"] == [{"id": "nce_subscription_id", "value": migration["newCommerceSubscriptionId"]}]

    def test_existing_microsoft_led_migration_is_not_created_again(self, mocker: ConnectClientMocker) -> None:
        pc = FakePartnerCenter()
        existing = pc.add_migration("Completed", newCommerceSubscriptionId="nce-by-microsoft", microsoftLed=True)
        mocker.requests[REQUEST_ID].update(return_value={})
        mocker.requests[REQUEST_ID]("approve").post(return_value={})
        response = app_for(pc).handle_asset_purchase_request(purchase())
        assert response.status == ResultType.SUCCESS and pc.created == 0
        stored = {p["id"]: p["value"] for body in sent_bodies("PUT", REQUEST_ID) for p in body["asset"]["params"]}
        assert stored == {"nce_migration_id": existing["id"], "nce_subscription_id": "nce-by-microsoft"}

    @pytest.mark.parametrize("code", range(9))
    def test_ineligible_subscription_fails_with_a_readable_reason(self, mocker: ConnectClientMocker, code: int) -> None:
        mocker.requests[REQUEST_ID]("fail").post(return_value={})
        pc = FakePartnerCenter(ineligible={LEGACY: [code]})
        response = app_for(pc).handle_asset_purchase_request(purchase())
        assert response.status == ResultType.SUCCESS and pc.created == 0
        (body,) = sent_bodies("POST", "/fail")
        name, meaning = ELIGIBILITY_CODES[code]
        assert name in body["reason"] and meaning in body["reason"] and f"code {code}" in body["reason"]

    def test_refused_create_fails_the_purchase_once_with_microsofts_description(self, mocker: ConnectClientMocker) -> None:
        """A 400 {"code", "description"} is Partner Center's final word: the request fails with it, no reschedule."""
        mocker.requests[REQUEST_ID]("fail").post(return_value={})
        pc = FakePartnerCenter(refuse_create=(800001, "The subscription has a pending seat change."))
        response = app_for(pc).handle_asset_purchase_request(purchase())
        assert response.status == ResultType.SUCCESS
        (body,) = sent_bodies("POST", "/fail")
        assert "The subscription has a pending seat change." in body["reason"] and "800001" in body["reason"]

    @pytest.mark.parametrize(("period", "commitment"), [("2 years", None), ("monthly", {"count": 6})])
    def test_a_term_microsoft_does_not_sell_fails_naming_the_item(self, mocker: ConnectClientMocker, period: str,
                                                                  commitment: Any) -> None:
        mocker.requests[REQUEST_ID]("fail").post(return_value={})
        pc = FakePartnerCenter()
        request = purchase()
        request["asset"]["items"][0].update(period=period, commitment=commitment)
        response = app_for(pc).handle_asset_purchase_request(request)
        assert response.status == ResultType.SUCCESS and pc.created == 0
        (body,) = sent_bodies("POST", "/fail")
        assert "PRD-200-000-001-0002" in body["reason"] and "not sold" in body["reason"] or "not billed" in body["reason"]

    def test_every_call_has_fresh_request_and_correlation_ids(self, mocker: ConnectClientMocker) -> None:
        mocker.requests[REQUEST_ID].update(return_value={})
        seen: list[Any] = []
        pc = FakePartnerCenter(complete_after_gets=2)
        handle = pc.handle
        pc.handle = lambda request: (seen.append(request), handle(request))[1]  # type: ignore[method-assign]
        app_for(pc).handle_asset_purchase_request(purchase())
        calls = [r for r in seen if r.url.path != "/token"]
        assert len(calls) == 3  # look-up, validate, create
        assert len({r.headers["MS-RequestId"] for r in calls}) == 3
        assert len({r.headers["MS-CorrelationId"] for r in calls}) == 3
        assert {r.headers["MS-Contract-Version"] for r in calls} == {"v1"}

    @pytest.mark.parametrize(("info", "domain", "param"), [
        ("{not json", "contoso.onmicrosoft.com", "transaction_info_object"),
        ("[1, 2]", "contoso.onmicrosoft.com", "transaction_info_object"),
        ({"transaction_type": "NCEmigration", "ms_customer_id": "x", "subscription_id": LEGACY},
         "contoso.onmicrosoft.com", "transaction_info_object"),
        ({"transaction_type": "NCEmigration", "ms_customer_id": TENANT}, "contoso.onmicrosoft.com", "transaction_info_object"),
        (None, "contoso.com", "microsoft_domain"),
        (None, "", "microsoft_domain"),
    ])
    def test_malformed_parameters_are_inquired_by_name(self, mocker: ConnectClientMocker, info: Any, domain: str,
                                                       param: str) -> None:
        mocker.requests[REQUEST_ID].update(return_value={})
        mocker.requests[REQUEST_ID]("inquire").post(return_value={})
        pc = FakePartnerCenter()
        response = app_for(pc).handle_asset_purchase_request(purchase(info, domain))
        assert response.status == ResultType.SUCCESS and pc.calls == []
        (update,) = sent_bodies("PUT", REQUEST_ID)
        assert [p["id"] for p in update["asset"]["params"]] == [param]

    def test_rate_limited_create_is_rescheduled_after_retry_after(self, mocker: ConnectClientMocker) -> None:
        """A 429 never fails the request: it comes back no earlier than Partner Center asked."""
        pc = FakePartnerCenter(create_retry_after=240)
        response = app_for(pc).handle_asset_purchase_request(purchase())
        assert response.status == ResultType.RESCHEDULE and response.countdown >= 240

    def test_fulfilment_switched_off_leaves_the_request_to_the_vendor(self, mocker: ConnectClientMocker) -> None:
        pc = FakePartnerCenter()
        response = app_for(pc, FULFIL_MIGRATIONS="false").handle_asset_purchase_request(purchase())
        assert response.status == ResultType.SKIP and pc.calls == []

    def test_other_products_are_skipped(self, mocker: ConnectClientMocker) -> None:
        assert app_for().handle_asset_purchase_request(purchase(product="PRD-999")).status == ResultType.SKIP
