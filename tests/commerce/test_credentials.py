"""Credentials from the environment or a config file, never shown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from m365move.commerce import CommerceCredentials, load_credentials
from m365move.errors import InputError

ENV = {
    "M365MOVE_COMMERCE_USER": "api",
    "M365MOVE_COMMERCE_PASSWORD": "s3cret-pw",
    "M365MOVE_COMMERCE_SUBSCRIPTION_KEY": "k3y-value",
}


class TestLoading:
    def test_from_environment(self) -> None:
        assert load_credentials(ENV) == CommerceCredentials("api", "s3cret-pw", "k3y-value")

    def test_from_config_file_with_environment_winning(self, tmp_path: Path) -> None:
        config = tmp_path / "m365move.yaml"
        config.write_text("commerce: {user: file-user, password: file-pw, subscription_key: file-key}\n")
        assert load_credentials({"M365MOVE_CONFIG": str(config)}) == CommerceCredentials("file-user", "file-pw", "file-key")
        mixed = load_credentials({"M365MOVE_CONFIG": str(config), "M365MOVE_COMMERCE_USER": "env-user"})
        assert mixed.user == "env-user" and mixed.password == "file-pw"

    def test_missing_value_named(self) -> None:
        with pytest.raises(InputError, match="M365MOVE_COMMERCE_PASSWORD"):
            load_credentials({"M365MOVE_COMMERCE_USER": "api"})

    def test_config_without_section(self, tmp_path: Path) -> None:
        config = tmp_path / "m365move.yaml"
        config.write_text("other: 1\n")
        with pytest.raises(InputError, match="no 'commerce' mapping"):
            load_credentials({"M365MOVE_CONFIG": str(config)})


class TestSecrecy:
    def test_repr_and_logs_mask_secrets(self, caplog: pytest.LogCaptureFixture) -> None:
        credentials = load_credentials(ENV)
        logging.getLogger("test").warning("using %r / %s", credentials, credentials)
        for text in (repr(credentials), str(credentials), caplog.text):
            assert "s3cret-pw" not in text and "k3y-value" not in text
        assert "api" in repr(credentials)
