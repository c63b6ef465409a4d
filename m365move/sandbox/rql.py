"""RQL as Connect's API reads it from the raw query string: filters, ``ordering()``, ``limit``/``offset``.

``and(eq(status,active),in(product.id,(PRD-1,PRD-2)))&ordering(-created)&limit=100&offset=0``. Expressions
compile once into Python predicates over JSON objects (dotted paths, values compared as text, numbers as
numbers), so a listing is one pass over the collection.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus

Predicate = Callable[[Any], bool]


class RqlError(ValueError):
    """The query cannot be read; the sandbox answers 400 with this message."""


@dataclass(frozen=True)
class Query:
    predicate: Predicate
    ordering: tuple[str, ...] = ()
    limit: int = 100
    offset: int = 0


def parse_query(raw_query: str, *, default_limit: int = 100, max_limit: int = 1000) -> Query:
    """Split the raw query string into filters and paging, compiling the filters (ANDed)."""
    predicates: list[Predicate] = []
    ordering: tuple[str, ...] = ()
    limit, offset = default_limit, 0
    for part in _top_level_split(raw_query, "&"):
        if not part:
            continue
        if "=" in part and "(" not in part.split("=", 1)[0]:
            key, value = part.split("=", 1)
            value = unquote_plus(value)
            try:
                if key == "limit":
                    limit = max(0, min(int(value), max_limit))
                elif key == "offset":
                    offset = max(0, int(value))
                elif key != "search":  # field=value is an eq() in Connect's API
                    predicates.append(_compare("eq", unquote(key), value))
            except ValueError:
                raise RqlError(f"{key} must be a whole number, not {value!r}") from None
            continue
        text = unquote(part)
        if text.startswith("ordering("):
            ordering = tuple(f.strip() for f in text[len("ordering("):-1].split(",") if f.strip())
        elif text.startswith("select("):
            continue  # the sandbox always answers whole objects
        else:
            predicates.append(_compile(text))
    def matches(obj: Any) -> bool:
        return all(p(obj) for p in predicates)

    return Query(matches, ordering, limit, offset)


def resolve(obj: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(key)
        else:
            return None
    return obj


def sort_objects(objects: list[dict[str, Any]], ordering: tuple[str, ...]) -> list[dict[str, Any]]:
    for field in reversed(ordering):
        descending = field.startswith("-")
        name = field.lstrip("-+")

        def key(obj: dict[str, Any], path: str = name) -> tuple[int, Any]:
            return _sort_key(resolve(obj, path))

        objects = sorted(objects, key=key, reverse=descending)
    return objects


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


_CALL = re.compile(r"^\s*([a-z]+)\((.*)\)\s*$", re.DOTALL)


def _compile(text: str) -> Predicate:
    match = _CALL.match(text)
    if match is None:
        raise RqlError(f"cannot read the RQL expression {text!r}")
    op, inner = match.group(1), match.group(2)
    args = _top_level_split(inner, ",")
    if op in ("and", "or"):
        children = [_compile(a) for a in args if a.strip()]
        if op == "and":
            return lambda obj: all(c(obj) for c in children)
        return lambda obj: any(c(obj) for c in children)
    if op == "not":
        child = _compile(inner)
        return lambda obj: not child(obj)
    if len(args) != 2:
        raise RqlError(f"{op}() takes a field and a value: {text!r}")
    field, value = args[0].strip(), args[1].strip()
    if op in ("in", "out"):
        values = {v.strip() for v in _top_level_split(value.strip("()"), ",")}
        if op == "in":
            return lambda obj: _text(resolve(obj, field)) in values
        return lambda obj: _text(resolve(obj, field)) not in values
    return _compare(op, field, value)


def _compare(op: str, field: str, value: str) -> Predicate:
    if value == "null()":
        if op == "eq":
            return lambda obj: resolve(obj, field) is None
        return lambda obj: resolve(obj, field) is not None
    if value == "empty()":
        if op == "eq":
            return lambda obj: resolve(obj, field) in (None, "", [], {})
        return lambda obj: resolve(obj, field) not in (None, "", [], {})
    if op in ("like", "ilike"):
        flags = re.IGNORECASE if op == "ilike" else 0
        pattern = re.compile("^" + ".*".join(re.escape(p) for p in value.split("*")) + "$", flags)
        return lambda obj: pattern.match(_text(resolve(obj, field))) is not None
    tests: dict[str, Callable[[Any, Any], bool]] = {
        "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
        "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    }
    if op not in tests:
        raise RqlError(f"unknown RQL operator {op}()")
    test = tests[op]

    def predicate(obj: Any) -> bool:
        actual = resolve(obj, field)
        if actual is None:
            return op == "ne"
        left, right = _comparable(actual, value)
        try:
            return bool(test(left, right))
        except TypeError:
            return False

    return predicate


def _comparable(actual: Any, value: str) -> tuple[Any, Any]:
    if isinstance(actual, bool):
        return _text(actual), value.lower()
    if isinstance(actual, (int, float)):
        try:
            return actual, float(value)
        except ValueError:
            return str(actual), value
    return str(actual), value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _top_level_split(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts
