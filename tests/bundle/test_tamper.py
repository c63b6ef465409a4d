"""Forgeries of a sealed folder that once passed ``audit verify``: each is NOT INTACT (exit 3), never a traceback.

Symbolic links (to files or folders, inside or outside the folder, dangling, looping), FIFOs, names that are
not UTF-8, and manifests mangled every way a parser can be hurt: nested deep, not UTF-8, wrong types, paths
out of the folder. Then the forgeries that stay consistent (a fresh manifest, a signature by another key):
refused unless ``--allow-unsigned``, and their verdict says what they prove.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from m365move.bundle import MANIFEST_NAME, SIGNATURE_NAME, report_field, seal_folder
from m365move.bundle.verify import UNSIGNED_VERDICT
from m365move.cli import main
from tests.bundle.test_manifest_and_verify import make_folder, private_pem, public_raw

Forgery = Callable[[Path, Path], None]  # (sealed folder, a scratch folder outside it)


def _link_to_outside_copy(name: str) -> Forgery:
    def forge(folder: Path, outside: Path) -> None:
        copy = outside / name.replace("/", "_")
        shutil.copyfile(folder / name, copy)  # the same bytes: only the link betrays it
        (folder / name).unlink()
        (folder / name).symlink_to(copy)
    return forge


def _folder_to_outside_copy(folder: Path, outside: Path) -> None:
    shutil.copytree(folder / "charts", outside / "charts")
    shutil.rmtree(folder / "charts")
    (folder / "charts").symlink_to(outside / "charts", target_is_directory=True)


def _link_inside(folder: Path, _: Path) -> None:
    shutil.copyfile(folder / "findings.csv", folder / "charts" / "findings-copy.csv")
    (folder / "findings.csv").unlink()
    (folder / "findings.csv").symlink_to("charts/findings-copy.csv")


def _add(make: Callable[[Path, Path], None]) -> Forgery:
    return make


SYMLINKS: dict[str, Forgery] = {
    "report-to-outside": _link_to_outside_copy("report.html"),
    "manifest-to-outside": _link_to_outside_copy(MANIFEST_NAME),
    "file-in-subfolder-to-outside": _link_to_outside_copy("charts/progress.png"),
    "listed-folder-to-outside": _folder_to_outside_copy,
    "listed-file-to-inside": _link_inside,
    "added-link-to-outside-folder": _add(lambda f, o: (f / "more").symlink_to(o, target_is_directory=True)),
    "added-link-to-outside-file": _add(lambda f, o: (f / "notes.txt").symlink_to("/etc/hostname")),
    "loop-self": _add(lambda f, o: (f / "loop").symlink_to("loop")),
    "loop-folder": _add(lambda f, o: (f / "charts" / "up").symlink_to("..", target_is_directory=True)),
    "dangling": _add(lambda f, o: (f / "gone.csv").symlink_to(o / "nothing-here")),
    "fifo": _add(lambda f, o: os.mkfifo(f / "pipe")),
    "name-not-utf8": _add(lambda f, o: (f / os.fsdecode(b"caf\xe9.csv")).write_text("x\n")),
}


def _manifest(change: Callable[[dict[str, object]], object]) -> Forgery:
    def forge(folder: Path, _: Path) -> None:
        document = json.loads((folder / MANIFEST_NAME).read_text())
        changed = change(document)
        (folder / MANIFEST_NAME).write_text(json.dumps(document if changed is None else changed))
    return forge


def _manifest_bytes(data: bytes) -> Forgery:
    def forge(folder: Path, _: Path) -> None:
        (folder / MANIFEST_NAME).write_bytes(data)
    return forge


def _manifest_text(old: str, new: str) -> Forgery:
    def forge(folder: Path, _: Path) -> None:
        text = (folder / MANIFEST_NAME).read_text()
        assert old in text
        (folder / MANIFEST_NAME).write_text(text.replace(old, new))
    return forge


def _key_twice(old: str, new: str) -> Forgery:
    """The manifest's text with a key written twice, the report's manifest hash made to match: a forger's edit
    that only a reader of repeated keys sees (the readers keep the last value, which is the sealed one)."""
    def forge(folder: Path, outside: Path) -> None:
        _manifest_text(old, new)(folder, outside)
        report = folder / "report.html"
        digest = hashlib.sha256((folder / MANIFEST_NAME).read_bytes()).hexdigest()
        report.write_bytes(report_field.fill(report.read_bytes(), digest))
    return forge


def _first_file(key: str, value: object) -> Callable[[dict[str, object]], None]:
    def change(document: dict[str, object]) -> None:
        files = document["files"]
        assert isinstance(files, list)
        files[0][key] = value
    return change


def _manifest_directory(folder: Path, _: Path) -> None:
    (folder / MANIFEST_NAME).unlink()
    (folder / MANIFEST_NAME).mkdir()


MALFORMED: dict[str, Forgery] = {
    "deep-json": _manifest_bytes(b"[" * 100_000 + b"]" * 100_000),
    "deep-json-in-a-field": _manifest_text('"parameters": {}', '"parameters": ' + "[" * 5000 + "]" * 5000),
    "not-utf8": _manifest_bytes(b'{"files": [{"path": "caf\xe9.csv"}]}'),
    "lone-surrogate-path": _manifest(_first_file("path", "caf\udce9.csv")),
    "not-json": _manifest_bytes(b"{\"files\": [,]}"),
    "empty": _manifest_bytes(b""),
    "a-list": _manifest(lambda d: [d]),
    "no-version": _manifest(lambda d: d.pop("manifest_version")),
    "files-an-object": _manifest(lambda d: d.update(files={"a": 1})),
    "files-missing": _manifest(lambda d: d.pop("files")),
    "entry-a-string": _manifest(lambda d: d.update(files=["report.html"])),
    "path-a-number": _manifest(_first_file("path", 7)),
    "path-climbs-out": _manifest(_first_file("path", "../outside.csv")),
    "path-absolute": _manifest(_first_file("path", "/etc/passwd")),
    "path-with-nul": _manifest(_first_file("path", "a\x00b")),
    "sha256-a-list": _manifest(_first_file("sha256", ["0" * 64])),
    "bytes-a-string": _manifest(_first_file("bytes", "12")),
    "hash-field-a-string": _manifest(_first_file("hash_field", "yes")),
    "listed-twice": _manifest(lambda d: d.update(files=[*d["files"], d["files"][0]])),  # type: ignore[misc]
    "signing-key-a-string": _manifest(lambda d: d.update(signing_key="AAAA")),
    "supersedes-a-list": _manifest(lambda d: d.update(supersedes=[1])),
    "huge-integer": _manifest_bytes(b'{"manifest_version": ' + b"9" * 5000 + b"}"),
    "a-directory": _manifest_directory,
    # A key written twice: JSON readers keep the last value silently, another reader may keep the first.
    "key-twice-at-the-top": _key_twice('"manifest_version": 1', '"manifest_version": 1,\n  "manifest_version": 1'),
    "key-twice-in-an-entry": _key_twice('"path": "', '"path": "elsewhere.csv",\n      "path": "'),
}


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("M365MOVE_VERIFY_KEY", raising=False)
    monkeypatch.delenv("M365MOVE_SIGNING_KEY", raising=False)


def verify(folder: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["audit", "verify", str(folder), *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out


@pytest.mark.usefixtures("no_keys")
@pytest.mark.parametrize("forge", [*SYMLINKS.values(), *MALFORMED.values()], ids=[*SYMLINKS, *MALFORMED])
@pytest.mark.parametrize("output", ["text", "json"])
def test_each_forgery_is_not_intact(tmp_path: Path, capsys: pytest.CaptureFixture[str], forge: Forgery,
                                    output: str) -> None:
    folder = make_folder(tmp_path / "sealed")
    seal_folder(folder, kind="audit", parameters={}, environ={})
    outside = tmp_path / "outside"
    outside.mkdir()
    forge(folder, outside)
    code, out = verify(folder, capsys, "--format", output, "--allow-unsigned")
    assert code == 3, out
    if output == "json":
        document = json.loads(out)
        assert document["intact"] is False and document["problems"] and document["verdict"].startswith("NOT INTACT")
    else:
        assert out.splitlines()[-1].startswith("NOT INTACT")


def _signed_and_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sealed folder signed with a new key, that key configured as the verify key."""
    key = Ed25519PrivateKey.generate()
    folder = make_folder(tmp_path / "signed")
    seal_folder(folder, kind="audit", parameters={}, environ={"M365MOVE_SIGNING_KEY": private_pem(key)})
    monkeypatch.setenv("M365MOVE_VERIFY_KEY", public_raw(key))
    return folder


@pytest.mark.usefixtures("no_keys")
def test_a_signature_file_with_its_key_twice_is_not_intact(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """``{"signature": forged, "signature": good}``: the good one last, as a reader that keeps the last sees it."""
    folder = _signed_and_trusted(tmp_path, monkeypatch)
    assert verify(folder, capsys)[0] == 0
    good = json.loads((folder / SIGNATURE_NAME).read_text())["signature"]
    (folder / SIGNATURE_NAME).write_text(json.dumps({"signature": "AAAA"})[:-1] + f', "signature": "{good}"}}')
    code, out = verify(folder, capsys)
    assert code == 3 and "NOT INTACT" in out


@pytest.mark.usefixtures("no_keys")
def test_a_signature_replaced_by_a_link_is_not_intact(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _signed_and_trusted(tmp_path, monkeypatch)
    (tmp_path / "outside").mkdir()
    _link_to_outside_copy(SIGNATURE_NAME)(folder, tmp_path / "outside")
    code, out = verify(folder, capsys)
    assert code == 3 and f"changed: {SIGNATURE_NAME}" in out


@pytest.mark.usefixtures("no_keys")
def test_a_rewritten_unsigned_folder_is_refused_by_default_and_says_what_it_proves(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_folder(tmp_path / "sealed")
    seal_folder(folder, kind="audit", parameters={}, environ={})
    (folder / "findings.csv").write_text("severity,code\ncritical,forged\n")
    seal_folder(folder, kind="audit", parameters={}, environ={})  # the forger seals it again
    code, out = verify(folder, capsys)
    assert code == 2 and out.splitlines()[-1] == UNSIGNED_VERDICT
    code, out = verify(folder, capsys, "--allow-unsigned")
    assert code == 0 and out.splitlines()[-1] == UNSIGNED_VERDICT


@pytest.mark.usefixtures("no_keys")
def test_a_folder_resigned_with_any_key_is_refused_without_a_verify_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_folder(tmp_path / "sealed")
    forger = Ed25519PrivateKey.generate()
    seal_folder(folder, kind="audit", parameters={}, environ={"M365MOVE_SIGNING_KEY": private_pem(forger)})
    code, out = verify(folder, capsys)
    assert code == 2 and out.splitlines()[-1].startswith("unverified:") and "intact" not in out
    monkeypatch.setenv("M365MOVE_VERIFY_KEY", public_raw(Ed25519PrivateKey.generate()))
    code, out = verify(folder, capsys)
    assert code == 3 and "not the trusted key" in out


def test_the_table_covers_the_issue() -> None:
    assert len(SYMLINKS) >= 10 and len(MALFORMED) >= 20
