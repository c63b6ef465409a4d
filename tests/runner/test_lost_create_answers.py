"""Lost create answers and tasks delivered twice at once: one purchase per CSP item, one cancel per asset (issue 12).

The sandbox's fault injection lets Connect create the request and then loses the answer (a gateway's 502/503/504
or a dropped connection), on every ``POST /requests``. The runner's ``ConnectClient`` (``max_retries=3``) repeats
such a POST: the first test shows it makes duplicates. The sweep creates through a client that never repeats,
looks up before every create and holds the source's lock across look-up and create; the second test runs the
scheduled sweep under those faults, each task delivered twice at once, and two schedules sweeping the same assets
at the same time.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from connect.client import ConnectClient

from m365move.connect.client import sandbox_endpoint
from m365move.connect.sweep_schedule import PROGRESS_KEY
from m365move.sandbox.faults import Faults
from tests.runner.chunked_sweep import one_pass, request_signatures
from tests.runner.conftest import RunnerRig, runner_rig

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

CREATE_ROUTE = "POST /public/v1/requests"
ANSWERS_LOST = Faults(rate_fail_after_commit=1.0, apply_to=[CREATE_ROUTE], seed=12)
N_ASSETS = 12


def _schedule(rig: RunnerRig, schedule_id: str, parameter: dict[str, Any]) -> None:
    rig.connect.add_schedule({"id": schedule_id, "name": f"New Subscription sweep {schedule_id}",
                              "method": "new_subscription_sweep", "description": "", "parameter": parameter,
                              "trigger": {"type": "recurring", "start": "2026-01-01T00:00:00+00:00", "unit": "hours",
                                          "amount": 1}})


def _run_twice_at_once(rig: RunnerRig, schedule_ids: list[str]) -> list[str]:
    """Every schedule's execution delivered twice at the same time, then every triggered chunk twice too."""
    results: list[str] = []
    due = list(schedule_ids)
    while due:
        tasks = [rig.runtime.task("scheduled_execution", s) for s in due for _ in range(2)]
        results += [a.result for a in rig.runtime.deliver_many(tasks)]
        due = list(dict.fromkeys(rig.connect.take_triggered()))
    return results


def _lost_answers(rig: RunnerRig) -> int:
    faults: dict[str, int] = rig.server.context.stats.snapshot().get("faults", {})
    return int(faults.get("fail-after-commit", 0))


def test_the_runners_client_repeats_a_create_whose_answer_was_lost(rig: RunnerRig) -> None:
    """Why creates may not go through the runner's client: the fault makes one POST into several requests."""
    rig.sweep()
    made = rig.requests(type="purchase")[0]
    asset = made["asset"]
    body = {"type": "purchase", "marketplace": made.get("marketplace"),
            "asset": {"external_id": asset["external_id"], "external_uid": "control-only",
                      "product": {"id": asset["product"]["id"]}, "connection": {"id": asset["connection"]["id"]},
                      "items": [{"id": i["id"], "quantity": int(i["quantity"])} for i in asset["items"]],
                      "params": [{"id": p["id"], "value": p.get("value")} for p in asset["params"]]}}
    rig.server.context.injector.replace(Faults(rate_fail_after_commit=1.0, fail_after_commit_answers=[503],
                                             apply_to=[CREATE_ROUTE], max_injected=4))
    runners_client = ConnectClient(rig.section["connect"]["api_key"], endpoint=sandbox_endpoint(rig.server.url),
                                   max_retries=3, use_specs=False)
    with pytest.raises(Exception):  # noqa: B017,PT011 - whatever it raises, the requests exist
        runners_client.requests.create(payload=body)
    duplicates = rig.connect.snapshot(lambda r: r["asset"].get("external_uid") == "control-only")
    assert len(duplicates) == 4  # the POST and its three repetitions, each created by Connect


def test_lost_answers_and_double_deliveries_make_one_purchase_per_item_and_one_cancel_per_asset() -> None:
    parameter = {"chunk_size": 5, "batch_size": 5}
    with runner_rig(N_ASSETS, seed=21) as rig:
        one_pass(rig, parameter)
        expected = request_signatures(rig.connect)

    with runner_rig(N_ASSETS, seed=21) as rig:
        rig.server.context.injector.replace(ANSWERS_LOST)
        # Two schedules sweeping the same assets (their positions cannot protect each other), each task twice.
        _schedule(rig, "EFS-000-001", parameter)
        _schedule(rig, "EFS-000-002", parameter)
        results = _run_twice_at_once(rig, ["EFS-000-001", "EFS-000-002"])
        assert set(results) == {"success"}
        purchases = rig.requests(type="purchase")
        assert _lost_answers(rig) >= len(purchases) > N_ASSETS  # every create's answer was lost
        per_item = Counter(r["asset"]["external_uid"] for r in purchases)
        assert max(per_item.values()) == 1, [uid for uid, n in per_item.items() if n > 1]
        assert request_signatures(rig.connect) == expected  # exactly the one pass's purchases, once each

        # Every purchase approved: the next passes create the cancel requests, under the same faults.
        for request in purchases:
            rig.connect.transition_request(request["id"], "approve", {"template_id": "TL-000-000-001"})
        for schedule_id in ("EFS-000-001", "EFS-000-002"):
            assert rig.connect.schedules[schedule_id]["parameter"][PROGRESS_KEY]["finished"]
        results = _run_twice_at_once(rig, ["EFS-000-001", "EFS-000-002"])
        assert set(results) == {"success"}
        cancels = Counter(r["asset"]["id"] for r in rig.requests(type="cancel"))
        assert set(cancels) == {r["asset"]["external_id"] for r in purchases}
        assert max(cancels.values()) == 1, [asset for asset, n in cancels.items() if n > 1]
        assert _lost_answers(rig) >= len(purchases) + len(cancels)


def test_creates_whose_answers_were_lost_are_counted_as_created() -> None:
    """A create whose answer was lost and whose request the look-up after the settle window finds was made by this
    sweep (the look-up before it found none): the pass's "requests created" counts it (it used to say 0)."""
    with runner_rig(N_ASSETS, seed=21) as rig:
        rig.server.context.injector.replace(ANSWERS_LOST)
        answer = rig.sweep({"chunk_size": 5, "batch_size": 5})
        assert answer.result == "success", answer.message
        purchases = rig.requests(type="purchase")
        assert _lost_answers(rig) >= len(purchases) > 0
        assert rig.connect.schedules["EFS-000-001"]["parameter"][PROGRESS_KEY]["created_requests"] == len(purchases)
