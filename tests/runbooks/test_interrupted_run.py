"""Ctrl+C during ``m365move runbook run`` of a migration: a sealed partial report that says how to complete it.

The terminal's Ctrl+C reaches the whole foreground process group: ``runbook run`` and its kernel. It used to exit
130 leaving no report, no run.json and no manifest, and the journal recorded the run as "finished".
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from m365move.sandbox.faults import Faults
from tests.estate_builder import BASE, standard
from tests.execution.sandbox_run import CREDENTIALS, sandbox_on, state, write_estate

pytestmark = pytest.mark.slow
SOURCES = 30


def test_ctrl_c_leaves_a_sealed_partial_report_with_the_resume_hint(tmp_path: Path) -> None:
    builder = standard()
    for n in range(SOURCES):
        builder.subscription(str(3000001 + n), resources=[(BASE, 1 + n)])
    estate = write_estate(tmp_path, builder.doc)
    run_dir, workspace = tmp_path / "run", tmp_path / "work"
    with sandbox_on(estate, Faults(order_processing_seconds=1.0)) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "m365move", "runbook", "run", "switch_plan_migration", "-p", "estate", str(estate),
             "-p", "commerce_url", server.url, "-p", "workspace", str(workspace), "-p", "execute", "true",
             "-p", "confirm", str(SOURCES), "-p", "batch_size", "5", "-p", "poll_interval", "0.2",
             "-p", "rate_limit", "0", "--output-dir", str(run_dir)],
            env=dict(os.environ) | CREDENTIALS, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # its own process group, as a terminal's foreground job is
        )
        deadline = time.monotonic() + 240
        while not state(server)["orders"] and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert state(server)["orders"], "no order was placed before the deadline"
        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C
        output, _ = process.communicate(timeout=180)
        placed = len(state(server)["orders"])
    assert process.returncode == 130, output
    assert placed < 2 * SOURCES  # it stopped before the end
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "interrupted" and run["exit_code"] == 130
    report = (run_dir / "report.html").read_text()
    assert "INTERRUPTED" in report and "resume_from=RUN_ID" in report
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "report.html" in json.dumps(manifest)
    assert "resume_from" in output
    with sqlite3.connect(workspace / "journal.sqlite") as journal:
        statuses = [row[0] for row in journal.execute("SELECT status FROM runs")]
    assert statuses == ["interrupted"], statuses
