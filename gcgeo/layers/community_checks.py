"""Communities checked against each other, their buildings and the county: part of ``gcgeo validate``.

Every criterion is scored per community, so a home must lie in one community
and every community in the county.  :func:`check_communities` reports, with
the figure that shows how much:

* communities that overlap (the overlap's area): an error where the overlap is
  wider than ``sliver_width_m``, a warning for a thinner strip (the shared
  boundary digitised twice);
* slivers between neighbours: gaps narrower than ``sliver_width_m`` between
  two communities that nearly touch (the gap's area), a warning;
* communities outside the county boundary when one is given (the area
  outside): an error when wholly outside, a warning when partly;
* buildings assigned to two communities: a footprint with at least
  ``shared_share`` of its area in each of two or more (a warning: the
  analyses count it where its representative point lies).

>>> import geopandas as gpd, shapely
>>> comm = gpd.GeoDataFrame({"id": ["C1", "C2"], "name": ["东关", "西关"]},
...                         geometry=[shapely.box(0, 0, 100, 100), shapely.box(90, 0, 200, 100)],
...                         crs="EPSG:4547")
>>> [(p.row, p.severity) for p in check_communities(comm)]
[('C1', 'error')]
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..crs import metric
from ..values import feature_ids
from ._validate import Problem

__all__ = ["SHARED_BUILDING_SHARE", "SLIVER_WIDTH_M", "check_communities"]

#: Gaps and overlaps between two communities narrower than this are slivers, metres.
SLIVER_WIDTH_M = 2.0
#: A building with at least this share of its footprint in each of two communities is in both.
SHARED_BUILDING_SHARE = 0.25
#: Areas below this are rounding in the coordinates, not findings, m².
_NOISE_M2 = 0.01


def check_communities(communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None = None,
                      boundary: shapely.Geometry | None = None, *, layer: str = "communities",
                      buildings_layer: str = "buildings", sliver_width_m: float = SLIVER_WIDTH_M,
                      shared_share: float = SHARED_BUILDING_SHARE) -> list[Problem]:
    """Problems of ``communities`` as a whole; see the module docstring.

    ``boundary`` (the county or study area) is in ``communities``' CRS.  Rows
    are the features' ids (:func:`gcgeo.values.feature_ids`); a pair of
    communities is reported once, on the first of the two.  A layer without a
    CRS is not checked here (validation reports the missing CRS itself).
    """
    if communities is None or not len(communities) or communities.crs is None:
        return []
    comm, boundary = _metric(communities, boundary)
    ids = feature_ids(comm).to_numpy()
    names = _names(comm)
    geoms = _valid(comm)
    problems: list[Problem] = []
    problems += _overlaps(geoms, ids, names, layer, sliver_width_m)
    problems += _slivers(geoms, ids, names, layer, sliver_width_m)
    if boundary is not None and not shapely.is_empty(boundary):
        problems += _outside(geoms, ids, layer, boundary)
    if buildings is not None and len(buildings) and buildings.crs is not None:
        b = buildings.to_crs(comm.crs) if not CRS(buildings.crs).equals(comm.crs) else buildings
        problems += _shared_buildings(b, geoms, ids, names, buildings_layer, shared_share)
    return problems


def _metric(comm: gpd.GeoDataFrame, boundary: shapely.Geometry | None
            ) -> tuple[gpd.GeoDataFrame, shapely.Geometry | None]:
    """Communities in metres (the boundary moved with them when they were in degrees)."""
    out = metric(comm, "layer 'communities'")
    if boundary is not None and out is not comm:
        boundary = gpd.GeoSeries([boundary], crs=comm.crs).to_crs(out.crs).iloc[0]
    if boundary is not None:
        boundary = shapely.make_valid(boundary)
    return out, boundary


def _names(comm: gpd.GeoDataFrame) -> list[str]:
    """``C1 (东关)`` for each community, or just its id where it has no name."""
    ids = feature_ids(comm)
    if "name" not in comm.columns:
        return ids.tolist()
    return [f"{i} ({n})" if isinstance(n, str) and n.strip() else i for i, n in zip(ids, comm["name"])]


def _valid(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Geometries made valid (validation reports invalid ones itself); None where missing or empty."""
    g = np.asarray(gdf.geometry.array, dtype=object).copy()
    bad = shapely.is_missing(g) | shapely.is_empty(g)
    g[bad] = None
    ok = np.flatnonzero(~bad)
    invalid = ok[~shapely.is_valid(g[ok])]  # (make_valid returns a valid geometry as it is)
    g[invalid] = shapely.make_valid(g[invalid])
    # keep the polygonal part of what make_valid returns (and of any other geometry)
    other = ok[(shapely.get_dimensions(g[ok]) != 2)
               | (shapely.get_type_id(g[ok]) == shapely.GeometryType.GEOMETRYCOLLECTION)]
    for k in other:
        g[k] = shapely.union_all([p for p in shapely.get_parts(g[k]) if shapely.get_dimensions(p) == 2])
    return g


def _pairs(geoms: np.ndarray, within: float) -> list[tuple[int, int]]:
    """Index pairs ``i < j`` of geometries closer than ``within``."""
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=within)
    keep = a < b
    return sorted(zip(a[keep].tolist(), b[keep].tolist()))


def _overlaps(geoms: np.ndarray, ids: np.ndarray, names: list[str], layer: str,
              width: float) -> list[Problem]:
    out = []
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    for i, j in sorted(zip(a.tolist(), b.tolist())):
        if i >= j:
            continue
        common = shapely.intersection(geoms[i], geoms[j])
        area = float(shapely.area(common))
        if area <= _NOISE_M2:
            continue  # they touch
        wide = _width(common)
        if wide >= width:
            out.append(Problem(layer, str(ids[i]), "geometry",
                               f"overlaps community {names[j]} by {area:,.1f} m² (up to {wide:.1f} m wide): "
                               "buildings and residents there belong to both; redraw the shared boundary "
                               "so that each place lies in one community"))
        else:
            out.append(Problem(layer, str(ids[i]), "geometry",
                               f"its boundary crosses that of community {names[j]}: a sliver of {area:,.1f} m² "
                               f"under {width:g} m wide lies in both; snap the shared boundary to one line",
                               severity="warning"))
    return out


def _width(geom: shapely.Geometry) -> float:
    """How wide an area is: the diameter of the largest circle inside its widest part."""
    return max((_inscribed(p) for p in shapely.get_parts(geom)
                if shapely.get_dimensions(p) == 2 and shapely.area(p) > 0), default=0.0)


def _inscribed(poly: shapely.Geometry) -> float:
    """Diameter of the largest circle inside ``poly`` (GEOS's maximum inscribed circle)."""
    size = max(float(shapely.length(poly)) * 1e-4, 1e-3)
    line = shapely.maximum_inscribed_circle(poly, tolerance=size)
    return 2.0 * float(shapely.length(line))


def _slivers(geoms: np.ndarray, ids: np.ndarray, names: list[str], layer: str,
             width: float) -> list[Problem]:
    """Gaps narrower than ``width`` between two communities (not counting places a third covers)."""
    out: list[Problem] = []
    present = [g for g in geoms if g is not None]
    if len(present) < 2:
        return out
    everything = shapely.union_all(present)
    half = width / 2.0
    for i, j in _pairs(geoms, width):
        pair = shapely.union_all([geoms[i], geoms[j]])
        closed = shapely.buffer(shapely.buffer(pair, half), -half)
        own = shapely.union_all([shapely.buffer(shapely.buffer(geoms[k], half), -half) for k in (i, j)])
        gap = shapely.difference(shapely.difference(closed, own), everything)
        # corner notches where neighbours meet at a point are smaller than width²
        parts = [p for p in shapely.get_parts(gap) if shapely.area(p) >= width * width]
        if not parts:
            continue
        area = float(sum(shapely.area(p) for p in parts))
        reach = float(sum(shapely.length(p) for p in parts)) / 2.0
        d = float(shapely.distance(geoms[i], geoms[j]))
        near = f"{d:.2f} m apart" if d > 0 else "touching in places"
        out.append(Problem(layer, str(ids[i]), "geometry",
                           f"a sliver gap of {area:,.1f} m² narrower than {width:g} m lies between it and "
                           f"community {names[j]} ({near}, along about {reach:,.0f} m): the two nearly touch; "
                           "snap their shared boundary so that no place is left out of both",
                           severity="warning"))
    return out


def _outside(geoms: np.ndarray, ids: np.ndarray, layer: str, boundary: shapely.Geometry) -> list[Problem]:
    out = []
    for k, g in enumerate(geoms):
        if g is None:
            continue
        total = float(shapely.area(g))
        beyond = float(shapely.area(shapely.difference(g, boundary)))
        if beyond <= _NOISE_M2 or total <= 0:
            continue
        share = beyond / total
        if share >= 1.0 - 1e-9:
            d = float(shapely.distance(g, boundary))
            out.append(Problem(layer, str(ids[k]), "geometry",
                               f"lies wholly outside the county boundary ({d / 1000:,.2f} km from it, "
                               f"{beyond:,.1f} m²); check its coordinates and the declared CRS"))
        else:
            out.append(Problem(layer, str(ids[k]), "geometry",
                               f"{beyond:,.1f} m² ({share:.1%}) of it lies outside the county boundary; "
                               "clip it to the county or check the boundary", severity="warning"))
    return out


def _shared_buildings(buildings: gpd.GeoDataFrame, geoms: np.ndarray, ids: np.ndarray,
                      names: list[str], layer: str, share: float) -> list[Problem]:
    b = _valid(buildings)
    bid = feature_ids(buildings).to_numpy()
    tree = shapely.STRtree(geoms)
    bi, ci = tree.query(b, predicate="intersects")
    # (only a building meeting two communities or more can lie in two)
    two = np.bincount(bi, minlength=len(b))[bi] >= 2 if len(bi) else np.zeros(0, bool)
    bi, ci = bi[two], ci[two]
    if not len(bi):
        return []
    area_b = shapely.area(b[bi].astype(object))
    inside = shapely.area(shapely.intersection(b[bi], geoms[ci]))
    frac = np.divide(inside, area_b, out=np.zeros(len(bi)), where=np.asarray(area_b, float) > 0)
    df = pd.DataFrame({"b": bi, "c": ci, "frac": frac})
    df = df[df["frac"] >= share]
    df = df[df["b"].duplicated(keep=False)]
    out = []
    for k, grp in df.groupby("b", sort=True):
        grp = grp.sort_values("frac", ascending=False)
        parts = ", ".join(f"{names[c]} {f:.0%}" for c, f in zip(grp["c"], grp["frac"]))
        out.append(Problem(layer, str(bid[k]), "geometry",
                           f"its footprint lies in {len(grp)} communities ({parts}): it is assigned to "
                           "two; the analyses count it in the one holding its representative point. Move "
                           "the community boundary so the building lies in one", severity="warning"))
    return out
