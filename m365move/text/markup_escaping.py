"""Values placed in markdown or HTML that a reviewer's browser shows as text, never as markup.

Names, ids and parameters come from customers, tenants and operators. ``html.escape`` is enough inside
HTML we build ourselves; inside a markdown cell it is not, because the markdown renderer still reads
backticks, asterisks, brackets and pipes in the escaped text (a backtick ends a code span, and whatever
follows it is raw HTML again). :func:`markdown_literal` writes every ASCII punctuation mark and control
character as a numeric character reference: the renderer shows the character and never interprets it.
"""

from __future__ import annotations

import html

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")


def _needs_reference(char: str) -> bool:
    code = ord(char)
    return char not in _PLAIN and (code < 0x80 or 0x80 <= code < 0xA0)


def markdown_literal(value: object) -> str:
    """``value`` as text for a markdown cell (also valid inside the HTML tags such a cell may hold)."""
    return "".join(f"&#{ord(char)};" if _needs_reference(char) else char for char in str(value))


def html_text(value: object) -> str:
    """``value`` as text inside HTML we build (element content or a quoted attribute)."""
    return html.escape(str(value), quote=True)
