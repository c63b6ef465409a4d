"""E.164 phone numbers as the Call2Teams bulk import wants them (``+`` then up to 15 digits)."""

from __future__ import annotations

import re

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
# Separators people type and spreadsheets keep; anything else (letters, a leading 00 or 0) is invalid.
_SEPARATORS = re.compile(r"[\s\-.()/]")


def normalize_e164(text: str) -> str | None:
    """The number as ``+<digits>`` when it is E.164 (separators and a ``tel:`` prefix allowed), else None."""
    candidate = text.strip()
    if candidate.lower().startswith("tel:"):
        candidate = candidate[4:]
    candidate = _SEPARATORS.sub("", candidate)
    return candidate if _E164.match(candidate) else None
