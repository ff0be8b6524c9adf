"""Pausing Python's cyclic garbage collector around work that allocates many acyclic objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Disable the cyclic collector for the block and enable it again after, even on error.

    For work that allocates objects by the hundred thousand, holds them until it returns and
    makes no cycles (a trace's states and results, a batch's rows): every collection would
    rescan them all and find nothing. Threads share the switch: a block that finds the
    collector already off leaves it off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
