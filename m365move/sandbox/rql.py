"""RQL as Connect's API reads it, on CloudBlue's own RQL library (``lib-rql``, module ``py_rql``).

A list call's raw query string is ``<rql filter>&ordering(-created)&limit=100&offset=0`` (connect-openapi-client
sends ``limit``/``offset`` as ordinary parameters). Each collection accepts only the filters, lookups and
orderings the Connect OpenAPI spec declares for it (``data/connect_filters.json``, extracted from the spec by
``tests/connect/extract_connect_filters.py``); anything else is refused with the message Connect gives
(``Bad ordering filter: id.``), which the routes answer as a 400. Paging follows Connect (django-rql's
limit/offset pagination): a ``limit`` above 1000 is cut to 1000, a ``limit`` that is not a whole number is the
default, ``limit=0`` answers no objects but the count.

``select(...)`` is read as Connect reads it: a collection answers the fields the spec declares as negative selects
(``select(-items)`` on ``/assets``; ``-activation_key``, ``-template``, ``-asset.configuration``, ``-asset.items`` on
``/requests``) unless the query leaves them out, and the fields it declares as explicit selects (``template`` on
``/assets``, ``**default:** *hidden*``) only when the query asks for them; a select of any other field is refused
(``Bad select filter: params.``, django-rql's message).

lib-rql parses the query and checks lookups against the declarations; evaluation is ours because the sandbox
stores Connect JSON (dotted paths, date-times as ISO text) rather than typed rows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus

from dateutil.parser import isoparse
from py_rql import parse
from py_rql.constants import RESERVED_FILTER_NAMES, FilterTypes
from py_rql.exceptions import RQLFilterError, RQLFilterLookupError
from py_rql.filter_cls import FilterClass
from py_rql.transformer import RQLToFunctionTransformer

Predicate = Callable[[Any], bool]
FILTERS_FILE = Path(__file__).parent / "data" / "connect_filters.json"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Where a filter reads an object whose JSON spells the field differently (Connect keeps assets' dates in events).
_PATHS: dict[str, dict[str, str]] = {
    "assets": {"created": "events.created.at", "updated": "events.updated.at"},
    "products": {},
}


class RqlError(ValueError):
    """The query is refused; the message is Connect's (the routes answer 400 with it)."""


@dataclass(frozen=True)
class Query:
    predicate: Predicate
    ordering: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    # Dotted paths left out of every answered object: negative selects asked for, explicit selects not asked for.
    hidden: tuple[str, ...] = ()


@cache
def _declarations() -> dict[str, dict[str, Any]]:
    declared: dict[str, dict[str, Any]] = json.loads(FILTERS_FILE.read_text(encoding="utf-8"))
    return declared


def declared_filters(collection: str) -> Mapping[str, Any]:
    """The filters the spec declares for a collection (``assets``, ``requests``, ``products/items``, …)."""
    return _declarations()[collection]


def parse_query(collection: str, raw_query: str) -> Query:
    """Filters, ordering and paging of a list call on ``collection``; RqlError when Connect would refuse it."""
    filters = _filter_class(collection)
    terms: list[str] = []
    ordering: tuple[str, ...] = ()
    orderings = 0
    limit, offset = DEFAULT_LIMIT, 0
    selected: list[str] = []
    for part in _top_level_split(raw_query, "&"):
        if not part:
            continue
        key, equals, value = part.partition("=")
        if equals and key in ("limit", "offset", "search"):
            value = unquote_plus(value)
            if key == "limit":
                limit = _whole(value, DEFAULT_LIMIT, MAX_LIMIT)
            elif key == "offset":
                offset = _whole(value, 0, None)
            continue
        text = unquote(part)
        if text.startswith("ordering("):
            orderings += 1
            ordering = tuple(f.strip() for f in text[len("ordering("):-1].split(",") if f.strip())
        elif text.startswith("select(") and text.endswith(")"):
            selected += [f.strip() for f in text[len("select("):-1].split(",") if f.strip()]
        else:
            terms.append(text)
    if orderings > 1:
        raise RqlError("Bad ordering filter: query can contain only one ordering operation.")
    for field in ordering:
        name = field.lstrip("-+")
        if not filters.orders_by(name):
            raise RqlError(f"Bad ordering filter: {name}.")
    predicate = filters.predicate("&".join(terms)) if terms else (lambda obj: True)
    return Query(predicate, tuple(_ordering_path(collection, f) for f in ordering), limit, offset,
                 hidden_fields(collection, selected))


def hidden_fields(collection: str, selected: list[str]) -> tuple[str, ...]:
    """The fields an answer leaves out given the query's ``select(...)`` fields (``-f`` out, ``f``/``+f`` in)."""
    declared = declared_filters(collection)
    excluded: set[str] = set()
    included: set[str] = set()
    for field in selected:
        name = field.lstrip("-+")
        if "select" not in declared.get(name, {}):
            raise RqlError(f"Bad select filter: {name}.")
        (excluded if field.startswith("-") else included).add(name)
    hidden_by_default = {name for name, d in declared.items() if d.get("select") == "include"}
    return tuple(sorted(excluded | (hidden_by_default - included)))


def shaped(obj: dict[str, Any], hidden: tuple[str, ...]) -> dict[str, Any]:
    """``obj`` without the fields at the dotted paths ``hidden``; the stored object is not changed (the dicts
    on a hidden path are copied, everything else is shared)."""
    for path in hidden:
        obj = _without(obj, path.split("."))
    return obj


def _without(obj: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    head, rest = keys[0], keys[1:]
    if head not in obj:
        return obj
    if not rest:
        return {k: v for k, v in obj.items() if k != head}
    inner = obj[head]
    if not isinstance(inner, dict):
        return obj
    trimmed = _without(inner, rest)
    return obj if trimmed is inner else {**obj, head: trimmed}


# A value an equality hint may carry: plain ids only (quoted, encoded or special values fall back to a scan).
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_.:-]+$")
_EQ_TERM = re.compile(r"^eq\(([A-Za-z0-9_.]+),([^()]*)\)$")
_IN_TERM = re.compile(r"^in\(([A-Za-z0-9_.]+),\(([^()]*)\)\)$")
_SHORT_EQ_TERM = re.compile(r"^([A-Za-z0-9_.]+)=([^=()]*)$")


def equality_hints(raw_query: str) -> dict[str, frozenset[str]]:
    """The ``field → values`` that every match must have, from the query's top-level terms ``eq(f,v)``, ``f=v``
    and ``in(f,(v,…))`` with plain values; fields spelled with ``__`` as paths. A store may use them to pick its
    candidates from an index instead of testing every object; the full predicate still decides."""
    hints: dict[str, frozenset[str]] = {}
    for part in _top_level_split(raw_query, "&"):
        text = unquote(part)
        found = _EQ_TERM.match(text) or _SHORT_EQ_TERM.match(text)
        if found:
            field, values = found.group(1), [found.group(2)]
        else:
            many = _IN_TERM.match(text)
            if not many:
                continue
            field, values = many.group(1), [v.strip() for v in many.group(2).split(",")]
        if field in ("limit", "offset", "search") or not values or not all(_PLAIN_VALUE.match(v) for v in values):
            continue
        path = field.replace("__", ".")
        hints[path] = hints[path] & frozenset(values) if path in hints else frozenset(values)
    return hints


def resolve(obj: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(key)
        else:
            return None
    return obj


def sort_objects(objects: list[dict[str, Any]], ordering: tuple[str, ...]) -> list[dict[str, Any]]:
    """Objects in ``ordering`` (paths, ``-`` for descending), ties kept in storage order as a database would."""
    for field in reversed(ordering):
        descending = field.startswith("-")
        name = field.lstrip("-+")

        def key(obj: dict[str, Any], path: str = name) -> tuple[int, Any]:
            return _sort_key(resolve(obj, path))

        objects = sorted(objects, key=key, reverse=descending)
    return objects


def page_of(objects: list[dict[str, Any]], query: Query) -> tuple[list[dict[str, Any]], str]:
    """The page ``query`` asks for and its ``Content-Range`` header value (``items <first>-<last>/<total>``)."""
    return page_from(matched_objects(objects, query), query)


def matched_objects(objects: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """Every object ``query`` matches, in its ordering (the listing its pages are cut from)."""
    return sort_objects([o for o in objects if query.predicate(o)], query.ordering)


def listing_key(raw_query: str) -> tuple[str, ...]:
    """What decides a query's listing: its filter and ordering terms, without paging (``limit``, ``offset``) and
    select, so every page of one listing has the same key."""
    kept = []
    for part in _top_level_split(raw_query, "&"):
        key, equals, _ = part.partition("=")
        if not part or (equals and key in ("limit", "offset")) or unquote(part).startswith("select("):
            continue
        kept.append(part)
    return tuple(kept)


def page_from(matched: list[dict[str, Any]], query: Query) -> tuple[list[dict[str, Any]], str]:
    """The page ``query`` asks for out of its listing ``matched``, and its ``Content-Range`` header value."""
    total = len(matched)
    page = matched[query.offset:query.offset + query.limit] if query.limit else []
    if query.hidden:
        page = [shaped(o, query.hidden) for o in page]
    offset = query.offset if query.limit else 0
    last = offset + max(len(page) - 1, 0)
    return page, f"items {offset}-{last}/{total}"


# -- lib-rql filter classes ---------------------------------------------------------------------------


class ConnectFilters(FilterClass):  # type: ignore[misc]  # lib-rql ships no types
    """One collection's declared filters as a lib-rql FilterClass."""

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self.declared = declared_filters(collection)
        self.FILTERS = [{"filter": name, "lookups": set(d["lookups"]), **_kind(d)}
                        for name, d in self.declared.items() if name not in RESERVED_FILTER_NAMES and d["lookups"]]
        super().__init__()

    def orders_by(self, name: str) -> bool:
        declared = self.declared.get(name)
        return bool(declared and declared["ordering"])

    def validate_lookup(self, prop: str, lookup: str) -> None:
        if prop not in self._filters:
            raise RQLFilterLookupError(details={"error": f"Bad filter: {prop}."})
        super().validate_lookup(prop, lookup)

    def path(self, prop: str) -> str:
        return _PATHS.get(self.collection, {}).get(prop, prop.replace("__", "."))

    def reader(self, prop: str) -> Callable[[Any], Any]:
        """How to read the object's value so it compares with the cast query value."""
        kind = self._filters[prop]["type"]
        return _read_datetime if kind == FilterTypes.DATETIME else _read_number if kind == FilterTypes.FLOAT else _read_text

    def predicate(self, query: str) -> Predicate:
        try:
            function: Predicate = self.transform_query(query)
        except RQLFilterError as error:
            raise RqlError(_message(error)) from None
        except Exception as error:  # lark wraps errors raised inside the transformer
            inner = getattr(error, "orig_exc", None)
            if isinstance(inner, RQLFilterError):
                raise RqlError(_message(inner)) from None
            if isinstance(inner, (ValueError, OverflowError)):
                raise RqlError(f"Bad filter value: {inner}.") from None
            raise
        return function

    def transform_query(self, query: str) -> Predicate:
        key = hash(query)
        if key in self._cache:
            cached: Predicate = self._cache[key]
            return cached
        function: Predicate = _Transformer(self).transform(parse(query))
        self._cache[key] = function
        return function


class _Transformer(RQLToFunctionTransformer):  # type: ignore[misc]
    """lib-rql's transformer with evaluation over Connect JSON: dotted paths, typed date-times, ``null()``, and
    ``and``/``or`` that stop at the first deciding term (a listing evaluates every object of a collection)."""

    def logical(self, args: list[Any]) -> Predicate:
        operation, children = args[0].data, list(args[0].children)
        if operation == "and_op":
            return lambda obj: all(child(obj) for child in children)
        if operation == "or_op":
            return lambda obj: any(child(obj) for child in children)
        (child,) = children
        return lambda obj: not child(obj)

    def _get_func_for_lookup(self, prop: str, operation: str, val: Any) -> Predicate:
        filters: ConnectFilters = self.filter_cls
        lookup = "null" if val in ("null()",) and operation in ("eq", "ne") else operation
        filters.validate_lookup(prop, lookup if lookup == "null" else operation)
        path = filters.path(prop)
        if lookup == "null":
            want_null = operation == "eq"
            return lambda obj: (resolve(obj, path) in (None, "")) == want_null
        value = filters.cast_value(prop, val)
        read = filters.reader(prop)
        if operation in ("in", "out"):
            wanted = set(value)
            inside = operation == "in"
            return lambda obj: (read(resolve(obj, path)) in wanted) == inside
        if operation in ("like", "ilike"):
            pattern = _like(str(value), operation == "ilike")
            return lambda obj: pattern.match(_read_text(resolve(obj, path)) or "") is not None
        compare = _COMPARE[operation]

        def predicate(obj: Any) -> bool:
            actual = read(resolve(obj, path))
            if actual is None or value is None:
                return (actual is None) == (value is None) if operation == "eq" else (
                    (actual is None) != (value is None) if operation == "ne" else False)
            try:
                return bool(compare(actual, value))
            except TypeError:
                return False

        return predicate


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
}


@cache
def _filter_class(collection: str) -> ConnectFilters:
    if collection not in _declarations():
        raise RqlError(f"no list operation for {collection}")
    return ConnectFilters(collection)


def _ordering_path(collection: str, field: str) -> str:
    sign = "-" if field.startswith("-") else ""
    name = field.lstrip("-+")
    return sign + _PATHS.get(collection, {}).get(name, name.replace("__", "."))


def _kind(declared: Mapping[str, Any]) -> dict[str, Any]:
    """lib-rql's filter type for a declared filter: date-times, numbers (ordered lookups on a plain field), text."""
    if declared["type"] == "datetime":
        return {"type": FilterTypes.DATETIME, "cast_func": _cast_datetime}
    if not set(declared["lookups"]) <= FilterClass.default_filter_lookups_for_type(FilterTypes.STRING):
        return {"type": FilterTypes.FLOAT, "cast_func": _cast_number}
    return {"type": FilterTypes.STRING, "cast_func": _cast_text}


def _cast_number(value: str) -> float | str | None:
    if value == "null()":
        return None
    try:
        return float(value)
    except ValueError:
        return str(value)


def _read_number(value: Any) -> float | str | None:
    if value is None or isinstance(value, bool):
        return _read_text(value)
    return _cast_number(str(value))


def _cast_text(value: str) -> str | None:
    if value == "null()":
        return None
    return "" if value == "empty()" else str(value)


def _cast_datetime(value: str) -> dt.datetime | None:
    if value == "null()":
        return None
    return _aware(isoparse(value))


def _read_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_datetime(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return _parsed_datetime(str(value))


@lru_cache(maxsize=65536)
def _parsed_datetime(text: str) -> dt.datetime | None:
    # Stored time stamps repeat across every listing: parse each once.
    try:
        return _aware(isoparse(text))
    except ValueError:
        return None


def _aware(moment: dt.datetime) -> dt.datetime:
    # Connect reads a date-time without an offset as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _like(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$", re.IGNORECASE if ignore_case else 0)


def _whole(text: str, default: int, cutoff: int | None) -> int:
    """django-rql's reading of limit/offset: a non-negative whole number (cut at ``cutoff``), else ``default``."""
    try:
        number = int(text)
    except ValueError:
        return default
    if number < 0:
        return default
    return min(number, cutoff) if cutoff is not None else number


def _message(error: RQLFilterError) -> str:
    details = error.details if isinstance(error.details, dict) else {}
    return str(details.get("error") or error.MESSAGE)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


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
