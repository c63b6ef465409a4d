"""The sandbox's own endpoints under ``/_sandbox`` (never subject to faults, no authentication: loopback only).

- ``GET /_sandbox/faults``, ``PUT /_sandbox/faults`` (a whole faults document) to change faults at runtime;
- ``GET /_sandbox/stats`` request counts by method and route template, ``POST /_sandbox/reset-stats``;
- ``GET /_sandbox/state`` the whole Commerce state (what the state file holds), for tests;
- ``POST /_sandbox/advance`` ``{"seconds": n}`` moves the sandbox clock so orders progress without waiting.
"""

from __future__ import annotations

import json

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from m365move.estate.locations import validation_messages
from m365move.sandbox.commerce_state import CommerceState
from m365move.sandbox.faults import FaultInjector, Faults
from m365move.sandbox.request_stats import RequestStats


def admin_routes(state: CommerceState, injector: FaultInjector, stats: RequestStats) -> list[BaseRoute]:
    async def get_faults(request: Request) -> Response:
        return JSONResponse(injector.faults.model_dump())

    async def put_faults(request: Request) -> Response:
        try:
            faults = Faults.model_validate_json(await request.body() or b"{}")
        except ValidationError as error:
            field, message = validation_messages(error)[0]
            return JSONResponse({"code": "invalid-faults", "message": f"{field}: {message}"}, status_code=400)
        injector.replace(faults)
        return JSONResponse(faults.model_dump())

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
        except (ValueError, TypeError, AttributeError):
            return JSONResponse({"code": "invalid", "message": 'send {"seconds": <number>}'}, status_code=400)
        state.advance_clock(seconds)
        return JSONResponse({"now": state.now()})

    return [
        Route("/_sandbox/faults", get_faults, methods=["GET"]),
        Route("/_sandbox/faults", put_faults, methods=["PUT"]),
        Route("/_sandbox/stats", get_stats, methods=["GET"]),
        Route("/_sandbox/reset-stats", reset_stats, methods=["POST"]),
        Route("/_sandbox/state", get_state, methods=["GET"]),
        Route("/_sandbox/advance", advance, methods=["POST"]),
    ]
