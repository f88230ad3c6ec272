"""Keep Python's cycle collector off the objects that exist before heavy work.

Street lines, building footprints and graph dicts are GC-tracked Python
objects, hundreds of thousands of them for a city (millions when a networkx
graph is alive).  While an analysis runs, every full collection of the
cycle collector walks all of them — about 0.4 s per pass for a 160k-node
city graph — although none of them can become garbage meanwhile.
:func:`frozen` collects once, moves the objects alive then into the
collector's permanent generation (:func:`gc.freeze`) and puts them back at
the end (:func:`gc.unfreeze`); garbage made during the work is collected as
usual.  When the calling program has frozen objects itself it manages the
collector, and :func:`frozen` leaves it alone (unfreezing would undo that).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0


@contextmanager
def frozen(*, collect: bool = True) -> Iterator[None]:
    """Exempt the objects alive now from cycle collection until the block ends (re-entrant).

    ``collect=False`` freezes without a pass first: for a command that has only
    imported its modules (they leave no garbage; the pass walks them all, 0.04 s).
    """
    global _depth
    if _depth == 0 and gc.get_freeze_count():
        yield  # the program froze objects itself: leave the collector to it
        return
    if _depth == 0:
        if collect:
            gc.collect()  # garbage left by earlier work is not to be held meanwhile
        gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()


@contextmanager
def paused() -> Iterator[None]:
    """No cycle collection while the block runs (then as before): for importing modules,
    which make hundreds of thousands of objects and no garbage, while the collector
    walks them again and again (255 passes, 0.07 s, for an analysis's imports)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
