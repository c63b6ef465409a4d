"""The one quoting rule (powershell_literal): values read back exactly, nothing escapes a literal."""

from __future__ import annotations

import pytest

from m365move.call2teams.powershell_literal import ps_comment, ps_literal, ps_literal_list
from tests.call2teams.hostile_names import HOSTILE_NAMES
from tests.call2teams.powershell_grammar import (
    as_powershell_reads_it,
    commands,
    comments,
    parse,
    raw_characters,
    shape,
)


class TestLiteral:
    @pytest.mark.parametrize(("text", "quoted"), [
        ("Tag:O'Brien", "'Tag:O''Brien'"),
        ("$env:x", "'$env:x'"),
        ("C2T-Intl\u2019", "'C2T-Intl\u2019\u2019'"),
        ("\u2018\u201a\u201b", "'\u2018\u2018\u201a\u201a\u201b\u201b'"),
        ("", "''"),
    ])
    def test_every_single_quote_character_is_doubled(self, text: str, quoted: str) -> None:
        assert ps_literal(text) == quoted

    def test_line_breaks_and_controls_are_encoded(self) -> None:
        assert ps_literal("a\nb") == "('a' + [char]0x000A + 'b')"
        assert ps_literal("\r") == "('' + [char]0x000D)"
        assert ps_literal("x\U000e0001") == "('x' + [char]0xDB40 + [char]0xDC01)"  # non-BMP: a surrogate pair

    @pytest.mark.parametrize("name", HOSTILE_NAMES)
    def test_literal_is_one_value_and_reads_back_exactly(self, name: str) -> None:
        """As a command argument: one command, one parameter, the literal's value is the name (as PowerShell reads it)."""
        root = parse(f"Remove-CsOnlineVoiceRoute -Identity {ps_literal(name)} -WhatIf")
        found = commands(root)
        assert [c.name for c in found] == ["Remove-CsOnlineVoiceRoute"]
        assert found[0].parameters == ["-Identity", "-WhatIf"]
        assert _as_read(found[0].literal("-Identity")) == _as_read(name)
        assert raw_characters(ps_literal(name)) == []

    @pytest.mark.parametrize("name", HOSTILE_NAMES)
    def test_list_and_hashtable_hold_exactly_the_values(self, name: str) -> None:
        root = parse(f"Set-CsOnlinePstnUsage -Identity Global -Usage @{{Remove={ps_literal_list([name, 'x', name])}}}")
        (command,) = commands(root)
        assert command.literal("-Usage") == {"Remove": (_as_read(name), "x", _as_read(name))}

    @pytest.mark.parametrize("name", HOSTILE_NAMES)
    def test_comment_stays_one_comment(self, name: str) -> None:
        script = ps_comment("remove {} now", name) + "\nWrite-Host 'after'"
        root = parse(script)
        assert len(comments(root)) == 1 and [c.name for c in commands(root)] == ["Write-Host"]
        assert "\n" not in ps_comment("remove {} now", name)

    def test_comment_template_must_be_one_line(self) -> None:
        with pytest.raises(ValueError):
            ps_comment("two\nlines {}", "x")

    def test_shape_collapses_literals(self) -> None:
        root = parse(f"$a = {ps_literal('x' + chr(10) + 'y')}")
        assert ("literal", "x\ny") in shape(root)
        assert ("literal", "it's") in shape(parse("$b = 'it''s'"))

    def test_an_expression_is_not_a_literal(self) -> None:
        root = parse("$c = ('a' + (Get-Date))")
        # Only 'a' is a literal; the parenthesis holds a command, so it is not collapsed into one value.
        assert [t for t in shape(root) if t[0] == "literal"] == [("literal", "a")]
        assert [c.name for c in commands(root)] == ["Get-Date"]


def _as_read(text: str) -> str:
    return as_powershell_reads_it(text)
