"""The progress bar on a real terminal: the real CLI under a pseudo-terminal, read as a person's screen would be.

The display decides once, with rich's own terminal detection, whether it draws bars; earlier the project's
display re-checked the stream on every update, and once rich had wrapped stderr the check said "no terminal": the
bar stayed at 0 for the whole run while plain lines scrolled under it. Tests that forced terminal mode could not
see that; this one runs ``m365move migrate --execute`` in a child process whose stderr is a pty.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from m365move.sandbox.faults import Faults
from tests.estate_builder import BASE, standard
from tests.execution.sandbox_run import CREDENTIALS, confirmed, migrate_args, sandbox_on, write_estate

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
SOURCES = 12


def _estate(folder: Path) -> Path:
    builder = standard()
    for n in range(SOURCES):
        builder.subscription(str(3000001 + n), resources=[(BASE, 5 + n)])
    return write_estate(folder, builder.doc)


def _read_all(fd: int, process: subprocess.Popen[bytes], timeout: float) -> bytes:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_the_bar_advances_to_its_total_on_a_real_terminal(tmp_path: Path) -> None:
    estate = _estate(tmp_path)
    master, slave = os.openpty()
    os.set_blocking(master, True)
    env = dict(os.environ) | CREDENTIALS | {"COLUMNS": "160", "LINES": "40", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    env.pop("M365MOVE_PROGRESS_EVERY", None)
    with sandbox_on(estate, Faults(order_processing_seconds=0.4)) as server:
        args = confirmed(migrate_args("new-subscription", estate, server, tmp_path / "work", "--execute",
                                      "--batch-size", "4", "--concurrency", "2"))
        process = subprocess.Popen([sys.executable, "-m", "m365move", *args], stdin=slave, stdout=subprocess.DEVNULL,
                                   stderr=slave, env=env, cwd=tmp_path)
        os.close(slave)
        try:
            raw = _read_all(master, process, timeout=180)
            status = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(master)
    screen = _ANSI.sub("", raw.decode("utf-8", "replace")).replace("\r", "\n")
    assert status == 0, screen[-3000:]
    counts = [int(done) for done in re.findall(rf"subscriptions\b[^\n]*?(\d+)/{SOURCES}\b", screen)]
    assert counts, f"no subscriptions bar on the terminal:\n{screen[-3000:]}"
    assert counts[-1] == SOURCES, f"the bar ended at {counts[-1]}/{SOURCES}:\n{screen[-3000:]}"
    assert any(0 < c < SOURCES for c in counts), f"the bar never showed a step between 0 and {SOURCES}: {counts}"
    assert sorted(counts) == counts, f"the bar went back: {counts}"
    bar = next(line for line in reversed(screen.splitlines()) if re.search(rf"subscriptions\b.*{SOURCES}/{SOURCES}", line))
    assert "━" in bar and re.search(r"\d+\.\d/s", bar) and "ETA" in bar, bar  # rich's bar, rate and ETA
    # A terminal shows the bar, not the plain lines meant for logs.
    assert not re.search(r"subscriptions: \d+/", screen), "plain progress lines on a terminal"
