"""Which m365move this is: the package version and, in a git checkout, the commit (for reports and --version)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from m365move import __version__


@functools.lru_cache(maxsize=1)
def source_commit() -> str | None:
    """The short commit of the checkout m365move runs from (with ``+dirty`` when changed), or None."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}+dirty" if dirty else commit or None


def version_text() -> str:
    """``0.1.0 (commit 1a2b3c4d5e6f)`` or ``0.1.0``."""
    commit = source_commit()
    return f"{__version__} (commit {commit})" if commit else __version__
