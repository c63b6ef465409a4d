"""Reading a new-commerce subscription's cancellation window from Partner Center, for the undo plan and ``undo``.

Partner Center says until when a new-commerce subscription may be cancelled for a refund
(``cancellationAllowedUntilDate`` on ``GET /v1/customers/{tenant}/subscriptions/{id}``); the project reads it and
never computes it while it can be read. The credentials are the Partner Center app's (``PARTNER_CENTER_TENANT_ID``,
``PARTNER_CENTER_CLIENT_ID``, ``PARTNER_CENTER_CLIENT_SECRET``, from the environment only); with none of them set
there is no reader, and the undo plan says its windows are estimates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from m365move.errors import InputError
from m365move.partnercenter.client import PARTNER_CENTER_URL, PartnerCenterClient, PartnerCenterCredentials

ENVIRONMENT = ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET")


@contextmanager
def window_reader(environ: Mapping[str, str], partner_center_url: str | None = None,
                  token_url: str | None = None) -> Iterator[Callable[[str, str], dt.datetime | None] | None]:
    """A reader (tenant, new-commerce subscription id) -> ``cancellationAllowedUntilDate``; None without credentials.
    Some credentials set and others not is a mistake in the environment (InputError), not a reason to estimate."""
    given = [name for name in ENVIRONMENT if environ.get(name)]
    if not given:
        yield None
        return
    if len(given) != len(ENVIRONMENT):
        missing = ", ".join(n for n in ENVIRONMENT if n not in given)
        raise InputError(f"{missing} not set while {', '.join(given)} is", where="environment",
                         hint="set all three Partner Center variables, or none")
    credentials = PartnerCenterCredentials(environ["PARTNER_CENTER_TENANT_ID"], environ["PARTNER_CENTER_CLIENT_ID"],
                                           environ["PARTNER_CENTER_CLIENT_SECRET"], token_url=token_url or None)
    with PartnerCenterClient(credentials, base_url=partner_center_url or PARTNER_CENTER_URL) as client:

        def read(tenant_id: str, subscription_id: str) -> dt.datetime | None:
            return client.get_subscription(tenant_id, subscription_id).cancellation_allowed_until

        yield read
