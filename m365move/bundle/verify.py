"""Checking a sealed folder against its manifest: changed, added or removed files, and the signature.

Every problem names the file. A folder passes only when every listed file is there with its digest,
nothing else was added, each report shows the manifest's hash, and the signature (when the manifest
names a key) is good for that key and, when one is configured, for the trusted key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from m365move.bundle import report_field
from m365move.bundle.manifest import MANIFEST_NAME, SIGNATURE_NAME, bundle_files, file_entry
from m365move.bundle.signing import (
    VERIFY_KEY_VARIABLE,
    fingerprint,
    required_public_key,
    signature_valid,
    signer_from_environment,
)
from m365move.errors import InputError


@dataclass(frozen=True)
class Problem:
    kind: str  # changed | added | removed | signature
    path: str
    detail: str

    def line(self) -> str:
        return f"{self.kind}: {self.path}: {self.detail}"


@dataclass(frozen=True)
class Verification:
    folder: Path
    manifest_hash: str
    files: int
    signed_by: str | None
    problems: tuple[Problem, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder), "intact": self.intact, "manifest_sha256": self.manifest_hash,
            "files": self.files, "signed_by": self.signed_by,
            "problems": [{"kind": p.kind, "path": p.path, "detail": p.detail} for p in self.problems],
            "notes": list(self.notes),
        }


def verify_folder(
    folder: str | Path, *, expected_hash: str | None = None, environ: Mapping[str, str] | None = None
) -> Verification:
    """The folder checked against its ``manifest.json``; InputError when there is no readable manifest."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise InputError("no such folder", where=str(folder))
    try:
        data = manifest_path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"no {MANIFEST_NAME} here: the folder was never sealed (or the manifest was deleted)",
                         where=str(folder)) from None
    manifest_hash = hashlib.sha256(data).hexdigest()
    try:
        document = json.loads(data)
        listed = {str(e["path"]): e for e in document["files"]}
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"not an m365move manifest: {error.__class__.__name__}: {error}", where=str(manifest_path)) from None

    problems: list[Problem] = []
    notes: list[str] = []
    superseded = document.get("supersedes") if isinstance(document.get("supersedes"), dict) else None
    if superseded:
        notes.append(f"re-sealed ({superseded.get('replaced_because')}); it supersedes manifest "
                     f"{superseded.get('manifest_sha256')} of {superseded.get('created_at')}")
    if expected_hash and expected_hash.lower() != manifest_hash:
        why = (f" (it supersedes that one: re-sealed after {superseded.get('replaced_because')})"
               if superseded and str(superseded.get("manifest_sha256", "")).lower() == expected_hash.lower() else "")
        problems.append(Problem("changed", MANIFEST_NAME,
                                f"its sha256 is {manifest_hash}, not the {expected_hash} expected{why}"))
    present = {path.relative_to(folder).as_posix(): path for path in bundle_files(folder)}
    for relative, entry in listed.items():
        path = present.get(relative)
        if path is None:
            problems.append(Problem("removed", relative, "listed in the manifest, missing from the folder"))
            continue
        now = file_entry(folder, path)
        if now["sha256"] != entry.get("sha256"):
            problems.append(Problem("changed", relative, f"sha256 {now['sha256']}, the manifest says {entry.get('sha256')}"))
        elif entry.get("hash_field"):
            wrong = [h for h in report_field.shown(path.read_bytes()) if h != manifest_hash]
            if wrong:
                problems.append(Problem("changed", relative,
                                        f"shows manifest hash {wrong[0]}, the manifest's is {manifest_hash}"))
    problems += [Problem("added", relative, "not listed in the manifest") for relative in present if relative not in listed]
    problems += _signature_problems(folder, document, data, notes, environ)
    key = document.get("signing_key") or {}
    return Verification(folder, manifest_hash, len(listed), key.get("fingerprint"), tuple(problems), tuple(notes))


def _signature_problems(
    folder: Path, document: Mapping[str, Any], data: bytes, notes: list[str], environ: Mapping[str, str] | None
) -> list[Problem]:
    key = document.get("signing_key")
    signature_path = folder / SIGNATURE_NAME
    required = required_public_key(environ)
    if not key:
        if signature_path.exists():
            return [Problem("added", SIGNATURE_NAME, "the manifest names no signing key")]
        if required:
            return [Problem("signature", MANIFEST_NAME, f"not signed, and {VERIFY_KEY_VARIABLE} requires a signature")]
        notes.append("not signed: the manifest hash is the only proof; compare it with the one quoted at sign-off")
        return []
    public_key = str(key.get("public_key", ""))
    try:
        signature = json.loads(signature_path.read_bytes())
        valid = signature_valid(public_key, str(signature["signature"]), data)
    except FileNotFoundError:
        return [Problem("removed", SIGNATURE_NAME, f"the manifest is signed by key {fingerprint(public_key)}, "
                                                   "the signature is missing")]
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        return [Problem("signature", SIGNATURE_NAME, f"bad signature: it does not match {MANIFEST_NAME} "
                                                     f"for key {fingerprint(public_key)}")]
    signer = signer_from_environment(environ)
    trusted = required or (signer.public_key if signer else None)
    if trusted and trusted != public_key:
        return [Problem("signature", SIGNATURE_NAME, f"signed by key {fingerprint(public_key)}, "
                                                     f"not the trusted key {fingerprint(trusted)}")]
    if not trusted:
        notes.append(f"signature good for the key the manifest names ({fingerprint(public_key)}); set "
                     f"{VERIFY_KEY_VARIABLE} to require that it is yours")
    return []

