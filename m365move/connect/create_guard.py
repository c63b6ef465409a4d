"""No purchase without a way to fulfil it: the sweep creates only when the fulfilment could run.

With ``FULFIL_MIGRATIONS=true`` this extension itself turns each migration purchase into a Partner Center migration.
A purchase created while the Partner Center credentials are still the placeholders ``@variables`` made (or are
refused by the token endpoint) could never be fulfilled: it would wait, then fail, and its CSP item would need an
operator. So before a chunk creates anything the sweep asks for a token; when it cannot get one the execution
creates nothing and says why, once (the execution fails with the reason, which Connect shows on the schedule's
run). Dry runs and ``FULFIL_MIGRATIONS=false`` (the vendor's NCE connector fulfils) need no credentials.
"""

from __future__ import annotations

from m365move.connect.settings import ExtensionSettings
from m365move.errors import AuthenticationError, InputError, PlatformError
from m365move.partnercenter.client import PartnerCenterClient

_CREDENTIALS = "PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_CLIENT_ID and PARTNER_CENTER_CLIENT_SECRET"


class CreatesRefused(InputError):
    """The sweep may not create: the purchases could not be fulfilled (``where`` names the variables)."""


def ensure_fulfilment_possible(settings: ExtensionSettings, partner_center: PartnerCenterClient | None) -> None:
    """Raise ``CreatesRefused`` unless a purchase created now could be fulfilled (or nothing will be created)."""
    if settings.dry_run or not settings.fulfil_migrations:
        return
    if settings.partner_center is None or partner_center is None:
        raise CreatesRefused(f"no purchase is created: FULFIL_MIGRATIONS is true but {_CREDENTIALS} are empty or "
                             "still the placeholders, so no purchase could be fulfilled; set them, or set "
                             "FULFIL_MIGRATIONS=false where the vendor's NCE connector fulfils",
                             where="extension variables")
    try:
        partner_center.check_access()
    except (AuthenticationError, PlatformError) as error:
        raise CreatesRefused(f"no purchase is created: FULFIL_MIGRATIONS is true but Partner Center gives no token "
                             f"({error}), so no purchase could be fulfilled; check {_CREDENTIALS} and "
                             "PARTNER_CENTER_TOKEN_URL", where="extension variables") from None
