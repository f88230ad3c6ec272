"""An exclusive lock held on a small file beside the file it guards.

The lock is an advisory ``flock`` on an open file, so the system releases it
when its process ends, even by ``kill -9``: a lock is never left stuck.  The
lock file itself is removed by the holder when it lets go (a waiter that
opened the removed file notices and opens the new one), so nothing stays
beside the guarded file.  A thread that already holds a lock may take it again
(nested holds are counted); two threads, like two processes, exclude each
other.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

__all__ = ["hold", "try_hold"]

_local = threading.local()


def _held() -> dict[str, int]:
    held = getattr(_local, "held", None)
    if held is None:
        held = _local.held = {}
    return held


def _lock_fd(fd: int) -> bool:
    """Take the lock on ``fd`` without waiting; False when another holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:  # BlockingIOError (flock) or PermissionError (msvcrt)
        return False
    return True


def _try_once(lock_path: Path) -> int | None:
    """The open, locked descriptor of ``lock_path``, or None when another holds it."""
    # read-only suffices for flock, so a lock file left by another user still opens
    flags = (os.O_RDONLY if fcntl is not None else os.O_RDWR) | os.O_CREAT
    while True:
        fd = os.open(lock_path, flags, 0o666)
        if not _lock_fd(fd):
            os.close(fd)
            return None
        # the previous holder removes the file as it lets go: the lock counts only
        # if the file locked is still the one at lock_path
        try:
            now = os.stat(lock_path)
        except FileNotFoundError:
            os.close(fd)
            continue
        mine = os.fstat(fd)
        if (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
            return fd
        os.close(fd)


def _unlink(lock_path: Path) -> None:
    try:
        lock_path.unlink(missing_ok=True)
    except OSError:  # e.g. another user's file in a sticky folder: it stays, unlocked
        pass


def _release(fd: int, lock_path: Path) -> None:
    if fcntl is not None:
        _unlink(lock_path)  # still holding it: no one else can be using it
    os.close(fd)
    if fcntl is None:  # pragma: no cover - Windows cannot remove an open file
        _unlink(lock_path)


@contextmanager
def hold(lock_path: str | os.PathLike, *, timeout: float,
         busy: Callable[[], BaseException]) -> Iterator[bool]:
    """Hold ``lock_path`` exclusively, waiting up to ``timeout`` seconds for it.

    Yields True when this call took the lock, False when this thread already
    held it.  When the wait runs out, the exception ``busy()`` returns is raised.
    """
    lock_path = Path(lock_path)
    key = os.path.abspath(lock_path)
    held = _held()
    if key in held:
        held[key] += 1
        try:
            yield False
        finally:
            held[key] -= 1
        return
    deadline = time.monotonic() + max(0.0, timeout)
    pause = 0.01
    while (fd := _try_once(lock_path)) is None:
        if time.monotonic() >= deadline:
            raise busy()
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
    held[key] = 1
    try:
        yield True
    finally:
        del held[key]
        _release(fd, lock_path)


@contextmanager
def try_hold(lock_path: str | os.PathLike) -> Iterator[bool]:
    """Hold ``lock_path`` if it is free now; yields whether this call holds it.

    Yields False, without waiting, when another process or thread holds it, or
    when this thread already does.
    """
    lock_path = Path(lock_path)
    key = os.path.abspath(lock_path)
    held = _held()
    if key in held:
        yield False
        return
    fd = _try_once(lock_path)
    if fd is None:
        yield False
        return
    held[key] = 1
    try:
        yield True
    finally:
        del held[key]
        _release(fd, lock_path)
