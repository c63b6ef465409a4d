"""The Connect reader's own logic: an NCE asset is taken from the latest request on it (no NCE asset listing)."""

from __future__ import annotations

from typing import Any

from m365move.audit.connect_reader import latest_nce_assets


def request(request_id: str, kind: str, asset_id: str, status: str, quantity: int) -> dict[str, Any]:
    return {"id": request_id, "type": kind, "asset": {"id": asset_id, "status": status,
                                                      "items": [{"mpn": "CFQ7TTC0LH18:0001", "quantity": str(quantity)}]}}


def test_the_latest_request_on_an_asset_tells_its_status_and_seats() -> None:
    requests = [  # as listed: in creation order
        request("PR-1", "purchase", "AS-1", "active", 10),
        request("PR-2", "purchase", "AS-2", "active", 5),
        request("PR-3", "change", "AS-1", "active", 8),  # the reseller cut two seats afterwards
        request("PR-4", "cancel", "AS-2", "terminated", 5),
    ]
    assets = latest_nce_assets(requests)
    assert assets["AS-1"].status == "active" and assets["AS-1"].seats("CFQ7TTC0LH18:0001") == 8
    assert assets["AS-2"].status == "terminated"
    assert latest_nce_assets([{"id": "PR-9", "type": "purchase", "asset": {}}]) == {}
