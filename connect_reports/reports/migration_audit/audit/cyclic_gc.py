# Copied from m365move/memory/cyclic_gc.py by `python -m m365move.audit.report_copy`: edit the original, not this.
"""Pausing CPython's cyclic garbage collector while large acyclic structures are built: ``cyclic_gc_paused()``.

Planning, preflight, estate loading and the Connect audit's reading allocate hundreds of thousands of small
objects (dataclasses, tuples, decoded records) that never form reference cycles. Left on, the collector rescans
every live object every few thousand allocations, which makes work on a large estate superlinear in its size
(at 10k CSP assets its walking was a quarter of the Connect audit's reading CPU). Reference counting still frees
everything as usual, so nothing is lost by not looking for cycles meanwhile.

Pauses nest and may overlap across threads: the collector is resumed when the last pause ends, and only if it
was on when the first began.
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
def cyclic_gc_paused() -> Iterator[None]:
    """Keep the cyclic collector off for the block (reference counting goes on)."""
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
