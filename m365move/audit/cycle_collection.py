"""Bulk reads without the cyclic garbage collector: ``paused()``.

A Connect audit turns some 47 MB of pages (at 10k CSP assets) into tens of thousands of small records. Every
object it keeps alive makes CPython's cyclic collector run again and walk everything kept so far; measured at
10k, that walking was a quarter of the reading's CPU. The reading makes no reference cycles (the records are
plain values, the decoded pages are freed by reference counting), so nothing is lost by not looking for cycles
while it runs: the collector is paused, and resumed when the last reader that paused it is done (it stays off
if it was off before). Reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausing = 0
_resume = False


@contextmanager
def paused() -> Iterator[None]:
    global _pausing, _resume
    with _lock:
        if _pausing == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _resume:
                gc.enable()
