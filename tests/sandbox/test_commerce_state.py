"""The sandbox's Commerce state in-process: order lifecycle over time, refusals, persistence."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import estate_document

from m365move.errors import InputError
from m365move.sandbox.commerce_state import CommerceState, OrderFilter, OrderRejected
from m365move.sandbox.faults import FaultInjector, Faults
from m365move.sandbox.state_log import read_state


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


def _state(faults: Faults | None = None, state_file: Path | None = None) -> tuple[CommerceState, FakeClock]:
    clock = FakeClock()
    state = CommerceState.open(
        estate_document(),
        injector=FaultInjector(faults or Faults(order_processing_seconds=10)),
        state_file=state_file,
        clock=clock,
    )
    return state, clock


CANCEL: dict[str, Any] = {"type": "cancellation", "customerId": "2000001", "subscriptionId": "3000001", "poNumber": "P1"}


class TestOrderLifecycle:
    def test_moves_over_time(self) -> None:
        """submitted, then processing at half the processing time, then completed with its effect."""
        state, clock = _state()
        order = state.place_order(CANCEL)
        assert order.status == "submitted"
        clock.now += 4
        assert state.get_order(order.id).status == "submitted"  # type: ignore[union-attr]
        clock.now += 2
        assert state.get_order(order.id).status == "processing"  # type: ignore[union-attr]
        assert state.get_subscription("3000001").status == "active"  # type: ignore[union-attr]
        clock.now += 5
        assert state.get_order(order.id).status == "completed"  # type: ignore[union-attr]
        assert state.get_subscription("3000001").status == "terminated"  # type: ignore[union-attr]

    def test_advance_clock(self) -> None:
        """advance_clock completes due orders without waiting."""
        state, _ = _state()
        order = state.place_order(CANCEL)
        state.advance_clock(11)
        assert state.get_order(order.id).status == "completed"  # type: ignore[union-attr]

    def test_seeded_open_order_stays_open(self) -> None:
        """An order from the estate is stuck on the platform: it never completes and blocks new orders."""
        state, clock = _state()
        clock.now += 10_000
        assert state.get_order("8000001").status == "processing"  # type: ignore[union-attr]
        with pytest.raises(OrderRejected, match="in progress"):
            state.place_order({"type": "cancellation", "customerId": "2000002", "subscriptionId": "3000003"})


class TestRefusals:
    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"type": "renewal", "customerId": "2000001"}, "not supported"),
            ({"type": "sales", "customerId": "9"}, "customer '9' does not exist"),
            (
                {"type": "sales", "customerId": "2000003", "planId": "6001", "products": [{"mpn": "CFQ7TTC0LH18:0001"}]},
                "not delegated to reseller 1000002",
            ),
            (
                {"type": "sales", "customerId": "2000001", "planId": "6001", "products": [{"mpn": "NOPE"}]},
                "not a resource of plan 6001",
            ),
            (
                {
                    "type": "sales",
                    "customerId": "2000001",
                    "planId": "6002",
                    "products": [{"mpn": "CFQ7TTC0LFLZ:0001"}],
                    "subscriptionPeriod": {"type": "month", "duration": 1},
                },
                "does not offer the subscription period 1 month",
            ),
            (
                {"type": "migration", "customerId": "2000001", "planId": "6003", "products": [{"mpn": "CFQ7TTC0LH1G:0001"}]},
                "startDate",
            ),
            (
                {"type": "change", "customerId": "2000001", "subscriptionId": "3000001", "planId": "6002"},
                "not an upgrade path of plan 5001",
            ),
            (
                {"type": "change", "customerId": "2000002", "subscriptionId": "3000001", "planId": "6001"},
                "does not belong to customer 2000002",
            ),
        ],
    )
    def test_refused(self, body: dict[str, Any], message: str) -> None:
        """Orders a real Commerce would refuse are refused with a message saying why; nothing is created."""
        state, _ = _state()
        before = state.list_orders(0, 100).total
        with pytest.raises(OrderRejected, match=message):
            state.place_order(body)
        assert state.list_orders(0, 100).total == before

    def test_order_on_terminated_subscription_refused(self) -> None:
        """Once a cancellation completed, further orders on that subscription are refused."""
        state, clock = _state()
        state.place_order(CANCEL)
        clock.now += 11
        with pytest.raises(OrderRejected, match="terminated"):
            state.place_order({**CANCEL, "poNumber": "P2"})


class TestPersistence:
    def test_file_written_after_each_mutation_and_resumed(self, tmp_path: Path) -> None:
        """The state file always holds the latest state; a new state on the same file continues from it."""
        path = tmp_path / "state.json"
        state, clock = _state(state_file=path)
        order = state.place_order(CANCEL)
        saved = read_state(path)
        assert [o["po_number"] for o in saved["orders"] if o["id"] == order.id] == ["P1"]
        clock.now += 11
        state.get_order(order.id)
        resumed, _ = _state(state_file=path)
        assert resumed.get_order(order.id).status == "completed"  # type: ignore[union-attr]
        assert resumed.get_subscription("3000001").status == "terminated"  # type: ignore[union-attr]
        assert not list(tmp_path.glob("*.tmp")), "temporary files are renamed or removed"

    def test_new_ids_continue_after_restart(self, tmp_path: Path) -> None:
        path = tmp_path / "state.json"
        first, _ = _state(state_file=path)
        a = first.place_order(CANCEL)
        second, _ = _state(state_file=path)
        b = second.place_order({**CANCEL, "subscriptionId": "3000002", "poNumber": "P2"})
        assert int(b.id) > int(a.id)

    def test_corrupt_file_is_an_input_error(self, tmp_path: Path) -> None:
        path = tmp_path / "state.json"
        path.write_text("{not json")
        with pytest.raises(InputError, match="not a sandbox state file"):
            _state(state_file=path)


class TestStateLog:
    def test_changes_are_appended_not_rewritten(self, tmp_path: Path) -> None:
        """Each change adds one line holding only what it touched; the snapshot line is written once."""
        path = tmp_path / "state.json"
        state, clock = _state(state_file=path)
        snapshot_line = path.read_bytes()
        order = state.place_order(CANCEL)
        clock.now += 11
        state.get_order(order.id)
        lines = path.read_bytes().splitlines(keepends=True)
        assert lines[0] == snapshot_line and len(lines) == 3
        changes = [json.loads(line) for line in lines[1:]]
        assert [[o["status"] for o in c["orders"]] for c in changes] == [["submitted"], ["completed"]]
        assert [[s["id"] for s in c["subscriptions"]] for c in changes] == [[], ["3000001"]]

    def test_a_line_cut_short_by_a_crash_is_ignored(self, tmp_path: Path) -> None:
        path = tmp_path / "state.json"
        state, _ = _state(state_file=path)
        kept = state.place_order(CANCEL)
        with path.open("ab") as handle:
            handle.write(b'{"orders": [{"id": "999')  # the sandbox died writing this; no answer went out
        resumed, _ = _state(state_file=path)
        assert resumed.get_order(kept.id) is not None
        assert resumed.get_order("999") is None
        # Restarting compacts the file: one snapshot line again, without the torn tail.
        assert len(path.read_bytes().splitlines()) == 1

    def test_a_corrupt_change_line_is_an_input_error(self, tmp_path: Path) -> None:
        path = tmp_path / "state.json"
        _state(state_file=path)
        with path.open("ab") as handle:
            handle.write(b"not json\n")
        with pytest.raises(InputError, match="not a sandbox state file"):
            _state(state_file=path)

    def test_orders_move_on_in_due_order_without_scanning(self, tmp_path: Path) -> None:
        """Seeded orders never move; placed ones move when due, whatever order they were placed in."""
        state, clock = _state()
        first = state.place_order(CANCEL)
        clock.now += 4
        second = state.place_order({**CANCEL, "subscriptionId": "3000002", "poNumber": "P2"})
        clock.now += 7  # the first is due, the second is not
        assert state.get_order(first.id).status == "completed"  # type: ignore[union-attr]
        assert state.get_order(second.id).status != "completed"  # type: ignore[union-attr]
        clock.now += 4
        assert state.get_order(second.id).status == "completed"  # type: ignore[union-attr]

    def test_orders_created_since_are_found_by_bisection_and_match_a_scan(self) -> None:
        """``creationTimeFrom`` alone starts at the first order created since (seeded orders are older); the
        answer is the one a scan of every order gives."""
        state, clock = _state()
        state.place_order(CANCEL)
        clock.now += 60
        later = state.place_order({**CANCEL, "subscriptionId": "3000002", "poNumber": "P2"})
        since = dt.datetime.fromtimestamp(clock.now - 1, dt.timezone.utc)
        found = state.list_orders(0, 100, OrderFilter(created_from=since))
        assert [o.id for o in found.items] == [later.id] and found.total == 1
        everything = state.list_orders(0, 1000, OrderFilter()).items
        assert [o.id for o in everything if o.creation_time >= since] == [later.id]
        state._order_times_sorted = False  # the scan the index replaces gives the same answer
        assert [o.id for o in state.list_orders(0, 100, OrderFilter(created_from=since)).items] == [later.id]
