"""Pausing Python's cyclic garbage collector while many long-lived objects are built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a report or plan status builds its objects.

    A report builds about 10^5 long-lived rows, evidence and findings (a plan status as many
    cells); without the pause the collector runs full collections over everything built so
    far again and again (about half of a large report's time).  Those objects hold no
    reference cycles, so nothing is lost; the collector is switched on again afterwards if
    it was on (so pauses nest).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
