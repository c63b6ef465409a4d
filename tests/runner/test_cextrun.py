"""The unmodified ``cextrun`` process against a loopback Connect: EaaS websocket stand-in + sandbox API (issue 12).

connect-extension-runner's master starts its background and interactive worker processes; each connects over
``wss://`` to the stand-in (tests/runner/eaas_service.py), sends its setup request and gets the environment's
configuration; its Connect API calls (the object counts, the schedule, the handlers' own calls) go over ``https://``
to the sandbox. Both servers use a certificate of a CA made for this test; the runner trusts only that CA. Nothing
of the runner is patched: it is the installed console script, configured by the environment variables the runner
image gets (``API_KEY``, ``ENVIRONMENT_ID``, ``SERVER_ADDRESS``, ``API_ADDRESS``, ``INSTANCE_ID``). It starts with
``-n`` (no start-up validation), because that validation asks pypi.org for the newest runner; the same
validators run in tests/extension (offline) and the runner version is checked in tests/runner/test_runner_version.py.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from connect.eaas.core.proto import Task, TaskInput, TaskOptions

from m365move.connect.purchase_fulfilment import MIGRATION_ID_PARAM
from m365move.connect.settings import VARIABLE_DEFAULTS
from m365move.sandbox.server import TlsFiles
from tests.runner.conftest import SCHEDULE_ID, RunnerRig, runner_rig
from tests.runner.eaas_service import EaasService
from tests.runner.throwaway_ca import ThrowawayCa, make_throwaway_ca

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parents[2]
ENVIRONMENT_ID = "ENV-1234-5678-01"
SERVICE_ID = "SRVC-1234-5678"
# What the extension subscribes to (extension/events.py): event type -> statuses.
EVENT_SUBSCRIPTIONS = {
    "tier_config_setup_request_processing": ["pending"],
    "tier_config_change_request_processing": ["pending"],
    "tier_config_setup_request_validation": ["draft"],
    "tier_config_change_request_validation": ["draft"],
    "asset_purchase_request_processing": ["pending"],
}
# The master and its two spawned workers each import the runner and the extension (connect-openapi-client's
# inflect alone costs ~10 s of CPU: typeguard instruments it on import); a shared 2-core machine takes minutes.
START_SECONDS = 300


def _cextrun() -> Path:
    """The console script of the environment running the tests (.venv: the project, its dev tools and the runner)."""
    script = Path(sys.executable).with_name("cextrun")
    assert script.exists(), f"{script} is missing: `pip install -e .[dev]` installs connect-extension-runner"
    return script


@contextmanager
def _running_cextrun(service: EaasService, api_address: str, api_key: str, ca: ThrowawayCa,
                     log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items()
           if k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_DIR",
                                  "PYTHONDONTWRITEBYTECODE")}  # three processes import the same modules
    env.update({
        "API_KEY": api_key, "ENVIRONMENT_ID": ENVIRONMENT_ID, "INSTANCE_ID": f"INS-{uuid.uuid4().hex[:8]}",
        "SERVER_ADDRESS": service.address, "API_ADDRESS": api_address,
        # The runner's clients trust this CA only: websockets and httpx (SSL_CERT_FILE), requests (its own bundle).
        "SSL_CERT_FILE": str(ca.ca_file), "REQUESTS_CA_BUNDLE": str(ca.ca_file),
    })
    with log.open("wb") as output:
        process = subprocess.Popen([str(_cextrun()), "-n", "--no-rich-logging"], cwd=REPOSITORY, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # what docker stop / Ctrl-C does: the master stops its workers
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


def _log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-40:])


def _task(category: str, event_type: str, object_id: str) -> Task:
    return Task(options=TaskOptions(task_id=f"TQ-{uuid.uuid4().hex[:12]}", task_category=category),
                input=TaskInput(event_type=event_type, object_id=object_id))


def _param(request: dict[str, Any], name: str) -> Any:
    return next((p.get("value") for p in request["asset"]["params"] if p["id"] == name), None)


def test_unmodified_cextrun_sets_up_then_runs_a_sweep_and_a_purchase(tmp_path: Path) -> None:
    ca = make_throwaway_ca(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(ca.certificate_file, ca.key_file)
    log = tmp_path / "cextrun.log"
    started = time.monotonic()
    with runner_rig(tls=TlsFiles(str(ca.certificate_file), str(ca.key_file))) as rig:
        api_key = rig.section["connect"]["api_key"]
        service = EaasService(api_key, ENVIRONMENT_ID, SERVICE_ID, rig.variables, context).start()
        try:
            with _running_cextrun(service, rig.server.url.removeprefix("https://"), api_key, ca, log) as process:
                try:
                    _check_setup_and_tasks(rig, service, process)
                except BaseException:
                    print(_log_tail(log))
                    raise
            assert process.returncode == 0, _log_tail(log)
            assert "background" in service.shutdowns  # the worker said goodbye on the socket before leaving
        finally:
            service.stop()
    print(f"cextrun end to end: {time.monotonic() - started:.1f} s")


def _check_setup_and_tasks(rig: RunnerRig, service: EaasService, process: subprocess.Popen[bytes]) -> None:
    # -- the setup message each worker sends -------------------------------------------------------------
    for runner_type in ("background", "interactive"):
        setup = service.wait_for_setup(runner_type, timeout=START_SECONDS)
        assert process.poll() is None
        assert setup["event_subscriptions"] == EVENT_SUBSCRIPTIONS
        assert [(s["method"], s["name"]) for s in setup["schedulables"]] == [
            ("new_subscription_sweep", "New Subscription sweep")]
        declared = {v["name"]: v for v in setup["variables"]}
        assert set(declared) == set(VARIABLE_DEFAULTS)
        assert declared["PARTNER_CENTER_CLIENT_SECRET"]["secure"] is True
        assert declared["DRY_RUN"] == {"name": "DRY_RUN", "initial_value": "true", "secure": False}
        assert setup["runner_version"] == version("connect-extension-runner")
        assert setup["repository"]["changelog_url"].endswith("/CHANGELOG.md")
        assert set(setup["audience"]) == {"distributor", "vendor"}
        assert service.workers[runner_type].query["running_tasks"] == ["0"]
    assert service.refused == []

    # -- one scheduled sweep, to completion, against the sandbox -------------------------------------------
    rig.connect.add_schedule({"id": SCHEDULE_ID, "name": "New Subscription sweep", "method": "new_subscription_sweep",
                              "description": "", "parameter": {},
                              "trigger": {"type": "recurring", "start": "2026-01-01T00:00:00+00:00",
                                          "unit": "hours", "amount": 1}})
    assert not rig.requests(type="purchase")
    csp_products = rig.variables["CSP_PRODUCT_IDS"].split(",")
    csp_items = sum(len([i for i in asset["items"] if int(i.get("quantity") or 0) > 0])
                    for asset in list(rig.connect.assets.values())
                    if asset["status"] == "active" and asset["product"]["id"] in csp_products)
    answer = service.run_task("background", _task("scheduled", "scheduled_execution", SCHEDULE_ID), timeout=90)
    assert answer.output is not None and answer.output.result == "success", answer.output
    purchases = rig.requests(type="purchase", status="pending")
    assert len(purchases) == csp_items > 0  # one NCE purchase per CSP item of every active CSP asset

    # -- a purchase task: the runner counts it, the handler starts the Partner Center migration (over https) ----
    purchase = purchases[0]
    answer = service.run_task("background", _task("background", "asset_purchase_request_processing",
                                                  purchase["id"]), timeout=60)
    assert answer.output is not None and answer.output.result == "reschedule", answer.output
    assert answer.output.countdown >= 30
    assert _param(rig.connect.requests[purchase["id"]], MIGRATION_ID_PARAM)
    assert sum(rig.partner_center.created_for.values()) == 1

    # -- an interactive validation through the interactive worker ------------------------------------------
    tier_config_request = next(r for r in rig.connect.tier_config_requests.values() if r["status"] == "pending")
    draft = dict(tier_config_request, status="draft")
    task = _task("interactive", "tier_config_setup_request_validation", draft["id"])
    task.input.data = draft
    answer = service.run_task("interactive", task, timeout=60)
    assert answer.output is not None and answer.output.result == "success", answer.output
