"""A runbook's parameter model from the notebook's variables, however the values were injected.

``m365move runbook run`` injects values already typed by the declared types. Plain ``papermill -p``
guesses types from the text (``-p reseller 1000002`` injects the integer 1000002), so a number given
for a text parameter is turned back into text here: ids stay strings whichever way a runbook is run.
Names papermill does not know are warned about by papermill itself ("Passed unknown parameter").
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)


def _takes_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return str in typing.get_args(annotation)
    return False


def parameters_from_namespace(model: type[Model], namespace: Mapping[str, Any]) -> Model:
    """Validate ``model`` from the variables of its fields' names; ints and floats given for text become text."""
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name not in namespace:
            continue
        value = namespace[name]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and _takes_text(field.annotation):
            value = str(value)
        values[name] = value
    return model.model_validate(values)
