"""Fixtures the extension's handler tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from connect.client.testing import ConnectClientMocker

from m365move.partnercenter.client import TOKEN_CACHE
from m365move.partnercenter.limits import LIMITERS
from tests.extension.fakes import ENDPOINT


@pytest.fixture(autouse=True)
def fresh_partner_center_state() -> Iterator[None]:
    """Tokens and create limiters are per process: each test starts and ends without them."""
    TOKEN_CACHE.clear()
    LIMITERS.clear()
    yield
    TOKEN_CACHE.clear()
    LIMITERS.clear()


@pytest.fixture
def mocker() -> Iterator[ConnectClientMocker]:
    with ConnectClientMocker(ENDPOINT) as m:
        yield m
