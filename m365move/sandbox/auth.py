"""The sandbox's SimpleAPI authentication: Basic credentials on ``POST /token`` give an expiring bearer token.

Default credentials are user ``sandbox``, password ``sandbox``, subscription key ``sandbox``. Tokens live
in memory only: after a restart a client gets 401 once and asks for a new token, as with a real gateway.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SandboxCredentials:
    """What the sandbox accepts; ``repr`` hides the password and the key."""

    user: str = "sandbox"
    password: str = field(default="sandbox", repr=False)
    subscription_key: str = field(default="sandbox", repr=False)
    token_lifetime_seconds: int = 1500


# What the admin routes (``/_sandbox/...``) accept as HTTP Basic when the server runs with the defaults.
ADMIN_AUTH: tuple[str, str] = (SandboxCredentials.user, SandboxCredentials.password)


class TokenIssuer:
    """Checks credentials and issues and validates bearer tokens; thread-safe."""

    def __init__(self, credentials: SandboxCredentials, clock: Callable[[], float] = time.monotonic) -> None:
        self.credentials = credentials
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}

    def key_ok(self, subscription_key: str | None) -> bool:
        return subscription_key is not None and secrets.compare_digest(
            subscription_key, self.credentials.subscription_key
        )

    def issue(self, authorization: str | None) -> str | None:
        """A new token for a valid ``Basic`` header, else None."""
        if not self.basic_ok(authorization):
            return None
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self.credentials.token_lifetime_seconds
        return token

    def basic_ok(self, authorization: str | None) -> bool:
        """Whether a ``Basic`` header carries the sandbox's user and password (the admin routes ask for it)."""
        user, password = _basic(authorization)
        if user is None or password is None:
            return False
        return secrets.compare_digest(user, self.credentials.user) & secrets.compare_digest(
            password, self.credentials.password
        )

    def bearer_ok(self, authorization: str | None) -> bool:
        if not authorization or not authorization.lower().startswith("bearer "):
            return False
        token = authorization[7:].strip()
        with self._lock:
            expires = self._tokens.get(token)
            return expires is not None and expires > self._clock()


def _basic(authorization: str | None) -> tuple[str | None, str | None]:
    if not authorization or not authorization.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)
