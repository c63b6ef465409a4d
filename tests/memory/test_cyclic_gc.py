"""The collector is paused while any reader is inside ``cyclic_gc_paused()``, and left as it was found afterwards."""

from __future__ import annotations

import gc

import pytest

from m365move.memory.cyclic_gc import cyclic_gc_paused as paused


@pytest.fixture(autouse=True)
def _collector_back_on() -> object:
    yield
    gc.enable()


def test_paused_while_any_reader_is_inside_and_resumed_after_the_last() -> None:
    gc.enable()
    with paused():
        assert not gc.isenabled()
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off_and_an_error_still_resumes_it() -> None:
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()
    gc.enable()
    with pytest.raises(RuntimeError), paused():
        raise RuntimeError("a page could not be read")
    assert gc.isenabled()
