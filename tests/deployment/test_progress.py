"""Progress lines say what they count, with an end where one is known."""

from __future__ import annotations

import io

from m365move.execution.progress import Progress
from m365move.progress_display import ProgressDisplay, format_rate_line


def test_executor_line_names_subscriptions_orders_and_batches() -> None:
    stream = io.StringIO()
    progress = Progress(1000, stream=stream, every_seconds=0)
    progress.batches = 5
    progress.phase("phase 1: placing")
    progress.count("placed", 3)
    progress.phase("phase 2: placing")
    progress.phase("phase 1: placing")
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("[phase 1: placing, batch 2 of 5] 1000 subscriptions; orders: placed 3; 0:00:0")


def test_plain_lines_have_count_rate_and_eta() -> None:
    assert format_rate_line("subscriptions read", 250, 1000, 10.0) == \
        "subscriptions read: 250/1,000 (25%), 25.0/s, ETA 0:00:30"
    assert format_rate_line("plans", 10, 10, 2.0) == "plans: 10/10 (100%), 5.0/s, done in 0:00:02"
    stream = io.StringIO()
    display = ProgressDisplay(stream, every_seconds=3600, terminal=False)
    for done in range(1, 101):
        display.update("subscriptions read", done, 100)
    display.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # the first, then the end: periodic, never one line per item
    assert lines[-1].startswith("subscriptions read: 100/100 (100%)")


def test_terminal_bar_draws_without_error() -> None:
    stream = io.StringIO()
    with ProgressDisplay(stream, terminal=True) as display:
        display.update("subscriptions read", 5, 10)
        display.update("subscriptions read", 10, 10)
    assert "subscriptions read" in stream.getvalue()
