"""Reading generated PowerShell back with a real PowerShell grammar (tree-sitter-powershell).

The grammar is a faithful PowerShell parser except in one respect that matters here: it knows only the
ASCII quote and dash characters, while PowerShell's tokenizer also takes U+2018..U+201B as single quotes,
U+201C..U+201E as double quotes and U+2013..U+2015 as dashes. ``parse`` therefore maps those characters to
their ASCII equivalents first (one character for one, as PowerShell reads them), so the tree is the one
PowerShell itself would build, and a name that escapes a string through a typographic quote shows up as code.

What the tests read from the tree:

- ``commands``: every command anywhere in the script (top level, pipelines, script blocks, sub-expressions,
  ``if`` bodies), with its name and its elements: parameters, literal values (decoded), hashtables, variables;
- ``shape``: the whole token stream, with every literal expression collapsed to its decoded value, every
  comment to a marker; two scripts with the same shape differ only in the values of their literals.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

# PowerShell's tokenizer (CharTraits / SpecialChars): these count as ', " and - wherever those do.
_AS_POWERSHELL_READS_IT = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2015": "-",
})

_VERBATIM = r"'(?:[^']|'')*'"
_CHAR = r"\[char\]0x[0-9A-Fa-f]{1,4}"
_LITERAL_EXPRESSION = re.compile(rf"^\(\s*(?:{_VERBATIM}|{_CHAR})(?:\s*\+\s*(?:{_VERBATIM}|{_CHAR}))*\s*\)$")
_PIECE = re.compile(rf"{_VERBATIM}|{_CHAR}")


def as_powershell_reads_it(text: str) -> str:
    return text.translate(_AS_POWERSHELL_READS_IT)


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_powershell.language()))


class GrammarError(AssertionError):
    pass


def parse(script: str) -> Node:
    """The script's syntax tree; GrammarError when the grammar finds an error or a missing token."""
    tree = _parser().parse(as_powershell_reads_it(script).encode("utf-8", errors="surrogatepass"))
    root = tree.root_node
    if root.has_error:
        bad = next(_walk(root, lambda n: n.is_error or n.is_missing), root)
        raise GrammarError(f"syntax error at {bad.start_point}: {_text(bad)[:80]!r}")
    return root


def raw_characters(script: str) -> list[str]:
    """Characters that must never stand raw in a script (all are written as [char]0x...): line breaks other than
    LF, control, format, separators, lone surrogates."""
    return [char for char in script if char != "\n" and unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp", "Cs"}]


def _walk(node: Node, wanted: Any) -> Any:
    if wanted(node):
        yield node
    for child in node.children:
        yield from _walk(child, wanted)


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="surrogatepass")


def literal_value(node: Node) -> str | None:
    """The value of a literal expression (``'...'`` or ``('...' + [char]0x0A + ...)``), else None."""
    if node.type == "string_literal":
        text = _text(node)
        if re.fullmatch(_VERBATIM, text):
            return _decode_verbatim(text)
        return None
    if node.type == "parenthesized_expression":
        text = _text(node)
        if not _LITERAL_EXPRESSION.match(text):
            return None
        if any(True for _ in _walk(node, lambda n: n.type in {"command", "variable", "sub_expression",
                                                               "invokation_expression", "member_access"})):
            return None
        pieces = []
        for piece in _PIECE.findall(text):
            if piece.startswith("'"):
                pieces.append(_decode_verbatim(piece))
            else:
                pieces.append(chr(int(piece.split("0x")[1], 16)))
        # [char] values are UTF-16 code units: join surrogate pairs back into one character.
        return "".join(pieces).encode("utf-16-le", errors="surrogatepass").decode("utf-16-le", errors="surrogatepass")
    return None


def _decode_verbatim(text: str) -> str:
    return text[1:-1].replace("''", "'")


@dataclass(frozen=True)
class Command:
    """A command: its name and its elements, e.g. ``("param", "-Identity"), ("literal", "Tag:X")``."""

    name: str
    elements: tuple[tuple[str, Any], ...]

    def literal(self, parameter: str) -> Any:
        """The value following ``parameter`` (a literal's text, a hashtable, ...)."""
        for index, (kind, value) in enumerate(self.elements):
            if kind == "param" and value.lower() == parameter.lower():
                return self.elements[index + 1][1] if index + 1 < len(self.elements) else None
        raise KeyError(parameter)

    @property
    def parameters(self) -> list[str]:
        return [value for kind, value in self.elements if kind == "param"]


def commands(root: Node) -> list[Command]:
    """Every command in the script, in source order."""
    return [_command(node) for node in _walk(root, lambda n: n.type == "command")]


def _command(node: Node) -> Command:
    name_node = node.child_by_field_name("command_name") or next(
        (c for c in node.children if c.type in {"command_name", "command_invokation_operator"}), None)
    name = _text(name_node) if name_node is not None else "?"
    elements: list[tuple[str, Any]] = []
    for container in (c for c in node.children if c.type == "command_elements"):
        for element in container.children:
            if element.type == "command_argument_sep":
                continue
            if element.type == "command_parameter":
                elements.append(("param", _text(element)))
            else:
                elements.append(_argument(element))
    return Command(name, tuple(elements))


def _argument(node: Node) -> tuple[str, Any]:
    values = _literals_of_array(node)
    if values is not None:
        return ("literal", values[0]) if len(values) == 1 else ("array", tuple(values))
    hashtable = next(_walk(node, lambda n: n.type == "hash_literal_expression"), None)
    if hashtable is not None and _text(hashtable) == _text(node):
        return ("hashtable", _hashtable(hashtable))
    if node.type in {"generic_token", "variable"} or _text(node).startswith("$"):
        return ("token", _text(node))
    # Anything else (a script block, a sub-expression) by its token stream, literals collapsed to values.
    return ("expression", tuple(shape(node)))


def _literals_of_array(node: Node) -> list[str] | None:
    """The literal values of ``'a'`` / ``'a','b'`` / ``('a' + [char]0x0A)``, or None if it is anything else."""
    current = node
    while current.type != "array_literal_expression" and current.named_child_count == 1:
        current = current.named_children[0]
    items = [current] if current.type != "array_literal_expression" else list(current.named_children)
    values = []
    for item in items:
        while literal_value(item) is None and item.named_child_count == 1:
            item = item.named_children[0]
        value = literal_value(item)
        if value is None:
            return None
        values.append(value)
    return values


def _hashtable(node: Node) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    for entry in _walk(node, lambda n: n.type == "hash_entry"):
        key = entry.child_by_field_name("key") or next(c for c in entry.children if c.type == "key_expression")
        value = entry.named_children[-1]
        literals = _literals_of_array(value)
        entries[_text(key)] = tuple(literals) if literals is not None else ("expression", tuple(shape(value)))
    return entries


def shape(root: Node) -> list[tuple[str, ...]]:
    """The token stream: literals as ("literal", value), comments as ("comment",), other leaves by type and text."""
    stream: list[tuple[str, ...]] = []

    def visit(node: Node) -> None:
        value = literal_value(node)
        if value is not None:
            stream.append(("literal", value))
            return
        if node.type == "comment":
            stream.append(("comment",))
            return
        if node.child_count == 0:
            stream.append((node.type, _text(node)))
            return
        for child in node.children:
            visit(child)

    visit(root)
    return stream


def expandable_strings(root: Node) -> list[str]:
    """Every double-quoted (expanding) string in the script."""
    return [_text(node) for node in _walk(root, lambda n: n.type in {"expandable_string_literal",
                                                                      "expandable_here_string_literal"})]


def comments(root: Node) -> list[str]:
    return [_text(node) for node in _walk(root, lambda n: n.type == "comment")]
