"""A throwaway PostgreSQL server on loopback for the shared-journal tests, or a skip saying why not.

Uses the machine's PostgreSQL binaries (Debian's `postgresql` package); as root, the server runs as
the `postgres` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

# Set by CI (.ci/run), which installs the server: there a missing or broken PostgreSQL fails the tests.
REQUIRE_ENV_VAR = "M365MOVE_REQUIRE_POSTGRES"


def _skip(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_ENV_VAR):
        pytest.fail(f"{reason} ({REQUIRE_ENV_VAR} is set: the PostgreSQL tests must run here)")
    pytest.skip(reason)


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_url() -> Iterator[str]:
    """``postgresql+psycopg://…`` of a fresh server, stopped afterwards; pytest.skip when none can start."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not (initdb and pg_ctl):
        _skip("no PostgreSQL binaries on this machine")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _skip("psycopg is not installed")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            _skip("running as root without runuser")
        as_user = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="m365move-pg-"))
    data = folder / "data"
    if as_user:
        shutil.chown(folder, "postgres")
    port = _free_port()
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], check=True,
                       capture_output=True, timeout=120)
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                        f"-h 127.0.0.1 -p {port} -k {folder} -F", "start"], check=True, capture_output=True, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        _skip(f"PostgreSQL did not start: {error}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
