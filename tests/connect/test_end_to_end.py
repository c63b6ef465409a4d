"""End to end on the sandbox: the event driver runs the real handlers with the real ConnectClient."""

from __future__ import annotations

import json
from typing import Any

from m365move.connect.catalog_mapping import item_periods
from m365move.connect.event_driver import PURCHASE_TASK, SCHEDULE_ID, SCHEDULE_TASK
from m365move.connect.payloads import param_value
from tests.connect.sandbox_fixtures import Rig, connect_rig
from tests.runner.chunked_sweep import request_signatures


def active_assets_of_ready_resellers(rig: Rig) -> list[dict[str, Any]]:
    pending = {t["account"]["id"] for t in rig.section["connect"]["tier_configs"] if t["status"] != "active"}
    return [a for a in rig.section["connect"]["assets"] if a["tiers"]["tier1"]["id"] not in pending]


class TestPurchaseRequests:
    def test_one_purchase_per_csp_item_with_the_documented_parameters(self) -> None:
        """Every CSP item gets exactly one NCE purchase carrying transaction_info_object and friends."""
        with connect_rig(8) as rig:
            rig.driver.run_schedule()
            assets = active_assets_of_ready_resellers(rig)
            assert assets
            for asset in assets:
                requests = rig.purchases_of(asset["id"])
                assert len(requests) == len(asset["items"]), asset["id"]
                legacy = json.loads(param_value(asset, "ms_subscription_ids") or "{}")
                seen = set()
                for request in requests:
                    info = json.loads(param_value(request, "transaction_info_object") or "{}")
                    assert info["transaction_type"] == "NCEmigration"
                    assert info["ms_customer_id"] == param_value(asset, "ms_customer_id")
                    assert info["csp_order_id"] == param_value(asset, "csp_order_id")
                    assert set(info) >= {"subscription_id", "purchaseFullTerm", "addons"}
                    assert param_value(request, "microsoft_domain") == param_value(asset, "microsoft_domain")
                    assert param_value(request, "transaction_id")
                    seen.add(info["subscription_id"])
                    (item,) = request["asset"]["items"]
                    source_item = next(i for i in asset["items"] if legacy[i["id"]] == info["subscription_id"])
                    # Same quantity; billing period = item period; subscription period = commitment.
                    assert item["quantity"] == source_item["quantity"]
                    assert item_periods(item) == item_periods(source_item)
                assert seen == set(legacy.values())

    def test_largest_item_id_wins_where_two_nce_products_qualify(self) -> None:
        """In MP-00001 both NCE products are listed; Business Basic goes to the second product's (larger) item."""
        with connect_rig(30) as rig:
            rig.driver.run_schedule()
            targets = {(r["marketplace"]["id"], r["asset"]["product"]["id"]) for r in rig.requests(type="purchase")
                       if r["asset"]["items"][0]["mpn"] == "CFQ7TTC0LH18:0001"}
            assert ("MP-00001", "PRD-200-000-002") in targets
            assert ("MP-00001", "PRD-200-000-001") not in targets


class TestCancellation:
    def test_cancel_is_created_once_and_only_after_every_target_is_approved(self) -> None:
        with connect_rig(8) as rig:
            report = rig.driver.run_until_settled(timeout=240)
            assert report.settled
            transitions = rig.connect.transitions
            for asset in active_assets_of_ready_resellers(rig):
                cancels = rig.cancels_of(asset["id"])
                assert len(cancels) == 1, asset["id"]
                created_at = transitions.index((cancels[0]["id"], "", "pending"))
                for purchase in rig.purchases_of(asset["id"]):
                    assert purchase["status"] == "approved"
                    assert transitions.index((purchase["id"], "pending", "approved")) < created_at
                assert cancels[0]["status"] == "approved"

    def test_one_failed_target_means_no_cancel(self) -> None:
        def make_one_ineligible(section: dict[str, Any]) -> None:
            for asset, customer in zip(section["connect"]["assets"], section["partner_center"]["customers"], strict=True):
                if len(asset["items"]) >= 2:
                    customer["subscriptions"][-1]["ineligible"] = [3]
                    section["connect"]["extension_variables"]["TEST_FAILING_ASSET"] = asset["id"]
                    return
            raise AssertionError("no multi-item asset generated")

        with connect_rig(12, change=make_one_ineligible, microsoft_led=0, pending_resellers=0) as rig:
            rig.driver.run_until_settled(timeout=240)
            failing = rig.section["connect"]["extension_variables"]["TEST_FAILING_ASSET"]
            statuses = sorted(r["status"] for r in rig.purchases_of(failing))
            assert "failed" in statuses
            assert rig.cancels_of(failing) == []
            assert rig.connect.assets[failing]["status"] == "active"


class TestTierConfigGate:
    def test_pending_reseller_waits_then_migrates_after_approval(self) -> None:
        with connect_rig(16, pending_resellers=1) as rig:
            pending = {t["account"]["id"] for t in rig.section["connect"]["tier_configs"] if t["status"] != "active"}
            waiting = [a["id"] for a in rig.section["connect"]["assets"] if a["tiers"]["tier1"]["id"] in pending]
            assert waiting
            rig.driver.run_schedule()
            assert all(rig.purchases_of(a) == [] for a in waiting)
            # The runner delivers the pending tier-config requests; the handler approves them.
            records = [r for r in rig.driver.deliver_pending() if r.event_type.startswith("tier_config")]
            assert records and all(r.result == "success" for r in records)
            assert all(t["status"] == "active" for t in rig.connect.tier_configs.values())
            rig.driver.run_schedule()
            assert all(rig.purchases_of(a) for a in waiting)


class TestRedelivery:
    def test_same_task_twice_makes_no_duplicate(self) -> None:
        """Sweeps repeated, a purchase task delivered twice with the same payload: one request, migration, cancel."""
        with connect_rig(6, pending_resellers=0, microsoft_led=0) as rig:
            rig.driver.run_schedule()
            first = len(rig.requests())
            rig.driver.run_schedule()
            assert len(rig.requests()) == first
            stale = rig.requests(type="purchase")[0]
            rig.driver.deliver(PURCHASE_TASK, stale)
            rig.driver.deliver(PURCHASE_TASK, stale)  # the runner redelivered the same task
            report = rig.driver.run_until_settled(timeout=240)
            assert report.settled
            assert max(rig.partner_center.created_for.values()) == 1
            for _ in range(2):
                rig.driver.run_schedule()
            for asset in rig.section["connect"]["assets"]:
                assert len(rig.cancels_of(asset["id"])) == 1
                assert len(rig.purchases_of(asset["id"])) == len(asset["items"])


class TestSweepInChunks:
    def test_an_execution_sweeps_its_chunks_until_connect_settles(self) -> None:
        """An execution works through its chunks within its time budget, keeping its position on the schedule after
        each. 10 assets in chunks of 4: one execution of three chunks makes the pass, creating what one chunk over
        all of them creates; then the driver runs passes, purchases and cancels until Connect settles, with no
        request made twice."""
        def first_pass(rig: Rig, chunk_size: int) -> tuple[int, Any]:
            rig.driver.run_schedule({"chunk_size": chunk_size, "batch_size": 4})
            tasks = [r for r in rig.driver.history if r.event_type == SCHEDULE_TASK]
            progress = rig.connect.schedules[SCHEDULE_ID]["parameter"]["progress"]
            assert {r.result for r in tasks} == {"success"}
            assert progress["finished"] and progress["swept"] == 10 and len(tasks) == 1  # the pass fits in one execution
            return progress["chunk"], request_signatures(rig.connect, "purchase")  # what it decided, request by request

        with connect_rig(10, seed=7) as rig:
            one_chunk, in_one = first_pass(rig, 200)
        with connect_rig(10, seed=7) as rig:
            three_chunks, in_chunks = first_pass(rig, 4)
            report = rig.driver.run_until_settled(timeout=240, parameter={"chunk_size": 4, "batch_size": 4})
            migrated = [a for a in rig.section["connect"]["assets"] if rig.connect.assets[a["id"]]["status"] == "terminated"]
            purchases = request_signatures(rig.connect, "purchase")
            cancels = request_signatures(rig.connect, "cancel")
        assert (one_chunk, three_chunks) == (1, 3)
        assert sum(in_one.values()) > 0 and in_chunks == in_one
        scheduled = [r for r in report.deliveries if r.event_type == SCHEDULE_TASK]
        assert report.settled and len(scheduled) >= report.sweeps and {r.result for r in scheduled} == {"success"}
        assert migrated and max(purchases.values()) == 1 and max(cancels.values()) == 1
