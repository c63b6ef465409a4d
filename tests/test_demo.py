"""The README's demo command runs to the end on this machine (smaller estate, same steps)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from m365move.demo.__main__ import run_demo

pytestmark = pytest.mark.slow


def test_demo_runs_every_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """As `scripts/demo` runs it: a relative output folder under the current directory."""
    monkeypatch.chdir(tmp_path)
    assert run_demo(Path("demo"), subscriptions=120) == 0
    out = capsys.readouterr().out
    for step in ("1. Generate", "2. Preflight", "3. New Subscription migration", "4. Runbooks", "5. Connect", "6. Audit"):
        assert step in out
    # Partner Center was asked before ordering: the sources Microsoft migrated are listed to reconcile, not ordered.
    assert "terminate-in-commerce" in (tmp_path / "demo" / "reconciliation.csv").read_text()
    # The executed CLI run's undo plan, with Partner Center's windows, sealed in the run's folder (audit verify ran).
    undo = json.loads((tmp_path / "demo" / "undo-plan.json").read_text())
    assert undo["entries"] and {e["window_source"] for e in undo["entries"]} == {"partner-center"}
    (run_folder,) = (tmp_path / "demo" / "work" / "runs").iterdir()
    assert (run_folder / "manifest.json").is_file() and "would-cancel" in out
    for name in ("switch_plan_migration", "new_subscription_migration"):
        runbook = json.loads((tmp_path / "demo" / "runbooks" / name / "undo-plan.json").read_text())
        assert runbook["entries"] and runbook["partner_center_consulted"]
    audit = json.loads((tmp_path / "demo" / "audit" / "result.json").read_text())
    assert audit["anomalies"] == 0
    assert audit["summary"]["migrated"] > 0
    # The Connect step ran the extension through connect-extension-runner (in .venv, with the project) until Connect settled.
    summary = (tmp_path / "demo" / "connect" / "connect_demo.txt").read_text()
    assert "(settled)" in summary.splitlines()[0] and "Connect: " in out
