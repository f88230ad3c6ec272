"""Buildings, with use, height and residents (given or estimated).

Besides the spec, the homes every resident-weighted analysis starts from:
:func:`homes` picks the residential buildings, places each in its community
and gives it a head count, so the living circle and the green service radius
agree on who lives where.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..values import feature_ids, to_bool
from ._spec import Column, LayerSpec

log = logging.getLogger(__name__)

USES = ("residential", "commercial", "public", "industrial", "mixed", "other")

SPEC = LayerSpec(
    kind="buildings",
    label_zh="建筑",
    label_en="Buildings",
    geometry=("Polygon",),
    columns=(
        Column("use", "str", "用途", "Use", allowed=USES, aliases=("用途", "建筑用途", "性质"),
               value_aliases={"residential": ("住宅", "居住"), "commercial": ("商业", "商服"),
                              "public": ("公共", "公共建筑", "公建"), "industrial": ("工业", "厂房"),
                              "mixed": ("混合", "商住", "商住混合"), "other": ("其他",)}),
        Column("residential", "bool", "住宅", "Residential", aliases=("是否住宅", "住宅")),
        Column("floors", "int", "层数", "Floors", minimum=0, maximum=200,
               aliases=("层数", "楼层", "building:levels", "levels")),
        Column("height_m", "float", "高度", "Height", minimum=0, maximum=1000, unit="m",
               aliases=("高度", "建筑高度", "height")),
        Column("population", "float", "居住人口", "Residents", minimum=0, unit="persons",
               aliases=("人口", "居住人口", "pop")),
        Column("households", "int", "户数", "Households", minimum=0, maximum=100_000,
               aliases=("户数", "住户数", "户")),
        Column("property_managed", "bool", "物业管理", "Property-managed",
               aliases=("物业管理", "是否有物业", "物业")),
    ),
)


# --- homes: which buildings people live in, and how many ---------------------
# Shared by every analysis that weighs by residents (living circle, green
# service radius…), so they agree on the homes and on the head count.

#: uses whose buildings have residents
RESIDENTIAL_USES = ("residential", "mixed")


def residential_mask(buildings: pd.DataFrame) -> tuple[pd.Series, str]:
    """Which buildings are homes, and how that was decided.

    The ``residential`` column where it is filled (gaps filled from ``use``),
    else ``use`` in :data:`RESIDENTIAL_USES`, else every building.
    """
    by_use = None
    if "use" in buildings.columns:
        by_use = buildings["use"].astype("string").isin(RESIDENTIAL_USES)
    if "residential" in buildings.columns and buildings["residential"].notna().any():
        flag, _ = to_bool(buildings["residential"])  # also reads 是/否, yes/no, 1/0
        if by_use is not None:
            flag = flag.fillna(by_use.astype("boolean"))
        return flag.fillna(False).astype(bool), "residential column"
    if by_use is not None and buildings["use"].notna().any():
        return by_use.fillna(False).astype(bool), "use column"
    return pd.Series(True, index=buildings.index), "every building (no use or residential column)"


def locate(points: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Add the community each point lies in: ``community_id``, ``community_name``
    and ``community_pos`` (row position in ``communities``, -1 outside all)."""
    out = points.copy()
    out["community_id"] = None
    out["community_name"] = None
    out["community_pos"] = -1
    if communities is None or communities.empty or out.empty:
        return out
    geom = out.geometry.to_numpy()
    cid = feature_ids(communities).to_numpy(object)
    if (shapely.get_type_id(geom) == shapely.GeometryType.POINT).all() and not shapely.is_empty(geom).any():
        opos, all_pos, all_cpos = _within(shapely.get_coordinates(geom), communities.geometry.to_numpy())
        cpos = all_cpos[np.searchsorted(all_pos, opos)] if len(opos) else all_cpos[:0]
        twice = np.isin(all_pos, all_pos[np.flatnonzero(np.diff(all_pos) == 0)])
        n_twice = len(np.unique(all_pos[twice]))
    else:
        comm = gpd.GeoDataFrame({"_cpos": np.arange(len(communities))},
                                geometry=communities.geometry.to_numpy(), crs=communities.crs)
        pts = gpd.GeoDataFrame({"_opos": np.arange(len(out))}, geometry=geom, crs=out.crs)
        j = gpd.sjoin(pts, comm, how="inner", predicate="within").sort_values(["_opos", "_cpos"])
        all_pos, all_cpos = j["_opos"].to_numpy(), j["_cpos"].to_numpy()
        twice = j["_opos"].duplicated(keep=False).to_numpy()
        n_twice = int(j["_opos"][twice].nunique())
        j = j.drop_duplicates("_opos")
        opos, cpos = j["_opos"].to_numpy(), j["_cpos"].to_numpy()
    if twice.any():
        pairs = sorted(set(cid[all_cpos[twice]]))
        log.warning("%d point(s) lie in more than one community (overlapping communities %s); "
                    "each is counted in the first only — fix the boundaries so they do not "
                    "overlap", n_twice, ", ".join(map(str, pairs[:10])))
    cname = (communities["name"].astype(object).to_numpy() if "name" in communities.columns
             else np.full(len(communities), None, dtype=object))
    col = out.columns.get_loc
    out.iloc[opos, col("community_id")] = cid[cpos]
    out.iloc[opos, col("community_name")] = cname[cpos]
    out.iloc[opos, col("community_pos")] = cpos
    return out


def _within(xy: np.ndarray, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For points ``xy``, those inside some polygon of ``polys`` (in their interior, as
    ``within``), and every (point, polygon) pair of a point inside a polygon, sorted by
    point then polygon: ``(points, pair points, pair polygons)``.

    Each polygon tests the points inside its bounds only, prepared (a city's 100k homes
    in 63 communities: a fifth of the time of a spatial join).
    """
    by_x = np.argsort(xy[:, 0], kind="stable")
    xs = xy[by_x, 0]
    pos, poly = [], []
    for k, p in enumerate(polys):
        if p is None or shapely.is_empty(p):
            continue
        x0, y0, x1, y1 = shapely.bounds(p)
        cand = by_x[np.searchsorted(xs, x0, side="left"):np.searchsorted(xs, x1, side="right")]
        cand = cand[(xy[cand, 1] >= y0) & (xy[cand, 1] <= y1)]
        if not len(cand):
            continue
        shapely.prepare(p)
        inside = cand[shapely.contains_xy(p, xy[cand, 0], xy[cand, 1])]
        pos.append(inside)
        poly.append(np.full(len(inside), k))
    if not pos:
        none = np.zeros(0, dtype=np.int64)
        return none, none, none
    all_pos, all_poly = np.concatenate(pos), np.concatenate(poly)
    order = np.lexsort((all_poly, all_pos))
    all_pos, all_poly = all_pos[order], all_poly[order]
    return np.unique(all_pos), all_pos, all_poly


#: where a home's resident count came from (``pop_source``), by code
_POP_SOURCES = pd.Series(["given", "community by floor area", "community, equal shares",
                          "one per building"], dtype="str")


def fill_population(homes: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Residents per home where not given, and where the figure came from.

    ``homes`` has ``population`` (given or NaN), ``floor_area_m2`` and
    ``community_pos`` (see :func:`locate`).  Missing figures get the
    community's population less what its homes already state, spread by
    floor area (``community by floor area``; equally where no home has an
    area, e.g. buildings drawn as points); homes still without a figure
    count as one resident each (``one per building``).  ``pop_source`` says
    which, home by home.
    """
    out = homes.copy()
    pop = pd.to_numeric(out["population"], errors="coerce").to_numpy(float).copy()
    src = np.where(np.isfinite(pop), 0, -1).astype(np.int8)  # a code into _POP_SOURCES
    missing = ~np.isfinite(pop)
    if missing.any() and communities is not None and "population" in communities.columns:
        cpop = pd.to_numeric(communities["population"], errors="coerce").to_numpy(float)
        cpos = out["community_pos"].to_numpy()
        fa = out["floor_area_m2"].to_numpy(float)
        for c in np.unique(cpos[missing & (cpos >= 0)]):
            if not np.isfinite(cpop[c]):
                continue
            in_c = cpos == c
            est = in_c & missing
            rest = cpop[c] - np.nansum(np.where(in_c & ~missing, pop, 0.0))
            if rest < 0:
                log.warning("community #%d: its buildings' stated residents exceed the "
                            "community's population; the others get none", c)
                rest = 0.0
            w = fa[est]
            by_area = w.sum() > 0
            w = w if by_area else np.ones(est.sum())
            pop[est] = rest * w / w.sum()
            src[est] = 1 if by_area else 2
        missing = ~np.isfinite(pop)
    pop[missing] = 1.0
    src[missing] = 3
    out["population"] = pop
    out["pop_source"] = _POP_SOURCES.take(src).array  # Arrow text, taken from the four labels
    counts = np.bincount(src, minlength=len(_POP_SOURCES))
    log.info("residents per home: %s",
             ", ".join(f"{n} {k}" for k, n in zip(_POP_SOURCES, counts) if n))
    return out


def homes(buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None = None
          ) -> gpd.GeoDataFrame:
    """One point per residential building, in its community, with residents.

    Returns, on the buildings' index: ``building_id``, a point on the
    building's surface, ``floor_area_m2`` (footprint × floors, floors
    unknown counting as one), ``population`` and ``pop_source`` (see
    :func:`fill_population`) and the community columns of :func:`locate`.
    Buildings without geometry are left out.
    """
    res, how = residential_mask(buildings)
    b = buildings[res.to_numpy() & buildings.geometry.notna().to_numpy()
                  & ~buildings.geometry.is_empty.to_numpy()]
    log.info("homes: %d residential building(s) of %d (%s)", len(b), len(buildings), how)
    geom = b.geometry.to_numpy()
    floors = (pd.to_numeric(b["floors"], errors="coerce").to_numpy(float)
              if "floors" in b.columns else np.full(len(b), np.nan))
    floors = np.where(np.isfinite(floors) & (floors > 0), floors, 1.0)
    out = gpd.GeoDataFrame(
        {"building_id": feature_ids(b).array,
         "floor_area_m2": np.nan_to_num(shapely.area(geom).astype(float)) * floors,
         "population": (pd.to_numeric(b["population"], errors="coerce").to_numpy(float)
                        if "population" in b.columns else np.full(len(b), np.nan))},
        geometry=shapely.point_on_surface(geom), crs=buildings.crs, index=b.index,
    )
    return fill_population(locate(out, communities), communities)
