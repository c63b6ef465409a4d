"""A purchase committed after its answer is never approved beside its CSP item's other purchase (issue 26, case 7).

Two runner instances sweep one item: the first one's ``POST /requests`` is answered 504 and Connect commits it
seconds later, stamped with the ``created`` of its arrival (the sandbox's ``commit_after_answer`` fault); meanwhile
the second instance creates the item's purchase again (committed at once, younger). So the purchase that is seen
first is the younger one. Two handlers fulfil them: the younger one is paused between its duplicate check and its
approval (where the race lands) until the older one's handler is done. Before the settle rule, the younger one's
check read the marker's purchases before the older one was committed, the older one's check saw only a younger
open sibling: both were approved against one Partner Center migration (``model/connect_path.pml``, ``NO_SETTLE``).
Now the approval waits until ``created`` + ``CONNECT_SETTLE_SECONDS`` has passed on Connect's clock before the
marker's read counts: one purchase approved, the other failed ``duplicate-purchase``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from connect.client import ConnectClient

from m365move.connect import purchase_fulfilment, request_creation
from m365move.connect.client import sandbox_endpoint
from m365move.connect.purchase_marker import DUPLICATE_PURCHASE
from m365move.connect.requests_api import create_request
from m365move.sandbox.faults import Faults
from tests.runner.conftest import SCHEDULE_ID, runner_rig

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

PURCHASE = "asset_purchase_request_processing"
CREATE_ROUTE = "POST /public/v1/requests"
COMMIT_AFTER = 4.0  # seconds after its 504 that Connect commits the first instance's purchase
SETTLE = "7"        # CONNECT_SETTLE_SECONDS: above COMMIT_AFTER (Connect's commit deadline)


def _marker_purchases(rig: Any, marker: str) -> list[dict[str, Any]]:
    return rig.connect.snapshot(lambda r: r.get("type") == "purchase" and r["asset"].get("external_uid") == marker)


def test_a_purchase_committed_after_its_answer_is_not_approved_beside_the_younger_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with runner_rig(1, seed=5) as rig:
        runtime = rig.with_variables(CONNECT_SETTLE_SECONDS=SETTLE)
        second_instance = ConnectClient(rig.section["connect"]["api_key"], endpoint=sandbox_endpoint(rig.server.url),
                                        max_retries=0, use_specs=False)
        real_create = request_creation.create_request
        duplicated: dict[str, Any] = {}

        def create_then_second_instance(client: ConnectClient, body: dict[str, Any]) -> dict[str, Any]:
            try:
                return real_create(client, body)
            except Exception:
                if not duplicated and body["type"] == "purchase":  # the lost create: the other instance makes its own
                    duplicated["marker"] = body["asset"]["external_uid"]
                    duplicated["younger"] = create_request(second_instance, body)["id"]
                raise

        monkeypatch.setattr(request_creation, "create_request", create_then_second_instance)
        rig.server.context.injector.replace(Faults(rate_commit_after_answer=1.0, commit_after_answer_seconds=COMMIT_AFTER,
                                                   commit_after_answer_answers=[504], max_injected=1,
                                                   apply_to=[CREATE_ROUTE]))
        rig.connect.add_schedule({"id": SCHEDULE_ID, "name": "New Subscription sweep", "method": "new_subscription_sweep",
                                  "description": "", "parameter": {},
                                  "trigger": {"type": "recurring", "start": "2026-01-01T00:00:00+00:00",
                                              "unit": "hours", "amount": 1}})
        sweep = threading.Thread(target=runtime.deliver, args=("scheduled_execution", SCHEDULE_ID), daemon=True)
        sweep.start()
        for _ in range(100):
            if "younger" in duplicated:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the sweep made no create whose answer was lost")
        marker, younger = duplicated["marker"], duplicated["younger"]
        assert [r["id"] for r in _marker_purchases(rig, marker)] == [younger]  # the older one is not committed yet

        # The younger purchase's handler is held between its duplicate check and its approval until the older one's
        # handler has finished: the interleaving the model found.
        older_done = threading.Event()
        real_approve = purchase_fulfilment.approve_asset_request

        def approve_after_the_older(client: ConnectClient, request_id: str, template_id: str) -> None:
            if request_id == younger:
                older_done.wait(timeout=60)
            real_approve(client, request_id, template_id)

        monkeypatch.setattr(purchase_fulfilment, "approve_asset_request", approve_after_the_older)

        def fulfil_until_settled(request_id: str, seconds: float) -> list[str]:
            results: list[str] = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                if rig.connect.snapshot(lambda r: r["id"] == request_id)[0]["status"] != "pending":
                    break
                results.append(runtime.deliver(PURCHASE, request_id).result)
                time.sleep(0.2)  # Partner Center's migration moves on (platform time runs 600x)
            return results

        younger_handler = threading.Thread(target=fulfil_until_settled, args=(younger, 40.0), daemon=True)
        younger_handler.start()
        for _ in range(200):
            later = [r for r in _marker_purchases(rig, marker) if r["id"] != younger]
            if later:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the lost create was never committed")
        older = later[0]["id"]
        fulfil_until_settled(older, 40.0)
        older_done.set()
        younger_handler.join(timeout=60)
        sweep.join(timeout=60)

    purchases = {r["id"]: r for r in _marker_purchases(rig, marker)}
    assert purchases[older]["created"] < purchases[younger]["created"]  # committed later, yet the older one
    statuses = Counter(r["status"] for r in purchases.values())
    assert statuses == Counter({"approved": 1, "failed": 1}), {i: r["status"] for i, r in purchases.items()}
    assert purchases[older]["status"] == "approved"
    assert purchases[younger]["reason"].startswith(f"{DUPLICATE_PURCHASE}: purchase {older} ")
    assert set(rig.partner_center.created_for.values()) == {1}  # one migration for the legacy subscription
