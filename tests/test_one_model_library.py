"""One model library: no module of the project imports pydantic (the Connect runner pins ``pydantic<2`` for every
extension it runs; the project's typed models are msgspec structs, m365move/estate/typed.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("m365move", "extension", "connect_reports", "tests", "benchmarks")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_imports_pydantic() -> None:
    offenders = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if any(name == "pydantic" or name.startswith("pydantic.") for name in imported_modules(path))
    )
    assert not offenders, f"pydantic imported by {offenders}: use msgspec structs (m365move/estate/typed.py)"


def test_pydantic_is_no_requirement() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    requirements = text.split("[tool.poetry.dependencies]", 1)[1].split("\n[", 1)[0]
    assert not any(line.strip().lower().startswith("pydantic") for line in requirements.splitlines())
