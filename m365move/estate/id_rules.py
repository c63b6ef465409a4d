"""What an id may be: the rule every estate and Connect id is checked against when a file is read.

An id ends up in a URL path (``GET /subscriptions/{id}``), a journal key, a file name and a log line. The
platforms' own ids are short and plain (Commerce: digits; Connect: ``AS-1234-5678-9012``; Partner Center
and Entra: GUIDs). An id holding a line break, a ``/``, ``?``, ``#`` or ``%`` would change which URL is
called or split a log line; ten megabytes of id is not an id. Such ids are refused where the file is read,
with the file and the place; the clients percent-encode every id they put in a path anyway.

The rule is a regular expression, so that pydantic (Rust) and msgspec check it without a Python call per id:
an estate holds hundreds of thousands.
"""

from __future__ import annotations

from typing import Literal

MAX_ID_LENGTH = 128
# A reseller's, customer's or plan's name: shown in tables and reports; ten megabytes of name is not a name.
MAX_NAME_LENGTH = 1024
# No control character (C0, DEL, C1, the Unicode line and paragraph separators), none of / ? # % \.
ID_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029/?#%\\\\]*$"
ID_RULE = f"an id is 1 to {MAX_ID_LENGTH} characters, none of them a control character, a line break or / ? # % \\"


def id_problem(value: str) -> str | None:
    """Why ``value`` is not an id (:data:`ID_RULE`), or None."""
    import re

    if not 1 <= len(value) <= MAX_ID_LENGTH or re.fullmatch(ID_PATTERN, value) is None:
        return ID_RULE
    return None


# A subscription's status: SimpleAPI's (pending, active, hold, terminated, removed) and the two words people
# use for the last ones. Anything else (``zombie``) is a typo that would silently skip the subscription.
SubscriptionStatus = Literal["pending", "active", "hold", "terminated", "removed", "suspended", "cancelled"]
