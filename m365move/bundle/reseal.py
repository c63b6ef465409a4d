"""Sealing a folder again after a sanctioned change (``runbook render``), without laundering any other edit.

A re-render rewrites ``report.html`` (and may add ``report-with-code.html``) after the folder was sealed;
left alone, ``audit verify`` would then report the folder as changed. Re-sealing blindly would be worse:
it would bless whatever else was edited since. So the folder is verified first and nothing happens unless
it is intact; a signed folder is only re-sealed with a signing key (never silently downgraded to
unsigned); and the new manifest records the one it supersedes (its hash, when and by whom it was made,
and why it was replaced), so a reviewer who quoted the earlier hash can see what happened to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from m365move.bundle.manifest import MANIFEST_NAME, Seal, seal_folder
from m365move.bundle.signing import SIGNING_KEY_VARIABLE, signer_from_environment
from m365move.bundle.verify import Verification, verify_folder
from m365move.errors import InputError

Result = TypeVar("Result")


class NotIntact(Exception):
    """The folder was changed since it was sealed: the change is refused, the folder left as it is."""

    def __init__(self, verification: Verification) -> None:
        super().__init__(f"{verification.folder}: not intact, not re-sealed")
        self.verification = verification


@dataclass(frozen=True)
class Resealed:
    seal: Seal
    previous_hash: str


def change_and_reseal(
    folder: str | Path,
    change: Callable[[], Result],
    *,
    reason: str,
    environ: Mapping[str, str] | None = None,
) -> tuple[Result, Resealed]:
    """Verify ``folder`` (NotIntact when it fails), make ``change``, then seal the folder again, recording
    the manifest it supersedes. InputError, before anything is changed, when the folder was signed and no
    signing key is configured now."""
    folder = Path(folder)
    verification = verify_folder(folder, environ=environ)
    if not verification.intact:
        raise NotIntact(verification)
    previous = _read_manifest(folder)
    if previous.get("signing_key") and signer_from_environment(environ) is None:
        raise InputError(
            f"the folder is signed (key {previous['signing_key'].get('fingerprint')}): re-sealing it after the change "
            "would drop the signature", where=str(folder / MANIFEST_NAME),
            hint=f"set {SIGNING_KEY_VARIABLE} to the key it was signed with, then run this again",
        )
    result = change()
    supersedes = {
        "manifest_sha256": verification.manifest_hash,
        "created_at": previous.get("created_at"),
        "created_by": previous.get("created_by"),
        "replaced_because": reason,
    }
    seal = seal_folder(folder, kind=str(previous.get("kind", "")), parameters=previous.get("parameters") or {},
                       environ=environ, supersedes=supersedes)
    return result, Resealed(seal, verification.manifest_hash)


def is_sealed(folder: str | Path) -> bool:
    return (Path(folder) / MANIFEST_NAME).is_file()


def _read_manifest(folder: Path) -> dict[str, Any]:
    document = json.loads((folder / MANIFEST_NAME).read_bytes())  # verify_folder has just parsed it
    return document if isinstance(document, dict) else {}
