"""Reading Connect with RQL: assets, product items, listings, tier configs and requests, page by page.

Paging is by ``limit``/``offset`` with the total read from ``Content-Range`` (what Connect answers), one
retried call per page, so a throttled page is fetched again without restarting the listing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from connect.client import ConnectClient, R
from connect.client.utils import parse_content_range

from m365move.connect.client import with_retries
from m365move.connect.payloads import Json
from m365move.text.url_path import segment

T = TypeVar("T")

# Connect allows up to 1000 per page on these collections; ids in an ``in()`` list are kept well below URL limits.
MAX_PAGE = 1000
IN_LIST_CHUNK = 100


@dataclass(frozen=True, slots=True)
class AssetFilters:
    """Which CSP assets a sweep reads (the schedule's parameter)."""

    product_ids: tuple[str, ...]
    marketplace_id: str | None = None
    reseller_id: str | None = None  # tier-1 account id


def rql(query: Any) -> str:
    return str(query) if query else ""


def fetch_pages(client: ConnectClient, path: str, query: Any = None, *, page_size: int = 100,
                ordering: str | None = None) -> Iterator[list[Json]]:
    """Every page of ``path`` matching the RQL ``query`` (an ``R`` or a string)."""
    return pages_of(client, path, rql(query), lambda url, params: list(client.get(url, params=params) or []),
                    page_size=page_size, ordering=ordering)


def pages_of(client: ConnectClient, path: str, query: str, read_page: Callable[[str, dict[str, int]], list[T]], *,
             page_size: int = 100, ordering: str | None = None) -> Iterator[list[T]]:
    """Connect's paging: ``read_page(url, params)`` reads one page through ``client`` (retried as a whole on a
    throttled or failed answer), then ``limit``/``offset`` advance until ``Content-Range`` says the last was read."""
    parts = [p for p in (query, f"ordering({ordering})" if ordering else "") if p]
    url = f"{path}?{'&'.join(parts)}" if parts else path
    limit = max(1, min(page_size, MAX_PAGE))
    offset = 0
    while True:
        current = offset

        def call(at: int = current) -> tuple[list[T], Any]:
            page = read_page(url, {"limit": limit, "offset": at})
            return page, parse_content_range(client.response.headers.get("Content-Range"))

        page, content_range = with_retries(client, f"GET {path}", call)
        if page:
            yield page
        if not page or content_range is None or content_range.last >= content_range.count - 1:
            return
        offset += len(page)


def fetch_all(client: ConnectClient, path: str, query: Any = None, *, page_size: int = 100,
              ordering: str | None = None) -> list[Json]:
    return [obj for page in fetch_pages(client, path, query, page_size=page_size, ordering=ordering) for obj in page]


def chunks(ids: Sequence[str], size: int = IN_LIST_CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


# -- the reads the extension needs -------------------------------------------------------------------


def active_assets(client: ConnectClient, filters: AssetFilters, *, page_size: int = 100) -> Iterator[list[Json]]:
    """Pages of active assets of the CSP products, oldest first (Connect orders assets by ``created``, not by id)."""
    return fetch_pages(client, "assets", _active_assets_query(filters), page_size=page_size, ordering="created")


class AssetPages:
    """Pages of active CSP assets from a sweep cursor's position, up to ``limit`` assets (None: all).

    Iterate it for the pages; afterwards ``complete`` says whether the last matching asset was read (the pass
    ends) or the limit stopped the reading (a next chunk follows).
    """

    def __init__(self, client: ConnectClient, filters: AssetFilters, after: Any = None, *, limit: int | None = None,
                 page_size: int = 100) -> None:
        query = _active_assets_query(filters)
        if after is not None:
            query &= after
        self._url = f"assets?{rql(query)}&ordering(created)"
        self._client, self._limit, self._page_size = client, limit, max(1, min(page_size, MAX_PAGE))
        self.complete = False

    def __iter__(self) -> Iterator[list[Json]]:
        client, read = self._client, 0
        while True:
            size = self._page_size if self._limit is None else min(self._page_size, self._limit - read)
            if size <= 0:
                return

            def call(at: int = read, limit: int = size) -> tuple[list[Json], Any]:
                page = client.get(self._url, params={"limit": limit, "offset": at})
                return list(page or []), parse_content_range(client.response.headers.get("Content-Range"))

            page, content_range = with_retries(client, "GET assets", call)
            read += len(page)
            self.complete = not page or content_range is None or content_range.last >= content_range.count - 1
            if page:
                yield page
            if self.complete:
                return


def customers_assets(client: ConnectClient, filters: AssetFilters, customer_ids: Sequence[str]) -> list[Json]:
    """Every active asset of the sweep's filters held by these Connect customers, one read per 100 customers
    (``tiers.customer.id`` declares ``in``); each asset once."""
    found: dict[str, Json] = {}
    for ids in chunks(sorted(set(customer_ids))):
        query = _active_assets_query(filters) & R().tiers.customer.id.oneof(ids)
        for asset in fetch_all(client, "assets", query, page_size=MAX_PAGE, ordering="created"):
            found.setdefault(str(asset["id"]), asset)
    return list(found.values())


def _active_assets_query(filters: AssetFilters) -> Any:
    query = R().product.id.oneof(list(filters.product_ids)) & R().status.eq("active")
    if filters.marketplace_id:
        query &= R().marketplace.id.eq(filters.marketplace_id)
    if filters.reseller_id:
        query &= R().tiers.tier1.id.eq(filters.reseller_id)
    return query


def product_items(client: ConnectClient, product_id: str) -> list[Json]:
    return fetch_all(client, f"products/{segment(product_id)}/items", page_size=MAX_PAGE)


def product_connections(client: ConnectClient, product_id: str) -> list[Json]:
    """A product's connections (one per hub it is sold through): a purchase names one of them by id."""
    return fetch_all(client, f"products/{segment(product_id)}/connections", page_size=MAX_PAGE)


def listings(client: ConnectClient, product_ids: Iterable[str]) -> list[Json]:
    """Where the products are sold: ``{product: {id}, marketplace: {id}, status}``."""
    query = R().product.id.oneof(list(product_ids)) & R().status.eq("listed")
    return fetch_all(client, "listings", query, page_size=MAX_PAGE)


def active_tier_configs(client: ConnectClient, product_ids: Iterable[str]) -> list[Json]:
    query = R().product.id.oneof(list(product_ids)) & R().status.eq("active")
    return fetch_all(client, "tier/configs", query, page_size=MAX_PAGE)


def migration_purchases(client: ConnectClient, nce_product_ids: Sequence[str], source_asset_ids: Sequence[str]) -> list[Json]:
    """Purchase requests the sweep made for these CSP assets (they carry the source asset as ``external_id``)."""
    found: list[Json] = []
    for ids in chunks(source_asset_ids):
        query = (R().type.eq("purchase") & R().asset.product.id.oneof(list(nce_product_ids))
                 & R().asset.external_id.oneof(ids))
        found.extend(fetch_all(client, "requests", query, page_size=MAX_PAGE))
    return found


def purchases_by_uids(client: ConnectClient, nce_product_ids: Sequence[str], uids: Sequence[str]) -> list[Json]:
    """The purchase requests made for many CSP items at once, one read per 100 (the look-up before a page's creates)."""
    found: list[Json] = []
    for chunk in chunks(uids):
        query = (R().type.eq("purchase") & R().asset.product.id.oneof(list(nce_product_ids))
                 & R().asset.external_uid.oneof(chunk))
        found.extend(fetch_all(client, "requests", query, page_size=MAX_PAGE))
    return found


def migration_and_cancel_requests(client: ConnectClient, nce_product_ids: Sequence[str],
                                  source_asset_ids: Sequence[str]) -> list[Json]:
    """``migration_purchases`` and ``cancel_requests`` of the same CSP assets in one read per chunk of ids."""
    found: list[Json] = []
    for ids in chunks(source_asset_ids):
        purchases = (R().type.eq("purchase") & R().asset.product.id.oneof(list(nce_product_ids))
                     & R().asset.external_id.oneof(ids))
        cancels = R().type.eq("cancel") & R().asset.id.oneof(ids)
        found.extend(fetch_all(client, "requests", purchases | cancels, page_size=MAX_PAGE))
    return found


def cancel_requests(client: ConnectClient, asset_ids: Sequence[str]) -> list[Json]:
    found: list[Json] = []
    for ids in chunks(asset_ids):
        found.extend(fetch_all(client, "requests", R().type.eq("cancel") & R().asset.id.oneof(ids), page_size=MAX_PAGE))
    return found


def pending_purchase_requests(client: ConnectClient, product_ids: Sequence[str], also: Any = None) -> list[Json]:
    """Pending purchase requests of the products (``also``: a further RQL condition, e.g. changed since)."""
    query = R().type.eq("purchase") & R().status.eq("pending") & R().asset.product.id.oneof(list(product_ids))
    if also is not None:
        query &= also
    return fetch_all(client, "requests", query, page_size=MAX_PAGE, ordering="created")


def pending_tier_config_requests(client: ConnectClient, product_ids: Sequence[str], also: Any = None) -> list[Json]:
    query = (R().status.eq("pending") & R().configuration.product.id.oneof(list(product_ids))
             & R().type.oneof(["setup", "update"]))
    if also is not None:
        query &= also
    return fetch_all(client, "tier/config-requests", query, page_size=MAX_PAGE, ordering="created")


def requests_by_id(client: ConnectClient, request_ids: Sequence[str]) -> list[Json]:
    """Asset requests by id, in as few calls as the ``in()`` lists allow."""
    return [r for ids in chunks(request_ids) for r in fetch_all(client, "requests", R().id.oneof(ids), page_size=MAX_PAGE)]


def tier_config_requests_by_id(client: ConnectClient, request_ids: Sequence[str]) -> list[Json]:
    return [r for ids in chunks(request_ids)
            for r in fetch_all(client, "tier/config-requests", R().id.oneof(ids), page_size=MAX_PAGE)]


def product_item(client: ConnectClient, product_id: str, item_id: str) -> Json:
    result: Json = with_retries(client, "GET product item",
                                lambda: client.products[segment(product_id)].items[segment(item_id)].get())
    return result
