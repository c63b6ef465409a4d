"""Helpers for the client tests: a recording sleep and a client on a sandbox with fast retries."""

from __future__ import annotations

from typing import Any

from m365move.commerce import CommerceCredentials, RetryPolicy, SimpleApiClient
from m365move.sandbox.server import SandboxServer


class RecordingSleep:
    """Stands in for time.sleep: records the waits so retry tests are fast and can check them."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(server: SandboxServer, sleep: RecordingSleep | None = None, **options: Any) -> SimpleApiClient:
    options.setdefault("rate_limit_per_second", None)
    options.setdefault("retry_policy", RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05))
    return SimpleApiClient(server.url, CommerceCredentials.sandbox(), sleep=sleep or RecordingSleep(), **options)
