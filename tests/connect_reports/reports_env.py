"""An environment holding only what Connect's Reports runtime has: connect-reports-core 26.x (what CloudBlue's
reports runner and connect-cli pin) with its dependencies, and connect-openapi-client; no m365move, nothing of the
project's environment. Python 3.8, the runtime's, when this machine has one (``M365MOVE_REPORTS_PYTHON``,
``python3.8`` on PATH, or pyenv's); otherwise this interpreter's version (the 3.8 syntax of the report is checked
by tests/connect_reports/test_report_package.py either way).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# M365MOVE_REPORTS_VENV: an environment to use (or make) elsewhere.
ENV = Path(os.environ.get("M365MOVE_REPORTS_VENV") or ROOT / ".venv-reports")
# connect-openapi-client 29.3: the newest on Python 3.8 (pip would otherwise walk back through every later release).
PINS = ("connect-reports-core==26.*", "connect-openapi-client==29.3")
STAMP = ENV / ".installed-reports-core-26-client-29.3"


def runtime_interpreter() -> str:
    """Python 3.8 when this machine has one that runs, else this interpreter."""
    candidates = [os.environ.get("M365MOVE_REPORTS_PYTHON"),
                  *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.8.*/bin/python")), reverse=True),
                  shutil.which("python3.8")]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 8)"],
                          capture_output=True, check=False).returncode == 0:
            return candidate
    return sys.executable


def reports_python() -> Path:
    python = ENV / "bin" / "python"
    if not STAMP.is_file():
        if ENV.exists():
            shutil.rmtree(ENV)  # an older one (connect-reports-core 34 reaching the project through a .pth file)
        subprocess.run([runtime_interpreter(), "-m", "venv", str(ENV)], check=True)
        # One after the other: resolved together, pip walks back through many releases of their shared requirements.
        for pin in PINS:
            subprocess.run([str(python), "-m", "pip", "install", "-q", pin], check=True, timeout=900)
        STAMP.touch()
    return python
