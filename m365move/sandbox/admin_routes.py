"""The sandbox's own endpoints under ``/_sandbox`` (never subject to faults).

They change faults, state and the clock, so they ask for the sandbox's credentials as HTTP Basic
(user and password, ``sandbox``/``sandbox`` unless the server was started with others): anything else
on the machine that can reach the port could otherwise inject faults into a run or move its clock.

- ``GET /_sandbox/faults``, ``PUT /_sandbox/faults`` (a whole faults document) to change faults at runtime;
- ``GET /_sandbox/stats`` request counts by method and route template, ``POST /_sandbox/reset-stats``;
- ``GET /_sandbox/state`` the whole Commerce state (what the state file holds), for tests;
- ``POST /_sandbox/advance`` ``{"seconds": n}`` moves the sandbox clock forward (a finite number of
  seconds, at most a century) so orders progress without waiting.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from m365move.estate import typed
from m365move.sandbox.auth import TokenIssuer
from m365move.sandbox.commerce_state import CommerceState
from m365move.sandbox.faults import FaultInjector, Faults
from m365move.sandbox.request_stats import RequestStats

ADMIN_REALM = "m365move sandbox admin"
MAX_ADVANCE_SECONDS = 100 * 366 * 86400.0

Handler = Callable[[Request], Awaitable[Response]]


def admin_routes(
    state: CommerceState, injector: FaultInjector, stats: RequestStats, issuer: TokenIssuer
) -> list[BaseRoute]:
    def protected(handler: Handler) -> Handler:
        async def check(request: Request) -> Response:
            if not issuer.basic_ok(request.headers.get("authorization")):
                return JSONResponse(
                    {"code": "unauthorized", "message": "the sandbox admin routes need its user and password (Basic)"},
                    status_code=401, headers={"WWW-Authenticate": f'Basic realm="{ADMIN_REALM}"'},
                )
            return await handler(request)

        return check

    async def get_faults(request: Request) -> Response:
        return JSONResponse(typed.to_builtins(injector.faults))

    async def put_faults(request: Request) -> Response:
        try:
            faults = typed.decode_json(await request.body() or b"{}", Faults)
        except typed.Invalid as error:
            return JSONResponse({"code": "invalid-faults", "message": str(error)}, status_code=400)
        injector.replace(faults)
        return JSONResponse(typed.to_builtins(faults))

    async def get_stats(request: Request) -> Response:
        return JSONResponse(stats.snapshot())

    async def reset_stats(request: Request) -> Response:
        stats.reset()
        return JSONResponse(stats.snapshot())

    async def get_state(request: Request) -> Response:
        return Response(state.snapshot_json(), media_type="application/json")

    async def advance(request: Request) -> Response:
        try:
            seconds = float(json.loads(await request.body() or b"{}").get("seconds", 0))
        except (ValueError, TypeError, AttributeError, RecursionError):
            return JSONResponse({"code": "invalid", "message": 'send {"seconds": <number>}'}, status_code=400)
        # nan would make every later comparison with the clock false, inf would end every order at once.
        if not (math.isfinite(seconds) and 0 <= seconds <= MAX_ADVANCE_SECONDS):
            return JSONResponse({"code": "invalid", "message": f"seconds must be a finite number from 0 to "
                                 f"{MAX_ADVANCE_SECONDS:.0f}, not {seconds}"}, status_code=400)
        state.advance_clock(seconds)
        return JSONResponse({"now": state.now()})

    return [
        Route("/_sandbox/faults", protected(get_faults), methods=["GET"]),
        Route("/_sandbox/faults", protected(put_faults), methods=["PUT"]),
        Route("/_sandbox/stats", protected(get_stats), methods=["GET"]),
        Route("/_sandbox/reset-stats", protected(reset_stats), methods=["POST"]),
        Route("/_sandbox/state", protected(get_state), methods=["GET"]),
        Route("/_sandbox/advance", protected(advance), methods=["POST"]),
    ]
