"""The kernel's environment: the caller's extra variables (secrets) and a path to our own package.

The kernel inherits the environment of this process when it is spawned; papermill offers no way to
hand it an environment, so the variables are set for the duration of the run and restored after.
Values live only in memory: nothing here writes them anywhere. Because the process environment is
shared, one process runs one runbook at a time (the CLI does; tests and the benchmark run them in turn).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import m365move

PACKAGE_ROOT = Path(m365move.__file__).resolve().parent.parent


@contextmanager
def kernel_environment(extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Set ``extra`` and put our package first on the kernel's ``PYTHONPATH``, then restore."""
    # The kernel runs in the run folder and must import the very m365move this runner is, even when
    # the package is not installed (a checkout used with PYTHONPATH) or another copy is installed.
    python_path = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]))
    wanted = {**dict(extra or {}), "PYTHONPATH": python_path}
    saved = {name: os.environ.get(name) for name in wanted}
    try:
        os.environ.update(wanted)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
