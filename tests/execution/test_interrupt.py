"""Ctrl+C during an executed migration: the batch in flight finishes, results are written, resume completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from m365move.sandbox.faults import Faults
from tests.estate_builder import BASE, standard
from tests.execution.sandbox_run import CREDENTIALS, confirmed, duplicate_keys, sandbox_on, state, write_estate

pytestmark = pytest.mark.slow


def test_ctrl_c_finishes_in_flight_then_resume_completes(tmp_path: Path) -> None:
    builder = standard()
    for n in range(40):
        builder.subscription(str(3000001 + n), resources=[(BASE, n + 1)])
    estate = write_estate(tmp_path, builder.doc)
    workspace = tmp_path / "work"
    env = dict(os.environ) | CREDENTIALS
    common = ["--workspace", str(workspace), "--poll-interval", "0.05", "--rate-limit", "0", "--batch-size", "5",
              "--concurrency", "2"]
    with sandbox_on(estate, Faults(order_processing_seconds=0.3)) as server:
        process = subprocess.Popen(
            confirmed([sys.executable, "-m", "m365move", "migrate", "--mode", "new-subscription", "--estate",
                       str(estate), "--commerce-url", server.url, "--execute", *common]),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Interrupt once the first order reached the platform (not after a fixed delay: on a loaded machine the
        # process may still be importing, and a Ctrl+C there is not the case under test).
        deadline = time.monotonic() + 120
        while not state(server)["orders"] and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, err
        assert "m365move resume" in out and "stopping after the subscriptions in flight" in err
        results = next((workspace / "results").glob("*.csv")).read_text()
        assert ",migrated," in results and ",pending," in results
        middle = state(server)
        # Nothing was left half-done: every source with orders has all of them, cancellation included.
        sources = {o["po_number"].split("-")[2] for o in middle["orders"]}
        cancelled = {o["subscription_id"] for o in middle["orders"] if o["type"] == "cancellation"}
        assert sources and sources == cancelled
        resume = subprocess.run([sys.executable, "-m", "m365move", "resume", str(next((workspace / "results").glob("*.csv"))),
                                 "--execute", *common], env=env, capture_output=True, text=True, timeout=120)
        assert resume.returncode == 0, resume.stderr
        final = state(server)
    assert duplicate_keys(final) == []
    assert sum(1 for o in final["orders"] if o["type"] == "cancellation") == 40
