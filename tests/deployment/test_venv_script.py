"""``source scripts/_venv.sh`` in an operator's interactive shell leaves that shell as it was.

It used to leave ``set -euo pipefail`` on: the next command that exited non-zero (``catalog check`` answers 2
until the catalog is complete) closed the operator's terminal.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _checkout(tmp_path: Path, installed: bool) -> Path:
    """The script in a folder shaped like a checkout, its Poetry a stand-in that only says its version (nothing is
    downloaded); with ``installed``, its .venv already made."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "_venv.sh", root / "scripts" / "_venv.sh")
    for name in ("pyproject.toml", "poetry.lock"):
        shutil.copy(ROOT / name, root / name)
    poetry = root / ".tools" / "poetry" / "bin" / "poetry"
    poetry.parent.mkdir(parents=True)
    version = re.search(r'POETRY_VERSION="([^"]+)"', (ROOT / "scripts" / "_venv.sh").read_text())
    assert version is not None
    poetry.write_text(f"#!/bin/sh\necho 'Poetry (version {version.group(1)})'\n")
    poetry.chmod(0o755)
    if installed:
        digest = hashlib.sha1((root / "pyproject.toml").read_bytes() + (root / "poetry.lock").read_bytes()).hexdigest()
        (root / ".venv" / "bin").mkdir(parents=True)
        (root / ".venv" / f".installed-{digest[:12]}").touch()
    return root


def _interactive(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "--norc", "--noprofile", "-i", "-c", command], cwd=cwd, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_sourcing_changes_no_option_and_no_folder(tmp_path: Path) -> None:
    root = _checkout(tmp_path, installed=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = _interactive(f"source {root}/scripts/_venv.sh; echo rc=$?; echo opts=$-; shopt -qo pipefail && echo pipefail;"
                        " shopt -qo nounset && echo nounset; false; echo still-open; pwd; echo path=$PATH", elsewhere)
    out = done.stdout
    assert "rc=0" in out and "still-open" in out, done.stderr
    options = out.split("opts=")[1].split()[0]
    assert "e" not in options and "u" not in options
    assert "pipefail" not in out.split("opts=")[1].split("still-open")[0]
    assert str(elsewhere) in out  # the shell's folder is as it was
    assert f"path={root}/.venv/bin:" in out


def test_a_failed_setup_returns_non_zero_and_keeps_the_shell(tmp_path: Path) -> None:
    root = _checkout(tmp_path, installed=False)
    (root / "pyproject.toml").unlink()  # the setup's first step fails
    done = _interactive(f"source {root}/scripts/_venv.sh; echo rc=$?; echo still-open", tmp_path)
    assert "rc=1" in done.stdout and "still-open" in done.stdout, done.stderr
    assert "setting up" in done.stderr and "failed" in done.stderr
