"""The one workspace runbook runs and CLI runs share by default, so `runs list` and `audit` see both.

A workspace holds the journal (``journal.sqlite``) and the results files (``results/``). Its default is
``$M365MOVE_WORKSPACE`` when set, else ``m365move-work`` in the folder the command runs from, for the CLI
(``migrate``, ``resume``, ``runs``, ``audit``) and for ``m365move runbook run`` alike: the runner hands the
migration runbooks that folder as an absolute path (their kernel runs inside the run folder). ``--workspace``,
``--journal``, the runbooks' ``workspace`` parameter and ``$M365MOVE_JOURNAL_URL`` still choose another one.
"""

from __future__ import annotations

import os
from pathlib import Path

WORKSPACE_ENV = "M365MOVE_WORKSPACE"
DEFAULT_WORKSPACE_NAME = "m365move-work"
JOURNAL_FILE = "journal.sqlite"


def default_workspace() -> str:
    """``$M365MOVE_WORKSPACE``, else ``m365move-work`` (relative: the current folder's)."""
    return os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE_NAME


def workspace_journal(workspace: str | Path) -> Path:
    return Path(workspace) / JOURNAL_FILE


DEFAULT_HELP = f"${WORKSPACE_ENV} if set, else ./{DEFAULT_WORKSPACE_NAME}; the runbooks' default too"
