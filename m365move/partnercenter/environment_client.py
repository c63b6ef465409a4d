"""A Partner Center client from the environment's credentials, for the runbooks and the undo plan.

The Partner Center app's credentials come from ``PARTNER_CENTER_TENANT_ID``, ``PARTNER_CENTER_CLIENT_ID`` and
``PARTNER_CENTER_CLIENT_SECRET`` only (the Connect path's names; papermill writes parameters into the executed
notebook, so a secret is never one). None of them set: no client. Some set and others not: a mistake in the
environment (InputError), not a reason to go on without Partner Center.
"""

from __future__ import annotations

from collections.abc import Mapping

from m365move.errors import InputError
from m365move.partnercenter.client import PARTNER_CENTER_URL, PartnerCenterClient, PartnerCenterCredentials

ENVIRONMENT = ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET")


def client_from_environment(environ: Mapping[str, str], partner_center_url: str | None = None,
                            token_url: str | None = None) -> PartnerCenterClient | None:
    """A client for ``partner_center_url`` (default Microsoft's), or None when no credential is set."""
    given = [name for name in ENVIRONMENT if environ.get(name)]
    if not given:
        return None
    if len(given) != len(ENVIRONMENT):
        missing = ", ".join(n for n in ENVIRONMENT if n not in given)
        raise InputError(f"{missing} not set while {', '.join(given)} is", where="environment",
                         hint="set all three Partner Center variables, or none")
    credentials = PartnerCenterCredentials(environ["PARTNER_CENTER_TENANT_ID"], environ["PARTNER_CENTER_CLIENT_ID"],
                                           environ["PARTNER_CENTER_CLIENT_SECRET"], token_url=token_url or None)
    return PartnerCenterClient(credentials, base_url=partner_center_url or PARTNER_CENTER_URL)
