"""Commerce SimpleAPI 1.15, the subset m365move calls, as starlette routes over ``CommerceState``.

Paths, field names and shapes follow the spec (``specs/commerce-simpleapi-1.15.yaml``), and the spec gate
(``spec_middleware``) refuses any request the spec does not allow before a route runs; in test mode every answer
is checked against the operation's schema, extra fields included. Authentication: ``POST /token`` with HTTP
Basic credentials and ``X-Subscription-Key`` returns a bearer token; every other call needs
``Authorization: Bearer <token>`` and ``X-Subscription-Key``, else 401.

How the sandbox fills what the spec leaves open:

- ``GET /plans/{id}`` ``planSwitches`` come from the estate's ``upgrade_paths`` of **every** reseller
  (the sandbox caller acts as the provider, who sees all resellers); the planner reads per-reseller
  paths from the catalog export, not from here. One switch per subscription period both plans offer.
- A trial is a property of the plan's subscription period (``ServicePlan.subscriptionPeriods[].trial``), not
  of the subscription: an estate subscription marked ``trial`` is served on its plan's trial period,
  ``TRIAL_PERIOD`` (30 days, Microsoft's trial length), which that plan then lists with ``trial: true``.
- ``creationDate`` of a seeded subscription is its start date (SimpleAPI has no start date).
- Orders answer only readable fields: the spec's write-only ones (``planId``, ``subscriptionPeriod``,
  ``startDate``, ``expirationDate``, ``upgradeStartType``, the migration fields) are never echoed, and list
  items (``Order``) have no ``subscriptionId`` (only ``GET /orders/{id}``, ``OrderDetailed``, has it). Both
  carry ``details`` (``OrderDetail``: type, mpn, quantity ordered), as the spec's ``Order`` and
  ``OrderDetailed`` both declare.
- An order that failed says why in ``statusCode`` (the spec's "internal status code of the order", free
  text): Commerce's reason, e.g. the vendor's refusal. Completed orders carry ``CP``, the spec's example.
- ``POST /orders/estimate`` (estimateOrder) checks the order as ``POST /orders`` does and answers its price from
  the plan's prices (``commerce_estimates``); it creates nothing. Sales and migration orders only.
- Errors answer ``{"code": ..., "message": ...}`` (the spec defines no error body).
- Customers carry the attribute ``mcaAccepted`` (``"true"``/``"false"``) from the estate.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from m365move.domain.period import Period
from m365move.estate.schema import CustomerEntry, PlanEntry, PlanPriceEntry, ResellerEntry
from m365move.sandbox.auth import TokenIssuer
from m365move.sandbox.commerce_estimates import estimate_json
from m365move.sandbox.commerce_state import (
    TRIAL_PERIOD,
    CommerceState,
    OrderFilter,
    OrderRecord,
    OrderRejected,
    Page,
    ProductLine,
    SubscriptionRecord,
)

DEFAULT_LIMIT = 10  # the spec's default page size
MAX_LIMIT = 1000
_SUBSCRIPTION_STATUSES = frozenset({"pending", "active", "hold", "terminated", "removed"})

Handler = Callable[[Request], Awaitable[Response]]


def commerce_routes(state: CommerceState, issuer: TokenIssuer) -> list[BaseRoute]:
    """The SimpleAPI routes, bound to one state and one token issuer."""

    def protected(handler: Handler) -> Handler:
        async def checked(request: Request) -> Response:
            if not issuer.key_ok(request.headers.get("X-Subscription-Key")):
                return error(401, "invalid-subscription-key", "X-Subscription-Key is missing or not valid")
            if not issuer.bearer_ok(request.headers.get("Authorization")):
                return error(401, "invalid-token", "bearer token is missing, not valid or expired; POST /token")
            return await handler(request)

        return checked

    async def token(request: Request) -> Response:
        if not issuer.key_ok(request.headers.get("X-Subscription-Key")):
            return error(401, "invalid-subscription-key", "X-Subscription-Key is missing or not valid")
        issued = issuer.issue(request.headers.get("Authorization"))
        if issued is None:
            return error(401, "invalid-credentials", "the user name and password do not match")
        return JSONResponse({"token": issued, "expiresInSeconds": issuer.credentials.token_lifetime_seconds})

    async def resellers(request: Request) -> Response:
        offset, limit = paging(request)
        return result_list(state.list_resellers(offset, limit), reseller_json, offset, limit)

    async def customers(request: Request) -> Response:
        offset, limit = paging(request)
        page = state.list_customers(offset, limit, reseller_id=request.query_params.get("resellerId"))
        return result_list(page, customer_json, offset, limit)

    async def plans(request: Request) -> Response:
        offset, limit = paging(request)
        return result_list(
            state.list_plans(offset, limit), lambda p: plan_json(p, trial=state.offers_trial(p.id)), offset, limit
        )

    async def plan(request: Request) -> Response:
        text = request.path_params["id"]
        found = state.get_plan(int(text)) if text.isdigit() else None
        if found is None:
            return error(404, "not-found", f"plan {text} does not exist")
        return JSONResponse(plan_json(found, trial=state.offers_trial(found.id), switches=plan_switches(found, state)))

    async def subscriptions(request: Request) -> Response:
        offset, limit = paging(request)
        q = request.query_params
        page = state.list_subscriptions(offset, limit, customer_id=q.get("customerId"), status=q.get("status"))
        return result_list(page, lambda s: subscription_json(s, state, detailed=False), offset, limit)

    async def subscription(request: Request) -> Response:
        found = state.get_subscription(request.path_params["id"])
        if found is None:
            return error(404, "not-found", f"subscription {request.path_params['id']} does not exist")
        return JSONResponse(subscription_json(found, state, detailed=True))

    async def orders(request: Request) -> Response:
        offset, limit = paging(request)
        q = request.query_params
        page = state.list_orders(
            offset,
            limit,
            OrderFilter(
                customer_id=q.get("customerId"),
                subscription_id=q.get("subscriptionId"),
                order_number=q.get("orderNumber"),
                status=q.get("status"),
                status_code=q.get("statusCode"),
                created_from=_timestamp(q.get("creationTimeFrom")),
                created_to=_timestamp(q.get("creationTimeTo")),
            ),
        )
        return result_list(page, lambda o: order_json(o, detailed=False), offset, limit)

    async def order(request: Request) -> Response:
        found = state.get_order(request.path_params["id"])
        if found is None:
            return error(404, "not-found", f"order {request.path_params['id']} does not exist")
        return JSONResponse(order_json(found, detailed=True))

    async def order_body(request: Request) -> dict[str, Any] | Response:
        try:
            body = json.loads(await request.body() or b"null")
        except json.JSONDecodeError as problem:
            return error(400, "invalid-json", f"the body is not JSON: {problem.msg}")
        except RecursionError:
            return error(400, "invalid-json", "the body is nested too deeply to parse")
        if not isinstance(body, dict):
            return error(400, "invalid-order", "the body must be an OrderDetailed object")
        return body

    async def estimate_order(request: Request) -> Response:
        body = await order_body(request)
        if isinstance(body, Response):
            return body
        try:
            record, lines = state.estimate_order(body)
        except OrderRejected as problem:
            return error(400, "order-rejected", str(problem))
        return JSONResponse(estimate_json(record.type, record.customer_id, lines))

    async def place_order(request: Request) -> Response:
        body = await order_body(request)
        if isinstance(body, Response):
            return body
        try:
            placed = state.place_order(body)
        except OrderRejected as problem:
            return error(400, "order-rejected", str(problem))
        return JSONResponse(order_json(placed, detailed=True), status_code=201)

    return [
        Route("/token", token, methods=["POST"]),
        Route("/resellers", protected(resellers), methods=["GET"]),
        Route("/customers", protected(customers), methods=["GET"]),
        Route("/plans", protected(plans), methods=["GET"]),
        Route("/plans/{id}", protected(plan), methods=["GET"]),
        Route("/subscriptions", protected(subscriptions), methods=["GET"]),
        Route("/subscriptions/{id}", protected(subscription), methods=["GET"]),
        Route("/orders", protected(orders), methods=["GET"]),
        Route("/orders", protected(place_order), methods=["POST"]),
        Route("/orders/estimate", protected(estimate_order), methods=["POST"]),
        Route("/orders/{id}", protected(order), methods=["GET"]),
    ]


class _BadPaging(ValueError):
    pass


def paging(request: Request) -> tuple[int, int]:
    """``offset`` and ``limit`` from the query (spec defaults 0 and 10; limit capped at 1000)."""
    try:
        offset = int(request.query_params.get("offset", 0))
        limit = int(request.query_params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        offset, limit = -1, -1
    if offset < 0 or limit < 1:
        raise _BadPaging("offset must be a whole number >= 0 and limit >= 1")
    return offset, min(limit, MAX_LIMIT)


async def bad_paging_handler(request: Request, exc: Exception) -> Response:
    return error(400, "invalid-paging", str(exc))


EXCEPTION_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
    _BadPaging: bad_paging_handler,
}


def _timestamp(text: str | None) -> dt.datetime | None:
    """A ``date-time`` query value (the spec gate has checked its format)."""
    if not text:
        return None
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def result_list(page: Page[Any], render: Callable[[Any], dict[str, Any]], offset: int, limit: int) -> JSONResponse:
    return JSONResponse(
        {
            "data": [render(item) for item in page.items],
            "pagination": {"offset": offset, "limit": limit, "total": page.total},
        }
    )


# ---- shapes ---------------------------------------------------------------------------------------


def period_json(text: str) -> dict[str, Any]:
    period = Period.parse(text)
    return {"type": period.unit, "duration": period.duration}


def billing_period_json(text: str) -> dict[str, Any]:
    period = Period.parse(text)
    # The spec's BillingPeriod has no "day" unit.
    return {"type": period.unit if period.unit != "day" else "unknown", "duration": period.duration}


def _account(name: str, account_id: str) -> dict[str, Any]:
    """The fields the spec requires of every account, which an estate does not have."""
    return {
        "id": account_id,
        "name": name or f"Account {account_id}",
        "status": "active",
        "language": "en",
        "address": {"streetAddress": "1 Sandbox Street", "postalCode": "00000", "city": "Sandbox", "countryCode": "US"},
        "contactPersons": [
            {
                "type": "admin",
                "firstName": "Sandbox",
                "lastName": "Admin",
                "email": f"admin-{account_id}@sandbox.invalid",
                "phoneNumber": "+10000000000",
            }
        ],
    }


def reseller_json(reseller: ResellerEntry) -> dict[str, Any]:
    return {**_account(reseller.name, reseller.id), "currency": "USD"}


def customer_json(customer: CustomerEntry) -> dict[str, Any]:
    return {
        **_account(customer.name, customer.id),
        "resellerId": customer.reseller_id,
        "attributes": {"mcaAccepted": "true" if customer.mca_accepted else "false"},
    }


def plan_json(
    plan: PlanEntry, *, trial: bool = False, switches: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``trial``: the plan also offers the trial period (some of its subscriptions are trials)."""
    periods = [{**period_json(p), "trial": False, "active": True} for p in plan.subscription_periods]
    if trial:
        periods.append({**period_json(TRIAL_PERIOD), "trial": True, "active": True})
    shape: dict[str, Any] = {
        "id": str(plan.id),
        "name": plan.name or f"Plan {plan.id}",
        "published": True,
        "subscriptionPeriods": periods,
        "billingPeriod": billing_period_json(plan.billing_period),
        "billingModel": "chargeBeforeBillingPeriod",
    }
    if switches is not None:
        shape["planSwitches"] = switches
    return shape


def plan_switches(plan: PlanEntry, state: CommerceState) -> list[dict[str, Any]]:
    """One switch per target plan (every reseller's upgrade paths) and subscription period both offer."""
    targets = sorted({t for paths in plan.upgrade_paths.values() for t in paths})
    switches = []
    for target_id in targets:
        target = state.get_plan(target_id)
        if target is None:
            continue
        for period in plan.subscription_periods:
            if period in target.subscription_periods:
                switches.append(
                    {
                        "planId": target.id,
                        "subscriptionPeriod": period_json(period),
                        "sourceSubscriptionPeriod": period_json(period),
                        "billingPolicy": "prorate_keeping_exp_date",
                        "whenEffective": "immediately",
                    }
                )
    return switches


def subscription_json(record: SubscriptionRecord, state: CommerceState, *, detailed: bool) -> dict[str, Any]:
    plan = state.get_plan(record.plan_id)
    shape: dict[str, Any] = {
        "id": record.id,
        "name": plan.name if plan and plan.name else f"Subscription {record.id}",
        "customerId": record.customer_id,
        "status": record.status if record.status in _SUBSCRIPTION_STATUSES else "unknown",
        "attributes": dict(record.attributes),
        "renewalStatus": record.auto_renew,
        "billingModel": "chargeBeforeBillingPeriod",
        "billingPeriod": period_json(record.billing_period),
        "subscriptionPeriod": period_json(TRIAL_PERIOD if record.trial else record.subscription_period),
    }
    if record.creation_date:
        shape["creationDate"] = record.creation_date.isoformat()
    if record.expiration_date:
        shape["expirationDate"] = record.expiration_date.isoformat()
        shape["renewalDate"] = record.expiration_date.isoformat()
    if detailed:
        shape["planId"] = record.plan_id
        prices = {(p.mpn.upper(), p.subscription_period): p for p in plan.prices} if plan else {}
        shape["products"] = [_product_json(p, prices.get((p.mpn.upper(), record.subscription_period)))
                             for p in record.products]
    return shape


def _product_json(product: ProductLine, plan_price: PlanPriceEntry | None) -> dict[str, Any]:
    """A SubscriptionProduct; ``unitPrice`` is the subscription's own price when seeded with one, else its plan's."""
    shape: dict[str, Any] = {"mpn": product.mpn, "id": product.mpn, "quantity": product.quantity}
    if product.unit_price is not None and product.currency is not None:
        shape["unitPrice"] = {"amount": product.unit_price, "currency": product.currency}
    elif plan_price is not None:
        shape["unitPrice"] = {"amount": str(plan_price.amount), "currency": plan_price.currency}
    return shape


def order_json(record: OrderRecord, *, detailed: bool) -> dict[str, Any]:
    """``Order`` (list item) or ``OrderDetailed``: readable fields only, never the write-only ones it was placed with."""
    shape: dict[str, Any] = {
        "id": record.id,
        "orderNumber": record.order_number,
        "type": record.type,
        "customerId": record.customer_id,
        "status": record.status,
        "creationDate": record.creation_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "attributes": dict(record.attributes),
    }
    if record.po_number:
        shape["poNumber"] = record.po_number
    if record.provisioning_time:
        shape["provisioningDate"] = record.provisioning_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    if record.status_code:
        shape["statusCode"] = record.status_code
    # Both shapes carry ``details`` (the spec's ``Order`` has them too): the quantities *ordered*, per product.
    shape["details"] = [
        {"type": _DETAIL_TYPES.get(record.type, "unknown"), "mpn": p.mpn, "quantity": p.quantity} for p in record.products
    ]
    if not detailed:
        return shape
    if record.subscription_id:
        shape["subscriptionId"] = record.subscription_id
    shape["products"] = [{"mpn": p.mpn, "quantity": p.quantity} for p in record.products]
    return shape


# OrderDetail.type of each order type's lines.
_DETAIL_TYPES = {"sales": "setup", "migration": "setup", "change": "switch", "cancellation": "cancellation"}
