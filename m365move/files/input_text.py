"""Reading the text files people hand us (CSV, JSON, YAML) with one clear error instead of a traceback.

- Encodings: files come from Excel and PowerShell as UTF-8 (with or without a BOM), UTF-16 with a BOM
  ("Unicode text" in Excel's Save As, PowerShell 5.1's ``>``), or the Windows ANSI code page. A BOM
  decides; otherwise UTF-8, then Windows-1252. A file that is none of these (or binary) is refused.
- JSON: nesting deeper than Python's parser recurses and integers longer than :data:`MAX_INTEGER_DIGITS`
  digits are refused (no estate or export comes near; Python would otherwise fail with a
  ``RecursionError`` or a ``ValueError`` about integer string conversion). libyaml refuses deep YAML itself.
- JSON: a key written twice in one object is refused, as in YAML (``m365move.files.json_duplicate_keys``).
- YAML: a key written twice in one mapping is refused (PyYAML silently keeps the last one, so an
  edited estate could quietly lose a licence mapping or a quantity). Plain YAML is read by
  ``m365move.files.yaml_plain`` (the same values, faster), everything else by the safe loader.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode

from m365move.errors import InputError
from m365move.files.json_duplicate_keys import refuse_duplicate_keys
from m365move.files.json_nesting import line_nested_deeper_than
from m365move.files.yaml_plain import GAVE_UP, plain_yaml_data

MAX_NESTING = 200
MAX_INPUT_BYTES = 1 << 30  # 1 GiB: a 100k-subscription estate is about 60 MB
MAX_INTEGER_DIGITS = 40
EXPECTED_ENCODINGS = "UTF-8, UTF-16 with a byte-order mark, or Windows-1252"

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def read_input_bytes(path: str | Path) -> bytes:
    """The file's bytes, or InputError naming it (missing, a directory, a device, over :data:`MAX_INPUT_BYTES`,
    unreadable). A pipe is read (``<(command)``), up to that size: ``/dev/zero`` or an endless pipe never hangs."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
                raise InputError("is a device, not a file", where=str(file))
            data = handle.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputError(f"is larger than {MAX_INPUT_BYTES >> 30} GiB: not an input m365move reads", where=str(file))
        return data
    except FileNotFoundError:
        raise InputError("file not found", where=str(file)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", where=str(file)) from None
    except OSError as error:
        raise InputError(f"cannot read the file: {error.strerror}", where=str(file)) from None


def decode_input_text(data: bytes, *, where: str) -> str:
    """Text from bytes in one of the :data:`EXPECTED_ENCODINGS` (BOM removed), or InputError."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom):], encoding.removesuffix("-sig"), where)
    if b"\x00" in data:  # no text in these encodings holds a NUL byte
        raise InputError(f"is binary or UTF-16 without a byte-order mark; save it as text in {EXPECTED_ENCODINGS}",
                         where=where)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Excel's plain "CSV" and PowerShell's "-Encoding Default" write the ANSI code page: 1252 in the West.
        return _decode(data, "cp1252", where)


def read_input_text(path: str | Path) -> str:
    """A text file in one of the :data:`EXPECTED_ENCODINGS`, decoded, or InputError naming it."""
    return decode_input_text(read_input_bytes(path), where=str(path))


def _decode(data: bytes, encoding: str, where: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise InputError(
            f"is not {encoding} text (byte {error.start} cannot be decoded); save it in {EXPECTED_ENCODINGS}",
            where=where,
        ) from None


class _TooLong(ValueError):
    pass


def bounded_int(text: str) -> int:
    """``json.loads``'s ``parse_int``: refuses integers longer than MAX_INTEGER_DIGITS digits."""
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise _TooLong(f"a number of {digits} digits; no value here is longer than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def parse_json_text(text: str, *, where: str) -> Any:
    """JSON with nesting and integer lengths bounded and no key repeated in an object; InputError naming the file
    (and line) otherwise."""
    try:
        value = json.loads(text, parse_int=bounded_int)
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON: {error.msg}", where=f"{where}:{error.lineno}:{error.colno}") from None
    except _TooLong as error:
        raise InputError(str(error), where=where) from None
    except RecursionError:
        raise InputError(f"nested more than {MAX_NESTING} levels deep; no input here is",
                         where=f"{where}:{line_nested_deeper_than(text, MAX_NESTING) or 1}") from None
    except ValueError as error:  # a number Python refuses to convert
        raise InputError(f"cannot be read as JSON: {error}", where=where) from None
    refuse_duplicate_keys(text, where=where)
    return value


def _refuse_duplicate_keys(node: MappingNode) -> None:
    seen: dict[tuple[str, str], int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = (key_node.tag, key_node.value)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise ConstructorError(
                None, None, f"key {key_node.value!r} appears twice in one mapping (first on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = line


class _StrictSafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (C-accelerated when available) refusing duplicate keys."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            _refuse_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)


class _StrictBaseLoader(getattr(yaml, "CBaseLoader", yaml.BaseLoader)):  # type: ignore[misc]
    """The base loader (every scalar is text) refusing duplicate keys."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            _refuse_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)


def parse_yaml_text(text: str, *, where: str, scalars_as_text: bool = False) -> Any:
    """YAML with duplicate keys refused; ``scalars_as_text`` keeps every scalar a string (no type guessing)."""
    loader = _StrictBaseLoader if scalars_as_text else _StrictSafeLoader
    if not scalars_as_text:
        # Plain YAML (no anchors, tags or merge keys) straight to data, several times faster; anything
        # else, errors included, is read below, by the loader that reports them.
        data = plain_yaml_data(text, loader)
        if data is not GAVE_UP:
            return data
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - both loaders derive from the safe ones
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        place = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(f"not valid YAML: {problem}", where=place) from None
    except (RecursionError, ValueError, OverflowError) as error:  # a number or a date Python refuses
        raise InputError(f"cannot be read as YAML: {error}", where=where) from None
