"""Walking reach: how far each home walks to the nearest of a set of points.

The inventory checks that ask whether every home has something within a
walk — a garbage sorting point, e-bike charging — measure it here, on the
walking network of the living circle (:mod:`gcgeo.network`), from the same
homes and head counts as the living circle and the green service radius
(:func:`gcgeo.layers.buildings.homes`: a point inside each residential
building).  Homes and points are snapped to the nearest point of the nearest
street and the straight connectors count in the distance; a home or point
farther than the snap tolerance from every walkable street is off the
network (never served, never serving) instead of being snapped across a
river.

>>> import geopandas as gpd, shapely
>>> streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (100, 0)]),
...                                       shapely.LineString([(100, 0), (100, 100)])], crs=4547)
>>> b = gpd.GeoDataFrame({"use": ["residential"] * 2, "population": [30, 10]},
...                      geometry=[shapely.box(0, 5, 20, 15), shapely.box(480, 480, 520, 520)],
...                      crs=4547)
>>> bins = gpd.GeoSeries([shapely.Point(103, 40)], crs=4547)  # 10 + 90 + 40 + 3 m from the first
>>> homes, shares, bins_off = home_reach(b, bins, streets, max_walk=150, snap_tolerance=50)
>>> homes[["walk_m", "off_network", "served"]].values.tolist()
[[143.0, False, True], [nan, True, False]]
>>> int(shares["n_homes_served"].iloc[0]), float(shares["share_residents_served"].iloc[0])
(1, 0.75)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import network
from ..layers.buildings import homes
from .checks import communities_index

__all__ = ["MEASURE_FACTOR", "REACH_COLUMNS", "home_reach"]

#: Distances are measured up to this many times the walk asked for (beyond: NaN).
MEASURE_FACTOR = 5.0

#: Labels (zh, en, format) of the per-community columns of :func:`home_reach`, for the
#: outputs of the checks that show them.
REACH_COLUMNS: dict[str, tuple[str, str, str]] = {
    "n_homes": ("住宅楼栋数", "Residential buildings", "int"),
    "n_homes_served": ("步行范围内有设施的楼栋数", "Buildings served within the walk", "int"),
    "share_homes_served": ("覆盖率（楼栋）", "Share of buildings served", "pct"),
    "residents": ("居民数", "Residents", "int"),  # as the living circle labels it
    "residents_served": ("覆盖人口", "Residents served", "float"),
    "share_residents_served": ("覆盖率（人口）", "Share of residents served", "pct"),
    "n_homes_off_network": ("未接入步行路网的楼栋数", "Buildings off the walking network", "int"),
}


def home_reach(
    buildings: gpd.GeoDataFrame,
    points: gpd.GeoSeries,
    streets: gpd.GeoDataFrame | None,
    communities: gpd.GeoDataFrame | None = None,
    *,
    max_walk: float,
    snap_tolerance: float | None,
    join_tolerance: float = 0.0,
    split_crossings: bool = False,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.Series]:
    """Walk from every residential building to the nearest of ``points``, and who is served.

    All layers in one projected CRS.  ``streets`` rows with ``walkable``
    false are left out (``join_tolerance`` and ``split_crossings`` as in
    :func:`gcgeo.network.build_graph`); without streets nothing is measured.
    Returns

    - the homes (:func:`gcgeo.layers.buildings.homes`; with communities only
      those inside one), their point as geometry, with ``community_id``
      (``(all)`` without communities), ``walk_m`` (metres to the nearest
      point, NaN beyond :data:`MEASURE_FACTOR` × ``max_walk``, off the
      network or with no point on it), ``off_network``, ``connector_m`` and
      ``served`` (``walk_m`` at most ``max_walk``; NA without streets);
    - per community (the rows of :func:`~gcgeo.analysis.checks.communities_index`):
      ``n_homes``, ``n_homes_served``, ``share_homes_served``, ``residents``,
      ``residents_served``, ``share_residents_served`` and
      ``n_homes_off_network`` (shares NaN without homes or streets);
    - for each of ``points``, whether it is off the network (it serves nobody; NA
      without streets).
    """
    if communities is not None and not len(communities):
        communities = None
    home = homes(buildings, communities)
    if communities is not None:
        home = home[home["community_pos"].to_numpy() >= 0]
    else:
        home["community_id"] = "(all)"
    n = len(home)
    walk = np.full(n, np.nan)
    off = np.zeros(n, dtype=bool)
    conn = np.full(n, np.nan)
    points_off = pd.Series(pd.NA, index=points.index, dtype="boolean")
    measured = streets is not None
    if measured:
        net = network.network_from_streets(streets, join_tolerance=float(join_tolerance),
                                           split_crossings=bool(split_crossings))
        off[:] = True
        points_off[:] = True
        if net.n_edges:
            psnap = network.snap(net, network.check_points(net, points, "points"), snap_tolerance)
            points_off[:] = psnap["off_network"].to_numpy(bool)
            osnap = network.snap(net, network.check_points(net, home.geometry, "homes"),
                                 snap_tolerance)
            off = osnap["off_network"].to_numpy(bool)
            conn = osnap["connector_m"].to_numpy(float)
            if n and not points_off.all():
                d = network.distances_snapped(net, osnap, {"walk_m": psnap},
                                              cutoff=MEASURE_FACTOR * float(max_walk))
                walk = np.where(off, np.nan, d["walk_m"].to_numpy(float))
    home = home.assign(walk_m=walk, off_network=off, connector_m=conn)
    served = pd.Series(walk <= float(max_walk), index=home.index, dtype="boolean")
    home["served"] = served if measured else pd.Series(pd.NA, index=home.index, dtype="boolean")
    return home, _shares(home, communities, measured), points_off


def _shares(home: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None,
            measured: bool) -> pd.DataFrame:
    """Homes and residents served per community."""
    ids = communities_index(communities)
    w = home["population"].to_numpy(float)
    frame = pd.DataFrame({"c": home["community_id"].to_numpy(object), "w": w,
                          "s": home["served"].fillna(False).to_numpy(bool),
                          "off": home["off_network"].to_numpy(bool)})
    g = frame.groupby("c")
    out = pd.DataFrame(index=ids)
    out["n_homes"] = g.size().reindex(ids).fillna(0).astype(int)
    out["n_homes_served"] = g["s"].sum().reindex(ids).fillna(0).astype(int)
    out["residents"] = g["w"].sum().reindex(ids).fillna(0.0)
    out["residents_served"] = frame[frame["s"]].groupby("c")["w"].sum().reindex(ids).fillna(0.0)
    out["n_homes_off_network"] = g["off"].sum().reindex(ids).fillna(0).astype(int)
    has = out["n_homes"] > 0
    out["share_homes_served"] = np.where(has & measured, out["n_homes_served"] / out["n_homes"].where(has),
                                         np.nan)
    res = out["residents"].where(out["residents"] > 0)
    out["share_residents_served"] = np.where(has & measured, out["residents_served"] / res, np.nan)
    if not measured:
        out[["n_homes_served", "residents_served", "n_homes_off_network"]] = np.nan
    return out[["n_homes", "n_homes_served", "share_homes_served", "residents", "residents_served",
                "share_residents_served", "n_homes_off_network"]]
