"""gcgeo._gc.frozen: objects alive at the start are out of cycle collection until the end."""

from __future__ import annotations

import gc
import weakref

from gcgeo._gc import frozen


class _Node:
    pass


def test_frozen_holds_existing_objects_and_releases_them_after():
    gc.unfreeze()
    keep = [_Node() for _ in range(1000)]
    with frozen():
        assert gc.get_freeze_count() >= len(keep)
        with frozen():  # re-entrant: the inner exit does not unfreeze
            pass
        assert gc.get_freeze_count() >= len(keep)
        # garbage made meanwhile is still collected
        a = _Node()
        a.self = a
        del a
        assert gc.collect() >= 1
    assert gc.get_freeze_count() == 0
    del keep


def test_frozen_collects_garbage_left_before_it():
    gc.unfreeze()
    a = _Node()
    a.self = a  # a cycle: only the collector frees it
    ref = weakref.ref(a)
    del a
    gc.disable()  # no collection but frozen()'s own
    try:
        assert ref() is not None
        with frozen():
            assert ref() is None  # not held frozen for the duration
    finally:
        gc.enable()
    assert gc.get_freeze_count() == 0


def test_frozen_leaves_a_program_that_froze_objects_alone():
    gc.unfreeze()
    gc.freeze()
    before = gc.get_freeze_count()
    later = [_Node() for _ in range(1000)]  # (a freeze by frozen() would take these in)
    try:
        assert before > 0
        with frozen():
            pass
        # neither unfrozen behind the program's back nor frozen again (an object frozen
        # before may have been freed meanwhile: a thread of an earlier test ending)
        assert before - 100 <= gc.get_freeze_count() <= before
    finally:
        gc.unfreeze()
        del later
