"""The runbooks are papermill-native: papermill's own inspection sees every parameter, and plain
``papermill NB OUT -p name value`` runs each one (ids papermill reads as numbers stay strings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

from m365move.demo.__main__ import PARTNER_CENTER_SANDBOX
from m365move.demo.commerce_partner_center import add_commerce_partner_center
from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.estate.loader import load_estate
from m365move.runbooks.catalog import list_runbooks, notebooks_dir
from m365move.runbooks.cells import PARAMETERS_TAG, cells_tagged, source_of
from m365move.runbooks.check import check_notebook
from m365move.runbooks.parameters import parse_parameters_cell
from m365move.runbooks.result import RESULT_MIME_TYPE
from m365move.sandbox.faults import Faults
from m365move.sandbox.server import run_sandbox
from tests.call2teams.helpers import CONTOSO_ACCOUNT_DOMAINS

NOTEBOOKS = notebooks_dir()
RUNBOOKS = sorted(runbook.name for runbook in list_runbooks(NOTEBOOKS))
C2T_FIXTURES = Path(__file__).resolve().parents[1] / "call2teams" / "fixtures"


def declared(name: str) -> dict[str, str]:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    [index] = cells_tagged(notebook.cells, PARAMETERS_TAG)
    cell = parse_parameters_cell(source_of(notebook.cells[index]))
    assert not cell.problems
    return {p.name: (f"Optional[{p.type.base}]" if p.type.optional else p.type.base) for p in cell.parameters}


@pytest.mark.parametrize("name", RUNBOOKS)
def test_papermill_inspection_sees_every_parameter(name: str) -> None:
    seen = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    assert {n: p["inferred_type_name"] for n, p in seen.items()} == declared(name)


@pytest.mark.parametrize("name", RUNBOOKS)
def test_papermill_help_notebook_lists_every_parameter(name: str) -> None:
    shown = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(NOTEBOOKS / f"{name}.ipynb")],
                           capture_output=True, text=True, timeout=120, check=True).stdout
    for parameter, type_name in declared(name).items():
        assert f"  {parameter}: {type_name} (default " in shown, parameter


def test_runbook_check_reports_what_papermill_cannot_see(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOKS / "preflight.ipynb", as_version=4)
    [index] = cells_tagged(notebook.cells, PARAMETERS_TAG)
    source = source_of(notebook.cells[index])
    notebook.cells[index].source = source.replace("catalog: Optional[str] = None", "catalog: str | None = None")
    path = tmp_path / "preflight.ipynb"
    nbformat.write(notebook, path)
    messages = [f.message for f in check_notebook(path)]
    assert any("papermill does not see catalog" in m for m in messages), messages


# ---- plain papermill runs (a kernel per runbook: the slow suite) -----------------------------------------------

def papermill_run(name: str, folder: Path, *params: tuple[str, str], env: dict[str, str] | None = None) -> \
        tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "out.ipynb"
    args = [sys.executable, "-m", "papermill", str(NOTEBOOKS / f"{name}.ipynb"), str(out), "--cwd", str(folder),
            "-k", "python3"]
    for key, value in params:
        args += ["-p", key, value]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=os.environ | (env or {}))
    assert done.returncode == 0, done.stderr[-3000:]
    executed = nbformat.read(out, as_version=4)
    results = [o["data"][RESULT_MIME_TYPE] for c in executed.cells if c.cell_type == "code"
               for o in c.get("outputs", []) if RESULT_MIME_TYPE in o.get("data", {})]
    assert results, f"{name}: no result published"
    return done, results[-1]


CREDENTIALS = {"M365MOVE_COMMERCE_USER": "sandbox", "M365MOVE_COMMERCE_PASSWORD": "sandbox",
               "M365MOVE_COMMERCE_SUBSCRIPTION_KEY": "sandbox"}


@pytest.mark.slow
def test_plain_papermill_runs_every_runbook_with_ids(tmp_path: Path) -> None:
    estate_path = tmp_path / "estate.json"
    document = generate_estate(EstateSize.for_subscriptions(30), seed=1)
    add_commerce_partner_center(document, seed=1)  # the reconcile runbook reads Partner Center
    estate_path.write_text(json.dumps(document))
    reseller = sorted(load_estate(estate_path).estate.resellers)[0]
    assert reseller.isdigit()  # papermill reads it as an integer: the runbook must turn it back into text
    ran: set[str] = set()

    done, result = papermill_run("preflight", tmp_path / "preflight", ("estate", str(estate_path)),
                                 ("reseller", reseller), ("not_a_parameter", "1"))
    assert "Passed unknown parameter: not_a_parameter" in done.stderr  # papermill's own warning
    assert 0 < result["subscriptions"] < 30
    ran.add("preflight")

    workspace = tmp_path / "work"
    with run_sandbox(estate_path, Faults(order_processing_seconds=0.05)) as server:
        for name in ("switch_plan_migration", "new_subscription_migration"):
            _, result = papermill_run(name, tmp_path / name, ("commerce_url", server.url),
                                      ("estate", str(estate_path)), ("reseller", reseller),
                                      ("workspace", str(workspace)), env=CREDENTIALS)
            assert result["executed"] is False and 0 < sum(result["plan"].values()) < 30  # the reseller filter
            ran.add(name)
        _, result = papermill_run("audit_report", tmp_path / "audit", ("journal", str(workspace / "journal.sqlite")),
                                  ("commerce_url", server.url), ("reseller", reseller), env=CREDENTIALS)
        ran.add("audit_report")
        _, result = papermill_run("reconcile", tmp_path / "reconcile", ("estate", str(estate_path)),
                                  ("commerce_url", server.url), ("reseller", reseller),
                                  ("partner_center_url", f"{server.url}/partnercenter"),
                                  ("partner_center_login_url", f"{server.url}/partnercenter/oauth2/token"),
                                  env=CREDENTIALS | PARTNER_CENTER_SANDBOX)
        assert result["executed"] is False
        ran.add("reconcile")

    _, result = papermill_run("call2teams_tenant_check", tmp_path / "c2t",
                              ("tenant_dirs", str(C2T_FIXTURES / "contoso")),
                              ("account_domains", ",".join(CONTOSO_ACCOUNT_DOMAINS)))
    assert result["verdict"] in ("ready", "not-ready")
    ran.add("call2teams_tenant_check")
    _, result = papermill_run("call2teams_move_readiness", tmp_path / "move", ("accounts", str(C2T_FIXTURES /
                              "accounts.yaml")), ("source", "SA-101"), ("target", "SA-201"),
                              ("move_date", "2026-12-01"))
    assert result["verdict"] in ("ready", "not-ready")
    ran.add("call2teams_move_readiness")
    assert ran == set(RUNBOOKS)
