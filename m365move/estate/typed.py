"""The project's one model library, msgspec, and its refusals as people read them.

Every typed model of the project (estate and catalog files, the platforms' sections, SimpleAPI's answers, the
sandbox's faults and state, the runbooks' parameters, the Call2Teams files) is a ``msgspec.Struct`` read through
``convert`` or ``decode_json`` here. pydantic is not used: the Connect runner pins ``pydantic<2`` for every
extension it runs, and a project on either pydantic major would conflict with it (docs/decisions/one-model-library.md).

A refusal is ``Invalid(path, message)``: the place as ``commerce.subscriptions[3].plan_id`` and what is wrong in
words (``required field is missing``, ``must be one of active, processing, missing, not 'done'``), which callers
turn into their ``InputError`` naming the file. msgspec stops at the first problem: one problem is reported.

Two leniencies pydantic had and people rely on are kept: numbers written where text is expected (``id: 1000001``
unquoted in YAML) become their text, and a field validator (``__post_init__``) names its field by raising
``FieldProblem``.
"""

from __future__ import annotations

import enum
import math
import operator
import re
import types
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import msgspec

from m365move.estate.id_rules import ID_PATTERN, ID_RULE, MAX_ID_LENGTH

T = TypeVar("T")

force_setattr = msgspec.structs.force_setattr
replace = msgspec.structs.replace


class Invalid(ValueError):
    """A value its model refuses: ``path`` (``commerce.plans[0].id``; empty for the whole value) and ``message``."""

    def __init__(self, path: str, message: str, parts: tuple[str | int, ...] = ()) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message
        self.parts = parts  # the path's steps: field names and list positions


class FieldProblem(ValueError):
    """Raised by a model's ``__post_init__`` for one of its fields: the refusal then names that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"[{field}] {message}")  # (msgspec keeps only the text: ``problem`` reads it back)
        self.field = field
        self.message = message


def refusal_text(error: ValueError) -> str:
    """A struct's refusal when built directly (``__post_init__``), as one line: ``field: message`` or the message."""
    return f"{error.field}: {error.message}" if isinstance(error, FieldProblem) else str(error)


def convert(raw: Any, model: type[T], *, strict: bool = True, numbers_as_text: bool = True) -> T:
    """``raw`` (plain data: parsed JSON or YAML) as ``model``; ``Invalid`` when refused.

    ``strict``: no text read as a number or a boolean (the files are typed already). ``numbers_as_text``: numbers
    given where the model wants text are accepted and become their text (``id: 1000001`` unquoted).
    """
    try:
        return msgspec.convert(raw, model, strict=strict)
    except msgspec.ValidationError as error:
        first = error
    texted = _texted(raw, model) if numbers_as_text else raw
    if texted is not raw:
        try:
            return msgspec.convert(texted, model, strict=strict)
        except msgspec.ValidationError as error:
            first, raw = error, texted
    raise problem(first, raw, model) from None


def decode_json(data: bytes | str, model: type[T]) -> T:
    """JSON text as ``model``; ``Invalid`` when it is not JSON or the model refuses it."""
    try:
        return msgspec.json.decode(data, type=model)
    except msgspec.ValidationError as error:
        refused = error  # read again as plain data: the numbers-as-text leniency and the place of the problem
    except msgspec.DecodeError as error:
        raise Invalid("", f"not valid JSON ({error})") from None
    try:
        plain = msgspec.json.decode(data)
    except msgspec.ValidationError:  # a number beyond any float (1e999)
        raise problem(refused, None, model) from None
    return convert(plain, model)


def to_builtins(value: Any) -> Any:
    """A model as plain JSON-able data (dates as ISO texts), as it would be written to a file."""
    return msgspec.to_builtins(value)


def finite(owner: object, *names: str) -> None:
    """For ``__post_init__``: the named float fields are finite numbers (YAML writes ``.inf`` and ``.nan``)."""
    for name in names:
        value = getattr(owner, name)
        if isinstance(value, float) and not math.isfinite(value):
            raise FieldProblem(name, f"must be a finite number, not {value}")


def check_constraints(owner: msgspec.Struct) -> None:
    """For ``__post_init__``: the ``msgspec.Meta`` bounds of every field, also when the struct is built directly
    (msgspec checks them only while converting); FieldProblem naming the first field out of bounds."""
    hints = get_type_hints(type(owner), include_extras=True)
    for field in msgspec.structs.fields(owner):
        name, annotation = field.name, hints[field.name]
        value = getattr(owner, name)
        if value is None:
            continue
        for option in _options_with_meta(annotation):
            for meta in option:
                for bound, symbol, holds in _CHECKS:
                    limit = getattr(meta, bound)
                    if limit is not None and isinstance(value, int | float) and not holds(value, limit):
                        raise FieldProblem(name, f"must be {_BOUNDS[symbol]} {limit}, not {value}")
                if meta.min_length is not None and hasattr(value, "__len__") and len(value) < meta.min_length:
                    raise FieldProblem(name, "must not be empty" if meta.min_length == 1
                                       else f"must have at least {meta.min_length} entries")


_CHECKS: tuple[tuple[str, str, Callable[[Any, Any], bool]], ...] = (
    ("ge", ">=", operator.ge), ("gt", ">", operator.gt), ("le", "<=", operator.le), ("lt", "<", operator.lt))


def _options_with_meta(annotation: Any) -> list[list[msgspec.Meta]]:
    """The ``msgspec.Meta`` of the annotation and of each of its union's options."""
    found = []
    pending = [annotation]
    while pending:
        current = pending.pop()
        if get_origin(current) is Annotated:
            found.append([m for m in get_args(current)[1:] if isinstance(m, msgspec.Meta)])
            pending.append(get_args(current)[0])
        elif get_origin(current) in (Union, types.UnionType):
            pending.extend(get_args(current))
    return found


# --- numbers as text -------------------------------------------------------------------------------------------


def _texted(raw: Any, annotation: Any) -> Any:
    """``raw`` with every whole number that ``annotation`` expects as text turned into its text; ``raw`` itself
    when there is none."""
    annotation = _strip(annotation)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw) if _wants_text_only(annotation) else raw
    if isinstance(raw, dict):
        fields = _struct_fields(annotation)
        if fields is not None:
            pairs = [(key, _texted(value, fields.get(key, Any))) for key, value in raw.items()]
        else:
            value_type = _mapping_value_type(annotation)
            pairs = [(key, _texted(value, value_type)) for key, value in raw.items()]
        if all(new is raw[key] for key, new in pairs):
            return raw
        return dict(pairs)
    if isinstance(raw, list):
        items = [_texted(item, _item_type(annotation, index)) for index, item in enumerate(raw)]
        return raw if all(new is old for new, old in zip(items, raw, strict=True)) else items
    return raw


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _options(annotation: Any) -> tuple[Any, ...]:
    annotation = _strip(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return tuple(_strip(a) for a in get_args(annotation))
    return (annotation,)


def _wants_text_only(annotation: Any) -> bool:
    options = _options(annotation)
    return str in options and int not in options and float not in options and Any not in options


def _struct_fields(annotation: Any) -> dict[str, Any] | None:
    for option in _options(annotation):
        if isinstance(option, type) and issubclass(option, msgspec.Struct):
            return _hints(option)
    return None


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type[msgspec.Struct]) -> dict[str, Any]:
    """The struct's field types by their names in the data (``rename`` applied)."""
    found = _HINTS.get(cls)
    if found is None:
        hints = get_type_hints(cls, include_extras=True)
        found = {field.encode_name: hints[field.name] for field in msgspec.structs.fields(cls)}
        _HINTS[cls] = found
    return found


def _mapping_value_type(annotation: Any) -> Any:
    for option in _options(annotation):
        if get_origin(option) is dict:
            return get_args(option)[1]
    return Any


def _item_type(annotation: Any, index: int) -> Any:
    for option in _options(annotation):
        origin = get_origin(option)
        args = get_args(option)
        if origin in (list, set, frozenset) and args:
            return args[0]
        if origin is tuple and args:
            if len(args) == 2 and args[1] is Ellipsis:
                return args[0]
            return args[index] if index < len(args) else Any
    return Any


# --- refusals in words ------------------------------------------------------------------------------------------

_TYPE_WORDS = {
    "int": "an integer", "float": "a number", "str": "text", "bool": "true or false", "object": "a mapping",
    "array": "a list", "null": "null", "date": "a date (YYYY-MM-DD)", "datetime": "a time (ISO 8601)",
}
_BOUNDS = {">=": "greater than or equal to", ">": "greater than", "<=": "less than or equal to", "<": "less than"}


def problem(error: msgspec.ValidationError, raw: Any, model: Any) -> Invalid:
    """msgspec's refusal of ``raw`` as ``model``, as an ``Invalid`` naming the place and what is wrong."""
    text, _, at = str(error).rpartition(" - at `")
    if not text:
        text, at = str(error), "$"
    parts = _path_parts(at.rstrip("`"), raw, model)
    message = text
    if match := re.fullmatch(r"\[(\w+)\] (.*)", text, re.S):
        parts.append(match[1])
        message = match[2]
    elif match := re.fullmatch(r"Expected `str` matching regex '(.*)'", text, re.S):
        # (msgspec quotes the pattern with its backslashes doubled)
        message = ID_RULE if match[1].replace("\\\\", "\\") == ID_PATTERN else f"does not match the pattern {match[1]}"
    elif re.fullmatch(rf"Expected `str` of length <= {MAX_ID_LENGTH}", text):
        message = ID_RULE  # (only ids are bounded at this length)
    elif match := re.fullmatch(r"Object missing required field `(.+)`", text):
        parts.append(match[1])
        message = "required field is missing"
    elif match := re.fullmatch(r"Object contains unknown field `(.+)`", text):
        parts.append(match[1])
        message = "unknown field; remove it or check its spelling"
    elif match := re.fullmatch(r"Expected `(.+?)`, got `(.+?)`", text):
        message = f"expected {_words(match[1])}, got {_words(match[2])}"
    elif match := re.fullmatch(r"Expected `(\w+)` (>=|>|<=|<) (\S+)", text):
        message = f"must be {_BOUNDS[match[2]]} {match[3]}"
    elif match := re.fullmatch(r"Expected `(\w+)` of length (>=|<=) (\d+)", text):
        things = "characters" if match[1] == "str" else "entries"
        message = ("must not be empty" if (match[2], match[3]) == (">=", "1")
                   else f"must have {'at least' if match[2] == '>=' else 'at most'} {match[3]} {things}")
    elif match := re.fullmatch(r"Invalid enum value (.+)", text):
        allowed = _allowed_values(model, parts)
        message = f"must be one of {', '.join(allowed)}, not {match[1]}" if allowed else f"unknown value {match[1]}"
    elif match := re.fullmatch(r"Invalid RFC3339 encoded (date|datetime|time)", text):
        message = f"expected {_words(match[1])}"
    return Invalid(dotted_path(parts), message, tuple(parts))


def _words(types_text: str) -> str:
    return " or ".join(_TYPE_WORDS.get(name.strip(), name.strip()) for name in types_text.split("|"))


def dotted_path(parts: Iterable[str | int]) -> str:
    """('commerce', 'subscriptions', 3, 'plan_id') → 'commerce.subscriptions[3].plan_id'."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _path_parts(at: str, raw: Any, model: Any) -> list[str | int]:
    """msgspec's ``$.a[3].b[...]`` as parts; a mapping's key (``[...]``) is found again in ``raw``."""
    parts: list[str | int] = []
    value, annotation = raw, model
    for token in re.findall(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]", at.removeprefix("$")):
        name, index = token
        if name:
            parts.append(name)
            fields = _struct_fields(annotation)
            annotation = fields.get(name, Any) if fields is not None else _mapping_value_type(annotation)
            value = value.get(name) if isinstance(value, dict) else None
        elif index == "...":
            annotation = _mapping_value_type(annotation)
            key = _refused_key(value, annotation)
            parts.append(str(key) if key is not None else "<key>")
            value = value.get(key) if isinstance(value, dict) and key is not None else None
        else:
            parts.append(int(index))
            annotation = _item_type(annotation, int(index))
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
    return parts


def _refused_key(mapping: Any, value_type: Any) -> Any:
    if not isinstance(mapping, dict):
        return None
    for key, value in mapping.items():
        try:
            msgspec.convert(value, value_type, strict=True)
        except (msgspec.ValidationError, TypeError):
            return key
    return None


def _allowed_values(model: Any, parts: list[str | int]) -> list[str]:
    annotation = model
    for part in parts:
        if isinstance(part, int):
            annotation = _item_type(annotation, part)
        else:
            fields = _struct_fields(annotation)
            annotation = fields.get(part, Any) if fields is not None else _mapping_value_type(annotation)
    values: list[str] = []
    for option in _options(annotation):
        if get_origin(option) is Literal:
            values += [str(v) for v in get_args(option)]
        elif isinstance(option, type) and issubclass(option, enum.Enum):
            values += [str(member.value) for member in option]
    return values


def struct_fields(cls: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    """The struct's fields (name, type, default), for callers that list them (runbook parameters)."""
    return msgspec.structs.fields(cls)

