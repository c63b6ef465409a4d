"""Errors of the Commerce client; the tree continues the one in ``m365move.errors``::

    PlatformError(RuntimeError)
    ├── AuthenticationError                  Commerce refused the credentials (HTTP 401)
    ├── CommerceUnavailable                  unreachable, or still failing (429/5xx/timeouts) after retries
    ├── CommerceApiError                     Commerce answered an error (400, 403, 409, ...)
    │   └── CommerceNotFound(LookupError)    the id does not exist (404)
    └── OrderPlacementUncertain              POST /orders may or may not have created the order

Each carries what identifies the call (method, URL) and, when Commerce answered, its status and
correlation id, the value its support team asks for.
"""

from __future__ import annotations

from m365move.errors import PlatformError


class CommerceUnavailable(PlatformError):
    """Commerce could not be reached, or kept answering 429/5xx, after every retry."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class CommerceApiError(PlatformError):
    """Commerce answered with an error status that retrying cannot fix."""

    def __init__(
        self, message: str, *, method: str, url: str, status: int, code: str | None, correlation_id: str | None,
        platform_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        # The platform's own words (the answer's ``message``), kept for the journal and the results file.
        self.platform_message = platform_message or f"HTTP {status}"


class CommerceNotFound(CommerceApiError, LookupError):
    """The plan, subscription or order does not exist (404)."""


class OrderPlacementUncertain(PlatformError):
    """POST /orders got no reliable answer: the order may exist. Look it up by ``po_number`` before retrying."""

    def __init__(self, message: str, *, po_number: str | None, url: str) -> None:
        super().__init__(message)
        self.po_number = po_number
        self.url = url
