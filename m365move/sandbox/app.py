"""The sandbox as one ASGI application: every emulated API's routes, composed as a simple list."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from m365move.estate.schema import EstateDocument
from m365move.sandbox.admin_routes import admin_routes
from m365move.sandbox.api_middleware import ApiMiddleware
from m365move.sandbox.auth import SandboxCredentials, TokenIssuer
from m365move.sandbox.body_limit import BodySizeLimit
from m365move.sandbox.commerce_routes import EXCEPTION_HANDLERS, commerce_routes
from m365move.sandbox.commerce_state import CommerceState
from m365move.sandbox.connect_routes import connect_routes
from m365move.sandbox.connect_state import ConnectState
from m365move.sandbox.faults import FaultInjector, Faults
from m365move.sandbox.graph_routes import graph_routes
from m365move.sandbox.nce_connector import NceConnector
from m365move.sandbox.partnercenter_routes import partnercenter_routes
from m365move.sandbox.partnercenter_state import PartnerCenterState
from m365move.sandbox.request_stats import RequestStats
from m365move.sandbox.response_checks import violations_file
from m365move.sandbox.spec_middleware import SpecMiddleware


@dataclass(frozen=True)
class SandboxContext:
    """The live parts of a sandbox app, for tests and other route modules (``sandbox_context(app)``)."""

    document: EstateDocument
    commerce: CommerceState
    injector: FaultInjector
    stats: RequestStats
    issuer: TokenIssuer


def build_sandbox_app(
    document: EstateDocument,
    faults: Faults | None = None,
    state_file: str | Path | None = None,
    *,
    credentials: SandboxCredentials | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """A Starlette app emulating the platforms, seeded from ``document`` (or resumed from ``state_file``)."""
    injector = FaultInjector(faults)
    stats = RequestStats()
    partner_center = PartnerCenterState(document.partner_center)
    connector = NceConnector(partner_center, (m.nce for m in document.commerce.license_mappings))
    commerce = CommerceState.open(document, injector=injector, state_file=state_file, clock=clock,
                                  connector=connector)
    issuer = TokenIssuer(credentials or SandboxCredentials())
    context = SandboxContext(document, commerce, injector, stats, issuer)
    connect = ConnectState(document.connect)
    # One entry per emulated API; each is a plain list of routes (Connect, Partner Center and Graph
    # join here the same way).
    api_routes: list[BaseRoute] = [
        *commerce_routes(commerce, issuer),
        *graph_routes(document.call2teams),
        *connect_routes(connect),
        *partnercenter_routes(partner_center),
    ]
    routes = [*api_routes, *admin_routes(commerce, injector, stats, issuer)]
    app = Starlette(
        routes=routes,
        exception_handlers=dict(EXCEPTION_HANDLERS),
        # Outermost first: the body cap (no oversized body reaches anything else), counts and faults, then
        # the spec gate (a refused request never reaches a route).
        middleware=[
            Middleware(BodySizeLimit),
            Middleware(ApiMiddleware, routes=api_routes, injector=injector, stats=stats),
            Middleware(SpecMiddleware, violations_file=violations_file()),
        ],
    )
    app.state.sandbox = context
    app.state.connect = connect
    app.state.partner_center = partner_center
    return app


def sandbox_context(app: Starlette) -> SandboxContext:
    """The typed parts of an app made by ``build_sandbox_app``."""
    context = app.state.sandbox
    assert isinstance(context, SandboxContext)
    return context
