"""One lock per source object in this process, so a check-then-create is never run twice at once for one source.

The runner gives up on a handler after its time limit (300 s for background tasks) and Connect delivers the task
again while the first handler's thread still runs in the same worker process; the sweep and the fulfilment
look up "is there already a request / a migration for this source?" before creating one, and two of those
running at once would both find nothing. Holding the source's lock across look-up and create closes that gap;
Connect stays the record (the look-up is what makes a later delivery, in any process, idempotent).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_GUARD = threading.Lock()
_LOCKS: dict[str, tuple[threading.Lock, int]] = {}  # key -> (lock, holders and waiters)


@contextmanager
def source_lock(key: str) -> Iterator[None]:
    """Hold the lock of ``key`` (e.g. ``purchase:AS-1:PRD-1-0001``); locks vanish when nobody holds or waits."""
    with _GUARD:
        lock, users = _LOCKS.get(key, (threading.Lock(), 0))
        _LOCKS[key] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _GUARD:
            lock, users = _LOCKS[key]
            if users <= 1:
                del _LOCKS[key]
            else:
                _LOCKS[key] = (lock, users - 1)
