"""Sealing an output folder: ``manifest.json`` lists every file's SHA-256, and is itself hashed and signed.

``manifest.json`` holds the tool (name, version, commit), what produced the folder (``kind``), its
parameters, when and by whom, and ``files``: one entry per file (path relative to the folder with ``/``,
size, SHA-256), in canonical order (paths sorted by their UTF-8 bytes). The **manifest hash** is the
SHA-256 of ``manifest.json``'s bytes as written; HTML reports show it (see ``report_field``). With a
signing key in the environment, ``manifest.sig`` holds an Ed25519 signature of those same bytes, and
the manifest names the key, so deleting the signature is detected too.

The manifest is written last: a folder is sealed after everything else in it is final.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from m365move.bundle import report_field
from m365move.bundle.folder_entries import folder_entries, open_no_follow
from m365move.bundle.provenance import who
from m365move.bundle.signing import ALGORITHM, fingerprint, signer_from_environment
from m365move.files.atomic_files import OUTPUT_FILE_MODE
from m365move.version_info import tool_commit, tool_version

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
MANIFEST_VERSION = 1
# Files that carry the manifest hash inside them (their digest is taken with that field blanked).
HASH_FIELD_SUFFIXES = (".html",)


@dataclass(frozen=True)
class Seal:
    folder: Path
    manifest_hash: str
    files: int
    signed_by: str | None  # the key's fingerprint

    def describe(self) -> str:
        signed = f", signed by Ed25519 key {self.signed_by}" if self.signed_by else ", not signed (no M365MOVE_SIGNING_KEY)"
        return f"manifest {self.folder / MANIFEST_NAME}: sha256 {self.manifest_hash} ({self.files} files{signed})"


def seal_folder(
    folder: str | Path,
    *,
    kind: str,
    parameters: Mapping[str, Any],
    now: dt.datetime | None = None,
    environ: Mapping[str, str] | None = None,
    supersedes: Mapping[str, Any] | None = None,
) -> Seal:
    """Write ``manifest.json`` (and ``manifest.sig`` when a key is configured) for everything in ``folder``.

    ``supersedes``: when the folder is sealed again (see ``reseal``), what the earlier manifest was and why
    it was replaced; kept in the manifest so a reviewer holding the earlier hash sees where it went."""
    folder = Path(folder)
    signer = signer_from_environment(environ)  # a malformed key fails before anything is written
    signed_by = fingerprint(signer.public_key) if signer else None
    for path in bundle_files(folder):
        if path.suffix.lower() in HASH_FIELD_SUFFIXES:
            _rewrite(path, report_field.add_field(path.read_bytes(), signed_by=signed_by))
    entries = [file_entry(folder, path) for path in bundle_files(folder)]
    document = {
        "manifest_version": MANIFEST_VERSION,
        "kind": kind,
        "tool": {"name": "m365move", "version": tool_version(), "commit": tool_commit()},
        "created_at": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "created_by": who(),
        "parameters": dict(parameters),
        "signing_key": {"algorithm": ALGORITHM, "public_key": signer.public_key,
                        "fingerprint": fingerprint(signer.public_key)} if signer else None,
        "hash_algorithm": "sha256",
        "files": entries,
    }
    if supersedes:
        document["supersedes"] = dict(supersedes)
    data = manifest_bytes(document)
    manifest_hash = hashlib.sha256(data).hexdigest()
    (folder / SIGNATURE_NAME).unlink(missing_ok=True)  # a stale signature of an earlier seal would mislead
    _rewrite(folder / MANIFEST_NAME, data)
    if signer:
        signature = {"algorithm": ALGORITHM, "public_key": signer.public_key, "signature": signer.sign(data)}
        _rewrite(folder / SIGNATURE_NAME, manifest_bytes(signature))
    for entry in entries:
        if entry.get("hash_field"):
            path = folder / entry["path"]
            _rewrite(path, report_field.fill(path.read_bytes(), manifest_hash))
    return Seal(folder, manifest_hash, len(entries), fingerprint(signer.public_key) if signer else None)


def bundle_files(folder: Path) -> Iterator[Path]:
    """Every regular file under ``folder`` but the manifest and its signature, in canonical order.

    Links are not followed and not sealed (nor are FIFOs, devices, names that are not UTF-8): ``verify``
    names each as a change, so a folder holding one is never reported intact."""
    yield from folder_entries(folder, skip=frozenset({MANIFEST_NAME, SIGNATURE_NAME})).files.values()


def file_entry(folder: Path, path: Path) -> dict[str, Any]:
    """A file's manifest entry; the digest of a report is taken with its manifest-hash field blanked."""
    return entry_of_bytes(path.relative_to(folder).as_posix(), open_no_follow(path))


def entry_of_bytes(relative: str, data: bytes) -> dict[str, Any]:
    """The manifest entry of a file at ``relative`` holding ``data``."""
    entry: dict[str, Any] = {"path": relative, "bytes": len(data)}
    if relative.lower().endswith(HASH_FIELD_SUFFIXES) and report_field.has_field(data):
        data = report_field.blank(data)
        entry["hash_field"] = True
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    return entry


def manifest_bytes(document: Mapping[str, Any]) -> bytes:
    """The canonical text: sorted keys, two-space indent, UTF-8, one trailing newline."""
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _rewrite(path: Path, data: bytes) -> None:
    """Replace ``path`` whole or not at all (a crash leaves the old file, never half of the new one)."""
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, OUTPUT_FILE_MODE)  # readable like the run's other files, not mkstemp's 0600
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
