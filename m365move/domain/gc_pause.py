"""Pausing CPython's cyclic garbage collector while the domain builds large acyclic structures.

Planning and preflight allocate hundreds of thousands of small objects (dataclasses, tuples, sets)
that never form reference cycles. Left on, the collector rescans every live object (the whole estate
and plan) every few thousand allocations, which makes work on a large estate superlinear in its size.
Reference counting still frees everything as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
