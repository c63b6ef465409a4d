"""Which m365move this is, in one line: the package version and, in a git checkout, the commit."""

from __future__ import annotations

import functools

from m365move import __version__
from m365move.bundle.provenance import tool_commit


@functools.lru_cache(maxsize=1)
def version_text() -> str:
    """``0.1.0 (commit 1a2b3c4d5e6f)`` or ``0.1.0`` outside a git checkout."""
    commit = tool_commit()
    return f"{__version__} (commit {commit[:12]}{'+dirty' if commit.endswith('+dirty') else ''})" if commit \
        else __version__
