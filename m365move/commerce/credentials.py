"""Commerce SimpleAPI credentials, from environment variables or a YAML config file; never shown in logs.

Environment: ``M365MOVE_COMMERCE_USER``, ``M365MOVE_COMMERCE_PASSWORD``,
``M365MOVE_COMMERCE_SUBSCRIPTION_KEY``; or ``M365MOVE_CONFIG`` naming a YAML file with::

    commerce:
      user: api-user
      password: "..."
      subscription_key: "..."

A variable set in the environment wins over the same value in the file. The sandbox's defaults are
``CommerceCredentials.sandbox()`` (``sandbox`` / ``sandbox`` / ``sandbox``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from m365move.errors import InputError
from m365move.estate.loader import read_structured_file

ENV_USER = "M365MOVE_COMMERCE_USER"
ENV_PASSWORD = "M365MOVE_COMMERCE_PASSWORD"
ENV_SUBSCRIPTION_KEY = "M365MOVE_COMMERCE_SUBSCRIPTION_KEY"
ENV_CONFIG = "M365MOVE_CONFIG"


@dataclass(frozen=True)
class CommerceCredentials:
    """User and password (HTTP Basic on ``POST /token``) and the gateway's ``X-Subscription-Key``."""

    user: str
    password: str = field(repr=False)
    subscription_key: str = field(repr=False)

    def __repr__(self) -> str:
        return f"CommerceCredentials(user={self.user!r}, password='***', subscription_key='***')"

    @classmethod
    def sandbox(cls) -> CommerceCredentials:
        """The sandbox's default credentials."""
        return cls("sandbox", "sandbox", "sandbox")


def load_credentials(env: Mapping[str, str] | None = None) -> CommerceCredentials:
    """Credentials from the environment and/or ``M365MOVE_CONFIG``; InputError says which value is missing."""
    env = os.environ if env is None else env
    from_file: dict[str, Any] = {}
    config_path = env.get(ENV_CONFIG)
    if config_path:
        raw = read_structured_file(Path(config_path))
        section = raw.get("commerce") if isinstance(raw, dict) else None
        if not isinstance(section, dict):
            raise InputError(
                "the config file has no 'commerce' mapping (user, password, subscription_key)", where=config_path
            )
        from_file = section
    values = {}
    for name, variable in (("user", ENV_USER), ("password", ENV_PASSWORD), ("subscription_key", ENV_SUBSCRIPTION_KEY)):
        value = env.get(variable) or from_file.get(name)
        if value in (None, ""):
            where = f"{config_path}: commerce.{name}" if config_path else None
            raise InputError(
                f"the Commerce {name.replace('_', ' ')} is not set",
                where=where,
                hint=f"set {variable} or commerce.{name} in the {ENV_CONFIG} file",
            )
        values[name] = str(value)
    return CommerceCredentials(values["user"], values["password"], values["subscription_key"])
