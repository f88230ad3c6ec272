"""Keep Python's cycle collector off the objects that exist before heavy work.

A walking graph held as networkx objects is millions of Python objects
(node and edge dicts, geometries).  While an analysis runs, every full
collection of the cycle collector walks all of them — about 0.4 s per pass
for a 160k-node city, several times per run — although none of them can
become garbage meanwhile.  :func:`frozen` moves the objects alive at its
start into the collector's permanent generation for the duration
(:func:`gc.freeze`) and puts them back after (:func:`gc.unfreeze`); garbage
made during the work is collected as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0


@contextmanager
def frozen() -> Iterator[None]:
    """Exempt the objects alive now from cycle collection until the outermost
    such block ends (re-entrant: an inner block freezes what was made since)."""
    global _depth
    gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()


def also_freeze() -> None:
    """Inside :func:`frozen`, exempt the objects made since as well (e.g. a graph just built)."""
    if _depth:
        gc.freeze()
