"""The Connect report runs where Connect runs reports: valid Python 3.8, only the Reports runtime's packages, the
audit's checks a current copy of m365move's, and spreadsheet cells neutralised as m365move's writers do."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m365move.audit import report_copy
from m365move.files.spreadsheet_csv import neutralise_cell

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "connect_reports"
# What the Reports runtime has besides the standard library (CloudBlue's reports runner: connect-reports-core,
# connect-openapi-client, openpyxl).
RUNTIME_PACKAGES = ("connect.client", "connect.reports", "openpyxl")
SOURCES = sorted(REPORTS.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPORTS)))
def test_valid_python_3_8(path: Path) -> None:
    ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 8))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPORTS)))
def test_imports_only_what_the_reports_runtime_has(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            continue  # the report's own package
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith(RUNTIME_PACKAGES), (
                f"{path.relative_to(ROOT)} imports {name}: the Reports runtime installs nothing")


def test_no_3_9_api_in_the_report() -> None:
    """ast checks the syntax; these calls parse in 3.8 but fail when they run (3.9 and 3.10 additions)."""
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            later = [k.arg for k in node.keywords if k.arg in ("slots", "kw_only", "strict")]
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("removeprefix", "removesuffix"):
                later.append(node.func.attr)
            assert not later, f"{path.relative_to(ROOT)}:{node.lineno}: {later} need Python 3.9 or later"


def test_the_copy_of_the_audit_checks_is_current() -> None:
    """One source: m365move/audit's checks, copied (``python -m m365move.audit.report_copy``)."""
    for name, text in report_copy.expected().items():
        copy = report_copy.COPY / name
        assert copy.is_file() and copy.read_text(encoding="utf-8") == text, (
            f"{copy.relative_to(ROOT)} is not the current copy: run `python -m m365move.audit.report_copy`")
    assert sorted(p.name for p in report_copy.COPY.glob("*.py")) == sorted(report_copy.expected())


@given(st.text(max_size=12) | st.sampled_from(["=1+1", "+1", "-3", "-x", "@SUM(1)", " =A1", "\n=A1", "'=A1",
                                                "\uff1dA1", "\t1", "plain", ""]))
def test_cells_are_neutralised_as_by_the_projects_writers(value: str) -> None:
    sys.path.insert(0, str(REPORTS))
    try:
        from reports.migration_audit.spreadsheet_cells import neutralise_cell as report_cell
    finally:
        sys.path.remove(str(REPORTS))
    assert report_cell(value) == neutralise_cell(value)
    assert report_cell(7) == 7
