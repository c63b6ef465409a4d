"""Checking a sealed folder against its manifest: changed, added or removed files, and the signature.

Every problem names the file. A folder passes only when every listed file is there, a regular file with
its digest, nothing else was added (a symbolic link, in or out of the folder, is never followed: it is a
change), each report shows the manifest's hash, and the signature (when the manifest names a key) is good
for that key and, when one is configured, for the trusted key. A manifest that cannot be read as one
m365move wrote is a change too ("NOT INTACT"), never a crash.

What "intact" proves depends on the signature, and the verdict says which:

- signed by the trusted key (``M365MOVE_VERIFY_KEY``, else the public half of ``M365MOVE_SIGNING_KEY``):
  nothing changed since the holder of that key sealed the folder;
- otherwise: only that the folder is consistent with its own manifest, which anyone who can write the
  folder can rewrite (and re-sign with a key of their own). ``audit verify`` refuses that by default and
  accepts it with ``--allow-unsigned``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from m365move.bundle import report_field
from m365move.bundle.folder_entries import folder_entries, open_no_follow
from m365move.bundle.manifest import MANIFEST_NAME, SIGNATURE_NAME, entry_of_bytes
from m365move.bundle.manifest_schema import Malformed, Manifest, parse_manifest
from m365move.bundle.signing import (
    VERIFY_KEY_VARIABLE,
    fingerprint,
    required_public_key,
    signature_valid,
    signer_from_environment,
)
from m365move.errors import InputError
from m365move.files.json_duplicate_keys import find_duplicate_key

UNSIGNED_VERDICT = "unsigned: consistent with its own manifest, which anyone who can write the folder can rewrite"


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
    signed_by: str | None  # the fingerprint of the key the manifest names (its signature checked)
    problems: tuple[Problem, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    trusted_key: str | None = None  # the fingerprint of the configured key that vouches for the signature

    @property
    def intact(self) -> bool:
        """Nothing changed, added or removed since the manifest was written (see ``verdict`` for by whom)."""
        return not self.problems

    @property
    def trusted(self) -> bool:
        """Intact and signed by the configured key: the only case in which the manifest itself is vouched for."""
        return self.intact and self.trusted_key is not None

    @property
    def verdict(self) -> str:
        if not self.intact:
            return f"NOT INTACT: {len(self.problems)} problem(s)"
        if self.trusted:
            return f"intact: nothing changed, added or removed since key {self.trusted_key} signed it"
        if self.signed_by:
            return (f"unverified: consistent with its own manifest and its signature by key {self.signed_by}, which "
                    f"no configured key vouches for: anyone who can write the folder can rewrite and re-sign both")
        return UNSIGNED_VERDICT

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder), "intact": self.intact, "trusted": self.trusted, "verdict": self.verdict,
            "manifest_sha256": self.manifest_hash, "files": self.files, "signed_by": self.signed_by,
            "trusted_key": self.trusted_key,
            "problems": [{"kind": p.kind, "path": p.path, "detail": p.detail} for p in self.problems],
            "notes": list(self.notes),
        }


def verify_folder(
    folder: str | Path, *, expected_hash: str | None = None, environ: Mapping[str, str] | None = None,
    allow_unsigned: bool = False,
) -> Verification:
    """The folder checked against its ``manifest.json``; InputError when there is no folder or no manifest.

    ``allow_unsigned``: an unsigned folder is not a problem even when a verify key is configured."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("no such folder", where=str(folder))
    manifest_path = folder / MANIFEST_NAME
    try:
        mode = os.lstat(manifest_path).st_mode
    except FileNotFoundError:
        raise InputError(f"no {MANIFEST_NAME} here: the folder was never sealed (or the manifest was deleted)",
                         where=str(folder)) from None
    if not stat.S_ISREG(mode):
        what = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        return Verification(folder, "", 0, None, (Problem("changed", MANIFEST_NAME, f"{what}: never followed"),))
    data = open_no_follow(manifest_path)
    manifest_hash = hashlib.sha256(data).hexdigest()
    try:
        manifest = parse_manifest(data)
    except Malformed as malformed:
        problem = Problem("changed", MANIFEST_NAME, f"not a manifest m365move wrote: {malformed}")
        return Verification(folder, manifest_hash, 0, None, (problem,))
    problems: list[Problem] = []
    notes: list[str] = []
    superseded = manifest.supersedes
    if superseded:
        notes.append(f"re-sealed ({superseded.get('replaced_because')}); it supersedes manifest "
                     f"{superseded.get('manifest_sha256')} of {superseded.get('created_at')}")
    if expected_hash and expected_hash.lower() != manifest_hash:
        why = (f" (it supersedes that one: re-sealed after {superseded.get('replaced_because')})"
               if superseded and str(superseded.get("manifest_sha256", "")).lower() == expected_hash.lower() else "")
        problems.append(Problem("changed", MANIFEST_NAME,
                                f"its sha256 is {manifest_hash}, not the {expected_hash} expected{why}"))
    problems += _file_problems(folder, manifest, manifest_hash)
    trusted = _trusted_key(environ)
    problems += _signature_problems(folder, manifest, data, notes, trusted, allow_unsigned)
    signed_by = fingerprint(manifest.public_key) if manifest.public_key else None
    vouched = fingerprint(trusted) if trusted and manifest.public_key == trusted else None
    return Verification(folder, manifest_hash, len(manifest.files), signed_by, tuple(problems), tuple(notes), vouched)


def _file_problems(folder: Path, manifest: Manifest, manifest_hash: str) -> list[Problem]:
    entries = folder_entries(folder, skip=frozenset({MANIFEST_NAME, SIGNATURE_NAME}))
    problems: list[Problem] = []
    for relative, entry in manifest.files.items():
        if relative in entries.irregular:
            problems.append(Problem("changed", relative, entries.irregular[relative]))
            continue
        path = entries.files.get(relative)
        if path is None:
            problems.append(Problem("removed", relative, "listed in the manifest, missing from the folder"))
            continue
        try:
            data = open_no_follow(path)
        except OSError as error:
            problems.append(Problem("changed", relative, f"cannot be read as a regular file: {error.strerror or error}"))
            continue
        now = entry_of_bytes(relative, data)
        if now["sha256"] != entry["sha256"]:
            problems.append(Problem("changed", relative, f"sha256 {now['sha256']}, the manifest says {entry['sha256']}"))
        elif entry.get("hash_field"):
            wrong = [h for h in report_field.shown(data) if h != manifest_hash]
            if wrong:
                problems.append(Problem("changed", relative,
                                        f"shows manifest hash {wrong[0]}, the manifest's is {manifest_hash}"))
    problems += [Problem("added", relative, "not listed in the manifest") for relative in entries.files
                 if relative not in manifest.files]
    problems += [Problem("added", relative, why) for relative, why in entries.irregular.items()
                 if relative not in manifest.files]
    return problems


def _trusted_key(environ: Mapping[str, str] | None) -> str | None:
    """The configured key (base64 raw): ``M365MOVE_VERIFY_KEY``, else the signing key's public half."""
    signer = signer_from_environment(environ)
    return required_public_key(environ) or (signer.public_key if signer else None)


def _signature_problems(
    folder: Path, manifest: Manifest, data: bytes, notes: list[str], trusted: str | None, allow_unsigned: bool
) -> list[Problem]:
    signature_path = folder / SIGNATURE_NAME
    signature_mode = os.lstat(signature_path).st_mode if os.path.lexists(signature_path) else None
    public_key = manifest.public_key
    if not public_key:
        if signature_mode is not None:
            return [Problem("added", SIGNATURE_NAME, "the manifest names no signing key")]
        if trusted and not allow_unsigned:
            return [Problem("signature", MANIFEST_NAME,
                            f"not signed, and the configured key {fingerprint(trusted)} ({VERIFY_KEY_VARIABLE}) "
                            "requires a signature")]
        notes.append("not signed: the manifest hash is the only proof; compare it with the one quoted at sign-off")
        return []
    if signature_mode is None:
        return [Problem("removed", SIGNATURE_NAME, f"the manifest is signed by key {fingerprint(public_key)}, "
                                                   "the signature is missing")]
    if not stat.S_ISREG(signature_mode):
        return [Problem("changed", SIGNATURE_NAME, "not a regular file (a symbolic link or other): never followed")]
    try:
        signature = parse_signature(open_no_follow(signature_path))
        valid = signature_valid(public_key, signature, data)
    except (OSError, ValueError):
        valid = False
    if not valid:
        return [Problem("signature", SIGNATURE_NAME, f"bad signature: it does not match {MANIFEST_NAME} "
                                                     f"for key {fingerprint(public_key)}")]
    if trusted and trusted != public_key:
        return [Problem("signature", SIGNATURE_NAME, f"signed by key {fingerprint(public_key)}, "
                                                     f"not the trusted key {fingerprint(trusted)}")]
    if not trusted:
        notes.append(f"signature good for the key the manifest names ({fingerprint(public_key)}); set "
                     f"{VERIFY_KEY_VARIABLE} to require that it is yours")
    return []


def parse_signature(data: bytes) -> str:
    """The base64 signature of ``manifest.sig``; ValueError when it is not one."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError):
        raise ValueError("not a signature file") from None
    if not isinstance(document, dict) or not isinstance(document.get("signature"), str):
        raise ValueError("not a signature file")
    repeated = find_duplicate_key(data)
    if repeated is not None:
        raise ValueError(f"not a signature file: {repeated.message()}")
    return str(document["signature"])
