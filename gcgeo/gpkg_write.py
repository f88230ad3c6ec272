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
from collections.abc import Collection, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .values import lists_as_text

log = logging.getLogger(__name__)

__all__ = ["CREATION", "geom_types", "needs_multi", "writable", "write_frames"]

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
