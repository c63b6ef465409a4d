"""Progress says what it counts, with an end: a bar with rate and ETA on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from rich.console import Console

from m365move import progress
from m365move.cli import main
from m365move.domain.orders import OrderKind
from m365move.execution.intents import IntentState
from m365move.execution.run_progress import Progress
from m365move.execution.subscription_work import SubscriptionWork
from m365move.progress import tracking
from m365move.progress.terminal_display import ProgressDisplay, format_rate_line
from m365move.sandbox.faults import Faults
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import migrate_args, sandbox_on, use_credentials, write_estate


class _Intent:
    def __init__(self, state: IntentState) -> None:
        self.state = state
        self.kind = OrderKind.CANCELLATION


def _works(count: int, orders_each: int) -> list[SubscriptionWork]:
    return [SubscriptionWork(str(n), "c", [_Intent(IntentState.PLANNED) for _ in range(orders_each)])  # type: ignore[misc]
            for n in range(count)]


def test_plain_lines_have_count_rate_and_eta() -> None:
    assert format_rate_line("subscriptions read", 250, 1000, 10.0) == \
        "subscriptions read: 250/1,000 (25%), 25.0/s, ETA 0:00:30"
    assert format_rate_line("plans", 10, 10, 2.0) == "plans: 10/10 (100%), 5.0/s, done in 0:00:02"
    assert format_rate_line("orders", 3, 0, 2.0, "phase 1: placing") == \
        "orders: 3, 1.5/s, 0:00:02 so far [phase 1: placing]"


class _Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_non_terminal_run_prints_periodic_plain_lines_with_count_and_total() -> None:
    stream = io.StringIO()
    # One second per item, a line every 10 s: about one line per ten items, then the end.
    with progress.use(ProgressDisplay(stream, every_seconds=10, terminal=False, clock=_Clock(1.0))):
        for _ in progress.iterate(range(100), "subscriptions read"):
            pass
    lines = stream.getvalue().splitlines()
    assert 8 <= len(lines) <= 12, lines  # periodic, never one line per item
    assert re.fullmatch(r"subscriptions read: \d+/100 \(\d+%\), 1\.0/s, ETA 0:01:\d\d", lines[0]), lines[0]
    assert lines[-1].startswith("subscriptions read: 100/100 (100%), 1.0/s, done in 0:01:4")


def test_quick_work_stays_silent() -> None:
    stream = io.StringIO()
    with progress.use(ProgressDisplay(stream, every_seconds=10, terminal=False, clock=_Clock(0.001))):
        for _ in progress.iterate(range(100), "subscriptions read"):
            pass
    assert stream.getvalue() == ""


def test_periodic_lines_come_at_their_interval() -> None:
    stream = io.StringIO()
    with progress.use(ProgressDisplay(stream, every_seconds=0, terminal=False)), \
            progress.task("orders", 4) as orders:
        orders.advance()
        orders.advance(2)
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["orders: 0/4", "orders: 1/4", "orders: 3/4",
                                                       "orders: 3/4"]  # the last: its end
    assert re.search(r"ETA \d+:\d\d:\d\d", lines[2])


def test_forced_terminal_run_renders_a_bar_with_rate_and_eta() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=160, color_system=None)
    with progress.use(ProgressDisplay(stream, terminal=True, console=console, bar_after=0)), \
            progress.task("orders", 10, detail="phase 1: placing, batch 1 of 2") as orders:
        orders.advance(5)
    out = stream.getvalue()
    assert "━" in out  # rich's bar
    assert "orders" in out and "5/10" in out
    assert re.search(r"\d+\.\d/s", out)  # rate
    assert "ETA" in out and re.search(r"\d:\d\d:\d\d", out)
    assert "batch 1 of 2" in out


def test_executor_progress_counts_subscriptions_and_orders_with_batch_n_of_m() -> None:
    stream = io.StringIO()
    run = Progress(0, stream=stream, every_seconds=0)
    run.expect(_works(5, 2), batch_size=2)  # 3 batches, 10 orders
    assert (run.total, run.batches) == (5, 3)
    run.phase("phase 1: placing")
    run.count("placed", 2)
    run.phase("phase 1: polling")
    run.count("completed", 2)
    run.phase("phase 1: placing")  # batch 2: batch 1's 4 orders are over
    run.count("rejected")
    run.phase("phase 1: placing")  # batch 3
    run.done()
    lines = stream.getvalue().splitlines()
    orders = [line for line in lines if line.startswith("orders")]
    assert any(line.startswith("orders: 2/10") and "[phase 1: polling, batch 1 of 3; completed 2, placed 2]" in line
               for line in orders), orders
    assert any(line.startswith("orders: 5/10") and "batch 2 of 3" in line for line in orders), orders
    assert orders[-1].startswith("orders: 10/10 (100%)")  # every batch is over: every order ended for this run
    subscriptions = [line for line in lines if line.startswith("subscriptions")]
    assert any(line.startswith("subscriptions: 2/5") and "[batch 2 of 3]" in line for line in subscriptions)
    assert subscriptions[-1].startswith("subscriptions: 5/5 (100%)")


def test_interrupted_run_ends_short_of_its_total() -> None:
    stream = io.StringIO()
    run = Progress(0, stream=stream, every_seconds=0)
    run.expect(_works(5, 2), batch_size=2)
    run.phase("phase 1: placing")
    run.done()  # stopped after the first batch
    last = {line.split(":")[0]: line for line in stream.getvalue().splitlines()}
    assert last["orders"].startswith("orders: 4/10 (40%)")
    assert last["subscriptions"].startswith("subscriptions: 2/5 (40%)")


def test_outside_a_kernel_progress_goes_to_stderr_never_stdout() -> None:
    display = tracking._default_display()
    assert isinstance(display, ProgressDisplay) and display.stream is sys.stderr


def test_migrate_json_keeps_stdout_for_the_document_and_shows_progress_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)
    builder = standard()
    builder.subscription("3000001", resources=[(BASE, 12), (ADDON, 3)])
    builder.subscription("3000002", resources=[(BASE, 5)])
    path, workspace = write_estate(tmp_path, builder.doc), tmp_path / "work"
    with sandbox_on(path, Faults(order_processing_seconds=0.05)) as server, \
            progress.use(ProgressDisplay(every_seconds=0, terminal=False)):
        capsys.readouterr()
        status = main(migrate_args("switch-plan", path, server, workspace, "--execute", "--format", "json"))
    out, err = capsys.readouterr()
    assert status == 0 and json.loads(out)["summary"] == {"migrated": 2}
    lines = err.splitlines()
    assert any(re.match(r"subscriptions planned: 2/2 \(100%\)", line) for line in lines), lines
    assert any(re.match(r"orders: \d+/3 .*\[phase 1: (placing|polling)", line) for line in lines), lines
    assert any(line.startswith("orders: 3/3 (100%)") for line in lines), lines
    assert any(line.startswith("subscriptions: 2/2 (100%)") for line in lines), lines
