"""Text for a terminal that shows hostile characters instead of obeying them.

Names come from customers and tenants. Printed raw, an ANSI escape sequence recolours, moves the cursor or
rewrites the title of the operator's terminal, a carriage return overwrites what was printed before it,
and a bidirectional control (U+202E RIGHT-TO-LEFT OVERRIDE and friends) shows ``exe.txt`` as ``txt.exe``.
Every control character (Unicode category Cc), every format character (Cf: bidi controls, zero-width
characters) and the line and paragraph separators are written as visible escapes: ``\\x1b``, ``\\u202e``.
"""

from __future__ import annotations

import unicodedata

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN_CATEGORIES


def visible(value: object) -> str:
    """One value (a table cell, an error line): every hidden character escaped, line breaks included."""
    text = str(value)
    if text.isprintable():  # the common case, and fast: isprintable() is False for every hidden character
        return text
    return "".join(_escape(char) if _hidden(char) else char for char in text)


def visible_lines(text: str) -> str:
    """Text of several lines we laid out ourselves: each line made :func:`visible`, our line breaks kept."""
    return "\n".join(visible(line) for line in text.split("\n"))
