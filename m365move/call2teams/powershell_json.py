"""Reading what PowerShell's ``ConvertTo-Json`` really writes.

Real exports are messy, and each quirk here was seen in the wild:

- Windows PowerShell 5.1 ``Out-File``/``>`` writes UTF-16 LE with a BOM; ``Set-Content -Encoding UTF8``
  writes UTF-8 with a BOM; ``-Encoding Default`` writes the ANSI code page (Windows-1252).
- A cmdlet that returns one object is written as that object, not as a one-element array.
- Windows PowerShell 5.1 may wrap an array as ``{"value": [...], "Count": n}`` (its extended type data).
- ``ConvertTo-Json`` stops at ``-Depth`` (default 2) and writes deeper values as their ``ToString()``:
  a type name (``Microsoft.Rtc.Management.WritableConfig.Policy.Voice.NormalizationRule``,
  ``System.Collections.Generic.List`1[System.String]``) or ``@{Name=...; Pattern=...}``.
- Property casing varies between module versions (``OnlinePstnUsages`` / ``onlinePstnUsages``).

Nothing here knows about voice objects: it turns bytes into lists of case-insensitive records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from m365move.errors import InputError
from m365move.files.input_text import bounded_int, parse_json_text
from m365move.files.json_duplicate_keys import refuse_duplicate_keys

REEXPORT_HINT = "re-run Export-Call2TeamsTenant.ps1, which writes with ConvertTo-Json -Depth 10"

_TYPE_NAME = re.compile(r"^(Deserialized\.)?(Microsoft|System)\.[A-Za-z0-9_.`+]+(\[[^\]]*\])*$")
_PS_HASHTABLE = re.compile(r"^@\{(.*)\}$", re.DOTALL)


def decode_export(data: bytes, *, where: str) -> str:
    """Decode an export whatever its encoding: BOM-marked UTF-8/16/32, BOM-less UTF-16, UTF-8, ANSI."""
    boms = (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    )
    for bom, encoding in boms:
        if data.startswith(bom):
            return _decode(data, encoding, where)
    # JSON starts with ASCII, so UTF-16 without a BOM shows a NUL in every other byte.
    if len(data) >= 2 and data[1] == 0 and data[0] != 0:
        return _decode(data, "utf-16-le", where)
    if len(data) >= 2 and data[0] == 0 and data[1] != 0:
        return _decode(data, "utf-16-be", where)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Windows PowerShell's "-Encoding Default" is the ANSI code page; 1252 is by far the most common.
        return _decode(data, "cp1252", where)


def _decode(data: bytes, encoding: str, where: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise InputError(
            f"cannot be decoded as {encoding} (byte {error.start})", where=where, hint=REEXPORT_HINT
        ) from None


def parse_export(data: bytes, *, where: str) -> list[PsRecord]:
    """The records of one export file; raises InputError for empty, non-JSON or non-object content."""
    text = decode_export(data, where=where).strip().lstrip("\ufeff")
    if not text:
        raise InputError("is empty, expected the JSON of a cmdlet's output", where=where, hint=REEXPORT_HINT)
    try:
        value = json.loads(text, parse_int=bounded_int)
    except json.JSONDecodeError as error:
        raise InputError(
            f"is not JSON (line {error.lineno}, column {error.colno}: {error.msg})", where=where, hint=REEXPORT_HINT
        ) from None
    except (RecursionError, ValueError):  # nested thousands deep, or a number thousands of digits long
        parse_json_text(text, where=where)  # raises the InputError naming the place
        raise
    refuse_duplicate_keys(text, where=where)
    items = unwrap_collection(value)
    if items is None:
        raise InputError(
            f"holds a JSON {_json_kind(value)}, expected an object or an array of objects",
            where=where,
            hint=REEXPORT_HINT,
        )
    records = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(
                f"item {index + 1} is a JSON {_json_kind(item)}, expected an object", where=where, hint=REEXPORT_HINT
            )
        records.append(PsRecord(item, where=f"{where} item {index + 1}"))
    return records


def unwrap_collection(value: Any) -> list[Any] | None:
    """The list inside ``value``: an array as is, one object as a one-element list, wrappers removed."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        keys = {key.lower() for key in value}
        inner = _get_ci(value, "value")
        # Windows PowerShell's {"value": [...], "Count": n} and a whole Graph response ({"@odata.context", "value"}).
        if isinstance(inner, list) and keys <= {"value", "count", "@odata.context", "@odata.nextlink"}:
            return inner
        return [value]
    return None


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _get_ci(mapping: Mapping[str, Any], name: str) -> Any:
    lowered = name.lower()
    for key, value in mapping.items():
        if key.lower() == lowered:
            return value
    return None


def is_truncated(value: Any) -> bool:
    """True for a string ConvertTo-Json wrote in place of a value deeper than its ``-Depth``."""
    return isinstance(value, str) and bool(_TYPE_NAME.match(value.strip()))


def parse_ps_hashtable(text: str) -> dict[str, str] | None:
    """``@{Name=Intl; Pattern=^(\\d+)$}`` (a truncated object's text) as a dict; None if not that shape."""
    match = _PS_HASHTABLE.match(text.strip())
    if match is None:
        return None
    fields: dict[str, str] = {}
    for part in match.group(1).split("; "):
        name, sep, value = part.partition("=")
        if not sep:
            return None
        fields[name.strip()] = value
    return fields


class PsRecord:
    """One exported object with case-insensitive property access and truncation-aware getters."""

    __slots__ = ("_fields", "_original", "where")

    def __init__(self, fields: Mapping[str, Any], *, where: str) -> None:
        self._original = dict(fields)
        self._fields = {key.lower(): value for key, value in fields.items()}
        self.where = where

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._original)

    def raw(self, name: str) -> Any:
        """The value as exported (None when absent), whatever its type."""
        return self._fields.get(name.lower())

    def text(self, name: str, *, label: str = "") -> str | None:
        """A scalar as text (None when absent or null); a truncated value is an error."""
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise self._error(name, label, f"is a JSON {_json_kind(value)}, expected text")
        if is_truncated(value):
            raise self._truncated(name, label, value)
        if isinstance(value, bool):
            return "True" if value else "False"
        return str(value)

    def required_text(self, name: str, *, label: str = "") -> str:
        value = self.text(name, label=label)
        if value is None or not value.strip():
            raise self._error(name, label, "is missing or empty")
        return value

    def text_list(self, name: str, *, label: str = "") -> tuple[str, ...]:
        """A list of strings; a single string is a one-element list (ConvertTo-Json unrolls one-item lists)."""
        value = self.raw(name)
        if value is None:
            return ()
        if isinstance(value, str):
            if is_truncated(value):
                raise self._truncated(name, label, value)
            return (value,) if value else ()
        if not isinstance(value, list):
            raise self._error(name, label, f"is a JSON {_json_kind(value)}, expected a list of text")
        items: list[str] = []
        for item in value:
            if is_truncated(item):
                raise self._truncated(name, label, item)
            if isinstance(item, (dict, list)) or item is None:
                raise self._error(name, label, f"holds a JSON {_json_kind(item)}, expected text")
            items.append(str(item))
        return tuple(items)

    def record_list(self, name: str, *, label: str = "") -> tuple[PsRecord, ...]:
        """A list of nested objects; ``@{...}`` strings (truncated but legible) are parsed back."""
        value = self.raw(name)
        if value is None:
            return ()
        values = value if isinstance(value, list) else [value]
        records = []
        for index, item in enumerate(values):
            where = f"{self.where} {name}[{index}]"
            if isinstance(item, dict):
                records.append(PsRecord(item, where=where))
                continue
            parsed = parse_ps_hashtable(item) if isinstance(item, str) else None
            if parsed is not None:
                records.append(PsRecord(parsed, where=where))
            elif is_truncated(item):
                raise self._truncated(name, label, item)
            else:
                raise self._error(name, label, f"holds a JSON {_json_kind(item)}, expected an object")
        return tuple(records)

    def _error(self, name: str, label: str, problem: str) -> InputError:
        subject = f" ({label})" if label else ""
        return InputError(f"{name}{subject} {problem}", where=self.where)

    def _truncated(self, name: str, label: str, value: Any) -> InputError:
        subject = f" of {label}" if label else ""
        return InputError(
            f"{name}{subject} was cut by ConvertTo-Json's depth limit (it reads {str(value)[:80]!r})",
            where=self.where,
            hint=REEXPORT_HINT,
        )
