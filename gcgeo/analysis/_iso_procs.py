"""Independent pieces of work shared between this process and one forked child.

The facility isochrones draw one chunk of facilities at a time, each chunk on
its own (:func:`gcgeo.analysis.lc_isochrones.facility_isochrones`); the supply
analysis searches one category's catchments at a time
(:func:`gcgeo.analysis.supply.run`).  Threads
share the two cores only where numpy, scipy and GEOS let go of the
interpreter; a forked child reads the same network, grid and homes without
copying them and draws part of the chunks on the other core.  This process
takes pieces from the end, the child from the start, until they meet (the
faster takes more).  The child leaves each result packed (polygons as WKB) in
a scratch file and says so through a pipe; a thread here unpacks it
meanwhile.  Neither waits for the other while there are pieces left (the
child is not fed its pieces, nor does it wait for its results to be taken).
Should the child fail, this process does its pieces again itself, so an error
is raised here as it would be without the child.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any


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


def _serve(work: Callable[[int], Any], ends: Any, pack: Callable[[Any], Any], scratch: Path,
           said: Connection) -> None:
    """The child: pieces from the front until the two ends meet, each packed into a
    file of ``scratch`` named after it, then told through ``said``.  It stops at its
    first error, quietly: this process does the piece again, and shows the error."""
    try:
        while (k := _take(ends, front=True)) is not None:
            value = pack(work(k))
            with open(scratch / str(k), "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            said.send(k)
    except BaseException:  # noqa: BLE001 - (done again here; Ctrl-C ends this process too)
        pass
    finally:
        said.close()


def _receive(told: Connection, scratch: Path, unpack: Callable[[Any], Any],
             theirs: dict[int, Any], packed: set[int]) -> None:
    """This process's thread: each piece the child tells of, read and unpacked (kept
    packed where unpacking fails, to fail again where its error shows), until the
    child has ended."""
    while True:
        try:
            k = told.recv()
        except (EOFError, OSError):
            return
        try:
            path = scratch / str(k)
            with open(path, "rb") as f:
                value = pickle.load(f)
            path.unlink()
        except Exception:  # noqa: BLE001 - (done again here)
            continue
        try:
            theirs[k] = unpack(value)
        except Exception:  # noqa: BLE001 - (unpacked again below, where its error shows)
            theirs[k] = value
            packed.add(k)


def _scratch() -> str | None:
    """Where the child leaves its results: shared memory where it has room (a
    container may give it only 64 MB), else the temporary folder."""
    try:
        st = os.statvfs("/dev/shm")
        if os.access("/dev/shm", os.W_OK) and st.f_bavail * st.f_frsize >= 2**30:
            return "/dev/shm"
    except OSError:
        pass
    return None


def both_ends(work: Callable[[int], Any], n: int, *, pack: Callable[[Any], Any],
              unpack: Callable[[Any], Any]) -> list[Any]:
    """``[work(k) for k in range(n)]``, shared with one forked child (see the
    module): ``unpack(pack(work(k)))`` must equal ``work(k)``, and ``work(k)``
    must not depend on which pieces ran before it in the same process."""
    if n < 2:
        return [work(k) for k in range(n)]
    ctx = multiprocessing.get_context("fork")
    ends = ctx.Array("q", [0, n])
    mine: dict[int, Any] = {}
    theirs: dict[int, Any] = {}  # unpacked, or still packed where unpacking failed there
    packed: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="gcgeo-pieces-", dir=_scratch()) as d:
        told, said = ctx.Pipe(duplex=False)
        child: Any = ctx.Process(target=_serve, args=(work, ends, pack, Path(d), said),
                                 daemon=True)
        try:
            child.start()
        except Exception:  # noqa: BLE001 - (no child: all done here)
            child = None
        said.close()
        reader = None
        if child is not None:
            reader = threading.Thread(target=_receive, args=(told, Path(d), unpack, theirs, packed),
                                      name="gcgeo-pieces", daemon=True)
            reader.start()
        try:
            while (k := _take(ends, front=False)) is not None:
                mine[k] = work(k)
        except BaseException:  # (an error, or Ctrl-C: the child is stopped)
            with ends.get_lock():
                ends[0] = ends[1]
            if child is not None:
                child.terminate()
            raise
        finally:
            if child is not None:
                child.join()
            if reader is not None:
                reader.join()
            told.close()
    return [mine[k] if k in mine else (unpack(theirs[k]) if k in packed else theirs[k])
            if k in theirs else work(k) for k in range(n)]
