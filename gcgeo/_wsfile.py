"""The workspace file kept safe: a command waits for another's change (:func:`lock`), a
file locked or open in another program is refused, and every change is made on a copy
that replaces the workspace only when whole (:func:`transaction`).  See
:mod:`gcgeo.workspace`, which re-exports :func:`lock`, :func:`check_writable` and
:func:`creating`."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyogrio

from . import _filelock
from . import io as _io
from ._errors import (
    ReadOnlyError,
    WorkspaceBusyError,
    WorkspaceError,
)

log = logging.getLogger("gcgeo.workspace")


def check_not_locked(path: Path) -> None:
    """Refuse a workspace another program holds locked, after waiting for it as for a gcgeo
    command (:data:`LOCK_TIMEOUT_S`, ``GCGEO_LOCK_TIMEOUT``).

    A program saving into a GeoPackage (QGIS, ArcGIS, a sync tool) locks the whole
    file meanwhile; GDAL then reports it as no GeoPackage at all, which would send
    the planner to create it afresh.
    """
    wait = _lock_timeout()
    try:
        con = sqlite3.connect(f"{_real(path).as_uri()}?mode=ro", uri=True, timeout=wait)
    except (sqlite3.Error, ValueError):
        return  # not a database sqlite opens: the reading that follows says what it is
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) \
                or "locked" in str(exc) or "busy" in str(exc):
            raise WorkspaceBusyError(
                f"{path} is locked by another program (e.g. QGIS or ArcGIS saving edits to it, "
                f"or a sync or backup tool copying it) and stayed locked for {wait:g} s; nothing "
                "was changed. Close it there (or let that program finish), then run the command "
                "again.") from None
    except sqlite3.Error:
        return  # not a GeoPackage: the reading that follows says so
    finally:
        con.close()


def check_not_open(path: Path) -> None:
    """Refuse to change a workspace another program has open for writing.

    QGIS keeps a GeoPackage's recent edits in a ``-wal`` file beside it; a
    copy made now would miss them, and replacing the file under the open
    connection would damage it.  (Call this before reading the workspace
    with GDAL, which folds the ``-wal`` file in when it closes.)
    """
    for side in (Path(f"{path}-wal"), Path(f"{path}-journal")):
        try:
            present = side.exists()
        except OSError:  # a name too long to have a journal beside it: nothing has one
            present = False
        if present:
            raise WorkspaceError(
                f"{path} is open in another program ({side.name} exists, e.g. QGIS editing it); "
                "close it there, then run the command again."
            )


#: Seconds a command waits for another gcgeo command writing the same workspace
#: before it gives up; the environment variable ``GCGEO_LOCK_TIMEOUT`` overrides it.
LOCK_TIMEOUT_S = 120.0

_NAME_MAX = 255  # bytes in a file name on common file systems


def _real(path: Path) -> Path:
    """The workspace file itself (a symbolic link stays a link to the changed file)."""
    return Path(os.path.realpath(path))


def _fit(text: str, room: int) -> str:
    """``text``, or its start and a digest of it, in at most ``room`` bytes of UTF-8."""
    raw = text.encode("utf-8", errors="surrogateescape")
    if len(raw) <= room:
        return text
    head = raw[: room - 9].decode("utf-8", errors="ignore")
    return f"{head}~{hashlib.sha1(raw).hexdigest()[:8]}"


def _temp_prefix(real: Path) -> str:
    # room for ".<stem>." + 8 random characters + ".gpkg-journal"
    return f".{_fit(real.stem, _NAME_MAX - 23)}."


def _lock_file(path: Path) -> Path:
    real = _real(path)
    return real.with_name(f".{_fit(real.name, _NAME_MAX - 6)}.lock")


def _leftovers(path: Path) -> list[Path]:
    """Temporary copies of the workspace (and their SQLite journals) in its folder, and the
    temporary file of a walking network being kept beside it (:mod:`gcgeo.network_cache`)."""
    real = _real(path)
    pattern = re.compile(re.escape(_temp_prefix(real)) + r"[a-z0-9_]{8}\.gpkg(?:-journal|-wal|-shm)?"
                         + "|" + re.escape(f".{real.name}.network.npz.") + r"[a-z0-9_]{8}\.tmp")
    try:
        with os.scandir(real.parent) as entries:
            return [real.parent / e.name for e in entries if pattern.fullmatch(e.name)]
    except OSError:
        return []


def _remove_leftovers(path: Path) -> None:
    """Remove the copies a command killed while changing the workspace left behind.

    Call it holding the lock: every live command's copies are made under it.
    """
    removed, size = 0, 0
    for f in _leftovers(path):
        try:
            size += f.stat().st_size
            f.unlink()
            removed += 1
        except OSError:
            continue
    if removed:
        log.info("removed %d temporary file(s) (%.1f MB) an interrupted command left beside %s",
                 removed, size / 1e6, path)


def sweep_if_free(path: Path) -> None:
    """Remove leftovers now if no command is changing the workspace (never waits)."""
    if not _leftovers(path):
        return
    try:
        with _filelock.try_hold(_lock_file(path)) as mine:
            if mine:
                _remove_leftovers(path)
    except OSError:  # a read-only folder: leave them
        return


def _lock_timeout() -> float:
    value = os.environ.get("GCGEO_LOCK_TIMEOUT")
    if value is None:
        return LOCK_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):
        raise WorkspaceError(f"GCGEO_LOCK_TIMEOUT={value!r} is not a number of seconds (0 or "
                             "more); unset it or give e.g. GCGEO_LOCK_TIMEOUT=60.")
    return seconds


@contextmanager
def lock(path: str | os.PathLike, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the workspace ``path`` for a change: other gcgeo commands wait for it.

    Every function here that changes a workspace holds it from reading to
    replacing the file, so a second command works on the first's result.
    Hold it around several calls that must see no change by another command
    in between (a thread holding it may take it again).  The lock is the file
    ``.<name>.lock`` beside the workspace, removed when it is let go; the
    system lets go of it when its process dies, even by ``kill -9``.

    Waits ``timeout`` seconds (default :data:`LOCK_TIMEOUT_S`, or the
    environment variable ``GCGEO_LOCK_TIMEOUT``), then raises
    :class:`~gcgeo.WorkspaceBusyError`.  On taking the lock, removes the
    temporary copies an interrupted command left beside the workspace.
    """
    path = Path(path)
    wait = _lock_timeout() if timeout is None else float(timeout)
    lock_file = _lock_file(path)

    def busy() -> WorkspaceBusyError:
        return WorkspaceBusyError(
            f"workspace {path} is busy: another gcgeo command is writing it (it holds "
            f"{lock_file.name}) and did not finish within {wait:g} s. Let it finish, then run "
            "this command again."
        )

    with _filelock.hold(lock_file, timeout=wait, busy=busy) as taken:
        if taken:
            _remove_leftovers(path)
        yield


def check_writable(path: str | os.PathLike) -> None:
    """Refuse, before anything is written, a workspace gcgeo cannot change safely.

    A workspace is changed by writing a copy beside it and renaming the copy
    over it, so the file and its folder must both be writable.  A file or
    folder marked read-only (no write permission for anyone, e.g.
    ``chmod 444``) is refused even for a user the system would let write it
    (root): the mark says it is not to be changed.  Raises
    :class:`~gcgeo.ReadOnlyError` naming the file and the fix.  Every
    function here that changes a workspace calls it; call it yourself to
    refuse before a long read.
    """
    path = Path(path)
    real = _real(path)
    folder = real.parent
    while not folder.exists() and folder != folder.parent:  # init makes missing folders
        folder = folder.parent
    if hasattr(os, "statvfs") and os.statvfs(folder).f_flag & os.ST_RDONLY:
        raise ReadOnlyError(
            f"workspace {path} is on a read-only file system ({folder}); nothing was changed. "
            "Copy it to a disk you can write and work on the copy."
        )
    if real.exists():
        mode = real.stat().st_mode
        if not os.access(real, os.W_OK) or not mode & 0o222:
            raise ReadOnlyError(
                f"workspace {path} is read-only ({stat.filemode(mode)}); nothing was changed. "
                f"Make it writable with 'chmod u+w {path}', or copy it and work on the copy."
            )
    if not os.access(folder, os.W_OK | os.X_OK) or not folder.stat().st_mode & 0o222:
        raise ReadOnlyError(
            f"the folder {folder} is read-only, and gcgeo changes workspace {path.name} by writing "
            f"a copy beside it; nothing was changed. Make the folder writable ('chmod u+w "
            f"{folder}') or move the workspace to a folder you can write."
        )


@contextmanager
def creating(path: str | os.PathLike) -> Iterator[bool]:
    """Hold ``path`` for a command that may create the workspace; yields whether it is new.

    If the block fails, a workspace it created is removed, so a failed import
    never leaves an empty workspace behind; an existing workspace is left to
    the atomic changes made in the block.  The workspace is locked throughout.

    >>> with creating("kotka.gpkg") as new:                # doctest: +SKIP
    ...     if new:
    ...         init("kotka.gpkg", name="Kotka")
    ...     write_layers("kotka.gpkg", frames)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    check_writable(path)
    with lock(path):
        new = not path.exists()
        try:
            yield new
        except BaseException as exc:
            if new:
                path.unlink(missing_ok=True)
                _io.raise_if_disk_full(exc, path, left="No workspace was created.")
            raise


def _take_owner_and_mode(real: Path, tmp: Path) -> None:
    """Give the copy the original's permissions (and owner and group, where allowed)."""
    st = real.stat()
    if hasattr(os, "chown"):
        mine = tmp.stat()
        if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
            for uid in (st.st_uid, -1):  # only root may give a file to another user
                try:
                    os.chown(tmp, uid, st.st_gid)
                    break
                except OSError:
                    continue
    os.chmod(tmp, stat.S_IMODE(st.st_mode))


@contextmanager
def transaction(path: Path, *, create: bool = False) -> Iterator[Path]:
    """Work on a copy of the workspace; replace the original only on success.

    Call it holding :func:`lock`.  The copy stays writable while it is
    changed and takes the original's permissions as it replaces it.  A
    workspace open in another program (QGIS keeps its changes in a ``-wal``
    file beside it) is refused: copying it would lose those changes.
    """
    if not create:
        check_not_open(path)
    real = _real(path)
    existed = real.exists()
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(real), suffix=".gpkg", dir=real.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        if create:
            tmp_path.unlink()
        else:
            shutil.copyfile(real, tmp_path)
        with _unjournaled():
            yield tmp_path
        _flush(tmp_path)
        if existed:
            _take_owner_and_mode(real, tmp_path)
        os.replace(tmp_path, real)
    except BaseException as exc:
        _io.raise_if_disk_full(exc, path, left="The workspace was left as it was." if existed
                               else "No workspace was created.")
        raise
    finally:
        for p in (tmp_path, Path(f"{tmp_path}-journal"), Path(f"{tmp_path}-wal"),
                  Path(f"{tmp_path}-shm")):
            if p.exists():
                p.unlink()


#: GDAL's settings while it writes the temporary copy: no rollback journal, no disk flush at
#: each commit (a failed change throws the copy away); the copy is flushed once, whole, before
#: it replaces the workspace (:func:`_flush`).
_COPY_SETTINGS = {"OGR_SQLITE_JOURNAL": "OFF", "OGR_SQLITE_SYNCHRONOUS": "OFF"}


@contextmanager
def _unjournaled() -> Iterator[None]:
    """Apply :data:`_COPY_SETTINGS` to GDAL while the copy is changed, then restore them."""
    before = {k: pyogrio.get_gdal_config_option(k) for k in _COPY_SETTINGS}
    pyogrio.set_gdal_config_options(_COPY_SETTINGS)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def _flush(path: Path) -> None:
    """Write ``path`` to the disk before it is renamed over the workspace."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())
