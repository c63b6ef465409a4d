"""Reading a new-commerce subscription's cancellation window from Partner Center, for the undo plan and ``undo``.

Partner Center says until when a new-commerce subscription may be cancelled for a refund
(``cancellationAllowedUntilDate`` on ``GET /v1/customers/{tenant}/subscriptions/{id}``); the project reads it and
never computes it while it can be read. The credentials come from the environment (``environment_client``); with
none set there is no reader, and the undo plan says its windows are estimates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from m365move.partnercenter.environment_client import client_from_environment


@contextmanager
def window_reader(environ: Mapping[str, str], partner_center_url: str | None = None,
                  token_url: str | None = None) -> Iterator[Callable[[str, str], dt.datetime | None] | None]:
    """A reader (tenant, new-commerce subscription id) -> ``cancellationAllowedUntilDate``; None without credentials."""
    client = client_from_environment(environ, partner_center_url, token_url)
    if client is None:
        yield None
        return
    with client:

        def read(tenant_id: str, subscription_id: str) -> dt.datetime | None:
            return client.get_subscription(tenant_id, subscription_id).cancellation_allowed_until

        yield read
