"""Partner Center connection options shared by ``m365move schedule`` and ``m365move schedules``.

The app's credentials come from the environment, under the names the Connect extension's variables use
(``PARTNER_CENTER_TENANT_ID``, ``PARTNER_CENTER_CLIENT_ID``, ``PARTNER_CENTER_CLIENT_SECRET``): a secret never goes
on a command line, where shell history and process lists would keep it.
"""

from __future__ import annotations

import argparse
import os
import re

from m365move.errors import InputError
from m365move.partnercenter.client import PARTNER_CENTER_URL, PartnerCenterClient, PartnerCenterCredentials

ENVIRONMENT = ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_CLIENT_SECRET")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--partner-center-url", metavar="URL", default=PARTNER_CENTER_URL,
                        help=f"Partner Center's API (default {PARTNER_CENTER_URL}; a sandbox: SANDBOX_URL/partnercenter)")
    parser.add_argument("--token-url", metavar="URL",
                        help="the token endpoint (default Entra ID's for PARTNER_CENTER_TENANT_ID; a sandbox: "
                             "SANDBOX_URL/partnercenter/oauth2/token)")


def guid(value: str, option: str) -> str:
    if not _GUID.match(value or ""):
        raise InputError(f"{value!r} is not a GUID", where=option, hint="Partner Center ids look like "
                                                                        "0f0e0d0c-0b0a-4909-8807-060504030201")
    return value


def partner_center_client(args: argparse.Namespace) -> PartnerCenterClient:
    missing = [name for name in ENVIRONMENT if not os.environ.get(name)]
    if missing:
        raise InputError(f"{', '.join(missing)} not set", where="environment",
                         hint="set the Partner Center app's tenant id, client id and secret")
    credentials = PartnerCenterCredentials(os.environ["PARTNER_CENTER_TENANT_ID"], os.environ["PARTNER_CENTER_CLIENT_ID"],
                                           os.environ["PARTNER_CENTER_CLIENT_SECRET"], token_url=args.token_url)
    return PartnerCenterClient(credentials, base_url=args.partner_center_url)
