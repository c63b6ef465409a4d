"""A Connect listing's pages decoded from the bytes Connect answered, through a ``ConnectClient``'s own session.

``ConnectClient.get`` parses every JSON answer into dicts and lists, which for the audit's bulk listings (some
47 MB at 10k CSP assets) costs more than everything else the audit does with them; the audit decodes the bytes
itself, only the fields it reads (``connect_json``). The call is the one ``ConnectClient.execute`` makes: the
client's thread-local ``requests`` session, its endpoint, ``Authorization`` and User-Agent headers
(``connect.client.utils.get_headers``), default headers and timeout; an error answer raises ``ClientError``
with Connect's ``error_code``/``errors`` as ``execute`` raises it, and ``client.response`` is the answer, so
``with_retries`` treats a throttled or failed page exactly as it treats one read through ``get``. Paging is by
``limit``/``offset`` with the total from ``Content-Range``: ``queries.pages_of``, the paging ``fetch_pages`` uses too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import msgspec
from connect.client import ClientError, ConnectClient
from connect.client.utils import get_headers

from m365move.connect.client import ConnectApiError
from m365move.connect.queries import MAX_PAGE, pages_of

T = TypeVar("T")


def decoded_pages(client: ConnectClient, path: str, rql: str, decode: Callable[[bytes], list[T]], *,
                  page_size: int = MAX_PAGE, ordering: str | None = None) -> Iterator[list[T]]:
    """Every page of ``path`` matching ``rql``, each as ``decode`` makes it of the answer's bytes."""

    def read_page(url: str, params: dict[str, int]) -> list[T]:
        body = _get(client, url, params)
        try:
            return decode(body)
        except msgspec.DecodeError as error:  # not JSON, or not the shape of Connect's objects
            raise ConnectApiError(f"Connect GET {path} answered a page that is not a list of its objects: {error}",
                                  client.response.status_code) from None

    return pages_of(client, path, rql, read_page, page_size=page_size, ordering=ordering)


def _get(client: ConnectClient, url: str, params: dict[str, Any]) -> bytes:
    """``client.get(url, params=params)`` answered as bytes, not parsed."""
    headers = {**get_headers(client.api_key), **(client.default_headers or {})}
    client.response = client.session.request("get", f"{client.endpoint}/{url}", params=params, headers=headers,
                                             timeout=client.timeout)
    if client.response.status_code >= 400:
        raise ClientError(status_code=client.response.status_code, **_api_error(client))
    return bytes(client.response.content)


def _api_error(client: ConnectClient) -> dict[str, Any]:
    try:
        error = client.response.json()
    except ValueError:
        return {}
    return error if isinstance(error, dict) and "error_code" in error and "errors" in error else {}
