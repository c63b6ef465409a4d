"""Sealing a folder and verifying it: a fresh bundle passes; an edited, added or deleted file, a
tampered report, a removed or bad signature, a foreign key each fail, naming the file."""

from __future__ import annotations

import base64
import contextlib
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from m365move.bundle import MANIFEST_NAME, SIGNATURE_NAME, seal_folder, verify_folder
from m365move.bundle.report_field import shown
from m365move.bundle.verify import UNSIGNED_VERDICT
from m365move.cli import main

REPORT = "<html><head><title>r</title></head><body><h1>Audit</h1><p>0 anomalies</p></body></html>"


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_raw(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def make_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / "findings.csv").write_text("severity,code\n", encoding="utf-8")
    (folder / "result.json").write_text('{"anomalies": 0}\n', encoding="utf-8")
    (folder / "report.html").write_text(REPORT, encoding="utf-8")
    (folder / "charts").mkdir()
    (folder / "charts" / "progress.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    return folder


def problems(folder: Path, **environ: str) -> list[tuple[str, str]]:
    return [(p.kind, p.path) for p in verify_folder(folder, environ=environ).problems]


@pytest.fixture
def sealed(tmp_path: Path) -> Path:
    folder = make_folder(tmp_path / "bundle")
    seal_folder(folder, kind="audit", parameters={"journal": "j.sqlite"}, environ={})
    return folder


class TestManifest:
    def test_lists_every_file_in_canonical_order_with_provenance(self, sealed: Path) -> None:
        manifest = json.loads((sealed / MANIFEST_NAME).read_text())
        assert [f["path"] for f in manifest["files"]] == ["charts/progress.png", "findings.csv", "report.html",
                                                          "result.json"]
        assert manifest["tool"]["name"] == "m365move" and manifest["tool"]["version"]
        assert "commit" in manifest["tool"]
        assert manifest["parameters"] == {"journal": "j.sqlite"}
        assert manifest["created_by"]["user"] and manifest["created_by"]["host"] and manifest["created_at"]
        assert manifest["signing_key"] is None and not (sealed / SIGNATURE_NAME).exists()

    def test_the_report_shows_the_manifest_hash(self, sealed: Path) -> None:
        verification = verify_folder(sealed, environ={})
        assert shown((sealed / "report.html").read_bytes()) == [verification.manifest_hash]
        assert "<h1>Audit</h1>" in (sealed / "report.html").read_text()

    def test_a_fresh_bundle_passes(self, sealed: Path) -> None:
        verification = verify_folder(sealed, environ={})
        assert verification.intact and verification.files == 4

    def test_sealing_twice_gives_the_same_file_digests(self, sealed: Path) -> None:
        first = json.loads((sealed / MANIFEST_NAME).read_text())["files"]
        seal_folder(sealed, kind="audit", parameters={}, environ={})
        assert json.loads((sealed / MANIFEST_NAME).read_text())["files"] == first


class TestTampering:
    def test_an_edited_file_is_named(self, sealed: Path) -> None:
        (sealed / "findings.csv").write_text("severity,code\ncritical,seat-mismatch\n")
        assert problems(sealed) == [("changed", "findings.csv")]

    def test_an_edited_report_is_named(self, sealed: Path) -> None:
        html = (sealed / "report.html").read_text()
        (sealed / "report.html").write_text(html.replace("0 anomalies", "no anomalies"))
        assert problems(sealed) == [("changed", "report.html")]

    def test_a_report_showing_another_hash_is_named(self, sealed: Path) -> None:
        html = (sealed / "report.html").read_text()
        (sealed / "report.html").write_text(html.replace(shown(html.encode())[0], "a" * 64))
        assert problems(sealed) == [("changed", "report.html")]

    def test_an_added_file_is_named(self, sealed: Path) -> None:
        (sealed / "charts" / "extra.csv").write_text("x\n")
        assert problems(sealed) == [("added", "charts/extra.csv")]

    def test_a_deleted_file_is_named(self, sealed: Path) -> None:
        (sealed / "result.json").unlink()
        assert problems(sealed) == [("removed", "result.json")]

    def test_an_edited_manifest_changes_the_quoted_hash(self, sealed: Path) -> None:
        quoted = verify_folder(sealed, environ={}).manifest_hash
        manifest = json.loads((sealed / MANIFEST_NAME).read_text())
        (sealed / "findings.csv").write_text("edited\n")
        manifest["files"][1]["sha256"] = __import__("hashlib").sha256(b"edited\n").hexdigest()
        (sealed / MANIFEST_NAME).write_text(json.dumps(manifest))
        verification = verify_folder(sealed, expected_hash=quoted, environ={})
        assert ("changed", MANIFEST_NAME) in [(p.kind, p.path) for p in verification.problems]

    def test_no_manifest_is_bad_input(self, tmp_path: Path) -> None:
        folder = make_folder(tmp_path / "never-sealed")
        assert main(["audit", "verify", str(folder)]) == 2


class TestSignature:
    @pytest.fixture
    def key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.generate()

    @pytest.fixture
    def signed(self, tmp_path: Path, key: Ed25519PrivateKey) -> Path:
        folder = make_folder(tmp_path / "signed")
        seal = seal_folder(folder, kind="audit", parameters={}, environ={"M365MOVE_SIGNING_KEY": private_pem(key)})
        assert seal.signed_by and (folder / SIGNATURE_NAME).is_file()
        return folder

    def test_a_good_signature_passes_against_the_trusted_key(self, signed: Path, key: Ed25519PrivateKey) -> None:
        assert problems(signed, M365MOVE_VERIFY_KEY=public_raw(key)) == []

    def test_a_raw_base64_signing_key_works_too(self, tmp_path: Path, key: Ed25519PrivateKey) -> None:
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        folder = make_folder(tmp_path / "raw")
        seal_folder(folder, kind="audit", parameters={}, environ={"M365MOVE_SIGNING_KEY": base64.b64encode(raw).decode()})
        assert problems(folder, M365MOVE_VERIFY_KEY=public_raw(key)) == []

    def test_a_bad_signature_is_named(self, signed: Path) -> None:
        signature = json.loads((signed / SIGNATURE_NAME).read_text())
        raw = bytearray(base64.b64decode(signature["signature"]))
        raw[0] ^= 1
        signature["signature"] = base64.b64encode(bytes(raw)).decode()
        (signed / SIGNATURE_NAME).write_text(json.dumps(signature))
        assert problems(signed) == [("signature", SIGNATURE_NAME)]

    def test_a_removed_signature_is_named(self, signed: Path) -> None:
        (signed / SIGNATURE_NAME).unlink()
        assert problems(signed) == [("removed", SIGNATURE_NAME)]

    def test_a_bundle_resealed_with_another_key_fails_the_trusted_key(self, signed: Path, key: Ed25519PrivateKey) -> None:
        (signed / "findings.csv").write_text("edited\n")
        seal_folder(signed, kind="audit", parameters={},
                    environ={"M365MOVE_SIGNING_KEY": private_pem(Ed25519PrivateKey.generate())})
        assert problems(signed) == []  # self-consistent: only a trusted key can tell
        assert problems(signed, M365MOVE_VERIFY_KEY=public_raw(key)) == [("signature", SIGNATURE_NAME)]

    def test_an_unsigned_bundle_fails_when_a_key_is_required(self, sealed: Path, key: Ed25519PrivateKey) -> None:
        assert problems(sealed, M365MOVE_VERIFY_KEY=public_raw(key)) == [("signature", MANIFEST_NAME)]

    def test_a_malformed_signing_key_is_bad_input_before_anything_is_written(self, tmp_path: Path) -> None:
        folder = make_folder(tmp_path / "bad-key")
        with pytest.raises(ValueError, match="M365MOVE_SIGNING_KEY"):
            seal_folder(folder, kind="audit", parameters={}, environ={"M365MOVE_SIGNING_KEY": "not a key"})
        assert not (folder / MANIFEST_NAME).exists()


class TestVerifyCommand:
    def run(self, *args: str) -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["audit", "verify", *args])
        return code, out.getvalue()

    def test_a_fresh_unsigned_bundle_is_refused_without_a_key_unless_allowed(
            self, sealed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.delenv("M365MOVE_VERIFY_KEY", raising=False)
        monkeypatch.delenv("M365MOVE_SIGNING_KEY", raising=False)
        code, out = self.run(str(sealed))
        assert code == 2 and out.splitlines()[-1] == UNSIGNED_VERDICT
        assert "--allow-unsigned" in capsys.readouterr().err
        code, out = self.run(str(sealed), "--allow-unsigned")
        assert code == 0 and out.splitlines()[-1] == UNSIGNED_VERDICT and "intact" not in out

    def test_a_bundle_signed_by_the_configured_key_passes(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        key = Ed25519PrivateKey.generate()
        folder = make_folder(tmp_path / "signed")
        seal_folder(folder, kind="audit", parameters={}, environ={"M365MOVE_SIGNING_KEY": private_pem(key)})
        monkeypatch.delenv("M365MOVE_SIGNING_KEY", raising=False)
        monkeypatch.setenv("M365MOVE_VERIFY_KEY", public_raw(key))
        code, out = self.run(str(folder))
        assert code == 0 and out.splitlines()[-1].startswith("intact: nothing changed, added or removed since key")
        monkeypatch.setenv("M365MOVE_VERIFY_KEY", public_raw(Ed25519PrivateKey.generate()))
        assert self.run(str(folder), "--allow-unsigned")[0] == 3  # another key's signature is never accepted

    def test_the_report_says_what_an_unsigned_seal_proves(self, sealed: Path) -> None:
        assert UNSIGNED_VERDICT.removeprefix("unsigned: ") in " ".join((sealed / "report.html").read_text().split())

    def test_fails_naming_the_file(self, sealed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("M365MOVE_VERIFY_KEY", raising=False)
        monkeypatch.delenv("M365MOVE_SIGNING_KEY", raising=False)
        (sealed / "findings.csv").write_text("edited\n")
        (sealed / "new.txt").write_text("x\n")
        code, out = self.run(str(sealed))
        assert code == 3
        assert "changed: findings.csv" in out and "added: new.txt" in out and "NOT INTACT" in out

    def test_json_format(self, sealed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("M365MOVE_VERIFY_KEY", raising=False)
        monkeypatch.delenv("M365MOVE_SIGNING_KEY", raising=False)
        (sealed / "result.json").unlink()
        code, out = self.run(str(sealed), "--format", "json")
        document = json.loads(out)
        assert code == 3 and document["problems"] == [{"kind": "removed", "path": "result.json",
                                                       "detail": "listed in the manifest, missing from the folder"}]
