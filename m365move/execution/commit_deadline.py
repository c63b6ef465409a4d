"""The platform's commit deadline: how long after a POST left Commerce may still commit it.

A gateway can answer 504, or the client time out, while the platform commits the request seconds or
minutes later; a look-up right after the answer proves nothing. An order whose POST got no certain
answer is looked up again until this deadline has passed after the POST left, and only then sent
again. The default, 300 s, is well above any gateway's timeout (the client's own is 30 s; Azure's and
AWS's gateways give up after 60 to 240 s). ``--commit-deadline`` or ``M365MOVE_COMMIT_DEADLINE_SECONDS``
changes it (docs/decisions/commit-deadline.md).
"""

from __future__ import annotations

import math
import os

from m365move.errors import InputError

ENV_VAR = "M365MOVE_COMMIT_DEADLINE_SECONDS"
DEFAULT_SECONDS = 300.0
MAXIMUM_SECONDS = 86_400.0


def default_commit_deadline() -> float:
    """``M365MOVE_COMMIT_DEADLINE_SECONDS`` when set, else 300 s; InputError for a value that is not a number of
    seconds from 0 to a day."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return DEFAULT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAXIMUM_SECONDS:
        raise InputError(f"{text!r} is not a number of seconds from 0 to {MAXIMUM_SECONDS:g}", where=ENV_VAR,
                         hint="the time within which Commerce commits a request it received; default 300")
    return value
