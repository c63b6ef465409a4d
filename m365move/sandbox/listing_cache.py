"""The matched, ordered objects of recent Connect list queries, so paging through a listing filters and sorts the
collection once rather than once per page (a 27,000-request collection read 1000 at a time would otherwise be
scanned 27 times).

An entry is keyed by the collection, the query's filters and ordering (its paging and select left out) and the
state's version, which every write to the Connect state bumps (``ConnectState.changed``): a page asked for after
any change computes its listing again, so offsets page over the objects as they are now, as Connect's database
would. The cached lists hold the stored objects themselves, so a page always answers their current content.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from m365move.sandbox.rql import listing_key

Json = dict[str, Any]


class ListingCache:
    """The last ``size`` listings computed, least recently used out first."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, list[Json]] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # listings computed (misses): what tests assert on

    def matched(self, collection: str, raw_query: str, version: Hashable,
                compute: Callable[[], list[Json]]) -> list[Json]:
        key = (collection, listing_key(raw_query), version)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        listed = compute()
        with self._lock:
            self.computed += 1
            self._entries[key] = listed
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return listed
