"""The sweep decides the same whatever its pages and chunks are: one customer's assets on two pages (or in two
chunks, two scheduled tasks) are judged as in one pass over all of them.

Two decisions used to depend on the page: a customer's MCA acceptance was taken from the first of its assets on
the page (an asset without the parameters blocked the customer's accepted assets on that page only), and the
300-seat cap of the business offers counted the customer's seats on the page only (two halves of 200 passed a
cap that 400 breaks).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from m365move.connect.settings import ExtensionSettings
from m365move.connect.sweep import AssetStatus, SweepParameters, run_sweep, sweep_chunk
from m365move.connect.sweep_cursor import SweepCursor
from tests.connect.sandbox_fixtures import connect_rig

BASIC = "91FD106F-4B2C-4938-95AC-F54F74E9A239"  # Microsoft 365 Business Basic (legacy CSP): capped at 300 seats
MCA_PARAMETERS = {"mca_acceptance", "agreement_date", "first_name_agreement", "last_name_agreement",
                  "email_address_agreement"}


def _same_customer(asset: dict[str, Any], of: dict[str, Any]) -> None:
    asset["tiers"]["customer"] = dict(of["tiers"]["customer"])
    tenant = next(p["value"] for p in of["params"] if p["id"] == "ms_customer_id")
    asset["params"] = [{**p, "value": tenant} if p["id"] == "ms_customer_id" else p for p in asset["params"]]


def _basic_seats(asset: dict[str, Any], quantity: int) -> None:
    asset["items"] = [{**asset["items"][0], "mpn": BASIC, "quantity": str(quantity)}]


def _estate(section: dict[str, Any]) -> None:
    """Customer A: two assets of 200 Business Basic seats each (400 > 300), first and third in ``created`` order.
    Customer B: an asset without MCA parameters (second) and an accepted one (fourth)."""
    a1, b1, a2, b2 = section["connect"]["assets"][:4]
    _basic_seats(a1, 200)
    _basic_seats(a2, 200)
    _same_customer(a2, a1)
    b1["params"] = [p for p in b1["params"] if p["id"] not in MCA_PARAMETERS]
    _same_customer(b2, b1)
    section["connect"]["assets"] = [a1, b1, a2, b2]


def _decisions(outcomes: Any) -> dict[str, tuple[AssetStatus, tuple[str, ...]]]:
    return {o.asset_id: (o.status, o.reasons) for o in outcomes}


def test_a_customer_split_over_pages_and_chunks_is_decided_as_in_one_pass() -> None:
    with connect_rig(4, n_resellers=1, pending_resellers=0, microsoft_led=0, change=_estate) as rig:
        settings = ExtensionSettings.from_config({**rig.driver.config, "DRY_RUN": "true"})
        client, log = rig.driver.client, logging.getLogger("test")
        one_page = _decisions(run_sweep(client, settings, SweepParameters(batch_size=100), log).outcomes)
        page_each = _decisions(run_sweep(client, settings, SweepParameters(batch_size=1), log).outcomes)
        chunks: list[Any] = []
        cursor = SweepCursor().starting(dt.datetime.now(dt.timezone.utc))
        while not cursor.finished:  # one asset per chunk: each chunk a task of its own, nothing shared but Connect
            chunk = sweep_chunk(client, settings, SweepParameters(batch_size=1), cursor, limit=1)
            chunks.extend(chunk.report.outcomes)
            cursor = chunk.cursor
        in_chunks = _decisions(chunks)
        assert rig.requests(type="purchase") == []  # a dry run

    a1, b1, a2, b2 = (a["id"] for a in rig.section["connect"]["assets"])
    assert page_each == one_page and in_chunks == one_page
    for capped in (a1, a2):  # 400 seats: each half is blocked, though each page alone holds 200
        status, reasons = one_page[capped]
        assert status is AssetStatus.BLOCKED
        assert reasons[0].startswith("smb-seat-cap-exceeded: ") and "400 seats" in reasons[0], reasons
    status, reasons = one_page[b1]  # no MCA parameters on this asset: blocked, and says what is missing
    assert status is AssetStatus.BLOCKED and reasons == (
        "mca-not-accepted: the asset has no mca_acceptance parameter: MCA acceptance is unknown",)
    # The customer's accepted asset is judged on its own parameters, not on the asset that came first on the page.
    assert one_page[b2][0] is AssetStatus.PLANNED
