"""Partner Center client for new-commerce migrations (DESIGN §6), over httpx.

Every call carries an ``MS-RequestId``, an ``MS-CorrelationId`` and the ``MS-Contract-Version``. ``MS-RequestId`` is
Partner Center's idempotency key: one value per logical call, the same on each of its retries (a read after a
dropped connection, a token refresh), a new one for the next call. A create is given its id by the caller
(``migration_request_id``: derived from the customer, the legacy subscription and the attempt), so the same
intended migration carries the same id in every process and after a time-out, and Partner Center answers a repeat
with the migration it made. A create is still sent **once** per task: when its answer is lost the client asks
Partner Center for the subscription's migrations before anything else. A refused create answers
``{"code": <int>, "description": "..."}`` (Microsoft's ``NewCommerceMigrationError``) and raises
``MigrationRejected`` with that description. A 429 is never slept on here: it raises ``RateLimited`` with the
server's ``Retry-After`` so the caller (an EaaS task) reschedules instead of holding a worker. With a create
limit (``create_limit``) the client keeps Partner Center's create limit on its side (``limits.CreateLimiter``):
``create_slot`` is asked before a task spends any call on a migration it may not be allowed to create yet, and
answers ``RateLimited`` with the time its booked slot opens. Every client of a process shares one HTTP
connection pool (the runner makes a client per task; building an httpx client costs more than the calls it
makes). Secrets (client secret, access token) are never logged and never part of an exception message.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from httpx._utils import get_environment_proxies  # httpx's reading of the proxy variables

from m365move.commerce.retry_policy import RetryPolicy, parse_retry_after
from m365move.commerce.stdlib_transport import StdlibTransport
from m365move.errors import AuthenticationError, PlatformError
from m365move.partnercenter.limits import CreateLimiter, Grant, create_limiter
from m365move.partnercenter.models import (
    Eligibility,
    LegacySubscription,
    Migration,
    MigrationStatus,
    NewMigration,
    Schedule,
    ScheduleRequest,
    ScheduleStatus,
)
from m365move.text.url_path import segment

log = logging.getLogger(__name__)

PARTNER_CENTER_URL = "https://api.partnercenter.microsoft.com"
PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/.default"
CONTRACT_VERSION = "v1"
# ``GET /v1/migrations/newcommerce`` needs one of these filters; a list call without one is refused.
LIST_FILTERS = ("CustomerTenantId", "CurrentSubscriptionId", "ExternalReferenceId")
_MAX_PAGES = 1000  # a continuation loop that never ends is a server bug; stop rather than spin
_REQUEST_ID_NAMESPACE = uuid.UUID("6f1b0c9e-2d4a-4e57-9a83-0c5e7d21b4f6")


def migration_request_id(tenant_id: str, legacy_subscription_id: str, attempt: int = 0) -> str:
    """The ``MS-RequestId`` of the ``attempt``-th migration create for a legacy subscription (0 first; one more after
    each failed migration): deterministic, so two runner instances or a retry after a time-out send the same one."""
    return str(uuid.uuid5(_REQUEST_ID_NAMESPACE, f"migration:{tenant_id.lower()}:{legacy_subscription_id.lower()}:{attempt}"))


def schedule_request_id(tenant_id: str, legacy_subscription_id: str, attempt: int = 0) -> str:
    """The ``MS-RequestId`` of a schedule create, deterministic as ``migration_request_id``."""
    return str(uuid.uuid5(_REQUEST_ID_NAMESPACE, f"schedule:{tenant_id.lower()}:{legacy_subscription_id.lower()}:{attempt}"))


@dataclass(frozen=True)
class PartnerCenterCredentials:
    """App credentials for the client-credentials flow; ``repr`` hides the secret."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    token_url: str | None = None  # default: Entra ID's token endpoint for ``tenant_id``

    def resolved_token_url(self) -> str:
        return self.token_url or f"https://login.microsoftonline.com/{self.tenant_id}/oauth2/v2.0/token"


class Deadline(Protocol):
    """When the calling task must be done (``m365move.connect.task_deadline.TaskDeadline``): each call is given the
    time left as its timeout, and a wait that would pass the deadline is refused (the deadline raises)."""

    def timeout(self, what: str, default: float) -> float: ...

    def allow_wait(self, what: str, seconds: float) -> None: ...


class RateLimited(PlatformError):
    """Partner Center answered 429, or the client's own create limit has no slot yet (``booked``); ``retry_after``
    says when to come back (seconds)."""

    def __init__(self, what: str, retry_after: float, *, booked: bool = False) -> None:
        self.retry_after = retry_after
        self.booked = booked
        if booked:
            super().__init__(f"Partner Center create limit reached; {what} booked in {retry_after:.3g} s")
        else:
            super().__init__(f"Partner Center rate limit on {what}; retry after {retry_after:g} s")


class MigrationRejected(PlatformError):
    """Partner Center refused to create a migration: ``code`` and ``description`` as Microsoft gives them."""

    def __init__(self, subscription_id: str, code: int | None, description: str) -> None:
        self.subscription_id = subscription_id
        self.code = code
        self.description = description
        super().__init__(f"Partner Center refused the migration of {subscription_id}: {description}"
                         + (f" (code {code})" if code is not None else ""))


class _TokenCache:
    """Access tokens per (token URL, client id), shared by every client of the process.

    The runner makes a new application instance per task; without this each task would fetch a token.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Held while one client fetches a token, so tasks starting together fetch one token, not one each.
        self.fetching = threading.Lock()
        self._tokens: dict[tuple[str, str, int], tuple[str, float]] = {}

    def get(self, key: tuple[str, str, int], now: float) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
            return entry[0] if entry and entry[1] > now else None

    def put(self, key: tuple[str, str, int], token: str, expires_at: float) -> None:
        with self._lock:
            self._tokens[key] = (token, expires_at)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


TOKEN_CACHE = _TokenCache()


class _SharedTransport(httpx.BaseTransport):
    """The process's connection pool, shared by every client; closing a client leaves it open.

    The pool is the Commerce client's pooled HTTP/1.1 keep-alive transport over ``http.client``
    (``stdlib_transport``: httpx's TLS context, timeouts and errors; a migration look-up costs about three quarters
    of the client CPU it costs over httpcore, and an audit reading every tenant makes 10,000 of them), with httpx's
    own transport for anything it does not support. It carries the calls no proxy applies to: a proxy the environment
    names (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``…) is mounted in front of it (``environment_proxy_mounts``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._transport: httpx.BaseTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._transport is None:
                self._transport = StdlibTransport(fallback=httpx.HTTPTransport())
            transport = self._transport
        return transport.handle_request(request)

    def close(self) -> None:
        """Clients close their transport on exit; the pool stays for the next task."""

    def shutdown(self) -> None:
        """Close the pool's connections (at interpreter exit; a later request opens a new pool)."""
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()


SHARED_TRANSPORT = _SharedTransport()
# Closed before interpreter teardown, so kept-alive sockets are not left to the garbage collector.
atexit.register(SHARED_TRANSPORT.shutdown)


def environment_proxy_mounts() -> dict[str, httpx.BaseTransport | None]:
    """The proxies the environment names, as httpx mounts: httpx builds them itself only for a client it makes the
    transport of, and Partner Center's clients are given the shared pool, so they are mounted here (the same rules:
    httpx's own reading of ``HTTP(S)_PROXY``, ``ALL_PROXY`` and ``NO_PROXY``; None sends a host past the proxy)."""
    return {pattern: None if url is None else httpx.HTTPTransport(proxy=url)
            for pattern, url in get_environment_proxies().items()}


class PartnerCenterClient:
    """The new-commerce migration endpoints. ``base_url`` and ``transport`` let tests and the sandbox stand in."""

    def __init__(
        self,
        credentials: PartnerCenterCredentials,
        *,
        base_url: str = PARTNER_CENTER_URL,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        create_limit: tuple[int, float] | None = None,
        min_countdown: float = 30.0,
        deadline: Deadline | None = None,
    ) -> None:
        self._credentials = credentials
        self._deadline = deadline
        self._timeout = timeout
        self._http = httpx.Client(base_url=base_url.rstrip("/"), transport=transport or SHARED_TRANSPORT, timeout=timeout,
                                  mounts=None if transport else environment_proxy_mounts())
        self._limiter: CreateLimiter | None = (
            create_limiter(base_url, f"{credentials.tenant_id}/{credentials.client_id}", *create_limit) if create_limit else None)
        # The EaaS runner reschedules no sooner than 30 s (connect-eaas-core raises shorter countdowns to 30).
        self._min_countdown = min_countdown
        self._slot: Grant | None = None
        self._slot_claimed = False
        self._slot_used = False
        self._retry = retry or RetryPolicy(max_retries=3, base_delay=0.2, max_delay=5.0)
        self._sleep = sleep
        self._clock = clock
        self.calls = 0  # HTTP requests sent (the efficiency benchmark reads it)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PartnerCenterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the API ---------------------------------------------------------------------------------------

    def find_migrations(self, legacy_subscription_id: str | None = None, *, customer_tenant_id: str | None = None,
                        external_reference_id: str | None = None) -> list[Migration]:
        """Migrations by legacy subscription, customer or external reference (``GET /v1/migrations/newcommerce``),
        partner-led or Microsoft-led (``microsoftLed``): a bare array of at most 300 per page, the next page named
        by the answer's ``MS-ContinuationToken`` header."""
        params = _list_filters(customer_tenant_id, legacy_subscription_id, external_reference_id, "migration")
        return [Migration.from_json(item) for item in self._list("/v1/migrations/newcommerce", params, "migration look-up")]

    def find_schedules(self, legacy_subscription_id: str | None = None, *, customer_tenant_id: str | None = None,
                       external_reference_id: str | None = None) -> list[Schedule]:
        """Migration schedules (``GET /v1/migrations/newcommerce/schedules``), with the same filters and paging as
        the migration look-up."""
        params = _list_filters(customer_tenant_id, legacy_subscription_id, external_reference_id, "schedule")
        return [Schedule.from_json(item)
                for item in self._list("/v1/migrations/newcommerce/schedules", params, "schedule look-up")]

    def _list(self, path: str, params: dict[str, str], what: str) -> list[Any]:
        found: list[Any] = []
        token: str | None = None
        for _ in range(_MAX_PAGES):
            data, headers = self._send("GET", path, what, params=params,
                                       extra_headers={"MS-ContinuationToken": token} if token else None)
            if not isinstance(data, list):
                raise PlatformError(f"Partner Center {what} answered something other than a list")
            found.extend(item for item in data if isinstance(item, dict))
            token = headers.get("MS-ContinuationToken")
            if not token or not data:
                return found
        raise PlatformError(f"Partner Center {what} did not end after {_MAX_PAGES} pages")

    def get_subscription(self, tenant_id: str, subscription_id: str) -> LegacySubscription:
        """The legacy subscription's own state: a failed migration is retried only while it is ``active``."""
        data, _ = self._send("GET", f"/v1/customers/{segment(tenant_id)}/subscriptions/{segment(subscription_id)}",
                             "subscription read")
        return LegacySubscription.from_json(data)

    def list_subscriptions(self, tenant_id: str) -> list[LegacySubscription]:
        """The customer's subscriptions (``GET /v1/customers/{tenant}/subscriptions``, a collection ``{"totalCount",
        "items"}``): add-ons name their base in ``parentSubscriptionId``."""
        data, _ = self._send("GET", f"/v1/customers/{segment(tenant_id)}/subscriptions", "subscription list")
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise PlatformError("Partner Center subscription list answered something other than a collection")
        return [LegacySubscription.from_json(item) for item in items if isinstance(item, dict)]

    def create_schedule(self, tenant_id: str, schedule: ScheduleRequest, *, request_id: str | None = None) -> Schedule:
        """Schedule a migration (``POST …/migrations/newcommerce/schedules``), sent once: a lost answer is settled by
        looking the subscription's schedules up (one still ``Created`` is the answer). ``request_id``: the
        ``MS-RequestId`` of this intended schedule (``schedule_request_id``; default: a new one, another logical call)."""
        try:
            data, _ = self._send("POST", f"/v1/customers/{segment(tenant_id)}/migrations/newcommerce/schedules",
                                 "schedule create", json=schedule.to_json(), once=True,
                                 rejected_subscription=schedule.current_subscription_id, request_id=request_id)
        except AnswerLost:
            waiting = [s for s in self.find_schedules(schedule.current_subscription_id)
                       if s.status is ScheduleStatus.CREATED]
            if waiting:
                return waiting[0]
            raise PlatformError(f"Partner Center schedule create of {schedule.current_subscription_id}: the answer was "
                                "lost and no schedule is listed yet; look up again before scheduling") from None
        return Schedule.from_json(data)

    def update_schedule(self, tenant_id: str, schedule_id: str, schedule: ScheduleRequest) -> Schedule:
        """Change a schedule before its date (``PUT …/schedules/{id}``; the subscription itself cannot change)."""
        body = {k: v for k, v in schedule.to_json().items() if k != "currentSubscriptionId"}
        data, _ = self._send("PUT", f"/v1/customers/{segment(tenant_id)}/migrations/newcommerce/schedules/{segment(schedule_id)}",
                             "schedule update", json=body, rejected_subscription=schedule.current_subscription_id)
        return Schedule.from_json(data)

    def cancel_schedule(self, tenant_id: str, schedule_id: str) -> Schedule:
        """``POST …/schedules/{id}/cancel``: the schedule answers ``Cancelled``."""
        data, _ = self._send("POST", f"/v1/customers/{segment(tenant_id)}/migrations/newcommerce/schedules/"
                             f"{segment(schedule_id)}/cancel",
                             "schedule cancel")
        return Schedule.from_json(data)

    def validate(self, tenant_id: str, legacy_subscription_id: str, migration: NewMigration | None = None) -> Eligibility:
        """Whether the subscription may migrate, with Partner Center's error codes when not; given the migration about
        to be created, its term, billing cycle, quantity and custom term end are checked too (the create's body)."""
        body = migration.to_json() if migration is not None else {"currentSubscriptionId": legacy_subscription_id}
        data, _ = self._send("POST", f"/v1/customers/{segment(tenant_id)}/migrations/newcommerce/validate", "eligibility check",
                             json=body)
        return Eligibility.from_json(data)

    @contextmanager
    def create_slot(self, legacy_subscription_id: str) -> Iterator[None]:
        """Hold one of the create limit's slots while looking up, validating and creating (a no-op without a limit).

        Raises ``RateLimited`` (``booked``) before any call when the slot is booked in a later window:
        ``retry_after`` is when to come back, a little before that window opens, so the look-up and validation
        are done when it opens. A slot that opens sooner than a task can be rescheduled to (``min_countdown``,
        the runner's shortest countdown) is waited for just before the create instead. A slot no create was sent
        for is given back.
        """
        limiter = self._limiter
        if limiter is None:
            yield
            return
        key = legacy_subscription_id.lower()
        grant = limiter.acquire(key, self._clock())
        if grant.wait > self._min_countdown + limiter.lead:
            raise RateLimited(f"the create of {legacy_subscription_id}", grant.wait - limiter.lead, booked=True)
        self._slot, self._slot_claimed, self._slot_used = grant, grant.wait <= 0, False
        try:
            yield
        finally:
            if self._slot_claimed and not self._slot_used:
                limiter.unused(self._slot)
            elif not self._slot_claimed:
                limiter.cancel(key)
            self._slot = None

    def create_migration(self, tenant_id: str, migration: NewMigration, *, request_id: str | None = None) -> Migration:
        """Start a migration: one POST, never repeated. When its answer is lost (a dropped connection, a 5xx: the
        gateway may have passed it on) the subscription's migrations are looked up; one found is the answer,
        else ``PlatformError`` (the caller comes back later and looks up first again). ``request_id``: the
        ``MS-RequestId`` of this intended migration (``migration_request_id``; default: a new one, another logical call)."""
        grant = self._claim_slot()
        self._slot_used = True  # sent, or maybe sent: the slot counts either way
        try:
            data, _ = self._send("POST", f"/v1/customers/{segment(tenant_id)}/migrations/newcommerce", "migration create",
                                 json=migration.to_json(), once=True,
                                 rejected_subscription=migration.current_subscription_id, request_id=request_id)
        except RateLimited as limited:
            if self._limiter is not None:
                self._limiter.throttled(grant, self._clock(), limited.retry_after)
            raise
        except AnswerLost:
            if self._limiter is not None and grant is not None:
                self._limiter.sent(grant, self._clock())
            existing = [m for m in self.find_migrations(migration.current_subscription_id)
                        if m.status is not MigrationStatus.FAILED and m.status is not MigrationStatus.CANCELLED]
            if existing:
                return existing[0]
            raise PlatformError(f"Partner Center migration create of {migration.current_subscription_id}: the answer "
                                "was lost and no migration is listed yet; look up again before creating") from None
        except MigrationRejected:
            if self._limiter is not None and grant is not None:
                self._limiter.sent(grant, self._clock())
            raise
        if self._limiter is not None and grant is not None:
            self._limiter.sent(grant, self._clock())
        return Migration.from_json(data)

    def _claim_slot(self) -> Grant | None:
        """The slot ``create_slot`` holds; a booked one is waited for here (it opens within ``min_countdown``)."""
        limiter, slot = self._limiter, self._slot
        if limiter is None or slot is None or self._slot_claimed:
            return slot
        while True:
            grant = limiter.acquire(slot.key, self._clock())
            if grant.wait <= 0:
                self._slot, self._slot_claimed = grant, True
                return grant
            if grant.wait > self._min_countdown + limiter.lead:  # the window moved (a 429 meanwhile): come back
                raise RateLimited(f"the create of {slot.key}", grant.wait - limiter.lead, booked=True)
            self._wait(grant.wait, "a create slot")

    def get_migration(self, tenant_id: str, migration_id: str) -> Migration:
        data, _ = self._send("GET", f"/v1/customers/{segment(tenant_id)}/migrations/newcommerce/{segment(migration_id)}",
                             "migration status")
        return Migration.from_json(data)

    def check_access(self) -> None:
        """Fetch (or reuse) an access token: ``AuthenticationError`` when the credentials are refused."""
        self._token()

    # -- plumbing --------------------------------------------------------------------------------------

    def _token(self) -> str:
        c = self._credentials
        # The secret's hash is part of the key so a rotated secret never reuses a token cached for the old one.
        key = (c.resolved_token_url(), c.client_id, hash(c.client_secret))
        cached = TOKEN_CACHE.get(key, self._clock())
        if cached:
            return cached
        with TOKEN_CACHE.fetching:
            return TOKEN_CACHE.get(key, self._clock()) or self._fetch_token(key)

    def _fetch_token(self, key: tuple[str, str, int]) -> str:
        c = self._credentials
        try:
            timeout = self._call_timeout("the token request")
            self.calls += 1
            response = self._http.post(
                c.resolved_token_url(),
                data={"grant_type": "client_credentials", "client_id": c.client_id,
                      "client_secret": c.client_secret, "scope": PARTNER_CENTER_SCOPE},
                timeout=timeout,
            )
        except httpx.HTTPError as error:
            raise PlatformError(f"cannot reach the token endpoint {c.resolved_token_url()}: {type(error).__name__}") from None
        if response.status_code in (400, 401, 403):
            raise AuthenticationError(
                f"the token endpoint refused client {c.client_id} (HTTP {response.status_code}); "
                "check the Partner Center app id and secret variables"
            )
        if response.status_code >= 300:
            raise PlatformError(f"the token endpoint answered HTTP {response.status_code}")
        body = response.json()
        token = str(body["access_token"])
        TOKEN_CACHE.put(key, token, self._clock() + max(60.0, float(body.get("expires_in", 3600))) - 60.0)
        return token

    def _send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        extra_headers: dict[str, str] | None = None,
        once: bool = False,
        rejected_subscription: str | None = None,
        request_id: str | None = None,
    ) -> tuple[Any, httpx.Headers]:
        """One logical call (reads are retried on dropped connections and 5xx; ``once`` calls raise ``AnswerLost``),
        with one ``MS-RequestId`` (``request_id``, or a new one) on each of its attempts."""
        if self._http.base_url.scheme not in ("http", "https"):
            raise EndpointInvalid(f"the Partner Center endpoint {str(self._http.base_url).rstrip('/')!r} has no http:// "
                                  "or https:// scheme; set the variable PARTNER_CENTER_ENDPOINT to "
                                  f"{PARTNER_CENTER_URL}")
        attempt = 0
        call_id = request_id or str(uuid.uuid4())
        correlation_id = str(uuid.uuid4())
        while True:
            headers = {
                "Authorization": f"Bearer {self._token()}",
                # The same on every retry of this call (Partner Center's idempotency key), a new one for the next call.
                "MS-RequestId": call_id,
                "MS-CorrelationId": correlation_id,
                "MS-Contract-Version": CONTRACT_VERSION,
                "Accept": "application/json",
                **(extra_headers or {}),
            }
            timeout = self._call_timeout(f"the Partner Center {what}")
            try:
                self.calls += 1
                response = self._http.request(method, path, params=params, json=json, headers=headers, timeout=timeout)
            except httpx.ConnectError as error:
                # Refused before anything was sent: safe to resend even a create.
                if attempt >= self._retry.max_retries:
                    raise PlatformError(f"Partner Center {what} failed: {type(error).__name__} on {method} {path}") from None
                self._wait(self._retry.delay(attempt), f"a retry of the {what}")
                attempt += 1
                continue
            except httpx.TransportError as error:
                if once:
                    raise AnswerLost(f"Partner Center {what}: {type(error).__name__} on {method} {path}") from None
                if attempt >= self._retry.max_retries:
                    raise PlatformError(f"Partner Center {what} failed: {type(error).__name__} on {method} {path}") from None
                self._wait(self._retry.delay(attempt), f"a retry of the {what}")
                attempt += 1
                continue
            status = response.status_code
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise RateLimited(what, retry_after if retry_after is not None else 60.0)
            if status == 401 and attempt == 0:
                TOKEN_CACHE.clear()  # an expired or revoked token: fetch a new one once (nothing was processed)
                attempt += 1
                continue
            if status in (401, 403):
                raise AuthenticationError(f"Partner Center refused the {what} (HTTP {status}); check the app's permissions")
            if status >= 500:
                if once:
                    raise AnswerLost(f"Partner Center {what}: HTTP {status} on {method} {path}")
                if attempt >= self._retry.max_retries:
                    raise PlatformError(f"Partner Center {what} failed: HTTP {status} on {method} {path}")
                self._wait(self._retry.delay(attempt, parse_retry_after(response.headers.get("Retry-After"))),
                           f"a retry of the {what} (HTTP {status})")
                attempt += 1
                continue
            if status >= 400:
                body = _json_or_empty(response)
                code, description = _error_of(body)
                if rejected_subscription is not None and status in (400, 409, 422):
                    raise MigrationRejected(rejected_subscription, code,
                                            description or f"HTTP {status} without a description")
                # Any other 4xx is Partner Center's final word on this call: repeating it gets the same answer.
                raise PartnerCenterRefused(what, status, code, description, f"{method} {path}")
            log.debug("partner center %s %s -> %s", method, path, status)
            return _json_or_empty(response), response.headers


    def _call_timeout(self, what: str) -> float:
        """The call's timeout: the client's, or the calling task's time left when that is shorter."""
        return self._deadline.timeout(what, self._timeout) if self._deadline is not None else self._timeout

    def _wait(self, seconds: float, what: str) -> None:
        """Sleep before a retry or a slot, unless that would pass the calling task's deadline (which then raises)."""
        if self._deadline is not None:
            self._deadline.allow_wait(what, seconds)
        self._sleep(seconds)


class PartnerCenterRefused(PlatformError):
    """Partner Center answered a 4xx other than 401, 403 and 429 (a customer not under the partner, a migration that
    does not exist, a malformed call): permanent for this call, with Microsoft's ``code`` and ``description``."""

    def __init__(self, what: str, status: int, code: int | None, description: str, call: str) -> None:
        self.status = status
        self.code = code
        self.description = description
        detail = f": {description}" if description else ""
        code_text = f", code {code}" if code is not None else ""
        super().__init__(f"Partner Center refused the {what} (HTTP {status}{code_text}) on {call}{detail}")


class EndpointInvalid(PlatformError):
    """The configured Partner Center endpoint cannot be called at all (no scheme): a configuration error."""


class AnswerLost(PlatformError):
    """A call that must not be repeated got no usable answer: it may or may not have been processed."""


def _list_filters(customer_tenant_id: str | None, legacy_subscription_id: str | None,
                  external_reference_id: str | None, what: str) -> dict[str, str]:
    given = (customer_tenant_id, legacy_subscription_id, external_reference_id)
    params = {name: value for name, value in zip(LIST_FILTERS, given, strict=True) if value}
    if not params:
        raise ValueError(f"a {what} look-up needs one of {', '.join(LIST_FILTERS)}")
    return params


def _error_of(body: Any) -> tuple[int | None, str]:
    """Microsoft's error shape ``{"code": <int>, "description": "..."}`` (``code`` may come as text)."""
    if not isinstance(body, dict):
        return None, ""
    raw_code = body.get("code")
    try:
        code = int(raw_code) if raw_code is not None and not isinstance(raw_code, bool) else None
    except (TypeError, ValueError):
        code = None
    return code, str(body.get("description") or body.get("message") or "")


def _json_or_empty(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
