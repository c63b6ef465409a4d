"""YAML read straight into plain data (dicts, lists, scalars): the safe loader's result, about 3 times faster.

PyYAML's C loader parses in C, but then builds a node for every value and constructs each one in Python,
running the implicit-type regular expressions for every plain scalar. A 100k-subscription estate has
millions of scalars, most of them repeated (keys, periods, statuses, quantities, dates). Here the C
parser's events are turned into dicts and lists directly, and each distinct plain scalar is resolved
and constructed once, by the safe loader's own resolver and constructor, then reused.

Only the plain subset of YAML is read this way: a document with anchors, aliases, explicit tags, merge
keys (``<<``), a key given twice, a non-scalar key, more than one document, or any error makes
:func:`plain_yaml_data` give up (return :data:`GAVE_UP`), and the caller reads the text with the safe
loader, which builds the same value or raises the error with its line and column.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode

GAVE_UP: Final = object()

# Scalar values safe to share between places (immutable), and how many distinct texts are remembered.
_SHAREABLE = (str, int, float, bool, type(None), dt.date, dt.datetime)
_CACHE_LIMIT = 65536
_NONE: Final = object()


class _GiveUp(Exception):
    pass


def plain_yaml_data(text: str, loader_class: type[Any] = yaml.CSafeLoader) -> Any:
    """The value ``yaml.load(text, loader_class)`` gives, or GAVE_UP (see the module's doc)."""
    loader = loader_class(text)
    try:
        return _build(loader)
    except Exception:  # noqa: BLE001 - whatever it is, the safe loader reads the text again and reports it
        return GAVE_UP
    finally:
        loader.dispose()


def _build(loader: Any) -> Any:  # noqa: C901 - one loop over the events, kept whole for speed
    get_event = loader.get_event
    if type(get_event()) is not StreamStartEvent or type(get_event()) is not DocumentStartEvent:
        raise _GiveUp
    resolve, construct = loader.resolve, loader.construct_object
    scalars: dict[str, Any] = {}
    remembered = scalars.get
    stack: list[tuple[Any, bool, Any]] = []
    container: Any = None  # the dict or list being filled (None: the document's root)
    is_mapping = False
    key: Any = _NONE  # in a mapping, the key waiting for its value
    while True:
        event = get_event()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _GiveUp
            value = event.value
            if event.implicit[0]:  # plain: its type is implicit (int, bool, null, date, …)
                text = value
                value = remembered(text, _NONE)
                if value is _NONE:
                    if text == "<<":
                        raise _GiveUp  # a merge key
                    node = ScalarNode(resolve(ScalarNode, text, (True, False)), text, event.start_mark,
                                      event.end_mark, event.style)
                    value = construct(node)
                    if type(value) in _SHAREABLE and len(scalars) < _CACHE_LIMIT:
                        scalars[text] = value
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise _GiveUp
            stack.append((container, is_mapping, key))
            is_mapping = kind is MappingStartEvent
            container = {} if is_mapping else []
            key = _NONE
            continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            value = container
            container, is_mapping, key = stack.pop()
        else:
            raise _GiveUp  # an alias, or anything unexpected
        if container is None:
            break
        if not is_mapping:
            container.append(value)
        elif key is _NONE:
            if type(value) is dict or type(value) is list or value in container:
                raise _GiveUp  # a key that is a collection, or a key given twice
            key = value
        else:
            container[key] = value
            key = _NONE
    if type(get_event()) is not DocumentEndEvent or type(get_event()) is not StreamEndEvent:
        raise _GiveUp
    return value
