"""What the runner image installs: the committed poetry.lock, the Dockerfile that installs it as the image's entrypoint
does, the one environment the tests run in, the changelog Connect shows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

import pytest
import tomllib
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "poetry.lock"
REGENERATE = "run `poetry lock` and commit poetry.lock"
# scripts/test builds the environment it runs in from poetry.lock; elsewhere (an environment made by hand) the
# checks of the environment itself are skipped.
IN_SCRIPTS_TEST = bool(os.environ.get("M365MOVE_REQUIRE_RUNNER"))


def locked() -> dict[str, str]:
    return {canonicalize_name(p["name"]): p["version"] for p in tomllib.loads(LOCK.read_text())["package"]}


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["poetry"]  # type: ignore[no-any-return]


def poetry_constraint(value: object) -> SpecifierSet:
    text = str(value["version"] if isinstance(value, dict) else value).strip()
    if text.endswith(".*") and not text.startswith(("=", "<", ">", "!", "~")):
        text = f"=={text}"
    return SpecifierSet("" if text == "*" else text)


def test_every_dependency_is_locked_within_its_constraint() -> None:
    dependencies = pyproject()["dependencies"]
    assert isinstance(dependencies, dict)
    pins = locked()
    for name, constraint in dependencies.items():
        if name == "python":
            continue
        pinned = pins.get(canonicalize_name(name))
        assert pinned is not None, f"{name} (pyproject.toml) is not in poetry.lock: {REGENERATE}"
        assert poetry_constraint(constraint).contains(pinned, prereleases=True), (
            f"poetry.lock pins {name}=={pinned}, outside pyproject.toml's {constraint}: {REGENERATE}")


def test_the_lock_holds_the_runner_of_the_dockerfile_with_its_own_pins() -> None:
    """The lock is resolved together with the runner the image runs: its pins (connect-eaas-core, pydantic …) are
    the project's, so `poetry install` in the image overrides nothing of the runner."""
    runner = re.search(r"connect-extension-runner:(\S+)", (ROOT / "Dockerfile").read_text())
    assert runner is not None
    assert locked()["connect-extension-runner"] == runner.group(1)
    assert locked()["pydantic"].startswith("1."), "the runner pins pydantic<2"


def test_the_dockerfile_installs_the_lock_as_the_runner_image_does() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    commands = [line for line in dockerfile.splitlines() if line.startswith(("RUN", "COPY"))]
    assert any("poetry.lock" in line for line in commands if line.startswith("COPY"))
    assert any(re.search(r"\bpoetry install\b", line) for line in commands if line.startswith("RUN"))
    assert not any(re.search(r"poetry (update|lock)|pip install|--no-deps", line) for line in commands)


@pytest.mark.skipif(not IN_SCRIPTS_TEST, reason="scripts/test checks the environment it builds from poetry.lock")
def test_the_environment_is_the_lock() -> None:
    """The tests (the runner's among them) run with exactly the locked versions: what the image installs."""
    pins = locked()
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    different = {name: (pins[name], version) for name, version in installed.items()
                 if name in pins and version != pins[name]}
    assert different == {}, f"poetry.lock vs this environment: {different}; {REGENERATE}"
    for name in ("connect-extension-runner", "connect-eaas-core", "m365move"):
        assert name in installed, f"{name} is not installed in this environment"


@pytest.mark.skipif(not IN_SCRIPTS_TEST, reason="scripts/test checks the environment it builds from poetry.lock")
def test_pip_check_is_clean_in_the_one_environment() -> None:
    """The project, its dev tools and connect-extension-runner with all its requirements: no conflict at all (the
    runner's `connect-eaas-core<38` and `pydantic<2` are met, nothing was installed with --no-deps)."""
    checked = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.skipif(not os.environ.get("POETRY"), reason="scripts/test names its Poetry in POETRY")
def test_poetry_check_refuses_a_stale_lock(tmp_path: Path) -> None:
    """scripts/test runs `poetry check --lock` first; the same check on a pyproject.toml with one more dependency
    than the lock fails (the CI gate can fail)."""
    poetry = os.environ["POETRY"]
    for name in ("pyproject.toml", "poetry.lock", "README.md"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    current = subprocess.run([poetry, "check", "--lock", "--no-interaction"], cwd=tmp_path, capture_output=True,
                             text=True, check=False)
    assert current.returncode == 0, current.stdout + current.stderr
    text = (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(text.replace('orjson = ">=3.9"', 'orjson = ">=3.9"\nsix = ">=1"', 1))
    stale = subprocess.run([poetry, "check", "--lock", "--no-interaction"], cwd=tmp_path, capture_output=True,
                           text=True, check=False)
    assert stale.returncode != 0 and "poetry lock" in stale.stdout + stale.stderr


def test_the_changelog_connect_shows_exists_and_names_the_extensions_version() -> None:
    descriptor = json.loads((ROOT / "extension" / "extension.json").read_text())
    assert descriptor["changelog_url"].endswith("/blob/main/CHANGELOG.md")
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {descriptor['version']}" in changelog
