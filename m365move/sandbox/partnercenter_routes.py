"""Partner Center's new-commerce migration endpoints (DESIGN §6) under ``/partnercenter``: migrations, their
schedules, the legacy subscription read, plus a token endpoint standing in for Entra ID's client-credentials flow
(``/partnercenter/oauth2/token``)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from m365move.sandbox.json_answer import json_answer
from m365move.sandbox.partnercenter_state import PartnerCenterProblem, PartnerCenterState, bad_request

PREFIX = "/partnercenter"
Handler = Callable[[Request], Awaitable[Response]]


def partnercenter_routes(state: PartnerCenterState) -> list[BaseRoute]:
    def guarded(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            if not state.token_ok(request.headers.get("authorization")):
                return JSONResponse({"code": 401, "description": "missing or invalid bearer token"}, status_code=401)
            try:
                return await handler(request)
            except PartnerCenterProblem as problem:
                headers = {"Retry-After": str(problem.retry_after)} if problem.retry_after is not None else None
                return JSONResponse({"code": problem.code, "description": problem.description}, status_code=problem.status,
                                    headers=headers)
        return wrapped

    async def token(request: Request) -> Response:
        # Parsed by hand: starlette's form parser needs python-multipart, which the project does not otherwise need.
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        issued = state.issue_token(form)
        if issued is None:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        return JSONResponse({"token_type": "Bearer", "expires_in": 3599, "access_token": issued})

    async def validate(request: Request) -> Response:
        body = await _body(request)
        return JSONResponse(state.validate(request.path_params["tenant"], str(body.get("currentSubscriptionId", "")),
                                           body))

    async def create(request: Request) -> Response:
        migration, created = state.create(request.path_params["tenant"], await _body(request),
                                          request.headers.get("ms-requestid"))
        return JSONResponse(migration, status_code=201 if created else 200)

    async def get(request: Request) -> Response:
        return JSONResponse(state.get(request.path_params["tenant"], request.path_params["id"]))

    def continuation(request: Request) -> int:
        token = request.headers.get("ms-continuationtoken")
        try:
            return int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        except (ValueError, binascii.Error):
            raise bad_request("MS-ContinuationToken is not one this service issued") from None

    def paged(page: list[Any], next_offset: int | None) -> Response:
        headers = ({"MS-ContinuationToken": base64.urlsafe_b64encode(str(next_offset).encode()).decode()}
                   if next_offset is not None else None)
        return json_answer(page, headers=headers)  # up to 300 migrations: written by orjson

    async def find(request: Request) -> Response:
        return paged(*state.find(dict(request.query_params), continuation(request)))

    async def subscription(request: Request) -> Response:
        return JSONResponse(state.subscription(request.path_params["tenant"], request.path_params["id"]))

    async def subscriptions(request: Request) -> Response:
        return JSONResponse(state.list_subscriptions(request.path_params["tenant"]))

    async def create_schedule(request: Request) -> Response:
        schedule, created = state.create_schedule(request.path_params["tenant"], await _body(request),
                                                  request.headers.get("ms-requestid"))
        return JSONResponse(schedule, status_code=201 if created else 200)

    async def get_schedule(request: Request) -> Response:
        return JSONResponse(state.get_schedule(request.path_params["tenant"], request.path_params["id"]))

    async def update_schedule(request: Request) -> Response:
        return JSONResponse(state.update_schedule(request.path_params["tenant"], request.path_params["id"],
                                                  await _body(request)))

    async def cancel_schedule(request: Request) -> Response:
        return JSONResponse(state.cancel_schedule(request.path_params["tenant"], request.path_params["id"]))

    async def find_schedules(request: Request) -> Response:
        return paged(*state.find_schedules(dict(request.query_params), continuation(request)))

    base = f"{PREFIX}/v1/customers/{{tenant}}/migrations/newcommerce"
    return [
        Route(f"{PREFIX}/oauth2/token", token, methods=["POST"]),
        Route(f"{PREFIX}/v1/customers/{{tenant}}/subscriptions", guarded(subscriptions), methods=["GET"]),
        Route(f"{PREFIX}/v1/customers/{{tenant}}/subscriptions/{{id}}", guarded(subscription), methods=["GET"]),
        Route(f"{base}/validate", guarded(validate), methods=["POST"]),
        Route(f"{base}/schedules", guarded(create_schedule), methods=["POST"]),
        Route(f"{base}/schedules/{{id}}", guarded(get_schedule), methods=["GET"]),
        Route(f"{base}/schedules/{{id}}", guarded(update_schedule), methods=["PUT"]),
        Route(f"{base}/schedules/{{id}}/cancel", guarded(cancel_schedule), methods=["POST"]),
        Route(base, guarded(create), methods=["POST"]),
        Route(f"{base}/{{id}}", guarded(get), methods=["GET"]),
        Route(f"{PREFIX}/v1/migrations/newcommerce/schedules", guarded(find_schedules), methods=["GET"]),
        Route(f"{PREFIX}/v1/migrations/newcommerce", guarded(find), methods=["GET"]),
    ]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise bad_request("the body is not JSON") from None
    except RecursionError:
        raise bad_request("the body is nested too deeply to parse") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body
