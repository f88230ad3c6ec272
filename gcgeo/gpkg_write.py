"""Frames written into a GeoPackage as the workspace stores them, two at a time.

GDAL writes a GeoPackage one feature after another, about a microsecond and a
half each whatever the columns (0.6 s for the 420k rows of a city's
living-circle gaps), and one file takes one writer at a time.  So
:func:`write_frames` writes a large attribute table (no geometry) into a
scratch GeoPackage beside the file, in a second thread, while the other
layers go into the file itself (GDAL releases Python's lock while it
writes); the table is then copied over in one SQLite statement, which
copies the rows as stored, in a tenth of the time.  The table in the file is
made by GDAL (empty, from the same frame), so it is declared and registered
exactly as GDAL declares a table it writes: the same columns and types, the
same ``fid`` of each row, the feature count GDAL keeps, its triggers.

Meant for the workspace's temporary copy (:mod:`gcgeo.workspace`), which is
thrown away when a write fails: the copy runs without an SQLite journal or
flush, as GDAL writes it there.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .values import lists_as_text

log = logging.getLogger(__name__)

__all__ = ["SCRATCH_ROWS", "copy_rows", "geom_types", "needs_multi", "writable", "write_frames"]

#: Attribute tables of at least this many rows are written beside the file while the
#: other layers are written into it (below this the copy costs more than it saves).
SCRATCH_ROWS = 50_000

#: geometry type names as geopandas' ``geom_type`` gives them, by shapely type id
_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
               "MultiPolygon", "GeometryCollection")


def geom_types(frame: gpd.GeoDataFrame) -> list[str]:
    """The geometry types present, sorted by name (missing geometries left out).

    >>> geom_types(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), None, shapely.box(0, 0, 1, 1)]))
    ['Point', 'Polygon']
    """
    ids = np.unique(shapely.get_type_id(frame.geometry.to_numpy()))
    return sorted(_TYPE_NAMES[int(i)] for i in ids if i >= 0)


def needs_multi(types: list[str]) -> bool | None:
    """Whether a layer of these geometry types mixes single and multi parts of one kind.

    >>> needs_multi(["MultiPolygon", "Polygon"]), needs_multi(["Point", "Polygon"])
    (True, None)
    """
    if len(types) > 1 and all(t.replace("Multi", "") == types[0].replace("Multi", "")
                              for t in types):
        return True
    return None


def writable(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as the workspace stores it: a ``fid`` column as ``fid_src`` (GeoPackage's row
    id), lists as text (as every export writes them), times as ``YYYY-MM-DD HH:MM:SS``."""
    out = df.copy()
    if "fid" in out.columns:  # GDAL takes a 'fid' column as the GeoPackage row id
        out = out.rename(columns={"fid": "fid_src"})
        log.info("column 'fid' stored as 'fid_src' (GeoPackage reserves 'fid')")
    out = lists_as_text(out)
    geom = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geom:
            continue
        s = out[col]
        if str(s.dtype).startswith("datetime64"):
            out[col] = s.dt.strftime("%Y-%m-%d %H:%M:%S").where(s.notna(), None)
    return out


def _write(path: Path | str, name: str, out: pd.DataFrame, types: list[str], index: bool) -> None:
    pyogrio.write_dataframe(out, path, layer=name, driver="GPKG", use_arrow=True,
                            promote_to_multi=needs_multi(types),
                            layer_options=None if index or not types else {"SPATIAL_INDEX": "NO"})


def write_frames(path: Path, frames: Mapping[str, pd.DataFrame], *,
                 spatial_index: Collection[str] | None = None,
                 scratch_prefix: str | None = None) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """Write each frame as a layer of the GeoPackage ``path`` (replacing one of its name).

    ``spatial_index`` names the layers with geometry given a spatial index (by
    default all). Large attribute tables are written beside the file meanwhile
    (see the module doc), in a scratch file named ``scratch_prefix`` + 8
    characters + ``.gpkg`` in the file's folder, removed when done.
    Returns, per layer, the frame as written (:func:`writable`) and its
    geometry types (:func:`geom_types`; none for a table).
    """
    written: dict[str, tuple[pd.DataFrame, list[str]]] = {}
    for name, frame in frames.items():
        if isinstance(frame, gpd.GeoDataFrame):
            written[name] = (writable(frame.reset_index(drop=True)), geom_types(frame))
        else:
            written[name] = (writable(pd.DataFrame(frame).reset_index(drop=True)), [])
    aside = [n for n, (out, types) in written.items() if not types and len(out) >= SCRATCH_ROWS]
    if len(written) < 2 or not aside:
        aside = []
    here = [n for n in written if n not in aside]
    indexed = {n: spatial_index is None or n in spatial_index for n in written}
    if not aside:
        for n in here:
            _write(path, n, *written[n], indexed[n])
        return written
    fd, tmp = tempfile.mkstemp(prefix=scratch_prefix or f".{path.stem}.", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    scratch = Path(tmp)
    scratch.unlink()  # GDAL makes the file (an empty one is no GeoPackage to it)
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="gcgeo-write") as pool:
            def write_aside() -> None:
                for n in aside:
                    _write(scratch, n, *written[n], False)

            beside = pool.submit(write_aside)
            for n in here:
                _write(path, n, *written[n], indexed[n])
            beside.result()
        for n in aside:
            _write(path, n, written[n][0].iloc[:0], [], False)  # declared and registered by GDAL
            if copy_rows(path, scratch, n) is None:  # declared otherwise without its rows
                _write(path, n, *written[n], False)
    finally:
        for p in (scratch, Path(f"{scratch}-journal")):
            p.unlink(missing_ok=True)
    return written


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_rows(path: Path, source: Path, table: str) -> int | None:
    """Append the rows of ``table`` in the GeoPackage ``source`` to the same, empty, table of
    ``path``, with their ``fid``: the feature count GDAL keeps is set once, its per-row
    triggers set aside meanwhile.  Returns the rows copied, or None (and copies nothing)
    when the two tables' columns are not declared alike (names and types)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as con:
        con.execute("PRAGMA synchronous = OFF")  # the copy is flushed whole before it is used
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("ATTACH DATABASE ? AS source", (str(source),))
        try:
            columns = [r[1:3] for r in con.execute(f"PRAGMA main.table_info({_quote(table)})")]
            if not columns or columns != [r[1:3] for r in
                                          con.execute(f"PRAGMA source.table_info({_quote(table)})")]:
                return None
            listed = ", ".join(_quote(c) for c, _ in columns)
            con.execute("BEGIN")
            triggers = con.execute("SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' "
                                   "AND tbl_name = ?", (table,)).fetchall()
            for trigger, _ in triggers:
                con.execute(f"DROP TRIGGER main.{_quote(trigger)}")
            n = con.execute(f"INSERT INTO main.{_quote(table)} ({listed}) SELECT {listed} FROM "
                            f"source.{_quote(table)}").rowcount
            if con.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'gpkg_ogr_contents'").fetchone():
                con.execute("UPDATE main.gpkg_ogr_contents SET feature_count = ? "
                            "WHERE lower(table_name) = lower(?)", (n, table))
            for _, sql in triggers:
                con.execute(sql)
            con.execute("COMMIT")
        finally:
            if con.in_transaction:
                con.execute("ROLLBACK")
            con.execute("DETACH DATABASE source")
    return int(n)
