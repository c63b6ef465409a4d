"""The identity of the Commerce instance a client talks to (``estate.platform_identity`` says what it is)."""

from __future__ import annotations

from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.estate.platform_identity import IDENTITY_RESELLERS, PlatformIdentity, identity_of


def read_identity(client: SimpleApiClient) -> PlatformIdentity:
    """The instance's identity from its first resellers (one request)."""
    return identity_of(((r.id, r.name) for r in client.first_resellers(IDENTITY_RESELLERS)), client.base_url)
