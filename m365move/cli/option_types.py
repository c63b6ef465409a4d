"""Argument types that refuse impossible values while the command line is parsed, before anything runs.

``--rate-limit nan`` or ``--poll-interval -1`` would otherwise reach an executor that is already talking
to Commerce; ``--output`` naming a folder would fail only after an hour of work. Each type raises
``argparse.ArgumentTypeError`` with what was wrong and what is allowed; the parser turns it into one
line naming the option (exit status 2).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path


def _number_text(text: str) -> str:
    if len(text) > 40:
        raise argparse.ArgumentTypeError(f"{text[:20]!r}… is not a number")
    return text


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An int from ``low`` to ``high`` inclusive."""

    def parse(text: str) -> int:
        try:
            value = int(_number_text(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: give a whole number from {low} to {high}")
        return value

    parse.__name__ = "whole number"
    return parse


def finite_number(*, above: float | None = None, at_least: float | None = None, at_most: float) -> Callable[[str], float]:
    """A finite float (no nan, no inf) with the given bounds."""
    low = f"above {above:g}" if above is not None else f"from {at_least:g}"

    def parse(text: str) -> float:
        try:
            value = float(_number_text(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        in_range = (
            math.isfinite(value)
            and (above is None or value > above)
            and (at_least is None or value >= at_least)
            and value <= at_most
        )
        if not in_range:
            raise argparse.ArgumentTypeError(f"{text} is out of range: give a number {low} up to {at_most:g}")
        return value

    parse.__name__ = "number"
    return parse


def _first_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(".")


def output_file(text: str) -> str:
    """A file to write: not an existing folder, not under a file."""
    path = Path(text)
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: name a file to write")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: name a file to write")
    existing = _first_existing(path.parent)
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is under {existing}, which is a file, not a folder")
    return text


def output_dir(text: str) -> str:
    """A folder to write into (created if missing): not an existing file, not under a file."""
    path = Path(text)
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: name a folder")
    existing = _first_existing(path)
    if existing == path and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file: name a folder (it is created if missing)")
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is under {existing}, which is a file, not a folder")
    return text


def output_dir_path(text: str) -> Path:
    return Path(output_dir(text))


def output_file_path(text: str) -> Path:
    return Path(output_file(text))
