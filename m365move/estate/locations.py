"""Naming places inside files the way people read them: ``commerce.subscriptions[3].plan_id``."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError


def dotted_path(loc: Sequence[str | int]) -> str:
    """('commerce', 'subscriptions', 3, 'plan_id') → 'commerce.subscriptions[3].plan_id'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def validation_messages(error: ValidationError) -> list[tuple[str, str]]:
    """(path, message) for every problem pydantic found, messages without pydantic's prefixes."""
    result = []
    for item in error.errors(include_url=False):
        message = str(item["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field; remove it or check its spelling"
        elif item["type"] == "missing":
            message = "required field is missing"
        result.append((dotted_path(item["loc"]), message))
    return result
