"""Tamper-evident output folders: a manifest of every file, hashed, signed when a key is configured.

Modules: ``manifest`` (writing a folder's manifest: the seal), ``signing`` (Ed25519 keys from the
environment), ``verify`` (checking a folder against its manifest), ``report_field`` (the manifest hash
shown inside ``report.html``), ``provenance`` (tool version, commit and who ran it).
"""

from __future__ import annotations

from m365move.bundle.manifest import MANIFEST_NAME, SIGNATURE_NAME, Seal, seal_folder
from m365move.bundle.verify import Verification, verify_folder

__all__ = ["MANIFEST_NAME", "SIGNATURE_NAME", "Seal", "Verification", "seal_folder", "verify_folder"]
