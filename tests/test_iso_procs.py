"""Work shared with a forked child (gcgeo.analysis._iso_procs): the same results as in one
process, whoever draws which piece, and the child's failures drawn again here."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from gcgeo.analysis import _iso_procs as procs

pytestmark = pytest.mark.skipif(not procs.can_fork(), reason="no fork or one core")


def _square(k: int) -> np.ndarray:
    return np.arange(k + 3, dtype=float) ** 2


@pytest.mark.parametrize("n", [0, 1, 2, 7, 40])
def test_every_piece_once_in_order(n):
    got = procs.both_ends(_square, n, pack=lambda a: a.tolist(), unpack=np.array)
    assert len(got) == n
    for k, a in enumerate(got):
        assert np.array_equal(a, np.arange(k + 3, dtype=float) ** 2)


def test_pieces_the_child_fails_are_drawn_here():
    here = os.getpid()

    def work(k):
        if os.getpid() != here:
            raise RuntimeError("the child fails")
        return k * 10

    assert procs.both_ends(work, 12, pack=lambda x: x, unpack=lambda x: x) == \
        [k * 10 for k in range(12)]


def test_an_error_in_the_work_is_raised_here():
    def work(k):
        if k == 3:
            raise ValueError("piece 3")
        return k

    with pytest.raises(ValueError, match="piece 3"):
        procs.both_ends(work, 6, pack=lambda x: x, unpack=lambda x: x)


def _child_first():
    """A piece of work, ("child", k) or ("here", k), where this process waits for the
    child's first piece: the child draws some."""
    here = os.getpid()
    started = multiprocessing.get_context("fork").Event()

    def work(k):
        if os.getpid() != here:
            started.set()
            return ("child", k)
        assert started.wait(timeout=60)
        return ("here", k)

    return work


def test_the_child_packs_and_this_process_unpacks():
    # the pieces the child draws come back through pack and unpack
    work = _child_first()
    got = procs.both_ends(work, 30, pack=lambda r: ("packed",) + r,
                          unpack=lambda r: ("unpacked",) + r[1:])
    assert [r[-1] for r in got] == list(range(30))
    kinds = {r[:-1] for r in got}
    assert ("unpacked", "child") in kinds and kinds <= {("here",), ("unpacked", "child")}


def test_an_error_unpacking_a_piece_of_the_child_is_raised_here():
    def unpack(r):
        raise ValueError(f"cannot unpack {r}")

    with pytest.raises(ValueError, match="cannot unpack"):
        procs.both_ends(_child_first(), 30, pack=lambda r: r, unpack=unpack)


def _scratch_dirs() -> set[str]:
    return {str(p) for d in ("/dev/shm", tempfile.gettempdir()) if os.path.isdir(d)
            for p in Path(d).glob("gcgeo-pieces-*")}


def test_a_child_that_dies_leaves_its_pieces_to_this_process():
    # the child ends abruptly in its third piece (no error to pass on, no notice):
    # every piece is still done once, and the child's scratch files are gone
    here = os.getpid()
    before = _scratch_dirs()

    def work(k):
        if os.getpid() != here and k == 2:
            os._exit(3)
        return k * k

    assert procs.both_ends(work, 40, pack=lambda x: x, unpack=lambda x: x) == \
        [k * k for k in range(40)]
    assert _scratch_dirs() == before
    assert not multiprocessing.active_children()


def test_an_error_here_stops_the_child_and_leaves_nothing_behind():
    # this process fails while the child is in a long piece: the child is stopped
    # there (not waited for), its scratch files removed, the error raised
    here = os.getpid()
    before = _scratch_dirs()
    ctx = multiprocessing.get_context("fork")
    child_began, done = ctx.Event(), ctx.Value("i", 0)

    def work(k):
        if os.getpid() != here:
            child_began.set()
            time.sleep(30)
            with done.get_lock():
                done.value += 1
            return k
        assert child_began.wait(timeout=60)
        raise KeyError(f"piece {k}")

    with pytest.raises(KeyError, match="piece 199"):
        procs.both_ends(work, 200, pack=lambda x: x, unpack=lambda x: x)
    assert not multiprocessing.active_children()
    assert done.value == 0
    assert _scratch_dirs() == before
