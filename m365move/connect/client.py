"""Making the ConnectClient every Connect call goes through, pointed at Connect or at the sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from connect.client import ClientError, ConnectClient
from requests.exceptions import RequestException

from m365move.commerce.retry_policy import RetryPolicy, parse_retry_after
from m365move.connect import task_deadline
from m365move.errors import AuthenticationError, PlatformError

CONNECT_ENDPOINT = "https://api.connect.cloudblue.com/public/v1"
SANDBOX_API_KEY = "ApiKey SU-000-000-000:sandbox"

T = TypeVar("T")


def make_connect_client(api_key: str, endpoint: str | None = None, *, page_size: int = 100) -> ConnectClient:
    """A ConnectClient for ``endpoint`` (Connect's public API by default; ``<sandbox url>/public/v1`` locally).

    ``max_retries=0``: the library would otherwise repeat a POST whose connection dropped after Connect
    processed it; we retry reads ourselves and make creates safe by looking up before creating.
    """
    return ConnectClient(api_key, endpoint=endpoint or CONNECT_ENDPOINT, max_retries=0, default_limit=page_size)


def never_repeating(client: ConnectClient) -> ConnectClient:
    """The same Connect identity with ``max_retries=0``: for creates. The runner's client (``max_retries=3``) repeats
    a POST whose answer was lost, which for a create is a second request; we look up before creating instead."""
    if client.max_retries == 0:
        return client
    return ConnectClient(client.api_key, endpoint=client.endpoint, max_retries=0, default_headers=client.default_headers,
                         default_limit=client.default_limit, use_specs=False)


def sandbox_endpoint(sandbox_url: str) -> str:
    """The Connect API root inside a running sandbox."""
    return f"{sandbox_url.rstrip('/')}/public/v1"


_READ_RETRY = RetryPolicy(max_retries=4, base_delay=0.2, max_delay=5.0)


class ConnectApiError(PlatformError):
    """Connect answered an error; ``status_code`` is None when no answer arrived."""

    def __init__(self, message: str, status_code: int | None) -> None:
        self.status_code = status_code
        super().__init__(message)


def with_retries(
    client: ConnectClient, what: str, call: Callable[[], T], *, retry: RetryPolicy = _READ_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run an idempotent Connect call, retrying 429 (after Retry-After), 5xx and dropped connections.

    Inside a handler (``task_deadline.working_to``) each attempt gets at most the task's time left as its timeout, and
    no attempt or wait starts that would end after the task's deadline (``TaskOutOfTime``)."""
    deadline = task_deadline.current()
    attempt = 0
    while True:
        if deadline is not None:
            _bound_timeout(client, deadline, what)
        try:
            return call()
        except ClientError as error:
            status = error.status_code
            if status in (401, 403):
                raise AuthenticationError(f"Connect refused the API key on {what} (HTTP {status})") from None
            transient = status is None or status == 429 or status >= 500
            if not transient or attempt >= retry.max_retries:
                raise connect_error(what, error) from None
            retry_after = _retry_after(client) if status == 429 else None
            _wait(retry.delay(attempt, retry_after), sleep, deadline, what)
            attempt += 1
        except RequestException as error:
            if attempt >= retry.max_retries:
                raise ConnectApiError(f"Connect {what} failed: {type(error).__name__}", None) from None
            _wait(retry.delay(attempt), sleep, deadline, what)
            attempt += 1


# connect-openapi-client's own timeouts (connect, read), which a task's deadline may only shorten.
_CLIENT_TIMEOUT = (15.0, 180.0)


def _bound_timeout(client: ConnectClient, deadline: task_deadline.TaskDeadline, what: str) -> None:
    """The runner makes a client per task: its timeout becomes the task's time left when that is shorter, and its
    own retries (``max_retries``, with their own back-off) are left to this function, which keeps to the deadline."""
    if hasattr(client, "timeout"):
        client.timeout = (deadline.timeout(f"Connect {what}", _CLIENT_TIMEOUT[0]),
                          deadline.timeout(f"Connect {what}", _CLIENT_TIMEOUT[1]))
        if getattr(client, "max_retries", 0):
            client.max_retries = 0
    else:
        deadline.check(f"Connect {what}")


def _wait(seconds: float, sleep: Callable[[float], None], deadline: task_deadline.TaskDeadline | None,
          what: str) -> None:
    if deadline is not None:
        deadline.allow_wait(f"a retry of Connect {what}", seconds)
    sleep(seconds)


def connect_error(what: str, error: ClientError) -> ConnectApiError:
    """An error naming the call, the HTTP status and Connect's error codes (never the API key)."""
    details = "; ".join(str(e) for e in (error.errors or ())) or (error.message or "")
    code = f" {error.error_code}" if error.error_code else ""
    return ConnectApiError(f"Connect {what} failed: HTTP {error.status_code}{code} {details}".rstrip(), error.status_code)


def _retry_after(client: ConnectClient) -> float | None:
    response: Any = client.response
    return parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
