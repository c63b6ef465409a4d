"""The CLI for scripts: JSON outputs valid against their schemas, one exit-code table, help on every option,
no traceback into a closed pipe, --version, read-only commands that create nothing."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from m365move.cli import build_parser, main
from m365move.demo.estate_generator import EstateSize, generate_estate
from m365move.sandbox.faults import Faults
from tests.call2teams.helpers import CONTOSO_ACCOUNT_DOMAINS
from tests.contract_schemas import validate as validate_contract
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import migrate_args, sandbox_on, use_credentials, write_estate

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
C2T = ROOT / "tests" / "call2teams" / "fixtures"
RUNBOOK_FIXTURES = ROOT / "tests" / "runbooks" / "fixtures"


def schema_validate(document: Any, name: str) -> None:
    jsonschema.validate(document, json.loads((SCHEMAS / name).read_text()))


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)


def _estate(tmp_path: Path) -> Path:
    builder = standard()
    builder.subscription("3000001", resources=[(BASE, 12), (ADDON, 3)])
    builder.subscription("3000002", resources=[(BASE, 5)])
    builder.subscription("3000004", billing="1 year")
    return write_estate(tmp_path, builder.doc)


def _json_out(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, Any]:
    capsys.readouterr()
    status = main(argv)
    return status, json.loads(capsys.readouterr().out)


class TestJsonOutputs:
    def test_migrate_resume_and_runs(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path, workspace = _estate(tmp_path), tmp_path / "work"
        with sandbox_on(path, Faults(order_processing_seconds=0.05, error_subscriptions=["3000001"])) as server:
            status, dry = _json_out(capsys, migrate_args("switch-plan", path, server, workspace, "--format", "json"))
            schema_validate(dry, "migrate-run.schema.json")
            assert (status, dry["dry_run"], dry["exit_status"]) == (0, True, 0)
            assert dry["summary"] == {"blocked": 1, "pending": 2}

            status, done = _json_out(capsys, migrate_args("switch-plan", path, server, workspace, "--execute",
                                                          "--format", "json"))
            schema_validate(done, "migrate-run.schema.json")
            assert status == done["exit_status"] == 6  # one subscription's order failed
            assert done["summary"]["migrated"] == 1 and done["resume_command"].startswith("m365move resume ")

            status, resumed = _json_out(capsys, ["resume", done["results_path"], "--workspace", str(workspace),
                                                 "--poll-interval", "0.02", "--rate-limit", "0", "--format", "json"])
            schema_validate(resumed, "migrate-run.schema.json")

        status, listing = _json_out(capsys, ["runs", "--workspace", str(workspace), "list", "--format", "json"])
        schema_validate(listing, "runs-list.schema.json")
        assert [r["run_id"] for r in listing["runs"]] == [dry["run_id"], done["run_id"], resumed["run_id"]]
        status, shown = _json_out(capsys, ["runs", "--workspace", str(workspace), "show", done["run_id"],
                                           "--format", "json"])
        schema_validate(shown, "run-show.schema.json")
        assert shown["summary"] == done["summary"] and shown["parameters"]["mode"] == "switch-plan"

    def test_catalog_check(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, report = _json_out(capsys, ["catalog", "check", str(ROOT / "docs/samples/catalog.yaml"),
                                            "--format", "json"])
        schema_validate(report, "catalog-check.schema.json")
        assert status == 0

    def test_call2teams_check_and_move_readiness(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, report = _json_out(capsys, ["call2teams", "check", "--exports", str(C2T / "contoso"),
                                            "--expected-domain", CONTOSO_ACCOUNT_DOMAINS[0],
                                            "--expected-domain", CONTOSO_ACCOUNT_DOMAINS[1], "--format", "json"])
        validate_contract(report, "call2teams.schema.json")
        assert status == 7 and report["verdict"] == "not-ready"
        status, report = _json_out(capsys, ["call2teams", "move-readiness", "--accounts", str(C2T / "accounts.yaml"),
                                            "--source", "SA-101", "--target", "SA-201", "--format", "json"])
        validate_contract(report, "call2teams.schema.json")
        assert status == 7


def test_other_tenant_exports_only_claim_domains(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["call2teams", "check", "--exports", str(C2T / "contoso"), "--format", "json"]
    _, alone = _json_out(capsys, base)
    _, both = _json_out(capsys, [*base, "--other-tenant-exports", str(C2T / "fabrikam")])
    alone_codes = {f["code"] for f in alone["findings"]}
    both_codes = {f["code"] for f in both["findings"]}
    assert "domain-claimed-twice" not in alone_codes and both_codes == alone_codes | {"domain-claimed-twice"}
    assert [t["tenant"] for t in both["tenants"]] == [t["tenant"] for t in alone["tenants"]]


# ---- one exit-code table ----------------------------------------------------------------------------------------

def _bad_estate(tmp_path: Path) -> list[str]:
    return ["estate", "validate", str(tmp_path / "missing.yaml")]


def _interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("m365move.cli.estate_command.load_estate", stop)
    return ["estate", "validate", str(tmp_path / "any.yaml")]


def _refused_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("M365MOVE_COMMERCE_PASSWORD", "wrong")
    return ["catalog", "export", "--commerce-url", "SANDBOX", "--output", str(tmp_path / "c.yaml")]


def _runbook(name: str, *extra: str) -> Callable[[Path, pytest.MonkeyPatch], list[str]]:
    return lambda tmp_path, _: ["runbook", "--notebooks-dir", str(RUNBOOK_FIXTURES), "run", name, "-q",
                                "--output-dir", str(tmp_path / "run"), *extra]


EXIT_TABLE: list[tuple[str, int, Callable[[Path, pytest.MonkeyPatch], list[str]]]] = [
    ("done", 0, lambda tmp_path, _: ["catalog", "check", str(ROOT / "docs/samples/catalog.yaml")]),
    ("platform failure", 1, _refused_credentials),
    ("bad input", 2, lambda tmp_path, _: _bad_estate(tmp_path)),
    ("runbook cell error", 3, _runbook("demo_fail")),
    ("runbook timeout", 4, _runbook("demo_sleep", "--cell-timeout", "1")),
    ("run with failed subscriptions", 6, lambda tmp_path, _: ["MIGRATE-WITH-ERRORS"]),
    ("Call2Teams NOT-READY", 7, lambda tmp_path, _: ["call2teams", "move-readiness", "--accounts",
                                                     str(C2T / "accounts.yaml"), "--source", "SA-101",
                                                     "--target", "SA-201"]),
    ("interrupted", 130, _interrupted),
]


@pytest.mark.parametrize(("case", "expected", "argv"), EXIT_TABLE, ids=[c for c, _, _ in EXIT_TABLE])
def test_exit_codes(case: str, expected: int, argv: Callable[[Path, pytest.MonkeyPatch], list[str]],
                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = argv(tmp_path, monkeypatch)
    path = _estate(tmp_path)
    with sandbox_on(path, Faults(order_processing_seconds=0.05, error_subscriptions=["3000001"])) as server:
        if arguments == ["MIGRATE-WITH-ERRORS"]:
            arguments = migrate_args("switch-plan", path, server, tmp_path / "work", "--execute")
        arguments = [server.url if a == "SANDBOX" else a for a in arguments]
        assert main(arguments) == expected
    err = capsys.readouterr().err
    if expected in (1, 2):
        assert err.count("\n") == 1 and err.startswith("m365move: error: ") and "Traceback" not in err
    documented = (ROOT / "docs" / "exit-codes.md").read_text()
    assert f"| {expected} |" in documented


# ---- the rest of the automation-friendly surface ----------------------------------------------------------------

def _options(parser: argparse.ArgumentParser, path: str = "m365move") -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _options(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            found.append((path, action))
    return found


def test_every_option_has_help_and_says_its_default() -> None:
    missing, silent_defaults = [], []
    for path, action in _options(build_parser()):
        label = f"{path} {'/'.join(action.option_strings) or action.dest}"
        if action.help == argparse.SUPPRESS:
            continue  # hidden on purpose (e.g. sandbox serve --host, for tests)
        if not action.help:
            missing.append(label)
        takes_value = action.option_strings and action.nargs != 0
        if takes_value and action.default not in (None, [], argparse.SUPPRESS) and "default" not in (action.help or ""):
            silent_defaults.append(label)
    assert not missing, f"options without help: {missing}"
    assert not silent_defaults, f"options whose help hides the default: {silent_defaults}"


def test_version() -> None:
    done = subprocess.run([sys.executable, "-m", "m365move", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("m365move 0.") and "commit" in done.stdout


def test_no_traceback_when_the_reader_goes_away(tmp_path: Path) -> None:
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(generate_estate(EstateSize.for_subscriptions(3000), seed=2)))
    done = subprocess.run(f"'{sys.executable}' -m m365move plan --mode switch-plan --estate '{estate}' "
                          "--format csv | head -n 1", shell=True, capture_output=True, text=True, timeout=300,
                          env=os.environ | {"PYTHONWARNINGS": "ignore::ResourceWarning"})
    assert done.stdout.startswith("subscription_id") or done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_reading_commands_create_no_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = tmp_path / "nothing-here"
    assert main(["runs", "--workspace", str(workspace), "list"]) == 0
    assert "no journal" in capsys.readouterr().out
    assert main(["runs", "--workspace", str(workspace), "show", "20260101T000000Z-abcdef"]) == 2
    assert not workspace.exists()


def test_runs_list_has_a_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, workspace = _estate(tmp_path), tmp_path / "work"
    with sandbox_on(path) as server:
        assert main(migrate_args("switch-plan", path, server, workspace)) == 0
    capsys.readouterr()
    assert main(["runs", "--workspace", str(workspace), "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:4] == ["RUN", "MODE", "KIND", "STATUS"] and "switch-plan" in row and "dry-run" in row


def test_plan_reads_a_live_commerce(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _estate(tmp_path)
    catalog = tmp_path / "catalog.yaml"
    document = yaml.safe_load(path.read_text())
    catalog.write_text(yaml.safe_dump({"version": 1, "commerce": {
        k: document["commerce"][k] for k in ("resellers", "plans", "license_mappings")}}))
    _, from_file = _json_out(capsys, ["plan", "--mode", "switch-plan", "--estate", str(path), "--format", "json"])
    with sandbox_on(path) as server:
        _, live = _json_out(capsys, ["plan", "--mode", "switch-plan", "--catalog", str(catalog), "--commerce-url",
                                     server.url, "--format", "json"])
    validate_contract(live, "plan.schema.json")
    assert live["summary"] == from_file["summary"]
    assert main(["plan", "--mode", "switch-plan", "--catalog", str(catalog)]) == 2  # no --commerce-url
