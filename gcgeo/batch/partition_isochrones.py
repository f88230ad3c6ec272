"""Isochrones of a partitioned living circle: drawn in the partitions, stitched exactly.

Every mode of :mod:`gcgeo.analysis.lc_isochrones` is drawn; the stitched
``lc_isochrones`` has the rows, keys and counts of the unpartitioned run,
and its polygons cover the same ground (to the rounding of the polygon
overlays, which union buffered street pieces in other groupings).

Each partition draws its isochrones a second time round the living circle
(:func:`draw`), on the network of its box widened by the isochrone halo::

    isochrone halo = halo + 2 × buffer + max(buffer, split site spacing)

with every home in the box.  The polygons are cut around homes out of
reach (a home farther than the tier plus the buffer): the area cut around a
home is its Voronoi cell among the homes within two buffers of it.  With
``halo`` = largest tier distance ``D`` + snapping + join tolerance, the
distances that count are exact in the partition as long as their paths stay
within ``D`` (a reached street) or ``D`` + one buffer (a home to be cut or
kept) of the point they reach.  What a partition keeps:

- ``community``: the polygons of its own communities (each community whole
  in one partition): the streets reached within a buffer of the community,
  and its homes, need the halo plus one buffer; the polygons are made of
  square cells (:mod:`gcgeo.analysis._iso_town`) on a lattice the same in
  every partition, a far home cut out by the cells round it.
- ``facility``: the polygons of the facilities it owns (the others in its
  box only split the streets, as in the whole run): a facility's polygon
  lies within ``D`` and a buffer of it, so do the homes it covers or cuts out
  (their distances need the halo plus one buffer); the polygon is made of
  square cells a tenth of the buffer wide (:mod:`gcgeo.analysis._iso_grid`)
  on a lattice the same in every partition, a far home cut out by the cells
  round it: the halo plus three buffers is more than enough.
- ``dissolved`` and ``split``: the area of its *region*, the grid cells of
  the plan it owns (:attr:`gcgeo.batch.partition.Partition.region`, the
  cells of the plane tiling it whole, neighbours overlapping by
  :data:`OVERLAP`).  A point of the region is in the area when a street
  reached within the tier is within a buffer of it (the halo plus a buffer);
  it goes (split) to the facility nearest along the network to the nearest
  street site, within a buffer and half a site spacing of it; it is cut
  when a home within a buffer of it is out of reach (the home's distance:
  the halo plus two buffers; its Voronoi neighbours: three buffers).

:func:`stitch` puts the pieces together: a community's or facility's rows as
drawn, in the whole run's order; a category's area (and a facility's part
of it) the union of the regions' pieces, which overlap at the borders and so
merge back into the whole polygon; an area reached at several entrances
merged into one outline, as the whole run does
(:func:`gcgeo.analysis.living_circle.areas_merged`); the homes and
residents inside each polygon counted on all the homes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["OVERLAP", "draw", "halo", "region_polygon", "stitch"]

#: metres by which neighbouring partitions' regions overlap (their pieces then merge
#: into one polygon where a border cuts it)
OVERLAP = 0.01


def halo(base: float, rules: Any = None) -> float:
    """The isochrone halo (m): the living circle's ``base`` halo, two buffers and the
    larger of a buffer and the split mode's site spacing (see the module's text)."""
    from .. import rules as _rules
    from ..analysis import lc_isochrones
    from ..analysis import living_circle as lc

    buf = float(_rules.value(_rules.load(lc.RULES, rules), "isochrones.buffer"))
    return float(base + 2 * buf + max(buf, lc_isochrones.SITE_SPACING))


def _polygonal(g: shapely.Geometry | None) -> shapely.Geometry:
    """The polygon parts of ``g`` as one MultiPolygon, as the living circle draws them."""
    if g is None or g.is_empty:
        return shapely.MultiPolygon()
    return shapely.MultiPolygon([p for p in shapely.get_parts(g)
                                 if p.geom_type == "Polygon" and not p.is_empty])


def region_polygon(cells: np.ndarray) -> shapely.Geometry:
    """The region of grid ``cells`` (rows of minx, miny, maxx, maxy), widened by :data:`OVERLAP`."""
    c = np.asarray(cells, dtype=float).reshape(-1, 4)
    return shapely.union_all(shapely.box(c[:, 0] - OVERLAP, c[:, 1] - OVERLAP,
                                         c[:, 2] + OVERLAP, c[:, 3] + OVERLAP))


def draw(layers: Mapping[str, gpd.GeoDataFrame | None], owned: np.ndarray, region: np.ndarray,
         net: Any, *, mode: str, rules: Any = None, options: Mapping[str, Any] | None = None
         ) -> gpd.GeoDataFrame:
    """One partition's isochrone rows (see the module's text): ``layers`` are its
    streets, facilities (access points, as :func:`gcgeo.batch.partition.split` cuts
    them), communities and ``homes`` (every home point in its box), ``owned`` the
    positions of its own facilities, ``region`` its grid cells, ``net`` the
    network compiled from its streets.  Facilities are named by their access
    point's position (``facility_id`` an integer) for :func:`stitch`."""
    from ..analysis import living_circle as lc

    fac = layers["facilities"]
    comm = layers.get("communities")
    assert fac is not None  # partition_layers gives every partition its facilities
    if (mode == "community" and (comm is None or comm.empty)) or (mode == "facility" and not len(owned)):
        return gpd.GeoDataFrame()
    fac = fac.assign(id=fac.index.astype(str))
    got = lc.run({"streets": layers["streets"], "facilities": fac, "communities": comm},
                 origins=layers["homes"], graph=net, rules=rules, isochrones=mode,
                 isochrone_facilities=fac.index[owned] if mode == "facility" else None,
                 **dict(options or {}))["lc_isochrones"]
    if "facility_id" in got.columns:
        got["facility_id"] = got["facility_id"].astype(np.int64)
    if mode in ("dissolved", "split") and len(got):
        clip = region_polygon(region)
        g = shapely.intersection(got.geometry.to_numpy(), clip)
        got = got.set_geometry(gpd.GeoSeries([_polygonal(x) for x in g], index=got.index,
                                             crs=got.crs))
        got = got[~got.geometry.is_empty]
    return got


def stitch(mode: str, drawn: gpd.GeoDataFrame, *, origins: gpd.GeoDataFrame,
           facilities: gpd.GeoDataFrame, facility_labels: pd.Index, owned: pd.DataFrame,
           communities: gpd.GeoDataFrame | None, rules: Any = None,
           walking_speed: float | None = None) -> gpd.GeoDataFrame:
    """The whole run's ``lc_isochrones`` from the rows the partitions drew
    (:func:`draw`), one after the other in ``drawn``.

    ``origins`` are the stitched homes (``lc_origins``), ``facilities`` the access
    points the partitions were cut with (column ``_facility``, the position of the
    facility in the layer, whose index labels are ``facility_labels``), ``owned``
    every partition's owned access points (``facility``, ``category``, ``on``) and
    ``communities`` the communities layer.
    """
    from .. import rules as _rules
    from ..analysis import lc_isochrones
    from ..analysis import living_circle as lc
    from ..values import feature_ids

    r = _rules.load(lc.RULES, rules)
    buf = float(_rules.value(r, "isochrones.buffer"))
    tier_m = lc.tiers(r, walking_speed=walking_speed)
    req = lc.required_categories(r, tier_m)
    crs = origins.crs
    if mode == "community":
        if not len(drawn):  # no community: the whole run's empty table
            return _empty(["community_id", "community_name", "category", "tier", "distance_m",
                           "geometry", "buffer_m", "area_m2"], crs)
        rows = drawn
        assert communities is not None  # communities are drawn only where there are some
        where = pd.Series(np.arange(len(communities)), index=feature_ids(communities).to_numpy())
        order = np.argsort(where.loc[rows["community_id"].to_numpy()].to_numpy(), kind="stable")
        return rows.iloc[order].reset_index(drop=True)
    # per facility (its entrances together) its category and whether it is on the network
    fac = owned.groupby("facility", sort=True).agg(category=("category", "first"), on=("on", "any"))
    areas = len(owned) > len(fac)  # some facility is reached at several points
    if mode == "facility":
        if not len(drawn):
            return _empty(["facility_id", "category", "tier", "distance_m", "geometry", "buffer_m",
                           "area_m2", "homes", "residents"], crs)
        rows = drawn.iloc[np.lexsort((drawn["distance_m"].to_numpy(float),
                                      drawn["facility_id"].to_numpy(np.int64)))]
    else:
        rows = _areas(mode, drawn, owned, tier_m, req, buf, crs)
    if "facility_id" in rows.columns and len(rows):
        ids = feature_ids(facilities.set_axis(
            facility_labels[facilities["_facility"].to_numpy(np.int64)])).to_numpy()
        rows["facility_id"] = ids[rows["facility_id"].to_numpy(np.int64)]
    rows = rows.reset_index(drop=True)
    rows["area_m2"] = rows.geometry.area
    rows = lc_isochrones.count_homes(rows, origins, buf)
    return lc.areas_merged(rows, fac, fac["on"].to_numpy(bool), origins, buf) if areas else rows


def _empty(columns: list[str], crs: Any) -> gpd.GeoDataFrame:
    """An isochrone table without rows, as the whole run gives it."""
    df = pd.DataFrame([], columns=[c for c in columns if c not in ("buffer_m", "area_m2",
                                                                   "homes", "residents")])
    df["buffer_m"] = np.zeros(0)
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=crs)
    gdf["area_m2"] = gdf.geometry.area
    if "homes" in columns:
        gdf["homes"] = np.zeros(0, dtype=np.int64)
        gdf["residents"] = np.zeros(0)
    return gdf


def _areas(mode: str, drawn: gpd.GeoDataFrame, owned: pd.DataFrame,
           tier_m: Mapping[str, float], req: Mapping[str, list[str]], buf: float, crs: Any
           ) -> gpd.GeoDataFrame:
    """The dissolved or split rows: the regions' pieces of a category and tier (and,
    split, of a facility) merged, in the whole run's order."""
    on = owned[owned["on"].to_numpy(bool)]
    n_on = on["category"].value_counts()  # access points on the network, per category
    pieces = drawn if len(drawn) else None
    rows: list[dict[str, Any]] = []
    for c in dict.fromkeys(c for t in tier_m for c in req[t]):
        if not n_on.get(c, 0):
            continue
        for t, T in tier_m.items():
            if c not in req[t]:
                continue
            mine = (pieces[(pieces["category"] == c).to_numpy() & (pieces["tier"] == t).to_numpy()]
                    if pieces is not None else None)
            if mode == "dissolved":
                g = shapely.union_all(mine.geometry.to_numpy()) if mine is not None else None
                rows.append({"facilities": int(n_on[c]), "category": c, "tier": t,
                             "distance_m": T, "geometry": _polygonal(g)})
                continue
            if mine is None:
                continue
            for ap, grp in mine.groupby("facility_id", sort=True):
                rows.append({"facility_id": int(ap), "facilities": int(grp["facilities"].max()),
                             "category": c, "tier": t, "distance_m": T,
                             "geometry": _polygonal(shapely.union_all(grp.geometry.to_numpy()))})
    cols = (["facilities", "category", "tier", "distance_m", "geometry"] if mode == "dissolved"
            else ["facility_id", "facilities", "category", "tier", "distance_m", "geometry"])
    df = pd.DataFrame(rows, columns=cols)
    df["buffer_m"] = buf
    return gpd.GeoDataFrame(df, geometry="geometry", crs=crs)
