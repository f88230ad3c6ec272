"""Frames written into a GeoPackage as the workspace stores them.

GDAL writes a GeoPackage one feature after another, about a microsecond and a
half each whatever the columns (0.5 s for the 420k rows of a city's
living-circle gaps), and pyogrio holds Python's lock while it does: two
layers written in two threads take as long as one after the other (measured:
0.57 s and 0.53 s alone, 1.11 s side by side, on an idle 2-core machine).  So
the layers are written one after another, straight into the file, and only
the layers a map or QGIS draws get a spatial index (a quarter of the time of
a point layer's write).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Mapping
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .values import lists_as_text

log = logging.getLogger(__name__)

__all__ = ["BOOLEANS", "CREATION", "RESERVED", "boolean_columns", "geom_types", "needs_multi",
           "only_booleans", "reserved_renames", "typed_booleans", "writable", "write_frames"]

#: GDAL's options for a GeoPackage gcgeo creates: version 1.3 of the standard, not GDAL's
#: default 1.4, which GDAL before 3.7 (QGIS 3.22 and 3.28 LTR on Debian 12, Ubuntu 22.04)
#: opens with a warning that it "may only be partially supported"; gcgeo uses nothing 1.4
#: adds.  A file that exists keeps its version.
CREATION = {"VERSION": "1.3"}

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


#: Names a GeoPackage layer written by GDAL keeps for itself: its row id and its geometry
#: column (whatever the frame's geometry column is called, GDAL names it ``geom``).
RESERVED = ("fid", "geom")


def reserved_renames(df: pd.DataFrame) -> dict[str, str]:
    """The columns of ``df`` a GeoPackage cannot hold under their names, and the names
    :func:`writable` stores them under.

    A column named like the row id (``FID``, as every ArcGIS table export has, ``fid``)
    or the geometry column (``geom``, or the frame's own geometry name in another case),
    compared ignoring case as GeoPackage does, is kept as ``<name>_src`` (``fid_src``,
    ``geom_src``; ``_src2``… if that is taken too).  GDAL would otherwise refuse it, or
    take a column of whole numbers as the row ids (and fail on a repeated one).

    >>> reserved_renames(pd.DataFrame({"FID": [0], "名称": ["a"], "Geom": ["x"]}))
    {'FID': 'fid_src', 'Geom': 'geom_src'}
    """
    geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    reserved = set(RESERVED) | ({str(geom).lower()} if geom is not None else set())
    taken = {str(c).lower() for c in df.columns}
    renames: dict[str, str] = {}
    for col in df.columns:
        low = str(col).lower()
        if col == geom or low not in reserved:
            continue
        new, n = f"{low}_src", 1
        while new in taken:
            n += 1
            new = f"{low}_src{n}"
        taken.add(new)
        renames[col] = new
    return renames


#: ``frame.attrs`` key naming the columns a GeoPackage holds as booleans that pandas read as
#: objects (:func:`boolean_columns`); :func:`typed_booleans` makes them booleans again.
BOOLEANS = "boolean_columns"


def only_booleans(s: pd.Series) -> bool:
    """Whether every value of ``s`` is True, False or missing (all missing included).

    >>> only_booleans(pd.Series([True, None])), only_booleans(pd.Series(["yes", None]))
    (True, False)
    """
    held = s.dropna()
    if not len(held):
        return True
    if not isinstance(held.iloc[0], (bool, np.bool_)):  # (text, most often: one look is enough)
        return False
    return bool(held.map(lambda v: isinstance(v, (bool, np.bool_))).all())


def boolean_columns(path: Path | str, layer: str, frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame``, read from ``layer`` of the GeoPackage ``path``, that the
    file holds as booleans (SQL type BOOLEAN) but pandas read as objects.

    A boolean column with a NULL comes back from GDAL as objects (True, False, None), and
    one all NULL as nothing but None: written again as it is, GDAL would take the first
    for booleans but the second for text.  Record these columns in
    ``frame.attrs[BOOLEANS]`` for :func:`typed_booleans`.
    """
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    candidates = [c for c in frame.columns if c != geom and frame[c].dtype == object
                  and only_booleans(frame[c])]
    if not candidates:
        return []
    quoted = str(layer).replace('"', '""')
    with closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)) as con:
        declared = {str(r[1]) for r in con.execute(f'PRAGMA table_info("{quoted}")')
                    if str(r[2]).upper() == "BOOLEAN"}
    return [c for c in candidates if str(c) in declared]


def typed_booleans(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the columns ``df.attrs[BOOLEANS]`` names (:func:`boolean_columns`) as
    pandas' nullable booleans, so that every writer stores them as booleans again, an
    all-NULL column too; a column since given other values is left as it is.

    >>> df = pd.DataFrame({"ok": [None, None]}, dtype=object)
    >>> df.attrs[BOOLEANS] = ["ok"]
    >>> str(typed_booleans(df)["ok"].dtype)
    'boolean'
    """
    cols = [c for c in df.attrs.get(BOOLEANS, ()) if c in df.columns and df[c].dtype == object
            and only_booleans(df[c])]
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        out[c] = out[c].astype("boolean")
    return out


def writable(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as the workspace stores it: columns named like GeoPackage's row id or geometry
    column under other names (:func:`reserved_renames`: ``FID`` as ``fid_src``), lists as
    text (as every export writes them), times as ``YYYY-MM-DD HH:MM:SS``, booleans read
    with NULLs as booleans again (:func:`typed_booleans`)."""
    out = typed_booleans(df)
    out = out.copy() if out is df else out
    renames = reserved_renames(out)
    if renames:
        out = out.rename(columns=renames)
        for src, dst in renames.items():
            log.info("column '%s' stored as '%s' (GeoPackage reserves the name)", src, dst)
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
    # (a layer without rows takes the geometry type its frame declares, else GDAL's "Unknown",
    # which QGIS draws with no style)
    declared = out.attrs.get("geometry_type") if isinstance(out, gpd.GeoDataFrame) and not len(out) \
        else None
    pyogrio.write_dataframe(out, path, layer=name, driver="GPKG", use_arrow=True, dataset_options=CREATION,
                            promote_to_multi=needs_multi(types),
                            **({"geometry_type": declared} if declared else {}),
                            layer_options={"SPATIAL_INDEX": "NO"} if isinstance(out, gpd.GeoDataFrame)
                            and not (index and len(out)) else None)


def write_frames(path: Path, frames: Mapping[str, pd.DataFrame], *,
                 spatial_index: Collection[str] | None = None) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """Write each frame as a layer of the GeoPackage ``path`` (replacing one of its name).

    ``spatial_index`` names the layers with geometry given a spatial index (by
    default all; an empty layer gets none).  A frame without rows may declare its
    geometry type in ``frame.attrs["geometry_type"]`` (e.g. "MultiPolygon").  Returns,
    per layer, the frame as written (:func:`writable`) and its geometry types
    (:func:`geom_types`, or the type declared; none for a table).
    """
    written: dict[str, tuple[pd.DataFrame, list[str]]] = {}
    for name, frame in frames.items():
        if isinstance(frame, gpd.GeoDataFrame):
            types = geom_types(frame) or ([str(frame.attrs["geometry_type"])]
                                          if frame.attrs.get("geometry_type") else [])
            written[name] = (writable(frame.reset_index(drop=True)), types)
        else:
            written[name] = (writable(pd.DataFrame(frame).reset_index(drop=True)), [])
        out, types = written[name]
        _write(path, name, out, types, spatial_index is None or name in spatial_index)
    return written
