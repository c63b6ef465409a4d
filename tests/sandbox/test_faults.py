"""Fault configuration: the file format, the injector's decisions, and changing faults at runtime."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from m365move.errors import InputError
from m365move.sandbox.auth import ADMIN_AUTH
from m365move.sandbox.faults import FaultInjector, Faults, HttpFault, load_faults
from m365move.sandbox.server import SandboxServer


class TestFaultsFile:
    def test_yaml(self, tmp_path: Path) -> None:
        path = tmp_path / "faults.yaml"
        path.write_text("rate_429: 0.5\nretry_after_seconds: 2\nerror_subscriptions: ['3000001']\nseed: 7\n")
        faults = load_faults(path)
        assert faults.rate_429 == 0.5 and faults.error_subscriptions == ["3000001"] and faults.seed == 7

    @pytest.mark.parametrize(("text", "field"), [("rate_5xx: 2\n", "rate_5xx"), ("rate_492: 0.1\n", "rate_492")])
    def test_bad_field_named(self, tmp_path: Path, text: str, field: str) -> None:
        """Out-of-range values and misspelt fields are errors naming the file and the field."""
        path = tmp_path / "faults.yaml"
        path.write_text(text)
        with pytest.raises(InputError, match=field) as caught:
            load_faults(path)
        assert str(path) in str(caught.value)


class TestCommitAfterAnswer:
    def test_in_the_faults_file(self, tmp_path: Path) -> None:
        path = tmp_path / "faults.yaml"
        path.write_text("rate_commit_after_answer: 1\ncommit_after_answer_seconds: 40\n"
                        "commit_after_answer_answers: [504, timeout]\napply_to: ['POST /orders']\n")
        decision = FaultInjector(load_faults(path)).for_request("POST /orders")
        assert decision.fault is HttpFault.COMMIT_AFTER_ANSWER
        assert decision.answer_before_commit in (504, "timeout") and decision.commit_after_seconds == 40

    def test_default_answer_is_a_gateway_timeout_and_others_are_refused(self, tmp_path: Path) -> None:
        assert Faults(rate_commit_after_answer=1).commit_after_answer_answers == [504]
        path = tmp_path / "faults.yaml"
        path.write_text("rate_commit_after_answer: 1\ncommit_after_answer_answers: [500]\n")
        with pytest.raises(InputError, match="commit_after_answer_answers"):
            load_faults(path)


class TestInjector:
    def test_seeded_decisions_repeat(self) -> None:
        faults = Faults(rate_429=0.3, rate_5xx=0.3, rate_drop=0.2, seed=11)
        a, b = FaultInjector(faults), FaultInjector(faults)
        assert [a.for_request("GET /plans").fault for _ in range(50)] == [b.for_request("GET /plans").fault for _ in range(50)]
        assert len(set(a.for_request("GET /plans").fault for _ in range(50))) > 1

    def test_rates_roughly_respected(self) -> None:
        injector = FaultInjector(Faults(rate_429=0.25, rate_5xx=0.25, seed=3))
        faults = [injector.for_request("GET /plans").fault for _ in range(4000)]
        assert 800 < faults.count(HttpFault.THROTTLE) < 1200
        assert 800 < faults.count(HttpFault.SERVER_ERROR) < 1200
        assert faults.count(HttpFault.DROP) == 0

    def test_max_injected_and_apply_to(self) -> None:
        """A transient outage: at most max_injected faults, only on the listed routes."""
        injector = FaultInjector(Faults(rate_5xx=1, max_injected=2, apply_to=["POST /orders"]))
        assert injector.for_request("GET /plans").fault is None
        assert [injector.for_request("POST /orders").fault for _ in range(4)] == [
            HttpFault.SERVER_ERROR,
            HttpFault.SERVER_ERROR,
            None,
            None,
        ]

    def test_order_errors(self) -> None:
        injector = FaultInjector(Faults(error_subscriptions=["3000001"]))
        assert injector.order_fails({"3000001"}) and not injector.order_fails({"3000002"})
        assert FaultInjector(Faults(order_error_rate=1)).order_fails(set())


class TestAdminEndpoints:
    def test_put_faults_changes_behaviour_and_admin_is_never_faulted(self, sandbox: SandboxServer) -> None:
        """With every API call failing, admin still answers and can clear the fault; stats count by template."""
        with httpx.Client(base_url=sandbox.url) as client:
            assert client.put("/_sandbox/faults", auth=ADMIN_AUTH, json={"rate_5xx": 1.0}).status_code == 200
            assert client.get("/plans/5001").status_code == 503
            assert client.get("/_sandbox/faults", auth=ADMIN_AUTH).json()["rate_5xx"] == 1.0
            stats = client.get("/_sandbox/stats", auth=ADMIN_AUTH).json()
            assert stats["requests"] == {"GET /plans/{id}": 1} and stats["faults"] == {"5xx": 1}
            assert client.put("/_sandbox/faults", auth=ADMIN_AUTH, json={"rate_5xx": 3}).status_code == 400
            client.put("/_sandbox/faults", auth=ADMIN_AUTH, json={})
            assert client.get("/plans/5001").status_code == 401  # reached the route: no token
            client.post("/_sandbox/reset-stats", auth=ADMIN_AUTH)
            assert client.get("/_sandbox/stats", auth=ADMIN_AUTH).json()["total"] == 0

    def test_429_carries_retry_after(self, sandbox: SandboxServer) -> None:
        with httpx.Client(base_url=sandbox.url) as client:
            client.put("/_sandbox/faults", auth=ADMIN_AUTH, json={"rate_429": 1.0, "retry_after_seconds": 2.5})
            response = client.get("/plans")
            assert response.status_code == 429 and response.headers["Retry-After"] == "3"

    def test_drop_closes_the_connection(self, sandbox: SandboxServer) -> None:
        with httpx.Client(base_url=sandbox.url) as client:
            client.put("/_sandbox/faults", auth=ADMIN_AUTH, json={"rate_drop": 1.0})
            with pytest.raises(httpx.RemoteProtocolError):
                client.get("/plans")

    def test_state_endpoint(self, sandbox: SandboxServer) -> None:
        state = httpx.get(f"{sandbox.url}/_sandbox/state", auth=sandbox.admin_auth).json()
        assert {s["id"] for s in state["subscriptions"]} >= {"3000001", "3000002"}
