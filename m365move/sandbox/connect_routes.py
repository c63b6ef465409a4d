"""The Connect public API subset connect-openapi-client calls, under ``/public/v1`` (DESIGN §7).

RQL is read from the raw query string, pages answer with ``Content-Range: items <first>-<last>/<total>``, and
every call needs ``Authorization: ApiKey …`` equal to the estate's ``connect.api_key``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from m365move.sandbox.api_middleware import ARRIVED_AT
from m365move.sandbox.connect_state import ConnectApiProblem, ConnectState
from m365move.sandbox.json_answer import json_answer
from m365move.sandbox.rql import RqlError, equality_hints, matched_objects, page_from, page_of, parse_query

PREFIX = "/public/v1"
Handler = Callable[[Request], Awaitable[Response]]


def connect_routes(state: ConnectState) -> list[BaseRoute]:
    def guarded(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            given = (request.headers.get("authorization") or "").encode()
            if not any([secrets.compare_digest(given, key.encode()) for key in state.api_keys]):
                return _problem(ConnectApiProblem(401, "AUTH_001", "API request is unauthorized."))
            try:
                return await handler(request)
            except ConnectApiProblem as problem:
                return _problem(problem)
            except RqlError as error:
                return _problem(ConnectApiProblem(400, "RQL_001", str(error)))
        return wrapped

    def listing(name: str) -> Handler:
        async def handler(request: Request) -> Response:
            raw_query = request.scope.get("query_string", b"").decode("latin-1")
            # Filtered on an id (or a request's asset id): the candidates from the index, not every object.
            hints = equality_hints(raw_query)
            candidates = state.candidates(name, hints) if hints else None
            if candidates is not None:
                return _page(request, name, candidates)
            # Otherwise the whole collection is filtered and ordered once per listing, and its pages cut from that.
            query = parse_query(name, raw_query)
            matched = state.listing_cache.matched(name, raw_query, state.listing_version(name),
                                       lambda: matched_objects(state.collection(name), query))
            return _answer(*page_from(matched, query))
        return handler

    def detail(name: str) -> Handler:
        async def handler(request: Request) -> Response:
            return JSONResponse(state.get(name, request.path_params["id"]))
        return handler

    async def items(request: Request) -> Response:
        return _page(request, "products/items", state.product_items(request.path_params["product_id"]))

    async def connections(request: Request) -> Response:
        return _page(request, "products/connections", state.product_connections(request.path_params["product_id"]))

    def devops(kind: str) -> Handler:
        async def handler(request: Request) -> Response:
            return JSONResponse(state.devops_object(kind, request.path_params["id"]))
        return handler

    async def installations(request: Request) -> Response:
        every = state.installation_list()
        params = request.query_params
        try:
            limit = max(1, min(int(params.get("limit", 100)), 1000))
            offset = max(0, int(params.get("offset", 0)))
        except ValueError:
            raise ConnectApiProblem(400, "RQL_001", "limit and offset must be whole numbers") from None
        page = every[offset:offset + limit]
        last = offset + len(page) - 1 if page else offset
        return _answer(page, f"items {offset}-{last}/{len(every)}")

    async def impersonate(request: Request) -> Response:
        return JSONResponse(state.impersonate(request.path_params["id"]))

    async def update_schedule(request: Request) -> Response:
        return JSONResponse(state.update_schedule(request.path_params["id"], await _body(request)))

    async def trigger_schedule(request: Request) -> Response:
        return JSONResponse(state.trigger_schedule(request.path_params["id"]))

    async def item(request: Request) -> Response:
        for found in state.product_items(request.path_params["product_id"]):
            if found["id"] == request.path_params["item_id"]:
                return JSONResponse(found)
        raise ConnectApiProblem(404, "PRD_404", f"item {request.path_params['item_id']} not found")

    async def create_request(request: Request) -> Response:
        arrived = request.scope.get("state", {}).get(ARRIVED_AT)  # committed after its answer: created at arrival
        return JSONResponse(state.create_request(await _body(request), created=arrived), status_code=201)

    async def update_request(request: Request) -> Response:
        return JSONResponse(state.update_request(request.path_params["id"], await _body(request)))

    def request_action(action: str) -> Handler:
        async def handler(request: Request) -> Response:
            return JSONResponse(state.transition_request(request.path_params["id"], action, await _body(request)))
        return handler

    async def update_tier_config_request(request: Request) -> Response:
        return JSONResponse(state.update_tier_config_request(request.path_params["id"], await _body(request)))

    def tier_config_action(action: str) -> Handler:
        async def handler(request: Request) -> Response:
            answer = state.transition_tier_config_request(request.path_params["id"], action, await _body(request))
            return Response(status_code=204) if answer is None else JSONResponse(answer)
        return handler

    routes: list[BaseRoute] = []
    for name in ("assets", "requests", "tier/configs", "tier/config-requests", "listings", "marketplaces", "products"):
        routes.append(Route(f"{PREFIX}/{name}", guarded(listing(name)), methods=["GET"]))
    for name in ("assets", "requests", "tier/configs", "tier/config-requests"):
        routes.append(Route(f"{PREFIX}/{name}/{{id}}", guarded(detail(name)), methods=["GET"]))
    routes += [
        Route(f"{PREFIX}/products/{{product_id}}/items", guarded(items), methods=["GET"]),
        Route(f"{PREFIX}/products/{{product_id}}/items/{{item_id}}", guarded(item), methods=["GET"]),
        Route(f"{PREFIX}/products/{{product_id}}/connections", guarded(connections), methods=["GET"]),
        Route(f"{PREFIX}/devops/services/{{service}}/environments/{{environment}}/schedules/{{id}}",
              guarded(devops("schedules")), methods=["GET"]),
        Route(f"{PREFIX}/devops/services/{{service}}/environments/{{environment}}/schedules/{{id}}",
              guarded(update_schedule), methods=["PUT"]),
        Route(f"{PREFIX}/devops/services/{{service}}/environments/{{environment}}/schedules/{{id}}/trigger",
              guarded(trigger_schedule), methods=["POST"]),
        Route(f"{PREFIX}/devops/services/{{service}}/installations", guarded(installations), methods=["GET"]),
        Route(f"{PREFIX}/devops/services/{{service}}/installations/{{id}}", guarded(devops("installations")),
              methods=["GET"]),
        Route(f"{PREFIX}/devops/services/{{service}}/installations/{{id}}/impersonate", guarded(impersonate),
              methods=["POST"]),
        Route(f"{PREFIX}/requests", guarded(create_request), methods=["POST"]),
        Route(f"{PREFIX}/requests/{{id}}", guarded(update_request), methods=["PUT"]),
        Route(f"{PREFIX}/tier/config-requests/{{id}}", guarded(update_tier_config_request), methods=["PUT"]),
    ]
    for action in ("approve", "fail", "inquire", "pend"):
        routes.append(Route(f"{PREFIX}/requests/{{id}}/{action}", guarded(request_action(action)), methods=["POST"]))
        routes.append(Route(f"{PREFIX}/tier/config-requests/{{id}}/{action}", guarded(tier_config_action(action)),
                            methods=["POST"]))
    return routes


def _page(request: Request, collection: str, objects: list[dict[str, Any]]) -> Response:
    query = parse_query(collection, request.scope.get("query_string", b"").decode("latin-1"))
    return _answer(*page_of(objects, query))


def _answer(page: list[dict[str, Any]], content_range: str) -> Response:
    # These pages can hold a thousand nested objects: written by orjson.
    return json_answer(page, headers={"Content-Range": content_range})


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ConnectApiProblem(400, "REQ_000", "the body is not JSON") from None
    except RecursionError:
        raise ConnectApiProblem(400, "REQ_000", "the body is nested too deeply to parse") from None
    if not isinstance(body, dict):
        raise ConnectApiProblem(400, "REQ_000", "the body must be a JSON object")
    return body


def _problem(problem: ConnectApiProblem) -> JSONResponse:
    return JSONResponse({"error_code": problem.code, "errors": problem.errors}, status_code=problem.status)
