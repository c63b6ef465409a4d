"""Multi-account: each installation's assets swept with that account's key, each with its own Partner Center.

A multi-account extension is installed by other accounts (distributors, vendors); their assets and requests are
theirs, and the environment's key (the owner's) may see none of them. An installation's own tasks come with an
``installation_client``; the scheduled sweep belongs to the environment and comes without one, so it lists the
extension's installations and sweeps each with a client made from the installation's key (Connect's
``impersonate``, what connect-eaas-core's ``get_installation_admin_client`` asks for). Without installations (the
extension runs in the account that owns it) the environment's key is that account.

Each installation may have its own Partner Center: the installation's settings (the installing account fills them
in) may carry ``INSTALLATION_SETTINGS``; they replace the environment's variables of the same names for that
installation's tasks and sweep. An installation without them uses the environment's Partner Center tenant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connect.client import ConnectClient

from m365move.connect import queries
from m365move.connect.payloads import Json

# The variables an installation's settings may give for itself (its own Partner Center tenant and app).
INSTALLATION_SETTINGS = ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET",
                         "PARTNER_CENTER_TOKEN_URL", "PARTNER_CENTER_ENDPOINT")


def installation_config(config: Mapping[str, str], installation: Mapping[str, Any] | None) -> dict[str, str]:
    """The environment's variables with the installation's own Partner Center settings over them."""
    merged = dict(config)
    settings = installation.get("settings") if isinstance(installation, Mapping) else None
    if isinstance(settings, Mapping):
        merged.update({name: str(settings[name]) for name in INSTALLATION_SETTINGS
                       if settings.get(name) not in (None, "")})
    return merged


def installed(client: ConnectClient, extension_id: str) -> list[Json]:
    """The extension's installations that are installed (not uninstalled), oldest first as Connect lists them."""
    every = queries.fetch_all(client, f"devops/services/{extension_id}/installations", page_size=100)
    return [i for i in every if str(i.get("status", "installed")) == "installed"]
