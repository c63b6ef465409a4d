"""`runbook render` of a sealed run folder: the folder still verifies afterwards, any other edit still
fails (render refuses to seal over it), a signed folder stays signed, and the new manifest names the one
it supersedes."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import nbformat
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from m365move.bundle import MANIFEST_NAME, SIGNATURE_NAME, seal_folder, verify_folder
from m365move.bundle.report_field import shown
from m365move.cli import main
from m365move.runbooks.render import render_report
from tests.bundle.test_manifest_and_verify import private_pem


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("M365MOVE_VERIFY_KEY", raising=False)
    monkeypatch.delenv("M365MOVE_SIGNING_KEY", raising=False)


def sealed_run(folder: Path) -> Path:
    """A run folder as `runbook run` leaves it: executed notebook, JSON files, report, then the seal."""
    folder.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Audit"), nbformat.v4.new_code_cell("print('0 anomalies')")]
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="0 anomalies\n")]
    nbformat.write(notebook, folder / "executed.ipynb")
    (folder / "run.json").write_text(json.dumps({"runbook": "audit_report", "status": "ok"}), encoding="utf-8")
    (folder / "parameters.json").write_text(json.dumps({"journal": "j.sqlite"}), encoding="utf-8")
    (folder / "result.json").write_text('{"anomalies": 0}\n', encoding="utf-8")
    render_report(folder)
    seal_folder(folder, kind="runbook audit_report", parameters={"journal": "j.sqlite"})
    return folder


def render(folder: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["runbook", "render", str(folder), *extra])
    return code, out.getvalue(), err.getvalue()


def test_a_rendered_folder_still_verifies_and_names_the_manifest_it_supersedes(tmp_path: Path) -> None:
    folder = sealed_run(tmp_path / "run")
    before = verify_folder(folder)
    code, out, _ = render(folder, "--show-code")
    after = verify_folder(folder)
    assert code == 0 and "re-sealed" in out and before.manifest_hash in out
    assert after.intact, after.problems
    assert after.manifest_hash != before.manifest_hash and after.files == before.files + 1  # report-with-code.html
    manifest = json.loads((folder / MANIFEST_NAME).read_bytes())
    assert manifest["supersedes"]["manifest_sha256"] == before.manifest_hash
    assert manifest["supersedes"]["replaced_because"] == "runbook render"
    assert manifest["kind"] == "runbook audit_report" and manifest["parameters"] == {"journal": "j.sqlite"}
    assert shown((folder / "report.html").read_bytes()) == [after.manifest_hash]
    # The hash quoted before the render no longer verifies, and verify says why.
    stale = verify_folder(folder, expected_hash=before.manifest_hash)
    assert not stale.intact and "supersedes" in stale.problems[0].detail


def test_any_other_edit_still_fails_and_render_refuses_to_seal_over_it(tmp_path: Path) -> None:
    folder = sealed_run(tmp_path / "run")
    (folder / "result.json").write_text('{"anomalies": 1}\n', encoding="utf-8")
    manifest = (folder / MANIFEST_NAME).read_bytes()
    report = (folder / "report.html").read_bytes()
    code, _, err = render(folder)
    assert code == 3 and "changed: result.json" in err and "not rendered" in err
    assert (folder / MANIFEST_NAME).read_bytes() == manifest and (folder / "report.html").read_bytes() == report
    assert [(p.kind, p.path) for p in verify_folder(folder).problems] == [("changed", "result.json")]


def test_an_edit_after_the_render_fails_verify(tmp_path: Path) -> None:
    folder = sealed_run(tmp_path / "run")
    assert render(folder)[0] == 0
    (folder / "executed.ipynb").write_text((folder / "executed.ipynb").read_text() + " ", encoding="utf-8")
    (folder / "extra.txt").write_text("x", encoding="utf-8")
    assert sorted((p.kind, p.path) for p in verify_folder(folder).problems) == [
        ("added", "extra.txt"), ("changed", "executed.ipynb")]


def test_a_signed_folder_is_resealed_signed_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Ed25519PrivateKey.generate()
    monkeypatch.setenv("M365MOVE_SIGNING_KEY", private_pem(key))
    folder = sealed_run(tmp_path / "run")
    monkeypatch.delenv("M365MOVE_SIGNING_KEY")
    manifest = (folder / MANIFEST_NAME).read_bytes()
    code, _, err = render(folder)
    assert code == 2 and "M365MOVE_SIGNING_KEY" in err and (folder / MANIFEST_NAME).read_bytes() == manifest
    monkeypatch.setenv("M365MOVE_SIGNING_KEY", private_pem(key))
    assert render(folder)[0] == 0
    after = verify_folder(folder)
    assert after.intact and after.signed_by and (folder / SIGNATURE_NAME).exists()


def test_an_unsealed_folder_is_rendered_as_before(tmp_path: Path) -> None:
    folder = sealed_run(tmp_path / "run")
    (folder / MANIFEST_NAME).unlink()
    code, out, _ = render(folder)
    assert code == 0 and out.strip().endswith("report.html") and not (folder / MANIFEST_NAME).exists()
