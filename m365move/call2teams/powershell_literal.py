"""The one rule for every value that enters a generated PowerShell script.

Generated scripts are run by a tenant administrator and carry names that tenants and customers choose, so
a name must never become code. PowerShell's tokenizer is more generous than it looks:

- a single-quoted string ends at ``'`` and also at the typographic quotes U+2018, U+2019, U+201A and
  U+201B; two quote characters in a row are one literal quote;
- a double-quoted string expands ``$var`` and runs ``$(...)``;
- a ``#`` comment ends at the end of the line, a ``<# ... #>`` comment at the first ``#>``.

Hence the rule:

1. a value is written only as a single-quoted literal (``ps_literal``), with every one of the five quote
   characters doubled (doubling a character keeps it: PowerShell keeps the second of the pair);
2. characters that could end a line or hide what the reader sees (control, format, line/paragraph
   separator, lone surrogate) are never written raw: the literal becomes a parenthesised concatenation
   with ``[char]0x....`` for each of them, so the value stays exact (the object is still found) and the
   text stays on one line;
3. a value appears in a comment only through ``ps_comment``, as such a literal, on a ``#`` line;
4. no value ever goes into a double-quoted string or a ``<# ... #>`` block; scripts format messages with
   ``('text {0}' -f $variable)`` instead.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# PowerShell's single-quote characters (its tokenizer's CharTraits): each both opens and closes a string.
SINGLE_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")
# Categories never written raw: Cc control (newlines included), Cf format (bidirectional overrides, zero-width),
# Zl/Zp line and paragraph separators, Cs lone surrogates (they cannot even be written as UTF-8).
_ENCODED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def needs_encoding(char: str) -> bool:
    """True for a character ``ps_literal`` writes as ``[char]0x....`` instead of raw."""
    return unicodedata.category(char) in _ENCODED_CATEGORIES


def _quoted(text: str) -> str:
    return "'" + "".join(char * 2 if char in SINGLE_QUOTES else char for char in text) + "'"


def _char_codes(char: str) -> list[str]:
    # [char] holds one UTF-16 code unit: a character beyond the BMP is written as its surrogate pair.
    data = char.encode("utf-16-le", errors="surrogatepass")
    return [f"[char]0x{int.from_bytes(data[i:i + 2], 'little'):04X}" for i in range(0, len(data), 2)]


def ps_literal(value: str) -> str:
    """A PowerShell expression that evaluates to exactly ``value`` and can run nothing.

    ``'text'`` in the common case; ``('line1' + [char]0x000A + 'line2')`` when the value holds a character
    that must not be written raw. Valid as a command argument, in a hashtable, an array or a comparison.
    """
    if not any(needs_encoding(char) for char in value):
        return _quoted(value)
    parts: list[str] = []
    run = ""
    for char in value:
        if needs_encoding(char):
            if run:
                parts.append(_quoted(run))
                run = ""
            parts.extend(_char_codes(char))
        else:
            run += char
    if run:
        parts.append(_quoted(run))
    # Start with a string so that "+" concatenates ([char] + [char] would add numbers).
    if not parts[0].startswith("'"):
        parts.insert(0, "''")
    return "(" + " + ".join(parts) + ")"


def ps_literal_list(values: Iterable[str]) -> str:
    """Literals separated by commas: a PowerShell array (``'a','b'``)."""
    return ",".join(ps_literal(value) for value in values)


def ps_comment(template: str, *values: str | int) -> str:
    """A ``#`` comment line: ``template`` is the project's own text, each ``{}`` a value as a literal.

    Integers go in as digits. The template must be a single line of our own prose (checked), so the whole
    comment stays one line whatever the values hold.
    """
    if any(needs_encoding(char) for char in template):
        raise ValueError("a comment template must be one line of plain text")
    rendered = [str(value) if isinstance(value, int) else ps_literal(value) for value in values]
    return "# " + template.format(*rendered)
