"""Which m365move this is, in one line: the package version and, in a git checkout, the commit."""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path

from m365move import __version__

_PACKAGE_DIR = Path(__file__).resolve().parent


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


@functools.lru_cache(maxsize=1)
def version_text() -> str:
    """``0.1.0 (commit 1a2b3c4d5e6f)`` or ``0.1.0`` outside a git checkout."""
    commit = tool_commit()
    return f"{__version__} (commit {commit[:12]}{'+dirty' if commit.endswith('+dirty') else ''})" if commit \
        else __version__
