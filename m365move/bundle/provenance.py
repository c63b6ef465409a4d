"""Who made a bundle: the user and host (what made it, the tool's version and commit: ``m365move.version_info``)."""

from __future__ import annotations

import getpass
import socket


def who() -> dict[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {"user": user, "host": socket.gethostname()}
