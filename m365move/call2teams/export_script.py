"""The shipped PowerShell export script (package data), which writes what ``snapshot_loader`` reads."""

from __future__ import annotations

from importlib import resources

EXPORT_SCRIPT_NAME = "Export-Call2TeamsTenant.ps1"


def export_script_text() -> str:
    """The script's text, as shipped inside the package."""
    return resources.files("m365move.call2teams").joinpath("scripts", EXPORT_SCRIPT_NAME).read_text(encoding="utf-8")
