"""Who made a bundle and with what: the tool's version and commit, the user and host, the time."""

from __future__ import annotations

import getpass
import socket
import subprocess
from importlib import metadata
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def tool_version() -> str:
    try:
        return metadata.version("m365move")
    except metadata.PackageNotFoundError:
        return "unknown"


def tool_commit() -> str | None:
    """The git commit of the m365move code running (``+dirty`` when it has uncommitted changes); None
    when it is not a git checkout (an installed wheel): the version then says what ran."""
    try:
        head = subprocess.run(["git", "-C", str(_PACKAGE_DIR), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(_PACKAGE_DIR), "status", "--porcelain", "--untracked-files=no", "--",
                                "."], capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if dirty else head or None


def who() -> dict[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {"user": user, "host": socket.gethostname()}
