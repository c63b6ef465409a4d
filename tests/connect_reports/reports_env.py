"""A separate Python environment for connect-reports-core, the way Connect's Reports runtime has its own.

connect-reports-core 34.0 pins ``kaleido>=0.4,<1`` (every 0.4 release is yanked, so only an exact ``==0.4.2``
pin installs), ``WeasyPrint<64`` and ``plotly<6``: it cannot be a dependency of the project's own environment.
``.venv-reports/`` gets it (once; a stamp names the pins), and a ``.pth`` file appended after its own
site-packages gives it the project and the project's installed packages, so its pins win where both have one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# M365MOVE_REPORTS_VENV: an environment to use (or make) elsewhere.
ENV = Path(os.environ.get("M365MOVE_REPORTS_VENV") or ROOT / ".venv-reports")
PINS = ("kaleido==0.4.2", "connect-reports-core==34.0")
STAMP = ENV / (".installed-" + "-".join(p.replace("==", "") for p in PINS))


def reports_python() -> Path:
    python = ENV / "bin" / "python"
    if not STAMP.is_file():
        if not python.is_file():
            subprocess.run([sys.executable, "-m", "venv", str(ENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True, timeout=900)
        own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
        # Appended after its own site-packages: the project, then the project environment's packages.
        (Path(own) / "zz_m365move_project.pth").write_text(f"{ROOT}\n{sysconfig.get_paths()['purelib']}\n")
        STAMP.touch()
    return python
