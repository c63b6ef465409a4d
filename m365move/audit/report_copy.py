"""The Connect audit's pure logic, copied into the Connect report so that it runs where Connect runs reports.

Connect's Reports runtime clones the reports repository and imports the report without installing anything
(Python 3.8, connect-reports-core, connect-openapi-client, openpyxl). The report judges CSP assets with the same
checks as ``m365move audit --connect-url``: the modules below are the one source, written for Python 3.8 with the
standard library only, and copied to ``connect_reports/reports/migration_audit/audit/`` with their imports made
relative. ``python -m m365move.audit.report_copy`` rewrites the copy; tests/connect_reports/test_report_runtime.py
fails when it is not current (docs/decisions/report-runs-in-connect.md).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from m365move.files.atomic_files import write_text_atomically

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "m365move"
COPY = ROOT / "connect_reports" / "reports" / "migration_audit" / "audit"
# The shared modules (paths under m365move/), copied side by side under their own names.
SHARED = ("audit/findings.py", "memory/cyclic_gc.py", "audit/connect_model.py", "audit/connect_checks.py")
HEADER = "# Copied from m365move/{source} by `python -m m365move.audit.report_copy`: edit the original, not this.\n"
INIT = ('"""The Connect audit\'s checks, as m365move audits Connect (copied from m365move/audit/; see '
        'm365move/audit/report_copy.py)."""\n')


def copied(source: str) -> str:
    """The copy of ``m365move/<source>``: its imports of the other shared modules made relative."""
    text = (PACKAGE / source).read_text(encoding="utf-8")
    for shared in SHARED:
        module = "m365move." + shared.removesuffix(".py").replace("/", ".")
        name = shared.rsplit("/", 1)[-1].removesuffix(".py")
        text = re.sub(rf"^from {re.escape(module)} import", f"from .{name} import", text, flags=re.M)
    left = re.findall(r"^\s*(?:from|import) m365move\b.*$", text, flags=re.M)
    if left:
        raise SystemExit(f"m365move/{source} imports {left}: the report can only have the standard library")
    return HEADER.format(source=source) + text


def expected() -> dict[str, str]:
    """File name → content of the copy as it must be."""
    return {"__init__.py": INIT, **{source.rsplit("/", 1)[-1]: copied(source) for source in SHARED}}


def write_copy() -> list[Path]:
    COPY.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected().items():
        path = COPY / name
        write_text_atomically(path, text)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_copy():
        print(path.relative_to(ROOT), file=sys.stderr)
