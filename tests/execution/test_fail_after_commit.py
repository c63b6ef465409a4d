"""Gateways lie: the order is created, then the answer is a 502/503/504 or a dropped connection.

The executor must look the order up by its key before anything else and never send it twice; only a
429 (throttled before processing) may be resent blindly.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from m365move.cli import main
from m365move.commerce.credentials import CommerceCredentials
from m365move.commerce.errors import OrderPlacementUncertain
from m365move.commerce.models import OrderRequest
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.sandbox.faults import FaultInjector, Faults, HttpFault, parse_faults
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import duplicate_keys, migrate_args, sandbox_on, set_faults, state, write_estate


def estate(tmp_path: Path) -> Path:
    builder = standard()
    for n in range(6):
        builder.subscription(str(3000001 + n), resources=[(BASE, 3 + n), (ADDON, 1 + n)])
    return write_estate(tmp_path, builder.doc)


class TestFault:
    def test_chooses_among_the_configured_answers(self) -> None:
        injector = FaultInjector(Faults(rate_fail_after_commit=1.0, fail_after_commit_answers=[504, "drop"], seed=1))
        decisions = [injector.for_request("POST /orders") for _ in range(40)]
        assert {d.fault for d in decisions} == {HttpFault.FAIL_AFTER_COMMIT}
        assert {d.answer_after_commit for d in decisions} == {504, "drop"}

    def test_rejects_an_unknown_answer(self) -> None:
        with pytest.raises(ValueError, match="fail_after_commit_answers"):
            parse_faults({"rate_fail_after_commit": 0.5, "fail_after_commit_answers": [500]})

    @pytest.mark.parametrize("answer", [502, 503, 504, "drop"])
    def test_order_exists_once_and_the_client_says_uncertain(self, tmp_path: Path, answer: int | str) -> None:
        with sandbox_on(estate(tmp_path)) as server:
            set_faults(server, Faults(rate_fail_after_commit=1.0, fail_after_commit_answers=[answer],  # type: ignore[list-item]
                                      apply_to=["POST /orders"]))
            order = OrderRequest.cancellation(customer_id="2000001", po_number="K-1", subscription_id="3000001")
            with (SimpleApiClient(server.url, CommerceCredentials.sandbox(), rate_limit_per_second=None) as client,
                  pytest.raises(OrderPlacementUncertain)):
                client.place_order(order)
            snapshot = state(server)
        assert [o["po_number"] for o in snapshot["orders"]] == ["K-1"]  # created once, never resent

    def test_a_429_is_resent(self, tmp_path: Path) -> None:
        with sandbox_on(estate(tmp_path)) as server:
            set_faults(server, Faults(rate_429=1.0, max_injected=1, retry_after_seconds=0, apply_to=["POST /orders"]))
            order = OrderRequest.cancellation(customer_id="2000001", po_number="K-1", subscription_id="3000001")
            with SimpleApiClient(server.url, CommerceCredentials.sandbox(), rate_limit_per_second=None,
                                 sleep=lambda _: None) as client:
                client.place_order(order)
            assert [o["po_number"] for o in state(server)["orders"]] == ["K-1"]


@pytest.mark.parametrize("answers", [[502], [503], [504], ["drop"]])
def test_migration_through_gateway_errors_after_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      answers: list[int | str]) -> None:
    """Every first POST of an order creates it and loses the answer: the run finds each order by its key,
    migrates everything and places no order twice."""
    for key, value in {"M365MOVE_COMMERCE_USER": "sandbox", "M365MOVE_COMMERCE_PASSWORD": "sandbox",
                       "M365MOVE_COMMERCE_SUBSCRIPTION_KEY": "sandbox"}.items():
        monkeypatch.setenv(key, value)
    path = estate(tmp_path)
    faults = Faults(rate_fail_after_commit=0.5, fail_after_commit_answers=answers,  # type: ignore[arg-type]
                    apply_to=["POST /orders"], order_processing_seconds=0.05, seed=5)
    with sandbox_on(path, faults) as server:
        assert main(migrate_args("new-subscription", path, server, tmp_path / "work", "--execute")) == 0
        snapshot = state(server)
        injected = server.context.stats.snapshot()["faults"]
    assert injected.get("fail-after-commit", 0) >= 3
    assert duplicate_keys(snapshot) == []
    kinds = [o["type"] for o in snapshot["orders"]]
    assert (kinds.count("sales"), kinds.count("cancellation")) == (12, 6)
    with next((tmp_path / "work" / "results").glob("*.csv")).open() as handle:
        assert {row["final_status"] for row in csv.DictReader(handle)} == {"migrated"}

