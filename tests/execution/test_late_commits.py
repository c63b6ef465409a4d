"""Late commits (issue 26 item 3): Commerce commits a POST N seconds after the client got its answer.

The sandbox's "commit after answer" fault answers first (a gateway's 504 at once, or no answer at all so that
the client times out) and creates the order N seconds after the request arrived. With N below and above the
client's timeout, the executor looks the order up until the commit deadline has passed and never sends it
again: 0 duplicates. A deadline set below N (here 0, the earlier "settle one second and resend") produces a
duplicate; the run then lists the orders by key, exits non-zero and names both orders in its report, its
results, its journal and `runs show`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from m365move.cli import main
from m365move.commerce.credentials import CommerceCredentials
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.licenses import PlansMapping
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection
from m365move.estate.loader import load_estate
from m365move.execution.executor import ExecutionOptions
from m365move.execution.journal import LEASE_ENV_VAR, Journal
from m365move.execution.migration_run import RunReport, RunRequest, run_migration
from m365move.sandbox.faults import Faults
from m365move.sandbox.server import SandboxServer
from tests.estate_builder import BASE, standard
from tests.execution.sandbox_run import (
    duplicate_keys,
    migrate_args,
    sandbox_on,
    set_faults,
    state,
    use_credentials,
    write_estate,
)

pytestmark = pytest.mark.slow

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
CLIENT_TIMEOUT = 2.0
SOURCES = 2


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    builder = standard()
    for n in range(SOURCES):
        builder.subscription(str(3000001 + n), resources=[(BASE, 3 + n)])
    return write_estate(tmp_path, builder.doc)


@pytest.fixture
def server(estate: Path) -> Iterator[SandboxServer]:
    with sandbox_on(estate) as running:
        yield running


def late(seconds: float, answer: str | int, processing: float = 0.05) -> Faults:
    """The first POST /orders is answered at once (or not at all) and committed ``seconds`` later."""
    return Faults(rate_commit_after_answer=1.0, commit_after_answer_seconds=seconds,
                  commit_after_answer_answers=[answer], max_injected=1, apply_to=["POST /orders"],
                  order_processing_seconds=processing)  # type: ignore[list-item]


def run(estate: Path, server: SandboxServer, workspace: Path, deadline: float) -> RunReport:
    """One executed New Subscription run in this process, its Commerce client timing out after 2 s."""
    request = RunRequest(mode=MigrationMode.NEW_SUBSCRIPTION, estate=load_estate(estate).estate,
                         plans_mapping=PlansMapping(), selection=Selection(), execute=True, parameters={},
                         options=ExecutionOptions(concurrency=2, poll_interval=0.05, uncertain_settle_seconds=0.25,
                                                  commit_deadline_seconds=deadline))
    journal = Journal(workspace / "journal.sqlite")
    try:
        with SimpleApiClient(server.url, CommerceCredentials.sandbox(), rate_limit_per_second=None,
                             timeout=CLIENT_TIMEOUT) as client:
            return run_migration(request, journal, client, workspace)
    finally:
        journal.close()


@pytest.mark.parametrize("answer", [504, "timeout"])
@pytest.mark.parametrize("seconds", [1.0, 4.0], ids=["below-client-timeout", "above-client-timeout"])
def test_an_order_committed_after_its_answer_is_found_not_sent_again(
        estate: Path, server: SandboxServer, tmp_path: Path, seconds: float, answer: str | int) -> None:
    set_faults(server, late(seconds, answer))
    report = run(estate, server, tmp_path / "work", deadline=8.0)
    snapshot = state(server)
    assert duplicate_keys(snapshot) == []
    assert report.duplicates == ()
    assert report.summary == {"migrated": SOURCES}, report.summary
    assert server.context.stats.snapshot()["faults"] == {"commit-after-answer": 1}
    assert server.context.stats.snapshot()["requests"]["POST /orders"] == 2 * SOURCES  # nothing sent twice


def test_a_duplicate_ends_the_run_non_zero_and_names_both_orders(
        estate: Path, server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A commit deadline below the platform's real one (0 s: resent at once) lets the late commit make a second
    order: the run finds it by key and says which order to cancel."""
    use_credentials(monkeypatch)
    # A 2 s lease gives a POST half a second to leave after its fence; the resend goes then. Orders take 6 s, so the
    # run is still polling when the first one is committed, 3 s after its 504.
    monkeypatch.setenv(LEASE_ENV_VAR, "2")
    set_faults(server, late(3.0, 504, processing=6.0))
    workspace = tmp_path / "work"
    status = main(migrate_args("new-subscription", estate, server, workspace, "--execute", "--commit-deadline", "0",
                               "--format", "json"))
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, json.loads((SCHEMAS / "migrate-run.schema.json").read_text()))
    twice = duplicate_keys(state(server))
    assert len(twice) == 1  # forced: the resend went out before the late commit
    duplicate, = report["duplicates"]
    assert status == 6 and report["exit_status"] == 6
    assert duplicate["po_number"] == twice[0] and len(duplicate["orders"]) == 2
    older, younger = (o["id"] for o in duplicate["orders"])
    assert (duplicate["keep"], duplicate["cancel"]) == (older, [younger])
    results = Path(report["results_path"]).read_text()
    assert f"duplicate-target: poNumber {twice[0]} has 2 orders on Commerce: {older}" in results
    assert f"cancel the younger ({younger}) before it completes" in results
    journal = Journal(workspace / "journal.sqlite")
    assert journal.run(report["run_id"])["duplicates"] == [duplicate]
    journal.close()
    assert main(["runs", "--workspace", str(workspace), "show", report["run_id"], "--format", "json"]) == 0
    shown_json = json.loads(capsys.readouterr().out)
    jsonschema.validate(shown_json, json.loads((SCHEMAS / "run-show.schema.json").read_text()))
    assert shown_json["duplicates"] == [duplicate]
    assert main(["runs", "--workspace", str(workspace), "show", report["run_id"]]) == 0
    shown = capsys.readouterr().out
    assert older in shown and younger in shown and "cancel the younger" in shown
    # The table report names them too.
    assert main(migrate_args("new-subscription", estate, server, tmp_path / "other", "--execute")) == 6
    assert "DUPLICATE" in capsys.readouterr().out
