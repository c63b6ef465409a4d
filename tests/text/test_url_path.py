"""Ids in URL paths are percent-encoded: a hostile id never changes which resource is called."""

from __future__ import annotations

import httpx
import pytest

from m365move.commerce.credentials import CommerceCredentials
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.connect import requests_api
from m365move.text.url_path import segment

HOSTILE = '=HYPERLINK("http://x/a?b#c%2F")\r\n../orders'


@pytest.mark.parametrize(("value", "encoded"), [
    ("3000001", "3000001"), ("AS-1234-5678-9012", "AS-1234-5678-9012"), ("a/b", "a%2Fb"), ("a?b#c", "a%3Fb%23c"),
    ("100%", "100%25"), ("x\r\ny", "x%0D%0Ay"), ("../x", "..%2Fx"), (7, "7"),
])
def test_segment(value: object, encoded: str) -> None:
    assert segment(value) == encoded


def test_commerce_reads_the_subscription_it_was_given() -> None:
    paths: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"token": "t", "expiresIn": 3600})
        return httpx.Response(404, json={"error": "not found"})

    with SimpleApiClient("http://commerce.test/api", CommerceCredentials.sandbox(), transport=httpx.MockTransport(answer),
                         rate_limit_per_second=None, max_retries=0) as client:
        for call in (client.get_subscription, client.get_order):
            with pytest.raises(Exception):  # noqa: B017 - any refusal: what matters is the path asked for
                call(HOSTILE)
    asked = [path for path in paths if "/token" not in path]
    assert len(asked) == 2 and all(path.endswith("/" + segment(HOSTILE)) for path in asked), asked
    assert all("?" not in path and "#" not in path and "\n" not in path for path in asked)


class _Recorder:
    """A ConnectClient stand-in that records the paths it is asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def create(self, path: str, payload: object = None) -> dict[str, object]:
        self.paths.append(path)
        return {}


def test_connect_transitions_name_the_request_it_was_given() -> None:
    recorder = _Recorder()
    requests_api.approve_asset_request(recorder, HOSTILE, "TL-1")  # type: ignore[arg-type]
    requests_api.fail_tier_config_request(recorder, HOSTILE, "no")  # type: ignore[arg-type]
    assert recorder.paths == [f"requests/{segment(HOSTILE)}/approve", f"tier/config-requests/{segment(HOSTILE)}/fail"]
