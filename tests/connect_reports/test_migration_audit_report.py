"""The audit as a Connect custom report: ``connect_reports/reports.json`` passes connect-reports-core's own
validation, and its entry point, run against the sandbox after the real extension migrated CSP assets (one
anomaly planted), yields one row per CSP asset that the xlsx, csv and json renderers write."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from m365move.connect.payloads import param_value
from tests.connect.sandbox_fixtures import connect_rig
from tests.connect_reports.reports_env import ROOT, reports_python

pytestmark = pytest.mark.slow


def test_the_report_entry_validates_and_runs_against_the_sandbox(tmp_path: Path) -> None:
    python = reports_python()
    with connect_rig(8) as rig:
        rig.driver.run_until_settled(timeout=300)
        config = rig.driver.config
        # seat-mismatch: one NCE asset holds a seat fewer than its CSP item.
        purchase = next(r for r in rig.connect.requests.values() if r["type"] == "purchase" and r["status"] == "approved"
                        and param_value(r, "migration_source"))
        purchase["asset"]["items"][0]["quantity"] = str(int(purchase["asset"]["items"][0]["quantity"]) - 1)
        parameters = {"csp_product": {"all": False, "choices": config["CSP_PRODUCT_IDS"].split(",")},
                      "nce_product": {"all": False, "choices": config["NCE_PRODUCT_IDS"].split(",")},
                      "date": {"after": "2000-01-01T00:00:00+00:00", "before": "2100-01-01T00:00:00+00:00"}}
        done = subprocess.run(
            [str(python), str(Path(__file__).with_name("run_report.py")), str(ROOT / "connect_reports"),
             f"{rig.server.url}/public/v1", str(tmp_path), json.dumps(parameters)],
            capture_output=True, text=True, timeout=600,
            env={"M365MOVE_CONNECT_API_KEY": rig.section["connect"]["api_key"], "PATH": "/usr/bin:/bin"},
        )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["schema_errors"] is None and outcome["errors"] == []
    rows = outcome["rows"]["json"]
    assert len(rows) == 8 and outcome["progress"] == [8, 8]
    flagged = [r for r in rows if r["Anomaly codes"]]
    assert [r["Anomaly codes"] for r in flagged] == ["seat-mismatch"]
    assert flagged[0]["CSP asset"] == purchase["asset"]["external_id"] and flagged[0]["What to do"]
    assert {r["Status"] for r in rows} <= {"migrated", "pending"}
    assert [len(r) for r in outcome["rows"]["csv"]] == [11] * 8
    header, *data = outcome["xlsx"]
    assert header[0] == "CSP asset" and len(data) == 8 and sorted(r[0] for r in data) == sorted(r["CSP asset"] for r in rows)
    for kind in ("csv", "json"):
        with zipfile.ZipFile(outcome["written"][kind]) as pack:
            assert f"report.{kind}" in pack.namelist() and "summary.json" in pack.namelist(), pack.namelist()
