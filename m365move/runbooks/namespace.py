"""A runbook's parameter model from the notebook's variables, however the values were injected.

``m365move runbook run`` injects values already typed by the declared types. Plain ``papermill -p``
guesses types from the text (``-p reseller 1000002`` injects the integer 1000002), so a number given
for a text parameter is turned back into text here (``typed.convert``): ids stay strings whichever way a
runbook is run. Names papermill does not know are warned about by papermill itself ("Passed unknown parameter").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from m365move.errors import InputError
from m365move.estate import typed

Model = TypeVar("Model", bound=msgspec.Struct)


def parameters_from_namespace(model: type[Model], namespace: Mapping[str, Any]) -> Model:
    """Validate ``model`` from the variables of its fields' names; InputError naming the parameter when refused."""
    values = {field.name: namespace[field.name] for field in typed.struct_fields(model) if field.name in namespace}
    try:
        # Not strict: a value typed as text ("8" for a number) is read as that number.
        return typed.convert(values, model, strict=False)
    except typed.Invalid as error:
        raise InputError(error.message, where=f"parameter {error.path}" if error.path else "parameters") from None
