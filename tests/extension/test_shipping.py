"""What the runner image installs: the committed lock, the Dockerfile that installs it, the changelog Connect shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tomllib
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
REGENERATE = "run `.venv-runner/bin/python scripts/lock_requirements.py` and commit requirements.lock"


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for number, line in enumerate(LOCK.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!_-]+)", line.strip())
        assert match, f"requirements.lock:{number}: not an exact pin: {line!r}"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def poetry_constraint(value: object) -> SpecifierSet:
    text = str(value["version"] if isinstance(value, dict) else value).strip()
    return SpecifierSet("" if text == "*" else text)


def test_every_runtime_dependency_is_pinned_within_its_constraint() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["poetry"]["dependencies"]
    pins = locked()
    for name, constraint in dependencies.items():
        if name == "python" or (isinstance(constraint, dict) and constraint.get("optional")):
            continue
        pinned = pins.get(canonicalize_name(name))
        assert pinned is not None, f"{name} (pyproject.toml) is not in requirements.lock: {REGENERATE}"
        assert poetry_constraint(constraint).contains(pinned, prereleases=True), (
            f"requirements.lock pins {name}=={pinned}, outside pyproject.toml's {constraint}: {REGENERATE}")


def test_the_lock_is_what_the_runner_environment_has() -> None:
    """The tests under the runner ran with exactly the locked versions (.venv-runner is the image's environment)."""
    site = sorted(ROOT.glob(".venv-runner/lib/python*/site-packages"))
    if not site:
        pytest.skip("no .venv-runner here (scripts/test makes it before running the tests)")
    installed = {}
    for info in site[-1].glob("*.dist-info"):
        name, _, rest = info.name.removesuffix(".dist-info").partition("-")
        installed[canonicalize_name(name)] = rest
    different = {name: (pinned, installed.get(name)) for name, pinned in locked().items()
                 if installed.get(name) != pinned}
    assert different == {}, f"locked vs .venv-runner: {different}; {REGENERATE}"


def test_the_dockerfile_installs_the_lock_and_resolves_nothing() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    commands = [line for line in dockerfile.splitlines() if line.startswith(("RUN", "COPY"))]
    assert any("requirements.lock" in line for line in commands if line.startswith("COPY"))
    assert any("-r requirements.lock" in line and "--no-deps" in line for line in commands if line.startswith("RUN"))
    assert not any("poetry update" in line or "poetry lock" in line for line in commands)


def test_the_changelog_connect_shows_exists_and_names_the_extensions_version() -> None:
    descriptor = json.loads((ROOT / "extension" / "extension.json").read_text())
    assert descriptor["changelog_url"].endswith("/blob/main/CHANGELOG.md")
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {descriptor['version']}" in changelog
