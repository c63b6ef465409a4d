"""Tables printed to a terminal show ANSI escapes, carriage returns and bidi controls as visible escapes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from m365move.audit.tables import AuditTable
from m365move.call2teams.render import render_check
from m365move.call2teams.snapshot import VoiceRoute
from m365move.call2teams.tenant_check import CheckOptions, check_tenants
from m365move.cli import main
from m365move.cli.audit_command import text_table
from m365move.text.terminal_text import visible, visible_lines
from tests.call2teams.helpers import snapshot
from tests.estate_builder import standard

# Clears the screen, retitles the terminal, overwrites the line, and shows "exe.txt" as "txt.exe".
HOSTILE = "Call2Teams\x1b[2J\x1b]0;pwned\x07\rok\u202eexe.txt\u2066\x9b31m\u200b"
HIDDEN = ("\x1b", "\x07", "\r", "\u202e", "\u2066", "\x9b", "\u200b")


def assert_visible(text: str) -> None:
    assert not [char for char in HIDDEN if char in text], repr(text)
    assert "\\x1b[2J" in text and "\\u202e" in text and "\\x0d" in text


def test_the_rule() -> None:
    assert visible(HOSTILE) == (
        "Call2Teams\\x1b[2J\\x1b]0;pwned\\x07\\x0dok\\u202eexe.txt\\u2066\\x9b31m\\u200b"
    )
    assert visible("Zoë → café … 日本") == "Zoë → café … 日本"
    assert visible_lines("a\nb\x1b") == "a\nb\\x1b" and visible("a\nb") == "a\\x0ab"


def test_plan_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An id holding control characters never reaches the table: the estate refuses it (issue 28), visibly."""
    builder = standard().subscription(HOSTILE)
    estate = tmp_path / "estate.yaml"
    estate.write_text(yaml.safe_dump(builder.doc, allow_unicode=True), encoding="utf-8")
    assert main(["plan", "--mode", "new-subscription", "--estate", str(estate)]) == 2
    captured = capsys.readouterr()
    assert not [char for char in HIDDEN if char in captured.out + captured.err]
    assert "commerce.subscriptions[0].id: an id is" in captured.err


def test_call2teams_check_table() -> None:
    route = VoiceRoute(identity=HOSTILE, name=HOSTILE, pstn_usages=(HOSTILE,))
    report = check_tenants([snapshot(HOSTILE, voice_routes=(route,))], CheckOptions())
    assert_visible(render_check(report))


def test_audit_table() -> None:
    table = AuditTable("t", "Title", ("reseller", "n"), ((HOSTILE, 1),))
    assert_visible(text_table(table, 10))


def test_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--mode", "new-subscription", "--estate", str(tmp_path / f"{HOSTILE}\n.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\\x1b" in err and "\x1b" not in err
