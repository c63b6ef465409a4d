"""The Commerce SimpleAPI 1.15 client (httpx): the only way m365move talks to Commerce, real or sandbox.

Thread-safe: one client can serve an executor's thread pool. It gets and renews the bearer token,
follows ``offset``/``limit`` pagination, limits its own request rate, retries 429/5xx/connection
failures with jittered backoff honouring ``Retry-After``, and never resends an order the platform may
have taken (``OrderPlacementUncertain``). Every request carries its own ``X-Correlation-ID``; the
ids sent and received are logged at debug level, never the credentials or the token.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx
import orjson

from m365move.commerce.credentials import CommerceCredentials
from m365move.commerce.errors import CommerceApiError, CommerceNotFound, CommerceUnavailable, OrderPlacementUncertain
from m365move.commerce.models import CustomerInfo, OrderInfo, OrderRequest, PlanInfo, ResellerInfo, SubscriptionInfo
from m365move.commerce.rate_limiter import RateLimiter
from m365move.commerce.retry_policy import (
    RetryPolicy,
    Verdict,
    parse_retry_after,
    verdict_for_error,
    verdict_for_status,
)
from m365move.commerce.stdlib_transport import StdlibTransport
from m365move.errors import AuthenticationError
from m365move.text.url_path import segment

log = logging.getLogger("m365move.commerce")

# Renew the token this long before it expires so a request never leaves with a token about to lapse.
_TOKEN_MARGIN_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counters since the client was made: HTTP attempts, retries and what caused them."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    token_requests: int = 0
    rate_limited_seconds: float = 0.0


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, float] = {}

    def add(self, name: str, amount: float = 1) -> None:
        with self._lock:
            self._values[name] = self._values.get(name, 0) + amount

    def snapshot(self) -> ClientStats:
        with self._lock:
            v = dict(self._values)
        return ClientStats(
            requests=int(v.get("requests", 0)),
            retries=int(v.get("retries", 0)),
            throttled=int(v.get("throttled", 0)),
            server_errors=int(v.get("server_errors", 0)),
            transport_errors=int(v.get("transport_errors", 0)),
            token_requests=int(v.get("token_requests", 0)),
            rate_limited_seconds=v.get("rate_limited_seconds", 0.0),
        )


class SimpleApiClient:
    """Commerce SimpleAPI at ``base_url``; ``transport`` lets tests inject an httpx transport."""

    def __init__(
        self,
        base_url: str,
        credentials: CommerceCredentials,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        rate_limit_per_second: float | None = 20.0,
        subscription_key: str | None = None,
        page_size: int = 100,
        marketplace: str | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._subscription_key = subscription_key or credentials.subscription_key
        self._marketplace = marketplace
        self.page_size = page_size
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._sleep = sleep
        self._limiter = RateLimiter(rate_limit_per_second, sleep=sleep) if rate_limit_per_second else None
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )
        # Requests go straight to the transport the httpx client chose for this host (the proxy the environment
        # names, or the one a test injected), or, when it chose its own default transport, to the same kind of pooled
        # HTTP/1.1 keep-alive transport over the standard library's http.client (stdlib_transport: a third of
        # httpcore's CPU per request, same TLS context, timeouts and errors; anything it does not support goes to
        # httpx's own transport). Client.send's layers (auth and redirect generators, event hooks, URL and header
        # merging) cost more CPU than the HTTP itself and do nothing SimpleAPI needs: no redirects are followed,
        # both auths are plain headers here, and SimpleAPI authenticates by bearer token, never by cookie, so no
        # cookie jar is kept.
        chosen = self._http._transport_for_url(httpx.URL(self.base_url))
        own = transport is None and chosen is self._http._transport  # neither injected nor a proxy
        self._own_transport = StdlibTransport(fallback=chosen) if own else None
        self._transport = self._own_transport or chosen
        self._timeout = {"timeout": self._http.timeout.as_dict()}
        self._default_headers = dict(self._http.headers) | {"X-Subscription-Key": self._subscription_key}
        basic = f"{credentials.user}:{credentials.password}".encode()
        self._basic_header = "Basic " + base64.b64encode(basic).decode("ascii")
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = 0.0
        self._counters = _Counters()

    def __repr__(self) -> str:
        return f"SimpleApiClient({self.base_url!r}, user={self._credentials.user!r})"

    # ---- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        if self._own_transport is not None:
            self._own_transport.close()
        self._http.close()

    def __enter__(self) -> SimpleApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def stats(self) -> ClientStats:
        return self._counters.snapshot()

    # ---- reads ------------------------------------------------------------------------------------

    def verify_access(self) -> None:
        """Fail fast, before any work: authenticate and read one page of resellers (PlatformError otherwise).

        With one retry, not the client's policy: a wrong URL (refused, unknown host) fails in about a second with
        one line, instead of after 20 s of backed-off retries meant for a platform that is there but busy."""
        policy = self.retry_policy
        self.retry_policy = replace(policy, max_retries=min(1, policy.max_retries))
        try:
            self._call("GET", "/resellers", params={"offset": 0, "limit": 1})
        finally:
            self.retry_policy = policy

    def first_resellers(self, count: int) -> list[ResellerInfo]:
        """The first ``count`` resellers in the platform's own order (one request): the platform's identity."""
        body = self._call("GET", "/resellers", params={"offset": 0, "limit": count})
        return [ResellerInfo.read(item) for item in body.get("data") or []]

    def list_resellers(self) -> list[ResellerInfo]:
        return [ResellerInfo.read(item) for item in self._paged("/resellers", {})]

    def list_customers(self, reseller_id: str | None = None) -> list[CustomerInfo]:
        return [CustomerInfo.read(item) for item in self._paged("/customers", {"resellerId": reseller_id})]

    def list_plans(self) -> list[PlanInfo]:
        return [PlanInfo.read(item) for item in self._paged("/plans", {})]

    def get_plan(self, plan_id: int | str) -> PlanInfo:
        """The plan with its ``switches`` (SimpleAPI ``planSwitches``)."""
        return PlanInfo.read(self._call("GET", f"/plans/{segment(plan_id)}"))

    def iter_subscriptions(
        self, customer_id: str | None = None, status: str | None = None
    ) -> Iterator[SubscriptionInfo]:
        """Subscriptions page by page (basic details: no plan or products; see ``get_subscription``)."""
        for item in self._paged("/subscriptions", {"customerId": customer_id, "status": status}):
            yield SubscriptionInfo.read(item)

    def list_subscriptions(self, customer_id: str | None = None, status: str | None = None) -> list[SubscriptionInfo]:
        return list(self.iter_subscriptions(customer_id, status))

    def get_subscription(self, subscription_id: str) -> SubscriptionInfo:
        """Full details, including ``plan_id`` and ``products``."""
        return SubscriptionInfo.read(self._call("GET", f"/subscriptions/{segment(subscription_id)}"))

    def list_orders(
        self,
        customer_id: str | None = None,
        subscription_id: str | None = None,
        status: str | None = None,
        *,
        created_from: dt.datetime | None = None,
    ) -> list[OrderInfo]:
        """``GET /orders`` with the spec's filters. List items are ``Order``: no ``subscriptionId`` (use
        ``get_order`` or ``find_orders`` for it). ``subscription_id`` finds the orders on that subscription and
        the one that created it."""
        params = {
            "customerId": customer_id,
            "subscriptionId": subscription_id,
            "status": status,
            "creationTimeFrom": _timestamp(created_from) if created_from else None,
        }
        return [OrderInfo.read(item) for item in self._paged("/orders", params)]

    def orders_page(
        self, offset: int, *, customer_id: str | None = None, created_from: dt.datetime | None = None
    ) -> tuple[list[OrderInfo], int | None]:
        """One page of ``GET /orders`` at ``offset`` and the collection's total (None when not told):
        for readers that fetch the other pages at once, in parallel."""
        data, total = self._one_page(
            "/orders", {"customerId": customer_id, "creationTimeFrom": _timestamp(created_from) if created_from else None},
            offset,
        )
        return [OrderInfo.read(item) for item in data], total

    def subscriptions_page(
        self, offset: int, *, customer_id: str | None = None
    ) -> tuple[list[SubscriptionInfo], int | None]:
        """One page of ``GET /subscriptions`` at ``offset`` and the collection's total (None when not told)."""
        data, total = self._one_page("/subscriptions", {"customerId": customer_id}, offset)
        return [SubscriptionInfo.read(item) for item in data], total

    def find_orders(
        self,
        *,
        customer_id: str | None = None,
        subscription_id: str | None = None,
        po_number: str | None = None,
        po_numbers: Collection[str] | None = None,
        created_from: dt.datetime | None = None,
    ) -> list[OrderInfo]:
        """The orders carrying ``po_number`` (or one of ``po_numbers``), in full (``OrderDetailed``, with the
        subscription each one is on or created).

        SimpleAPI cannot filter on poNumber: the list is narrowed on the platform by customer or subscription
        (and ``created_from`` when the caller knows the orders are not older), matched on poNumber here, and only
        the matches are read by id. Use the customer to find every order placed for a source subscription: a
        sales order names the subscription it created, not its source."""
        if customer_id is None and subscription_id is None:
            raise ValueError("find_orders needs customer_id or subscription_id: listing every order is too costly")
        wanted = set(po_numbers or ()) | ({po_number} if po_number is not None else set())
        if not wanted:
            raise ValueError("find_orders needs po_number or po_numbers: it reads each order found by id")
        listed = self.list_orders(customer_id=customer_id, subscription_id=subscription_id, created_from=created_from)
        return [self.get_order(o.id) for o in listed if o.po_number in wanted]

    def get_order(self, order_id: str) -> OrderInfo:
        return OrderInfo.read(self._call("GET", f"/orders/{segment(order_id)}"))

    # ---- writes -----------------------------------------------------------------------------------

    def place_order(self, order: OrderRequest, *, before_send: Callable[[], None] | None = None) -> OrderInfo:
        """POST /orders. Raises OrderPlacementUncertain when the order may exist without an answer saying so.

        ``before_send`` runs right before each attempt leaves (after any rate-limit wait): the executor proves
        there that it still holds the order's claim, and raises to send nothing when it does not."""
        body = self._call("POST", "/orders", json=order.to_payload(), idempotent=False, po_number=order.po_number,
                          before_send=before_send)
        return OrderInfo.read(body)

    def estimate_order_body(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /orders/estimate (estimateOrder): the OrderDetailed answer with prices. Read-only, so retried like
        a GET; CommerceApiError when Commerce refuses the order (``order_estimates`` reads the answer)."""
        return self._call("POST", "/orders/estimate", json=payload, idempotent=True)

    # ---- plumbing ---------------------------------------------------------------------------------

    def _paged(self, path: str, params: dict[str, str | None]) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {k: v for k, v in params.items() if v is not None}
        offset = 0
        while True:
            body = self._call("GET", path, params={**query, "offset": offset, "limit": self.page_size})
            data = body.get("data") or []
            yield from data
            offset += len(data)
            total = (body.get("pagination") or {}).get("total")
            if (
                not data
                or (total is not None and offset >= int(total))
                or (total is None and len(data) < self.page_size)
            ):
                return

    def _one_page(self, path: str, params: dict[str, str | None], offset: int) -> tuple[list[dict[str, Any]], int | None]:
        query: dict[str, Any] = {k: v for k, v in params.items() if v is not None}
        body = self._call("GET", path, params={**query, "offset": offset, "limit": self.page_size})
        total = (body.get("pagination") or {}).get("total")
        return list(body.get("data") or []), None if total is None else int(total)

    def _bearer(self) -> str:
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_expires:
                payload = {"marketplace": self._marketplace} if self._marketplace else {}
                body = self._call("POST", "/token", json=payload, auth="basic")
                self._counters.add("token_requests")
                self._token = str(body["token"])
                lifetime = float(body.get("expiresInSeconds") or 300)
                self._token_expires = time.monotonic() + max(lifetime - _TOKEN_MARGIN_SECONDS, lifetime / 2)
            return self._token

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
        po_number: str | None = None,
        auth: Literal["bearer", "basic"] = "bearer",
        before_send: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        target = f"{url}?{urlencode(params, quote_via=quote)}" if params else url
        content = orjson.dumps(json) if json is not None else None
        attempt = 0
        renewed_token = False
        while True:
            headers = self._default_headers | {"X-Correlation-ID": str(uuid.uuid4())}
            if content is not None:
                headers["Content-Type"] = "application/json"
            token = None
            if auth == "bearer":
                token = self._bearer()
                headers["Authorization"] = f"Bearer {token}"
            else:
                headers["Authorization"] = self._basic_header
            if self._limiter is not None:
                self._counters.add("rate_limited_seconds", self._limiter.acquire())
            if before_send is not None:
                before_send()
            started = time.monotonic()
            self._counters.add("requests")
            try:
                response = self._send(method, target, headers, content)
            except httpx.TransportError as error:
                self._counters.add("transport_errors")
                verdict = verdict_for_error(error, idempotent=idempotent)
                log.debug(
                    "%s %s -> %s (sent correlation %s)", method, path, type(error).__name__, headers["X-Correlation-ID"]
                )
                if verdict is Verdict.UNCERTAIN:
                    raise OrderPlacementUncertain(
                        f"{method} {url}: {_describe(error)} after the request was sent; the order "
                        f"{po_number or ''} may exist: look it up by poNumber before placing it again",
                        po_number=po_number,
                        url=url,
                    ) from error
                if verdict is Verdict.FAIL or attempt >= self.retry_policy.max_retries:
                    raise _unreachable(method, url, error, attempt + 1) from error
                self._wait(attempt, None, method, path, _describe(error))
                attempt += 1
                continue

            received = response.headers.get("X-Correlation-ID")
            log.debug(
                "%s %s -> %d in %.0f ms (sent correlation %s, Commerce correlation %s)",
                method,
                path,
                response.status_code,
                (time.monotonic() - started) * 1000,
                headers["X-Correlation-ID"],
                received,
            )
            status = response.status_code
            if status == 401:
                if token is not None and not renewed_token:
                    # Tokens lapse and a restarted gateway forgets them: renew once, then believe the 401.
                    self._forget_token(token)
                    renewed_token = True
                    continue
                raise AuthenticationError(
                    f"Commerce at {self.base_url} refused the credentials of user {self._credentials.user!r} "
                    f"({_message(response)}); check the user, password and subscription key "
                    "(M365MOVE_COMMERCE_USER, M365MOVE_COMMERCE_PASSWORD, M365MOVE_COMMERCE_SUBSCRIPTION_KEY)"
                )
            verdict_or_none = verdict_for_status(status, idempotent=idempotent)
            if verdict_or_none is not None:
                self._counters.add("throttled" if status == 429 else "server_errors")
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if verdict_or_none is Verdict.UNCERTAIN:
                    raise OrderPlacementUncertain(
                        f"{method} {url} answered {status} (correlation {received}); the order {po_number or ''} "
                        "may exist: look it up by poNumber before placing it again",
                        po_number=po_number,
                        url=url,
                    )
                if attempt >= self.retry_policy.max_retries or self.retry_policy.gives_up_on(retry_after):
                    raise CommerceUnavailable(
                        f"{method} {url} still answered {status} after {attempt + 1} attempts "
                        f"(correlation {received}); Commerce is overloaded or down, try again later",
                        url=url,
                        status=status,
                    )
                self._wait(attempt, retry_after, method, path, f"HTTP {status}")
                attempt += 1
                continue
            if status >= 400:
                kind = CommerceNotFound if status == 404 else CommerceApiError
                raise kind(
                    f"{method} {url} failed with {status}: {_message(response)} (correlation {received})",
                    method=method,
                    url=url,
                    status=status,
                    code=_code(response),
                    correlation_id=received,
                    platform_message=_platform_message(response),
                )
            try:
                body = orjson.loads(response.content)
            except ValueError as error:
                raise CommerceApiError(
                    f"{method} {url} answered {status} with a body that is not JSON (correlation {received})",
                    method=method,
                    url=url,
                    status=status,
                    code=None,
                    correlation_id=received,
                ) from error
            if not isinstance(body, dict):
                raise CommerceApiError(
                    f"{method} {url} answered {status} with JSON that is not an object (correlation {received})",
                    method=method,
                    url=url,
                    status=status,
                    code=None,
                    correlation_id=received,
                )
            return body

    def _send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> httpx.Response:
        """One HTTP exchange, its answer read whole (the connection goes back to the pool for the next request)."""
        request = httpx.Request(method, url, headers=headers, content=content, extensions=self._timeout)
        response = self._transport.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        response.request = request
        return response

    def _wait(self, attempt: int, retry_after: float | None, method: str, path: str, cause: str) -> None:
        delay = self.retry_policy.delay(attempt, retry_after)
        self._counters.add("retries")
        log.info("%s %s: %s; retry %d in %.2f s", method, path, cause, attempt + 1, delay)
        self._sleep(delay)


def _timestamp(moment: dt.datetime) -> str:
    """A ``date-time`` query value in UTC, as the spec's examples write it (``2019-12-11T17:32:28Z``)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _describe(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.ConnectError):
        return "connection refused or host unreachable"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__})"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the connection closed before a complete answer"
    return f"{type(error).__name__}: {error}"


def _unreachable(method: str, url: str, error: httpx.TransportError, attempts: int) -> CommerceUnavailable:
    return CommerceUnavailable(
        f"cannot reach Commerce SimpleAPI at {url} ({_describe(error)}, {attempts} attempts); check the URL and "
        "that the service (or `m365move sandbox serve`) is running",
        url=url,
    )


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("message"):
        return f"HTTP {response.status_code}: {body['message']}"
    return f"HTTP {response.status_code}"


def _platform_message(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body["message"]) if isinstance(body, dict) and body.get("message") else None


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body["code"]) if isinstance(body, dict) and body.get("code") else None
