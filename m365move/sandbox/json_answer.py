"""Large sandbox answers serialised with orjson (a Connect page of a thousand assets, a Partner Center page of 300
migrations): the same JSON as ``json.dumps``, several times faster, so the sandbox's one thread spends its time
on the API rather than on writing bytes. Anything orjson refuses (an integer beyond 64 bits, say) falls back to
``json.dumps``. What an answer says is unchanged; only non-ASCII text is written as UTF-8 instead of ``\\u``
escapes, which JSON readers treat alike (the body is UTF-8, as ``application/json`` requires)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response


def json_bytes(content: Any) -> bytes:
    try:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(content, separators=(",", ":")).encode()


def json_answer(content: Any, *, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A ``JSONResponse`` written by orjson."""
    return Response(json_bytes(content), status_code=status_code, headers=headers, media_type="application/json")
