"""The layers of docs/architecture.md hold: no import cycle, nothing below imports anything above.

Every import counts, also those inside functions and under ``TYPE_CHECKING``: a late import is still a
dependency a reader has to follow. Run it as a script to print the package graph and its layers::

    python tests/test_architecture.py
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = "m365move"

# Bottom to top: a package may import packages of its own layer or below, never above.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("foundations", frozenset({"m365move", "files", "text", "progress", "memory", "rendering", "bundle"})),
    ("domain", frozenset({"domain"})),
    ("estate files", frozenset({"estate"})),
    ("platform clients", frozenset({"commerce", "partnercenter"})),
    ("use cases", frozenset({"execution", "audit", "connect", "call2teams", "plan_output"})),
    ("platform stand-in", frozenset({"sandbox"})),
    ("demo and its data", frozenset({"demo"})),
    ("front ends", frozenset({"cli", "runbooks"})),
)
# Root modules allowed beside the packages: the package itself, its entry point, the error tree, the version.
ROOT_MODULES = frozenset({"__init__", "__main__", "errors", "version_info"})
# Front ends outside the library: they may import any of it, it never imports them.
OUTSIDE_FRONT_ENDS = ("extension", "connect_reports")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def library_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / LIBRARY).rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    """Every import of a library module by ``name``, each resolved to the module it loads."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == LIBRARY:
                    yield Import(name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, path.name == "__init__.py", node)
            if target.split(".")[0] != LIBRARY:
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield Import(name, submodule if submodule in known else target, node.lineno)


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and _is_package(module)) else LIBRARY


def _is_package(module: str) -> bool:
    return (ROOT / Path(*module.split(".")) / "__init__.py").exists()


def layer_of(package: str) -> int:
    for index, (_, packages) in enumerate(LAYERS):
        if package in packages:
            return index
    raise AssertionError(f"m365move/{package} is in no layer: add it to LAYERS and to docs/architecture.md")


def is_entry_point(module: str) -> bool:
    return module.endswith(".__main__")


def all_imports() -> list[Import]:
    known = library_modules()
    return [found for name, path in known.items() for found in imports_of(name, path, known)]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def module_graph(found: list[Import]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for imp in found:
        if imp.imported != imp.importer:
            edges.setdefault(imp.importer, set()).add(imp.imported)
    return edges


def package_graph(found: list[Import]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for imp in found:
        if is_entry_point(imp.importer):
            continue
        a, b = package_of(imp.importer), package_of(imp.imported)
        if a != b:
            edges.setdefault(a, set()).add(b)
    return edges


class TestLayers:
    def test_no_module_imports_in_a_cycle(self) -> None:
        """No two modules import each other, directly or through others."""
        assert cycles(module_graph(all_imports())) == []

    def test_no_package_imports_in_a_cycle(self) -> None:
        """Packages form a graph without cycles (an entry point, ``__main__``, imports but is never imported)."""
        assert cycles(package_graph(all_imports())) == []

    def test_nothing_below_imports_anything_above(self) -> None:
        """A package imports only packages of its own layer or below."""
        upward = [
            f"{imp.importer} (line {imp.line}) imports {imp.imported}: "
            f"{LAYERS[layer_of(package_of(imp.importer))][0]} may not depend on {LAYERS[layer_of(package_of(imp.imported))][0]}"
            for imp in all_imports()
            if not is_entry_point(imp.importer)
            and layer_of(package_of(imp.imported)) > layer_of(package_of(imp.importer))
        ]
        assert upward == []

    def test_every_package_has_a_layer_and_only_foundations_are_loose_at_the_root(self) -> None:
        """New packages must be placed in a layer; no module lies loose beside them but the allowed ones."""
        for child in sorted((ROOT / LIBRARY).iterdir()):
            if child.is_dir() and (child / "__init__.py").exists():
                layer_of(child.name)
            elif child.suffix == ".py":
                assert child.stem in ROOT_MODULES, f"{child.name} is loose at m365move/: move it into a package"

    def test_the_library_never_imports_its_front_ends_outside_it(self) -> None:
        """extension/ and connect_reports/ use the library; the library does not know them."""
        known = library_modules()
        for name, path in known.items():
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
                assert not any(n.split(".")[0] in OUTSIDE_FRONT_ENDS for n in names), f"{name} imports {names}"

    def test_the_check_sees_a_planted_upward_import_and_cycle(self) -> None:
        """The checks themselves can fail: an import from domain up to cli is both upward and (with cli's) a cycle."""
        planted = [*all_imports(), Import("m365move.domain.planner", "m365move.cli", 1)]
        assert any(layer_of(package_of(i.imported)) > layer_of(package_of(i.importer)) for i in planted)
        assert cycles(package_graph(planted))


def _print_graph() -> None:
    edges = package_graph(all_imports())
    for index, (title, packages) in reversed(list(enumerate(LAYERS))):
        print(f"{index} {title}")
        for package in sorted(packages):
            print(f"    {package:<14} -> {', '.join(sorted(edges.get(package, ()))) or '(nothing of m365move)'}")


if __name__ == "__main__":
    _print_graph()
