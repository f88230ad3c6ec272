"""Independent pieces of work shared between this process and one forked child.

The facility isochrones draw one chunk of facilities at a time, each chunk on
its own (:func:`gcgeo.analysis.lc_isochrones.facility_isochrones`).  Threads
share the two cores only where numpy and GEOS let go of the interpreter; a
forked child reads the same network, grid and homes without copying them and
draws half of the chunks on the other core.  This process takes chunks from the
end, the child from the start, until they meet (the faster takes more); the
child returns its results packed (polygons as WKB), and should it fail, this
process draws its chunks again itself, so an error is raised here as it would
be without the child.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# what the child reads (set just before it is forked: the work, the shared ends and
# how a result is packed)
_STATE: tuple[Callable[[int], Any], Any, Callable[[Any], Any]] | None = None
# (held from setting it until the child is forked: one caller at a time)
_FORKING = threading.Lock()


def can_fork() -> bool:
    """Whether this process can share work with a forked child: on Linux (fork is the
    way to share the inputs without copying them; it is unsafe on macOS and missing on
    Windows), with two cores for this process, and not itself a daemon (which may not
    have children)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return False
    return (sys.platform.startswith("linux") and cores >= 2
            and "fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)


def _take(ends: Any, front: bool) -> int | None:
    """The next piece from the front (the child) or the back (this process), or None
    when the two have met."""
    with ends.get_lock():
        if ends[0] >= ends[1]:
            return None
        if front:
            ends[0] += 1
            return int(ends[0] - 1)
        ends[1] -= 1
        return int(ends[1])


def _child() -> dict[int, Any]:
    """The child's share: pieces from the front, packed."""
    assert _STATE is not None
    work, ends, pack = _STATE
    got = {}
    while (k := _take(ends, front=True)) is not None:
        got[k] = pack(work(k))
    return got


def both_ends(work: Callable[[int], Any], n: int, *, pack: Callable[[Any], Any],
              unpack: Callable[[Any], Any]) -> list[Any]:
    """``[work(k) for k in range(n)]``, shared with one forked child (see the
    module): ``unpack(pack(work(k)))`` must equal ``work(k)``, and ``work(k)``
    must not depend on which pieces ran before it in the same process."""
    global _STATE
    ctx = multiprocessing.get_context("fork")
    ends = ctx.Array("q", [0, n])
    mine: dict[int, Any] = {}
    theirs: dict[int, Any] = {}
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        with _FORKING:
            _STATE = (work, ends, pack)
            try:
                fut = ex.submit(_child)  # (the child is forked here)
            except Exception:  # (no child: all drawn here)
                fut = None
            finally:
                _STATE = None
        try:
            while (k := _take(ends, front=False)) is not None:
                mine[k] = work(k)
        except BaseException:  # (an error, or Ctrl-C: the child stops after its piece)
            with ends.get_lock():
                ends[0] = ends[1]
            raise
        try:
            theirs = fut.result() if fut is not None else {}
        except Exception:  # (drawn again below: an error in the work shows here)
            theirs = {}
    return [mine[k] if k in mine else unpack(theirs[k]) if k in theirs else work(k)
            for k in range(n)]
