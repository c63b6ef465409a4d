"""Per-subscription warnings are summarised: a few examples per code, then one line with the count."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from m365move.cli import main
from m365move.text.warning_summary import EXAMPLES, per_subscription, summarised
from tests.estate_builder import BASE, standard
from tests.execution.sandbox_run import CREDENTIALS, migrate_args, sandbox_on, use_credentials, write_estate


def test_the_first_examples_pass_then_a_count_per_code() -> None:
    stream = io.StringIO()
    log = logging.getLogger("m365move.test")
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []
    try:
        with summarised(stream):
            for n in range(1000):
                log.warning("subscription %s is odd", n, extra=per_subscription("odd", str(n)))
            log.warning("a warning about the run itself")
    finally:
        root.handlers = saved
    lines = stream.getvalue().splitlines()
    assert len(lines) == EXAMPLES + 2
    assert lines[-1] == "WARNING m365move: odd: 1,000 subscriptions in all (3 shown above: 0, 1, 2); each one's row " \
                        "in the results CSV says why"
    assert "a warning about the run itself" in lines[-2]


def test_a_dry_run_after_the_other_mode_does_not_flood(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """40 sources migrated in New Subscription mode, then a Switch Plan dry run: every one is blocked with
    migrated-in-other-mode, the terminal shows three of them and one line counting the 40."""
    use_credentials(monkeypatch)
    builder = standard()
    for n in range(40):
        builder.subscription(str(3000001 + n), resources=[(BASE, 1 + n)])
    estate, workspace = write_estate(tmp_path, builder.doc), tmp_path / "work"
    with sandbox_on(estate) as server:
        assert main(migrate_args("new-subscription", estate, server, workspace, "--execute")) == 0
        # The dry run as an operator runs it: its own process, stderr as the terminal would show it.
        done = subprocess.run([sys.executable, "-m", "m365move", *migrate_args("switch-plan", estate, server, workspace)],
                              env=dict(os.environ) | CREDENTIALS, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    err = done.stderr
    per_source = [line for line in err.splitlines() if re.search(r"subscription 30000\d\d was migrated", line)]
    assert len(per_source) == EXAMPLES
    assert "migrated-in-other-mode: 40 subscriptions in all" in err
