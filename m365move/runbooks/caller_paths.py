"""Relative paths given to a runbook mean the caller's folder, not the run folder the kernel runs in.

The kernel's working directory is the run folder (so that what a notebook writes lands there), which
would make ``-p estate estate.yaml`` point inside the run folder. The runner therefore makes every
given text value that names an existing file or folder relative to the caller's directory absolute
(each part of a comma-separated list when every part exists). Values that name nothing there (ids,
URLs, a workspace meant to be created inside the run folder) are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def absolute_caller_paths(given: Mapping[str, object], base: Path | None = None) -> dict[str, object]:
    """``given`` with relative paths that exist under ``base`` (default: the current directory) made absolute."""
    base = base or Path.cwd()
    resolved: dict[str, object] = {}
    for name, value in given.items():
        resolved[name] = _absolute(value, base) if isinstance(value, str) else value
    return resolved


def _absolute(value: str, base: Path) -> str:
    parts = [part.strip() for part in value.split(",")]
    if not value.strip() or any(not part or "://" in part or Path(part).is_absolute() for part in parts):
        return value
    candidates = [base / part for part in parts]
    if all(_exists(candidate) for candidate in candidates):
        return ",".join(str(candidate.resolve()) for candidate in candidates)
    return value


def _exists(path: Path) -> bool:
    """Whether ``path`` exists; a value too long to be a file name (``File name too long``) is not one."""
    try:
        return path.exists()
    except OSError:
        return False
