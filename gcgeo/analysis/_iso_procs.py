"""Independent pieces of work shared between this process and one forked child.

Threads share the two cores only where numpy, scipy and GEOS let go of the
interpreter; much of the living circle's work holds it.  A forked child reads
the same network, grid and homes without copying them and does part of the
pieces on the other core: the categories' searches
(:func:`gcgeo.analysis.living_circle.run`), the categories' cells and the
communities of the community isochrones
(:func:`gcgeo.analysis._iso_town.community_areas`), the chunks of facilities of
the facility isochrones (:func:`gcgeo.analysis.lc_isochrones.facility_isochrones`).
This process takes pieces from the end, the child from the start, until they
meet (the faster takes more); the child returns its results packed (polygons as
WKB), and should it fail, this process does its pieces again itself, so an
error is raised here as it would be without the child.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
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


def _child() -> tuple[int, Any] | None:
    """One piece of the child's share, the next from the front, packed (None when the
    two ends have met)."""
    assert _STATE is not None
    work, ends, pack = _STATE
    k = _take(ends, front=True)
    return None if k is None else (k, pack(work(k)))


def both_ends(work: Callable[[int], Any], n: int, *, pack: Callable[[Any], Any],
              unpack: Callable[[Any], Any]) -> list[Any]:
    """``[work(k) for k in range(n)]``, shared with one forked child (see the
    module): ``unpack(pack(work(k)))`` must equal ``work(k)``, and ``work(k)``
    must not depend on which pieces ran before it in the same process.

    The child's pieces come back one by one, each as it is done, and are unpacked
    as they come (by the pool's thread here, while this process draws its own), so
    that little is left to receive once the two ends meet; leaving the pool waits
    for that thread, and so for every piece to be in."""
    global _STATE
    ctx = multiprocessing.get_context("fork")
    ends = ctx.Array("q", [0, n])
    mine: dict[int, Any] = {}
    theirs: dict[int, Any] = {}  # unpacked, or still packed where unpacking failed there
    packed: set[int] = set()

    def arrived(fut: Future) -> None:
        try:
            got = fut.result()
        except BaseException:  # noqa: BLE001 - (drawn again below: an error in the work shows here)
            return
        if got is not None:
            k, value = got
            try:
                theirs[k] = unpack(value)
            except Exception:  # noqa: BLE001 - (unpacked again below, where its error shows)
                theirs[k] = value
                packed.add(k)

    futs: list[Future] = []
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        with _FORKING:
            _STATE = (work, ends, pack)
            try:
                futs.append(ex.submit(_child))  # (the child is forked here)
            except Exception:  # noqa: BLE001 - (no child: all drawn here)
                pass
            finally:
                _STATE = None
        if futs:  # one call per piece it may take (a call finds the ends met, or draws one)
            futs += [ex.submit(_child) for _ in range(n - 1)]
            for fut in futs:
                fut.add_done_callback(arrived)
        try:
            while (k := _take(ends, front=False)) is not None:
                mine[k] = work(k)
        except BaseException:  # (an error, or Ctrl-C: the child stops after its piece)
            with ends.get_lock():
                ends[0] = ends[1]
            raise
    return [mine[k] if k in mine else (unpack(theirs[k]) if k in packed else theirs[k])
            if k in theirs else work(k) for k in range(n)]
