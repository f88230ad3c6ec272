"""The green analysis's geometry helpers: polygons made valid, green spaces' yes / no
marks read, the green polygons of each community (:mod:`gcgeo.analysis.green`)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import require_metric
from ..values import to_bool

#: How a green space is marked public or not, besides yes / no words.
_PUBLIC_WORDS = ("公共", "public")
_PRIVATE_WORDS = ("非公共", "private", "私有")


def geometry_of(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    return frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame


def polygonal(geom: Any) -> Any:
    """The polygonal part of ``geom`` after ``make_valid`` (None if there is none)."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def valid_polygons(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Valid polygonal geometries (None where nothing polygonal is left)."""
    return gpd.GeoSeries([polygonal(g) for g in geoms.values], index=geoms.index, crs=geoms.crs)


def yes_no(series: pd.Series) -> pd.Series:
    """Yes/no values as pandas 'boolean' (NA when unknown), read by :func:`gcgeo.values.to_bool`;
    a green space may also be marked 公共 / 非公共."""
    return to_bool(series, true=_PUBLIC_WORDS, false=_PRIVATE_WORDS)[0]


def check_metric(geoms: gpd.GeoSeries, what: str) -> None:
    require_metric(geoms, f"layer '{what}'")


def intersecting_pairs(a: gpd.GeoSeries, b: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Positions (i in a, j in b) of intersecting geometry pairs."""
    ok = b.notna().to_numpy() & ~b.is_empty.to_numpy()
    if not ok.any() or not len(a):
        return np.zeros(0, int), np.zeros(0, int)
    tree = shapely.STRtree(b.to_numpy()[ok])
    ai, bj = tree.query(a.to_numpy(), predicate="intersects")
    return ai, np.flatnonzero(ok)[bj]


def clipped_union(communities: gpd.GeoSeries, green: gpd.GeoSeries) -> gpd.GeoSeries:
    """Per community: the union of the green polygons, clipped to the community."""
    ci, gj = intersecting_pairs(communities, green)
    cg = communities.to_numpy()
    gg = green.to_numpy()
    out = np.full(len(communities), None, dtype=object)
    if len(ci):
        order = np.argsort(ci, kind="stable")
        ci, gj = ci[order], gj[order]
        bounds = np.flatnonzero(np.diff(ci)) + 1
        for c_grp, g_grp in zip(np.split(ci, bounds), np.split(gj, bounds)):
            c = c_grp[0]
            inter = shapely.intersection(gg[g_grp], cg[c])
            u = shapely.union_all(inter)
            parts = [p for p in shapely.get_parts(u) if p.geom_type == "Polygon" and p.area > 0]
            out[c] = shapely.MultiPolygon(parts) if parts else None
    return gpd.GeoSeries(out, index=communities.index, crs=communities.crs)
