"""``m365move call2teams …`` end to end through ``m365move.cli.main``: exit codes, outputs, contract."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from m365move.cli import main
from tests.call2teams.helpers import CONTOSO, CONTOSO_ACCOUNT_DOMAINS, FABRIKAM, FIXTURES, PARTIAL, QUIRKS
from tests.contract_schemas import validate


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["call2teams", *argv])
    out, err = capsys.readouterr()
    return code, out, err


class TestCheck:
    def test_json_report_validates_and_names_findings(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = _run(capsys, "check", "--tenant-dir", str(CONTOSO), "--tenant-dir", str(FABRIKAM),
                            "--account-domains", *CONTOSO_ACCOUNT_DOMAINS, "fabrikam-x9y8.call2teams.com",
                            "--format", "json")
        assert code == 7  # not-ready
        report = json.loads(out)
        validate(report, "call2teams.schema.json")
        assert report["verdict"] == "not-ready"
        codes = {f["code"] for f in report["findings"]}
        assert {"residual-voice-routing-policy", "residual-voice-route", "residual-pstn-usage",
                "residual-pstn-gateway", "residual-dial-plan", "user-assigned-residual-policy",
                "extra-call2teams-domains", "unverified-call2teams-domain", "foreign-call2teams-domain",
                "domain-claimed-twice", "domain-has-users"} == codes
        assert [t["tenant"] for t in report["tenants"]] == ["6f1c2a9e-4b3d-4c8e-9a51-2d7b0e3f8c14", "fabrikam"]

    def test_clean_tenant_is_ready(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        folder = tmp_path / "fabrikam"
        shutil.copytree(FABRIKAM, folder)
        (folder / "domains.json").write_text(json.dumps([{"id": "fabrikam-x9y8.call2teams.com", "isVerified": True}]))
        code, out, _ = _run(capsys, "check", "--tenant-dir", str(folder), "--format", "json")
        report = json.loads(out)
        assert code == 0 and report["verdict"] == "ready" and report["findings"] == []

    def test_table_to_file_and_custom_marker(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        target = tmp_path / "report.txt"
        code, out, _ = _run(capsys, "check", "--tenant-dir", str(CONTOSO), "--marker", "UK-", "--output", str(target))
        text = target.read_text()
        assert code == 7 and out == ""
        assert "NOT-READY" in text and "markers: uk-" in text and "Tag:UK-Local" in text
        assert "Tag:Call2Teams-Policy" not in text  # the default markers are replaced

    def test_not_exported_files_are_reported(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = _run(capsys, "check", "--tenant-dir", str(PARTIAL), "--format", "json")
        report = json.loads(out)
        assert code == 7 and report["verdict"] == "not-ready"
        assert report["tenants"][0]["not_exported"] == ["voice_routes.json", "group_policy_assignments.json",
                                                         "tenant_defaults.json", "domains.json"]
        code, out, _ = _run(capsys, "check", "--tenant-dir", str(PARTIAL))
        assert ("NOT EXPORTED (not checked): voice_routes.json, group_policy_assignments.json, "
                "tenant_defaults.json, domains.json") in out

    @pytest.mark.parametrize(("quirk", "expected"), [
        ("not_json.json", "is not JSON"),
        ("empty.json", "is empty"),
        ("routes_not_policies.json", "is not Get-CsOnlineVoiceRoutingPolicy"),
    ])
    def test_bad_input_exits_2_with_one_line(self, capsys: pytest.CaptureFixture[str], tmp_path: Path, quirk: str,
                                             expected: str) -> None:
        folder = tmp_path / "t"
        shutil.copytree(CONTOSO, folder)
        shutil.copyfile(QUIRKS / quirk, folder / "voice_routing_policies.json")
        code, out, err = _run(capsys, "check", "--tenant-dir", str(folder))
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("m365move: error: ")
        assert str(folder / "voice_routing_policies.json") in err and expected in err

    def test_graph_url_needs_one_tenant(self, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("M365MOVE_GRAPH_TOKEN", "t")
        code, _, err = _run(capsys, "check", "--tenant-dir", str(CONTOSO), "--tenant-dir", str(FABRIKAM),
                            "--graph-url", "http://127.0.0.1:9")
        assert code == 2 and "--graph-url" in err


class TestCleanupScript:
    def test_writes_a_dry_run_script(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        target = tmp_path / "cleanup.ps1"
        code, out, _ = _run(capsys, "cleanup-script", "--tenant-dir", str(CONTOSO), "--account-domains",
                            ",".join(CONTOSO_ACCOUNT_DOMAINS), "--output", str(target))
        script = target.read_text()
        assert code == 0 and "dry run" in out
        removals = [line for line in script.splitlines() if line.startswith("Invoke-Change") and "{ Remove-" in line]
        assert len(removals) == 6 and "$DryRun = $true" in script and "-WhatIf" not in script.split("#>")[1]
        assert removals[-1].endswith("{ Remove-MgDomain -DomainId 'contoso-new7.call2teams.com' }")

    def test_execute_removals(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        target = tmp_path / "cleanup.ps1"
        code, _, _ = _run(capsys, "cleanup-script", "--tenant-dir", str(CONTOSO), "--execute-removals",
                          "--output", str(target))
        script = target.read_text()
        assert code == 0 and "{ Remove-CsOnlineVoiceRoute -Identity 'Call2Teams-Route' }\n" in script
        assert "$DryRun = $false" in script
        assert "-WhatIf" not in script.split("#>")[1]

    def test_unwritable_output_is_bad_input(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        code, _, err = _run(capsys, "cleanup-script", "--tenant-dir", str(CONTOSO), "--output",
                            str(tmp_path / "missing" / "x.ps1"))
        assert code == 2 and "x.ps1: cannot be written" in err


class TestMoveReadiness:
    def test_migrate_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = _run(capsys, "move-readiness", "--accounts", str(FIXTURES / "accounts.yaml"),
                            "--source", "SA-101", "--target", "SA-201", "--move-date", "2026-06-01",
                            "--format", "json")
        report = json.loads(out)
        validate(report, "call2teams.schema.json")
        assert code == 7 and report["verdict"] == "not-ready" and report["cooling_off_ends"] == "2026-06-15"
        assert {f["code"] for f in report["findings"]} == {
            "insufficient-licences", "permission-required", "service-desk-case-required", "cooling-off"}

    def test_target_not_empty_table(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = _run(capsys, "move-readiness", "--accounts", str(FIXTURES / "accounts.yaml"),
                            "--source", "SA-101", "--target", "SA-202")
        assert code == 7 and "target-not-empty" in out and "user:ops@litware.com" in out
        assert "Checklist:" in out

    def test_diy_json_has_checklist(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = _run(capsys, "move-readiness", "--accounts", str(FIXTURES / "accounts.yaml"),
                            "--source", "SA-101", "--target", "SA-102", "--method", "diy", "--format", "json")
        report = json.loads(out)
        validate(report, "call2teams.schema.json")
        assert code == 0 and report["method"] == "diy" and len(report["checklist"]) == 9
        assert "cooling_off_ends" not in report

    @pytest.mark.parametrize(("source", "expected"), [("SA-999", "source 'SA-999' is not in the file"),
                                                      ("NP-100", "source 'NP-100' is a base account")])
    def test_unknown_source_is_bad_input(self, capsys: pytest.CaptureFixture[str], source: str,
                                         expected: str) -> None:
        accounts = str(FIXTURES / "accounts.yaml")
        code, _, err = _run(capsys, "move-readiness", "--accounts", accounts, "--source", source, "--target", "SA-1")
        assert code == 2 and f"{accounts}: {expected}" in err

    def test_bad_accounts_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        bad = tmp_path / "accounts.json"
        bad.write_text('{"sub_accounts": [{"id": "S", "parent": "B", "licences": {"pbx": "many"}}]}')
        code, _, err = _run(capsys, "move-readiness", "--accounts", str(bad), "--source", "S", "--target", "T")
        assert code == 2 and f"{bad}: sub_accounts.0.licences.pbx" in err


class TestBulkImport:
    def _users(self, tmp_path: Path, count: int, bad_rows: tuple[int, ...] = ()) -> Path:
        path = tmp_path / "users.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["SIPUsername", "Name", "Email", "PhoneNumber", "Password"])
            for i in range(count):
                number = "07700 900123" if i + 2 in bad_rows else f"+4477009{i:05d}"
                writer.writerow([f"{1000 + i}", f"User {i}", f"u{i}@contoso.com", number, "hunter2"])
        return path

    def test_writes_three_files_for_2500(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        code, out, _ = _run(capsys, "bulk-import", "--users", str(self._users(tmp_path, 2500)), "--template", "pbx",
                            "--output-dir", str(tmp_path / "out"))
        files = sorted((tmp_path / "out").glob("*.csv"))
        assert code == 0 and len(files) == 3 and "wrote 2500 pbx row(s) in 3 file(s)" in out
        assert all("hunter2" not in f.read_text() for f in files)

    def test_invalid_numbers_refused_with_rows(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        users = self._users(tmp_path, 10, bad_rows=(4, 9))
        code, _, err = _run(capsys, "bulk-import", "--users", str(users), "--template", "pbx",
                            "--output-dir", str(tmp_path / "out"))
        assert code == 2 and err.count("\n") == 1
        assert f"{users}: 2 number(s) are not E.164: row 4 (u2@contoso.com) PhoneNumber '07700 900123'" in err
        assert "row 9 (u7@contoso.com)" in err and not (tmp_path / "out").exists()

    def test_skip_invalid_writes_the_rest(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        code, out, err = _run(capsys, "bulk-import", "--users", str(self._users(tmp_path, 10, bad_rows=(4,))),
                              "--template", "pbx", "--output-dir", str(tmp_path / "out"), "--skip-invalid")
        assert code == 0 and "wrote 9 pbx row(s)" in out and "row 4" in err

    def test_empty_users_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        empty = tmp_path / "users.csv"
        empty.write_text("")
        code, _, err = _run(capsys, "bulk-import", "--users", str(empty), "--template", "trunk",
                            "--output-dir", str(tmp_path / "out"))
        assert code == 2 and f"{empty}: is empty" in err


def test_export_script_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "Export-Call2TeamsTenant.ps1"
    code, _, _ = _run(capsys, "export-script", "--output", str(target))
    assert code == 0 and "Get-CsOnlineVoiceRoutingPolicy" in target.read_text()
