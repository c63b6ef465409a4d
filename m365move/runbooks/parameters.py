"""A runbook's parameters: parsing the ``parameters`` cell and validating values given to ``run``.

Each line of the cell reads ``name: type = default  # help``. Types are ``str``, ``int``, ``float``,
``bool`` and their optional forms, written ``Optional[X]`` after a first line ``from typing import
Optional`` (papermill's own inspection, ``papermill --help-notebook``, reads this form but not
``X | None``, which is accepted here too). A parameter whose default is ``None`` while its type is
not optional is *required*. Blank lines and whole-line comments are allowed (section headings).

Values from ``-p KEY VALUE`` and from a ``-f`` YAML file are both read as text and coerced by the
declared type, so ``-p subscription_id 0012`` stays ``"0012"`` (YAML would otherwise make it the
integer 10: ``0012`` is an octal literal in YAML 1.1). For optional types the words ``None``,
``null`` and ``~`` mean ``None``.
"""

from __future__ import annotations

import ast
import io
import math
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from m365move.errors import InputError
from m365move.files.input_text import parse_yaml_text, read_input_text

BASE_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
NONE_WORDS = frozenset({"none", "null", "~"})


class ParameterError(InputError):
    """Parameters given to a runbook are wrong; ``problems`` lists each one, naming the parameter."""

    def __init__(self, problems: list[str], *, where: str | None = None, hint: str | None = None) -> None:
        self.problems = problems
        super().__init__("; ".join(problems), where=where, hint=hint)


@dataclass(frozen=True)
class ParameterType:
    """A declared type: one of :data:`BASE_TYPES`, possibly optional."""

    base: str
    optional: bool = False

    def __str__(self) -> str:
        return f"{self.base} | None" if self.optional else self.base

    def accepts(self, value: object) -> bool:
        """Whether an already-typed value fits (bool is not an int here; an int is a float)."""
        if value is None:
            return self.optional
        if self.base == "bool" or isinstance(value, bool):
            return self.base == "bool" and isinstance(value, bool)
        if self.base == "float":
            return isinstance(value, (int, float))
        return isinstance(value, BASE_TYPES[self.base])

    def coerce_text(self, text: str) -> object:
        """Turn command-line or YAML text into a value of this type; ValueError says what was expected."""
        stripped = text.strip()
        if self.optional and stripped.lower() in NONE_WORDS:
            return None
        if self.base == "str":
            return text
        if self.base == "bool":
            word = stripped.lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError(f"expected {self} (true/false), got {text!r}")
        try:
            value: int | float = int(stripped) if self.base == "int" else float(stripped)
        except ValueError:
            raise ValueError(f"expected {self}, got {text!r}") from None
        # nan and inf are no runbook's timeout, rate or count; neither is a number of thousands of digits.
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"expected a finite {self}, got {text!r}")
        return value


@dataclass(frozen=True)
class Parameter:
    """One line of the ``parameters`` cell."""

    name: str
    type: ParameterType
    default: object
    help: str
    line: int

    @property
    def required(self) -> bool:
        return self.default is None and not self.type.optional


@dataclass(frozen=True)
class LineProblem:
    """A line of the parameters cell that does not read ``name: type = default  # help``."""

    line: int
    text: str
    message: str


@dataclass(frozen=True)
class ParametersCell:
    """The parsed cell: parameters in order, and the lines that could not be read."""

    parameters: tuple[Parameter, ...]
    problems: tuple[LineProblem, ...]

    def by_name(self) -> dict[str, Parameter]:
        return {parameter.name: parameter for parameter in self.parameters}


def parse_type(annotation: ast.expr) -> ParameterType | None:
    """``str``, ``"Optional[int]"``, ``Optional[int]``, ``int | None``, ``None | int`` → ParameterType; else None."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            inner = ast.parse(annotation.value.strip(), mode="eval").body
        except SyntaxError:
            return None
        return None if isinstance(inner, ast.Constant) else parse_type(inner)
    if isinstance(annotation, ast.Name) and annotation.id in BASE_TYPES:
        return ParameterType(annotation.id)
    if (
        isinstance(annotation, ast.Subscript)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id == "Optional"
        and isinstance(annotation.slice, ast.Name)
        and annotation.slice.id in BASE_TYPES
    ):
        return ParameterType(annotation.slice.id, optional=True)
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [annotation.left, annotation.right]
        nones = [side for side in sides if isinstance(side, ast.Constant) and side.value is None]
        names = [side for side in sides if isinstance(side, ast.Name) and side.id in BASE_TYPES]
        if len(nones) == 1 and len(names) == 1:
            return ParameterType(names[0].id, optional=True)
    return None


def _split_comment(line: str) -> tuple[str, str | None]:
    """Split code from its trailing comment with the tokenizer, so a ``#`` inside a string stays put."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                return line[: token.start[1]], token.string[1:].strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return line, None


def parse_parameter_line(line: str, number: int) -> Parameter | LineProblem | None:
    """One line → a Parameter, a LineProblem, or None for a blank or comment-only line."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    code, help_text = _split_comment(line)
    expected = "expected `name: type = default  # help`"
    try:
        tree = ast.parse(code.strip())
    except SyntaxError:
        return LineProblem(number, line, f"not valid Python; {expected}")
    statement = tree.body[0] if len(tree.body) == 1 else None
    if isinstance(statement, ast.ImportFrom) and statement.module == "typing" and \
            [alias.name for alias in statement.names] == ["Optional"]:
        return None  # what Optional[X] annotations need; papermill skips it too
    if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
        return LineProblem(number, line, expected)
    if statement.value is None:
        return LineProblem(number, line, f"no default value; {expected} (use `= None` for a required one)")
    parameter_type = parse_type(statement.annotation)
    if parameter_type is None:
        allowed = ", ".join(BASE_TYPES)
        return LineProblem(
            number, line, f"type `{ast.unparse(statement.annotation)}` not supported; use {allowed} or `Optional[X]`"
        )
    try:
        default = ast.literal_eval(statement.value)
    except ValueError:
        return LineProblem(number, line, "the default must be a literal (a number, string, True/False or None)")
    name = statement.target.id
    if default is not None and not parameter_type.accepts(default):
        return LineProblem(number, line, f"default {default!r} of {name} is not a {parameter_type}")
    return Parameter(name, parameter_type, default, help_text or "", number)


def parse_parameters_cell(source: str) -> ParametersCell:
    """Parse the source of a ``parameters`` cell; never raises, problems are returned."""
    parameters: list[Parameter] = []
    problems: list[LineProblem] = []
    seen: set[str] = set()
    for number, line in enumerate(source.splitlines(), start=1):
        parsed = parse_parameter_line(line, number)
        if isinstance(parsed, LineProblem):
            problems.append(parsed)
        elif isinstance(parsed, Parameter):
            if parsed.name in seen:
                problems.append(LineProblem(number, line, f"{parsed.name} is declared twice"))
                continue
            seen.add(parsed.name)
            parameters.append(parsed)
    return ParametersCell(tuple(parameters), tuple(problems))


def load_parameters_file(path: Path) -> dict[str, str | None]:
    """Read a ``-f params.yaml`` mapping with every scalar kept as text (see the module docstring)."""
    # Scalars stay text (no YAML type guessing): ids like 0012 and yes/no stay text until the declared
    # type decides. A binary file, a duplicate key or a document that is not a mapping is refused.
    data = parse_yaml_text(read_input_text(path), where=str(path), scalars_as_text=True)
    if data is None or data == "":
        return {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        raise InputError(f"holds {kind}; expected a mapping of parameter names to values (name: value)",
                         where=str(path))
    values: dict[str, str | None] = {}
    for key, value in data.items():
        if not isinstance(value, str):
            raise InputError(f"{key}: expected a single value, got a list or mapping", where=str(path))
        values[str(key)] = value
    return values


def resolve_parameters(
    cell: ParametersCell,
    given: Mapping[str, object],
    *,
    runbook: str,
) -> dict[str, object]:
    """Validate given values against the cell and return every parameter's value (defaults filled in).

    Text values are coerced by the declared type; other values must already have it. Every unknown
    name, wrong type and missing required value is reported at once in one :class:`ParameterError`.
    """
    declared = cell.by_name()
    problems: list[str] = []
    values: dict[str, object] = {}
    wrong_type: set[str] = set()  # already reported; not reported again as missing
    for name, raw in given.items():
        parameter = declared.get(name)
        if parameter is None:
            problems.append(f"unknown parameter {name!r}" + _known_names_hint(declared))
            continue
        try:
            values[name] = _coerce(parameter, raw)
        except ValueError as error:
            problems.append(f"parameter {name!r}: {error}")
            wrong_type.add(name)
    for parameter in cell.parameters:
        if parameter.name not in values and parameter.name not in wrong_type:
            values[parameter.name] = parameter.default
        if parameter.required and parameter.name not in wrong_type and values[parameter.name] is None:
            problems.append(f"parameter {parameter.name!r} ({parameter.type}) is required")
    if problems:
        raise ParameterError(problems, where=f"runbook {runbook}", hint=f"see `m365move runbook show {runbook}`")
    # Keep the declaration order: parameters.json and the injected cell read like the notebook.
    return {parameter.name: values[parameter.name] for parameter in cell.parameters}


# No parameter is a document: paths, ids, URLs and lists of them. A longer value is a mistake (or an attack)
# that would otherwise be written into the notebook, the report and every error line.
MAX_PARAMETER_TEXT = 65_536


def _coerce(parameter: Parameter, raw: object) -> object:
    if isinstance(raw, str) and len(raw) > MAX_PARAMETER_TEXT:
        raise ValueError(f"{len(raw):,} characters long; a parameter is at most {MAX_PARAMETER_TEXT:,}")
    if isinstance(raw, str):
        return parameter.type.coerce_text(raw)
    if not parameter.type.accepts(raw):
        raise ValueError(f"expected {parameter.type}, got {type(raw).__name__} {raw!r}")
    if parameter.type.base == "float" and isinstance(raw, int):
        return float(raw)
    return raw


def _known_names_hint(declared: Mapping[str, Parameter]) -> str:
    return f" (known: {', '.join(declared)})" if declared else " (this runbook takes no parameters)"
