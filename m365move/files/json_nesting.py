"""How deep JSON text nests, counted without recursion: for refusing deep input before a recursive parser sees it.

Python's ``json`` recurses once per ``[`` or ``{``, so JSON nested thousands deep ends in a ``RecursionError``
rather than an error naming the file. Counting the brackets outside strings first lets the readers (estate
inputs, sealed folders' manifests) refuse such text with the line where it went too deep.
"""

from __future__ import annotations


def line_nested_deeper_than(text: str, limit: int) -> int | None:
    """The line (from 1) where ``[`` and ``{`` outside strings first nest deeper than ``limit``; None if never."""
    depth, in_string, escaped, line = 0, False, False, 1
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line
        elif char in "]}":
            depth -= 1
        if char == "\n":
            line += 1
    return None
