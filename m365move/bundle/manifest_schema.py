"""Reading a ``manifest.json`` that may have been forged: every field checked before any is used.

``verify`` must answer "NOT INTACT" for a manifest that was tampered with in any way, never crash on it:
JSON nested thousands deep (Python's parser recurses), bytes that are not UTF-8, a ``\\udcff`` escape that
cannot be encoded, a ``files`` entry of the wrong type, a path that climbs out of the folder (``../``),
names a file twice or is absolute, a key written twice in one object (JSON readers keep the last value, which
a forger could choose). :func:`parse_manifest` returns the checked manifest or one line saying what is wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from m365move.bundle.manifest import MANIFEST_VERSION
from m365move.files.json_duplicate_keys import find_duplicate_key
from m365move.files.json_nesting import line_nested_deeper_than

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_DEPTH = 64


@dataclass(frozen=True)
class Manifest:
    document: dict[str, Any]
    files: dict[str, dict[str, Any]]  # path → entry (path, bytes, sha256, hash_field)
    public_key: str | None  # the signing key the manifest names
    supersedes: dict[str, Any] | None


class Malformed(ValueError):
    """The manifest is not one m365move wrote: why, in one line."""


def parse_manifest(data: bytes) -> Manifest:
    """The manifest's checked content; :class:`Malformed` saying what is wrong otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Malformed(f"not UTF-8 text (byte {error.start})") from None
    if line_nested_deeper_than(text, _MAX_DEPTH) is not None:
        raise Malformed(f"JSON nested more than {_MAX_DEPTH} deep")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Malformed(f"not JSON: {str(error).splitlines()[0][:200]}") from None
    repeated = find_duplicate_key(data)  # (json keeps a repeated key's last value, which a forger could choose)
    if repeated is not None:
        line = f" (line {repeated.line})" if repeated.line is not None else ""
        raise Malformed(f"{repeated.message()}{line}")
    if not isinstance(document, dict):
        raise Malformed(f"a JSON {type(document).__name__}, not an object")
    if document.get("manifest_version") != MANIFEST_VERSION or isinstance(document.get("manifest_version"), bool):
        raise Malformed(f"manifest_version is {_shown(document.get('manifest_version'))}, not {MANIFEST_VERSION}")
    entries = document.get("files")
    if not isinstance(entries, list):
        raise Malformed(f"files is {_shown(entries)}, not a list")
    files: dict[str, dict[str, Any]] = {}
    for number, entry in enumerate(entries):
        path = _entry_path(entry, number)
        if path in files:
            raise Malformed(f"files[{number}]: {path!r} is listed twice")
        files[path] = entry
    return Manifest(document, files, _public_key(document.get("signing_key")), _supersedes(document.get("supersedes")))


def _entry_path(entry: object, number: int) -> str:
    where = f"files[{number}]"
    if not isinstance(entry, dict):
        raise Malformed(f"{where} is {_shown(entry)}, not an object")
    path, digest, size = entry.get("path"), entry.get("sha256"), entry.get("bytes")
    if not isinstance(path, str) or not path:
        raise Malformed(f"{where}.path is {_shown(path)}, not a file name")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise Malformed(f"{where}.path is not valid Unicode (a lone surrogate)") from None
    parts = path.split("/")
    if path.startswith("/") or any(part in ("", ".", "..") for part in parts) or not path.isprintable():
        raise Malformed(f"{where}.path {path!r} is not a plain path inside the folder")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise Malformed(f"{where}.sha256 is {_shown(digest)}, not 64 lowercase hex digits")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise Malformed(f"{where}.bytes is {_shown(size)}, not a size")
    if not isinstance(entry.get("hash_field", False), bool):
        raise Malformed(f"{where}.hash_field is {_shown(entry.get('hash_field'))}, not true or false")
    return path


def _public_key(key: object) -> str | None:
    if key is None:
        return None
    if not isinstance(key, dict) or not isinstance(key.get("public_key"), str) or not key["public_key"]:
        raise Malformed(f"signing_key is {_shown(key)}, not null or an object with a public_key")
    return str(key["public_key"])


def _supersedes(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Malformed(f"supersedes is {_shown(value)}, not an object")
    return value


def _shown(value: object) -> str:
    """A value for an error line: its type, and itself when short."""
    text = json.dumps(value, ensure_ascii=True)
    return f"{type(value).__name__} {text}" if len(text) <= 40 else type(value).__name__
