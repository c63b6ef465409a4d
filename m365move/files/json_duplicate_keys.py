"""A key written twice in one JSON object, found exactly at the cost of one C-speed pass when there is none.

Every JSON reader the project uses (msgspec, orjson, ``json``) keeps the last value of a repeated key and says
nothing, so an edited estate could quietly lose a plan id or a seat count. YAML's are refused by the YAML
reader; this is the same refusal for JSON. Estates reach 100k subscriptions (70 MB), so the check must not
parse the file in Python.

**The count.** An object member is a colon outside strings. Decode a piece of JSON with msgspec (C) and encode
it again (msgspec writes ``:`` in strings as is): the colons of the result are the decoded members plus the
colons of the decoded strings. In the text there are as many, plus one for each member that a repeated key
lost, plus that member's own colons. ``\\u003a`` escapes are counted on the text's side (any text that looks
like one: never fewer than there are). So equal counts prove that no key repeats; different counts send the
piece to a parser in Python that keeps every key and its position, which names the repeated key or finds that
an escape only looked like one.

**Large text** is taken apart a level at a time (``dict[str, Raw]``, ``list[Raw]``: no values built, nothing
copied), so no more than :data:`PIECE_BYTES` bytes are decoded into Python objects at once (memory stays flat;
a long list's small items are decoded in batches of that size). The same count holds over the whole text: the
members and keys' colons of the objects taken apart, plus the text colons of every piece decoded whole (each
proven on its own), must equal the text's colons. Only when they do not is the text searched piece by piece for
the place (``_in_piece``), which is slower: it copies and counts each level.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from m365move.errors import InputError
from m365move.memory.cyclic_gc import cyclic_gc_paused

PIECE_BYTES = 1 << 16  # decoded whole up to this size; taken apart a level at a time above it

_ANY = msgspec.json.Decoder()
_MEMBERS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_encode = msgspec.json.Encoder().encode
_SPACE = re.compile(r"[ \t\n\r]*")
# The standard library's C scanner: one value of any kind from a position, and one string's end (not in typeshed).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_STRING: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class DuplicateKey:
    """A key found twice in one object: the place as ``commerce.subscriptions[3].plan_id`` and its lines."""

    path: str
    key: str
    line: int | None  # where it is written the second time, when the place in the file is known
    first_line: int | None

    def message(self) -> str:
        first = f" (first on line {self.first_line})" if self.first_line is not None else ""
        return f"{self.path}: key {self.key!r} appears twice in one object{first}"


@dataclass(frozen=True)
class _Repeat:
    """A repeated key in a piece of text: the object's path inside the piece and both positions (characters)."""

    path: Path
    key: str
    first: int
    second: int


def find_duplicate_key(data: bytes | str) -> DuplicateKey | None:
    """The first key written twice in one object of this JSON text, or None. Give it text a parser accepted:
    for text that is not JSON the answer means nothing (the parser's error is the one to show)."""
    data = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    pending: list[_Part] = [(data, (), None)]
    with cyclic_gc_paused():  # what is decoded here is freed at once and holds no cycle
        if _proven(data):
            return None
        while pending:  # the slower search, which names the place
            piece, path, colons = pending.pop()
            found = _in_piece(piece, path, text_colons(piece) if colons is None else colons, pending)
            if found is not None:
                return _placed(data, piece, path, found)
    return None


_Part = tuple[bytes, Path, int | None]  # a piece of the text, its path, its colons when already counted


def _proven(data: bytes) -> bool:
    """True when the counts prove that no key repeats anywhere in ``data``; False when they do not (a repeat, or
    an escape that only looked like a colon). One sum for the whole text: the members and keys of the large
    objects taken apart, and the text colons of every piece decoded whole, each of which must agree with its own
    decoded count; large values are never copied nor counted."""
    accounted = 0
    pending: list[bytes | msgspec.Raw] = [data]
    try:
        while pending:
            node = pending.pop()
            if len(node) <= PIECE_BYTES:
                piece = node if isinstance(node, bytes) else bytes(node)
                colons = text_colons(piece)
                if b"{" in piece and decoded_colons(_ANY.decode(piece)) != colons:
                    return False
                accounted += colons
                continue
            head = bytes(memoryview(node)[:64]).lstrip()[:1]
            if head == b"{":
                members = _MEMBERS.decode(node)
                accounted += len(members) + sum(key.count(":") for key in members)
                pending.extend(members.values())
            elif head == b"[":
                accounted += _batch_colons(_ITEMS.decode(node), pending)
            else:  # a long text
                accounted += text_colons(bytes(node))
    except (msgspec.DecodeError, msgspec.ValidationError, _Unproven):
        return False
    return accounted == text_colons(data)


class _Unproven(Exception):
    pass


def _batch_colons(items: list[msgspec.Raw], pending: list[bytes | msgspec.Raw]) -> int:
    """The text colons of a long list's small items, decoded a batch of :data:`PIECE_BYTES` at a time, each batch
    proven; its large items go onto ``pending``. _Unproven when a batch's counts differ."""
    colons = 0
    batch: list[bytes] = []
    size = 0
    for item in [*items, None]:
        if item is not None and len(item) > PIECE_BYTES:
            pending.append(item)
            continue
        if batch and (item is None or size + len(item) > PIECE_BYTES):
            text = b"[" + b",".join(batch) + b"]"
            counted = text_colons(text)
            if b"{" in text and decoded_colons(_ANY.decode(text)) != counted:
                raise _Unproven
            colons += counted
            batch, size = [], 0
        if item is not None:
            batch.append(bytes(item))
            size += len(item)
    return colons


def _in_piece(piece: bytes, path: Path, colons: int, pending: list[_Part]) -> _Repeat | None:
    """A repeat proven in ``piece`` itself; the parts it leaves to check (in their order) go onto ``pending``."""
    if b"{" not in piece:
        return None  # no object, so no key
    if len(piece) <= PIECE_BYTES:
        return _in_whole(piece, colons)
    head = piece.lstrip()[:1]
    try:
        if head == b"[":
            _batches(_ITEMS.decode(piece), path, pending)
            return None
        if head != b"{":
            return None
        members = [(key, bytes(raw)) for key, raw in _MEMBERS.decode(piece).items()]
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _repeat(piece.decode("utf-8", "surrogatepass"), deep=True)
    counted = [(key, value, text_colons(value)) for key, value in members]
    if len(counted) + sum(key.count(":") + value_colons for key, _, value_colons in counted) != colons:
        found = _repeat(piece.decode("utf-8", "surrogatepass"), deep=False)
        if found is not None:
            return found
    pending.extend((value, (*path, key), value_colons) for key, value, value_colons in reversed(counted))
    return None


def _in_whole(piece: bytes, colons: int) -> _Repeat | None:
    """A repeat in a piece decoded whole: counted in C, read in Python only when the counts differ."""
    return None if _counts_agree(piece, colons) else _repeat(piece.decode("utf-8", "surrogatepass"), deep=True)


def _counts_agree(piece: bytes, colons: int) -> bool:
    """The piece decoded and encoded again has as many colons as its text: no key in it repeats."""
    try:
        return _encode(_ANY.decode(piece)).count(b":") == colons
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False  # JSON msgspec refuses (NaN, an integer beyond 64 bits): read the slow way


def _batches(items: list[msgspec.Raw], path: Path, pending: list[_Part]) -> None:
    """A long list's items counted a batch of :data:`PIECE_BYTES` at a time (one decode per batch, not per
    item); a batch whose counts differ has its items checked one by one."""
    start = 0
    unproven: list[_Part] = []
    while start < len(items):
        end, size = start, 0
        while end < len(items) and (end == start or size + len(items[end]) <= PIECE_BYTES):
            size += len(items[end])
            end += 1
        batch = b"[" + b",".join(bytes(item) for item in items[start:end]) + b"]"
        if end - start == 1 or not _counts_agree(batch, text_colons(batch)):
            unproven.extend((bytes(items[index]), (*path, index), None) for index in range(start, end))
        start = end
    pending.extend(reversed(unproven))


def decoded_colons(value: Any) -> int:
    """The colons of a decoded value encoded again: its objects' members and its texts' colons."""
    return _encode(value).count(b":")


def text_colons(piece: bytes) -> int:
    """Colons in the text, and escapes that may be one (``\\u003a``, ``\\u003A``): never fewer than there are."""
    colons = piece.count(b":")
    if b"\\" in piece:  # (a byte search, fast; estates rarely hold a backslash)
        colons += piece.count(b"\\u003a") + piece.count(b"\\u003A")
    return colons


def _repeat(text: str, *, deep: bool) -> _Repeat | None:
    """The first key repeated in one object of ``text``, in order of reading; only the outer object's keys
    unless ``deep``. None when there is none, or when the text is not JSON."""
    try:
        return _walk(text, deep)
    except (IndexError, ValueError, StopIteration, RecursionError):
        return None


def _walk(text: str, deep: bool) -> _Repeat | None:
    """Reads the JSON text with an explicit stack (no recursion, whatever the nesting), keeping every key."""
    stack: list[dict[str, int] | None] = []  # per open container: an object's keys and positions, or None
    path: list[str | int] = []
    at = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    while True:
        # A value starts at ``at``.
        char = text[at]
        if char in "{[" and (deep or not stack):
            at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
            if text[at] in "}]":
                at += 1
            elif char == "{":
                keys: dict[str, int] = {}
                stack.append(keys)
                at, found = _key(text, at, keys, path, new=True)
                if found is not None:
                    return found
                continue
            else:
                stack.append(None)
                path.append(0)
                continue
        else:
            at = _SCAN(text, at)[1]
        # A value ended: close containers, or go on to the next member.
        while True:
            if not stack:
                return None
            at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
            if text[at] == ",":
                at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
                known = stack[-1]
                if known is None:
                    path[-1] = int(path[-1]) + 1
                else:
                    at, found = _key(text, at, known, path, new=False)
                    if found is not None:
                        return found
                break
            if text[at] not in "}]":
                return None
            stack.pop()
            path.pop()
            at += 1


def _key(text: str, at: int, keys: dict[str, int], path: list[str | int], *, new: bool) -> tuple[int, _Repeat | None]:
    """Reads ``"key":`` at ``at``; the position after it, and the repeat when the object had the key already."""
    if text[at] != '"':
        raise ValueError("a key is expected")
    key, end = _STRING(text, at + 1)
    if key in keys:  # (never in a new object: it has no keys yet)
        return end, _Repeat(tuple(path[:-1]), key, keys[key], at)
    keys[key] = at
    if new:
        path.append(key)
    else:
        path[-1] = key
    end = _SPACE.match(text, end).end()  # type: ignore[union-attr]
    if text[end] != ":":
        raise ValueError("a colon is expected")
    return _SPACE.match(text, end + 1).end(), None  # type: ignore[union-attr]


def _placed(data: bytes, piece: bytes, path: Path, found: _Repeat) -> DuplicateKey:
    """The repeat with its path from the whole text's root, and its lines when the piece's place is certain
    (the piece is the whole text, or is found in it only once)."""
    where = _dotted((*path, *found.path, found.key))
    offset = 0 if piece is data else data.find(piece)
    if offset < 0 or (piece is not data and data.find(piece, offset + 1) >= 0):
        return DuplicateKey(where, found.key, None, None)
    text = piece.decode("utf-8", "surrogatepass")
    before = data.count(b"\n", 0, offset) + 1
    return DuplicateKey(where, found.key, before + text.count("\n", 0, found.second),
                        before + text.count("\n", 0, found.first))


def _dotted(parts: Path) -> str:
    """('commerce', 'subscriptions', 3, 'plan_id') → 'commerce.subscriptions[3].plan_id'."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


DUPLICATE_HINT = "remove one of the two: JSON readers silently keep only the last"


def refuse_duplicate_keys(data: bytes | str, *, where: str) -> None:
    """InputError (exit 2) when a key repeats in one object of this JSON text (which a parser accepted): the
    file and line in ``where``, the key's path in the message, as the YAML reader refuses a repeated key."""
    found = find_duplicate_key(data)
    if found is not None:
        raise InputError(found.message(), where=f"{where}:{found.line}" if found.line is not None else where,
                         hint=DUPLICATE_HINT)
