"""The runbook report opens with what a reviewer signs: who, when, what, where, which version, sign-off."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat

from m365move.runbooks.render import render_report
from m365move.runbooks.report_header import endpoint_without_secrets


def _run_dir(tmp_path: Path) -> Path:
    run_dir = tmp_path / "switch_plan_migration-20260301T090000Z"
    run_dir.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# body")]), str(run_dir / "executed.ipynb"))
    (run_dir / "parameters.json").write_text(json.dumps({
        "commerce_url": "https://apiuser:s3cret@commerce.example.com:8443/simpleapi?subscription-key=k3y",
        "reseller": "1000002", "catalog": None, "execute": False}))
    (run_dir / "run.json").write_text(json.dumps({
        "runbook": "switch_plan_migration", "title": "Switch Plan migration on Commerce", "status": "ok",
        "exit_code": 0, "timings": {"total": 3725.4}, "started_at": "2026-03-01T09:00:00+00:00",
        "finished_at": "2026-03-01T10:02:05+00:00", "user": "ops", "host": "jump-1",
        "tool": {"version": "0.1.0", "commit": "1a2b3c4d5e6f"}, "journal_url": "postgresql://db.example/m365"}))
    return run_dir


def test_header_names_run_people_time_version_endpoints_and_sign_off(tmp_path: Path) -> None:
    page = render_report(_run_dir(tmp_path)).read_text()
    text = html.unescape(re.sub(r"<style.*?</style>|<script.*?</script>|<[^>]+>", " ", page, flags=re.S))
    text = re.sub(r"\s+", " ", text)
    head = text[: text.index(" body ")]
    for expected in ("Switch Plan migration on Commerce", "switch_plan_migration", "started 2026-03-01 09:00:00 UTC",
                     "ended 2026-03-01 10:02:05 UTC", "duration 1:02:05", "run by ops@jump-1",
                     "m365move 0.1.0 (commit 1a2b3c4d5e6f)",
                     "endpoint: commerce_url https://commerce.example.com:8443/simpleapi",
                     "db.example/m365", "Sign-off", "Reviewed by (name)", "Role / title", "Signature",
                     "Parameters: 3 set (1 unset, not shown)", "reseller \"1000002\""):
        assert expected in head, expected
    assert re.search(r"<details open(=\"\")?>", page)  # the parameters print
    assert "outcome OK (exit 0); DRY RUN: nothing was changed on the platform" in head
    for secret in ("s3cret", "k3y", "apiuser"):
        assert secret not in page
    assert "catalog" not in head  # null parameters are hidden


def test_endpoints_lose_credentials() -> None:
    assert endpoint_without_secrets("https://u:p@h.example:1/p?key=x#f") == "https://h.example:1/p"
    assert endpoint_without_secrets("postgresql+psycopg://m:pw@db/j") == "postgresql+psycopg://db/j"


def _header_text(run_dir: Path) -> str:
    page = render_report(run_dir).read_text()
    text = html.unescape(re.sub(r"<style.*?</style>|<script.*?</script>|<[^>]+>", " ", page, flags=re.S))
    text = re.sub(r"\s+", " ", text)
    return text[: text.index(" body ")]


def test_duration_while_the_run_is_being_finalised_comes_from_start_and_end(tmp_path: Path) -> None:
    """The runner renders the report before it knows its own total time: start and end give the duration."""
    run_dir = _run_dir(tmp_path)
    run = json.loads((run_dir / "run.json").read_text())
    run["timings"] = {"validate": 0.1, "cells": 3720.0}  # no "total" yet
    (run_dir / "run.json").write_text(json.dumps(run))
    assert "duration 1:02:05 (3725.0 s)" in _header_text(run_dir)


def test_outcome_says_needs_attention_and_executed_in_words(tmp_path: Path) -> None:
    """An executed run that exited 6 reads NEEDS ATTENTION and EXECUTED, never "ok"; a cell error reads FAILED."""
    run_dir = _run_dir(tmp_path)
    run = json.loads((run_dir / "run.json").read_text())
    (run_dir / "parameters.json").write_text(json.dumps({"execute": True, "confirm": 12}))
    (run_dir / "run.json").write_text(json.dumps(run | {"exit_code": 6}))
    head = _header_text(run_dir)
    assert "outcome NEEDS ATTENTION: subscriptions failed, partially migrated or blocked (exit 6); EXECUTED: " \
           "changes were made on the platform" in head
    assert " ok " not in head.lower().replace("ok)", "")
    (run_dir / "run.json").write_text(json.dumps(run | {"status": "cell_error", "exit_code": 3}))
    assert "outcome FAILED: a cell raised an error (exit 3); EXECUTED" in _header_text(run_dir)
