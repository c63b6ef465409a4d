"""The audit's Connect pages: read through a ConnectClient's own session as bytes, decoded into only the fields the
audit reads, paged by Content-Range, retried and refused as ``ConnectClient.get`` would be."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
import responses

from m365move.audit.connect_json import ASSET_PAGE, REQUEST_PAGE
from m365move.audit.connect_pages import decoded_pages
from m365move.audit.connect_reader import nce_request_records
from m365move.audit.connect_records import cancel_request, csp_asset
from m365move.connect.client import make_connect_client
from m365move.errors import PlatformError

ENDPOINT = "https://connect.test/public/v1"


def asset(n: int) -> dict[str, Any]:
    return {"id": f"AS-{n}", "status": "active", "product": {"id": "PRD-1"}, "marketplace": {"id": "MP-1", "name": "x"},
            "tiers": {"customer": {"id": "TA-C1", "name": "Customer 1"}, "tier1": {"id": "TA-1"}},
            "items": [{"id": "ITM-1", "mpn": "MPN-1", "quantity": "5"}, {"id": "ITM-2", "mpn": "MPN-2", "quantity": 0},
                      {"id": "ITM-3", "mpn": "MPN-3", "quantity": 3}],
            "params": [{"id": "ms_customer_id", "value": "tenant-1"},
                       {"id": "ms_subscription_ids", "value": "", "structured_value": {"ITM-1": "sub-1", "MPN-3": "sub-3"}}],
            "unread": {"deep": [1, 2, {"x": None}]}}


@responses.activate
def test_pages_follow_content_range_and_decode_only_what_the_audit_reads() -> None:
    pages = [[asset(1), asset(2)], [asset(3)]]
    for offset, page in zip((0, 2), pages, strict=True):
        responses.get(f"{ENDPOINT}/assets", json=page, match=[responses.matchers.query_param_matcher(
            {"limit": "2", "offset": str(offset)}, strict_match=False)],
            headers={"Content-Range": f"items {offset}-{offset + len(page) - 1}/3"})
    client = make_connect_client("ApiKey SU-1:secret", ENDPOINT)
    read = [csp_asset(a) for page in decoded_pages(client, "assets", "eq(product.id,PRD-1)", ASSET_PAGE.decode,
                                                   page_size=2, ordering="created") for a in page]
    assert [a.id for a in read] == ["AS-1", "AS-2", "AS-3"]
    first = read[0]
    assert (first.tenant_id, first.customer_id, first.customer_name, first.reseller_id) == ("tenant-1", "TA-C1",
                                                                                            "Customer 1", "TA-1")
    # An item of no seats is no CSP item; a structured parameter value is read; a legacy id is found by mpn too.
    assert [(i.id, i.quantity, i.legacy_subscription_id) for i in first.items] == [("ITM-1", 5, "sub-1"),
                                                                                  ("ITM-3", 3, "sub-3")]
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "ApiKey SU-1:secret"
    assert "ordering(created)" in (sent.url or "")


@responses.activate
def test_a_throttled_page_is_read_again_and_a_refused_one_names_connect_s_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("m365move.connect.client.time.sleep", lambda _: None)
    responses.get(f"{ENDPOINT}/requests", status=429, headers={"Retry-After": "0"}, json={})
    responses.get(f"{ENDPOINT}/requests", json=[{"id": "PR-1", "type": "cancel", "status": "approved",
                                                 "created": "2026-11-01T12:00:00+00:00", "asset": {"id": "AS-1"}}],
                  headers={"Content-Range": "items 0-0/1"})
    client = make_connect_client("ApiKey SU-1:secret", ENDPOINT)
    cancels = [cancel_request(r) for page in decoded_pages(client, "requests", "", REQUEST_PAGE.decode) for r in page]
    assert [(c.id, c.asset_id, c.status) for c in cancels] == [("PR-1", "AS-1", "approved")]

    responses.get(f"{ENDPOINT}/assets", status=400, json={"error_code": "RQL_001", "errors": ["Bad select filter: x."]})
    with pytest.raises(PlatformError, match="HTTP 400 RQL_001 Bad select filter"):
        list(decoded_pages(client, "assets", "select(-x)", ASSET_PAGE.decode))
    responses.get(f"{ENDPOINT}/tier/configs", body=b'{"not": "a list"}', content_type="application/json")
    with pytest.raises(PlatformError, match="GET tier/configs answered a page that is not a list"):
        list(decoded_pages(client, "tier/configs", "", ASSET_PAGE.decode))


def test_requests_decode_as_the_audit_reads_them_and_a_foreign_shape_is_refused() -> None:
    info = {"transaction_type": "NCEmigration", "ms_customer_id": "tenant-1", "subscription_id": "sub-1"}
    body = json.dumps([{"id": "PR-1", "type": "purchase", "status": "approved", "created": "2026-11-01T10:00:00Z",
                        "updated": "2026-11-01T11:00:00+00:00", "activation_key": "not read",
                        "asset": {"id": "AS-9", "status": "active", "external_id": "AS-1",
                                  "items": [{"mpn": "NCE-1", "quantity": "4"}, {"mpn": "NCE-1", "quantity": "unlimited"}],
                                  "params": [{"id": "transaction_info_object", "value": json.dumps(info)},
                                             {"id": "migration_source", "value": "AS-1:ITM-1"},
                                             {"id": "nce_migration_id", "value": "mig-1"}]}}]).encode()
    purchase, nce = nce_request_records(REQUEST_PAGE.decode(body)[0])
    assert purchase is not None and nce is not None
    assert (purchase.source_asset_id, purchase.source_item_id, purchase.legacy_subscription_id, purchase.tenant_id,
            purchase.migration_id, purchase.quantity, purchase.nce_mpn) == ("AS-1", "ITM-1", "sub-1", "tenant-1",
                                                                            "mig-1", 4, "NCE-1")
    assert purchase.created is not None and purchase.created.utcoffset() is not None
    assert nce.id == "AS-9" and nce.seats("NCE-1") == 4
    with pytest.raises(msgspec.ValidationError):
        REQUEST_PAGE.decode(b'[{"id": "PR-1", "asset": {"id": {"nested": true}}}]')
