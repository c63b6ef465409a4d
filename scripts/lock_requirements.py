"""Writes requirements.lock: the Connect extension's runtime dependencies, pinned to the versions installed here.

Run it in .venv-runner (the runner image's environment: connect-extension-runner with the project installed over
it) after changing pyproject.toml's dependencies:

    .venv-runner/bin/python scripts/lock_requirements.py

The extension's Dockerfile installs exactly these versions (``pip install --no-deps -r requirements.lock``), so the
runner image runs what the tests ran, on every start. tests/extension/test_shipping.py checks the lock against
pyproject.toml and against the versions .venv-runner has.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
HEADER = """\
# The Connect extension's runtime dependencies (the closure of pyproject.toml's, without the dev extra), pinned to
# the versions the tests ran with in .venv-runner. The Dockerfile installs exactly these. Made by
#     .venv-runner/bin/python scripts/lock_requirements.py
# (run it again after changing pyproject.toml's dependencies; tests/extension/test_shipping.py says when).
"""


def runtime_closure(project: str = "m365move") -> dict[str, str]:
    """name -> installed version of every package the project needs at run time (markers for this interpreter)."""
    pinned: dict[str, str] = {}
    walked: set[tuple[str, str]] = set()  # (package, extra) whose requirements are already queued
    waiting = [(Requirement(r), "") for r in distribution(project).requires or []]
    while waiting:
        requirement, extra = waiting.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        try:
            found = distribution(requirement.name)
        except PackageNotFoundError:
            raise SystemExit(f"lock_requirements: {requirement.name} is required but not installed here") from None
        pinned[name] = found.version
        for wanted in {"", *requirement.extras}:
            if (name, wanted) not in walked:
                walked.add((name, wanted))
                waiting.extend((Requirement(line), wanted) for line in found.requires or [])
    return dict(sorted(pinned.items()))


def main() -> int:
    pins = runtime_closure()
    text = HEADER + "".join(f"{name}=={version}\n" for name, version in pins.items())
    (ROOT / "requirements.lock").write_text(text)
    print(f"requirements.lock: {len(pins)} packages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
