"""Green coverage per community: green ratio, public green per person,
concentrated green, "300 m to green, 500 m to a park", NDVI vegetation cover.

Criterion 7 of the Green Community standard (green space well laid out) and
GB 50180-2018 §4.0.4–4.0.7.  Every figure comes from ``gcgeo/rules/green.toml``
(clause and status beside it) and can be overridden.

How things are measured:

* Green inside a community is the union of the green polygons (overlaps count
  once) clipped to the community.
* Public green: rows with ``public`` true; where the column is missing or
  empty, rows whose ``kind`` is in the rule ``public_kinds``.
* Concentrated green: the parts of the community's green (kinds in
  ``concentrated.exclude_kinds`` left out) at least ``concentrated.min_width``
  wide — erode by half the width, grow back with square corners, keep what is
  inside the original (a morphological opening).  Its share in the sun on
  the standard sunlight day (``sunlight.*`` rules; :mod:`.sunlight`) is
  measured from the buildings' shadows.
* Service radii: public green polygons that touch or overlap are merged into
  *sites*; a site is a park when it holds a polygon of a park kind and meets
  ``park.min_area`` and ``park.min_width``.  Its entrances are where the
  walking network crosses its boundary, else virtual gates every
  ``service.gate_spacing`` m along it.  The origins are the homes of
  :func:`gcgeo.layers.buildings.homes` — the same homes and residents as the
  living circle: residential buildings with their given population, else
  the community's population spread by floor area, else one per building.
  Distances are walked along the street network to the nearest entrance
  (:mod:`gcgeo.network`).  The basis used is reported per community.

>>> from gcgeo.analysis import green
>>> out = green.run(layers)                       # doctest: +SKIP
>>> green.summary(out)                            # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import rules as _rules
from .._errors import AnalysisError
from ..crs import align, metric
from ..layers.buildings import homes
from ..values import feature_ids
from ._green_geometry import clipped_union, geometry_of, valid_polygons, yes_no
from .contract import GRAPH_OPTION, NETWORK_OPTIONS, Analysis, Criterion, Option, Output, RasterInput, ViewSpec
from .parks import park_figures
from .sunlight import concentrated_sunlight
from .widths import wide_parts

__all__ = [
    "concentrated_green",
    "green_area",
    "green_ratio",
    "green_sites",
    "is_public",
    "park_entrances",
    "per_person",
    "run",
    "service_distances",
    "service_homes",
    "service_shares",
    "site_entrances",
    "summary",
    "wide_parts",
]

log = logging.getLogger(__name__)

#: workspace layers the analysis reads (its results are stale once one changes)
INPUTS = ("communities", "green_space", "streets", "buildings")
#: Built-in rule sets the analysis reads (a change to one makes its results stale).
RULE_SETS = ("green", "network")

# --------------------------------------------------------------------------
# vector metrics


def is_public(green_space: gpd.GeoDataFrame, *, public_kinds: Iterable[str]) -> pd.Series:
    """True for public green rows: ``public`` true, or (``public`` missing/empty)
    ``kind`` in ``public_kinds``.  Aligned on ``green_space``'s index."""
    kinds = set(public_kinds)
    if "kind" in green_space.columns:
        by_kind = green_space["kind"].astype("string").str.strip().isin(kinds).fillna(False)
    else:
        by_kind = pd.Series(False, index=green_space.index)
    if "public" in green_space.columns:
        flag = yes_no(green_space["public"])
        return flag.fillna(by_kind.astype("boolean")).astype(bool).rename("public")
    return by_kind.astype(bool).rename("public")


def green_area(communities: gpd.GeoDataFrame | gpd.GeoSeries,
               green_space: gpd.GeoDataFrame | gpd.GeoSeries) -> pd.Series:
    """Area (m²) of green inside each community: union of the green polygons
    (overlaps once) clipped to the community.  Named ``green_area_m2``."""
    c = geometry_of(communities)
    g = valid_polygons(geometry_of(green_space).to_crs(c.crs) if c.crs is not None else
                        geometry_of(green_space))
    u = clipped_union(valid_polygons(c), g)
    return u.area.fillna(0.0).rename("green_area_m2")


def green_ratio(communities: gpd.GeoDataFrame | gpd.GeoSeries,
                green_space: gpd.GeoDataFrame | gpd.GeoSeries) -> pd.DataFrame:
    """Green area (m²) and green ratio (green area / community area) per community.

    Overlapping green polygons count once; green outside the community is
    clipped away.  Columns ``green_area_m2`` and ``green_ratio`` (NaN for a
    community without area).

    >>> from shapely.geometry import box
    >>> c = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=3857)
    >>> g = gpd.GeoDataFrame(geometry=[box(-50, 0, 50, 50), box(0, 0, 50, 50)], crs=3857)
    >>> green_ratio(c, g)
       green_area_m2  green_ratio
    0         2500.0         0.25
    """
    c = geometry_of(communities)
    area = green_area(communities, green_space)
    carea = valid_polygons(c).area
    ratio = area / carea.where(carea > 0)
    return pd.DataFrame({"green_area_m2": area, "green_ratio": ratio.astype(float)},
                        index=c.index)


def concentrated_green(
    communities: gpd.GeoDataFrame | gpd.GeoSeries,
    green_space: gpd.GeoDataFrame,
    *,
    min_width: float,
    exclude_kinds: Iterable[str] = (),
) -> gpd.GeoSeries:
    """Per community, the concentrated green: the community's green (union,
    clipped; rows of ``exclude_kinds`` left out) at least ``min_width`` wide.
    Returns a GeoSeries on the communities' index (None where there is none);
    its ``.area`` is the concentrated green in m²."""
    c = geometry_of(communities)
    gs = green_space
    excl = set(exclude_kinds)
    if excl and "kind" in gs.columns:
        gs = gs[~gs["kind"].astype("string").isin(excl).fillna(False).to_numpy(bool)]
    g = valid_polygons(geometry_of(gs).to_crs(c.crs))
    u = clipped_union(valid_polygons(c), g)
    return wide_parts(u, min_width=min_width).rename("concentrated_green")


def per_person(area_m2: pd.Series, population: pd.Series | None) -> tuple[pd.Series, pd.Series]:
    """Area per resident and, per row, why it is NaN ("" when defined).

    Reasons: "no population column", "population missing", "population is 0".
    """
    if population is None:
        reason = pd.Series("no population column", index=area_m2.index, dtype=object)
        return pd.Series(np.nan, index=area_m2.index), reason
    pop = pd.to_numeric(population, errors="coerce").reindex(area_m2.index).astype(float)
    reason = pd.Series("", index=area_m2.index, dtype=object)
    reason[pop.isna()] = "population missing"
    reason[pop == 0] = "population is 0"
    reason[pop < 0] = "population negative"
    value = area_m2.astype(float) / pop.where(pop > 0)
    return value, reason


def green_sites(
    green_space: gpd.GeoDataFrame,
    *,
    public_kinds: Iterable[str],
    park_kinds: Iterable[str],
    park_min_area: float,
    park_min_width: float,
    green_min_area: float = 0.0,
) -> gpd.GeoDataFrame:
    """Public green merged into sites (touching or overlapping polygons joined).

    Returns one Polygon row per site (index 0…n-1) with ``area_m2``,
    ``members`` (the ``id`` — or index label — of the green_space rows it
    holds, comma-separated), ``kinds`` (their kinds, comma-separated),
    ``n_polygons``, ``is_green`` (area ≥ ``green_min_area``) and ``is_park``
    (holds a polygon whose kind is in ``park_kinds``, area ≥
    ``park_min_area`` and some part ≥ ``park_min_width`` wide).
    """
    pub = is_public(green_space, public_kinds=public_kinds)
    gs = green_space[pub.to_numpy()]
    geoms = valid_polygons(gs.geometry)
    keep = geoms.notna().to_numpy()
    gs, geoms = gs[keep], geoms[keep]
    cols = ["area_m2", "members", "kinds", "n_polygons", "is_green", "is_park"]
    if not len(gs):
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=green_space.crs)
    merged = shapely.union_all(geoms.to_numpy())
    sites = [p for p in shapely.get_parts(merged) if p.geom_type == "Polygon" and p.area > 0]
    site_s = gpd.GeoSeries(sites, crs=green_space.crs)
    tree = shapely.STRtree(np.array(sites, dtype=object))
    # each polygon lies in exactly one site: the one holding its representative point
    rp = shapely.point_on_surface(geoms.to_numpy())
    pi, si = tree.query(rp, predicate="intersects")
    kinds_col = gs["kind"].astype("string").fillna("") if "kind" in gs.columns else \
        pd.Series("", index=gs.index)
    ids = gs["id"].astype("string").fillna("") if "id" in gs.columns else \
        pd.Series([str(i) for i in gs.index], index=gs.index)
    kinds: list[set[str]] = [set() for _ in sites]
    members: list[list[str]] = [[] for _ in sites]
    count = np.zeros(len(sites), dtype=int)
    seen = np.zeros(len(gs), dtype=bool)
    for p, s in zip(pi, si):
        if seen[p]:
            continue
        seen[p] = True
        count[s] += 1
        members[s].append(str(ids.iloc[p]))
        if kinds_col.iloc[p]:
            kinds[s].add(str(kinds_col.iloc[p]))
    area = site_s.area.to_numpy()
    pk = set(park_kinds)
    wide = wide_parts(site_s, min_width=park_min_width).notna().to_numpy()
    is_park = np.array([bool(k & pk) for k in kinds]) & (area >= park_min_area) & wide
    return gpd.GeoDataFrame(
        {
            "area_m2": area,
            "members": [",".join(m) for m in members],
            "kinds": [",".join(sorted(k)) for k in kinds],
            "n_polygons": count,
            "is_green": area >= green_min_area,
            "is_park": is_park,
        },
        geometry=site_s.values,
        crs=green_space.crs,
    )


def _walkable(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "walkable" in streets.columns:
        keep = yes_no(streets["walkable"]).fillna(True).to_numpy(bool)
        return streets[keep]
    return streets


def _along(line: Any, spacing: float) -> list[Any]:
    """Points every ``spacing`` along ``line`` from its start (its end too when open)."""
    length = line.length
    if length <= 0:
        return [shapely.Point(line.coords[0])]
    steps = np.arange(0.0, length, spacing) if spacing > 0 else np.array([0.0])
    pts = list(shapely.line_interpolate_point(line, steps))
    if not line.is_ring:
        pts.append(shapely.Point(line.coords[-1]))
    return pts


def park_entrances(
    parks: gpd.GeoDataFrame | gpd.GeoSeries,
    streets: gpd.GeoDataFrame | None,
    *,
    spacing: float,
) -> gpd.GeoDataFrame:
    """Entrances of each park (or green site): Points with ``site`` (the label
    of the park in ``parks``) and ``entrance``.

    ``entrance`` is "path" where a walkable street crosses or touches the
    park's outer boundary (a street running along the boundary gives a point
    every ``spacing`` m of the shared stretch), or "virtual" for gates every
    ``spacing`` m along the outer boundary of a park no street meets (or when
    ``streets`` is None), starting at the boundary's lowest-left vertex and
    going clockwise.
    """
    p = valid_polygons(geometry_of(parks))
    lines = np.zeros(0, dtype=object)
    if streets is not None and len(streets):
        st = _walkable(streets)
        sg = st.geometry.to_crs(p.crs) if p.crs is not None and st.crs is not None else st.geometry
        lines = sg[sg.notna() & ~sg.is_empty].to_numpy()
    tree = shapely.STRtree(lines) if len(lines) else None
    rows: list[tuple[Any, str, Any]] = []
    for label, geom in zip(p.index, p.values):
        if geom is None:
            continue
        # normalized: each ring starts at its lowest-left vertex, clockwise
        rings = [poly.exterior for poly in shapely.get_parts(shapely.normalize(geom))]
        boundary = shapely.MultiLineString([list(r.coords) for r in rings])
        found: list[Any] = []
        if tree is not None:
            cand = tree.query(boundary, predicate="intersects")
            if len(cand):
                inter = shapely.intersection(boundary, shapely.union_all(lines[cand]))
                for part in shapely.get_parts(inter):
                    if part.is_empty:
                        continue
                    if part.geom_type == "Point":
                        found.append(part)
                    elif part.geom_type == "LineString":
                        found.extend(_along(part, spacing))
        kind = "path"
        if not found:
            kind = "virtual"
            for r in rings:
                found.extend(_along(shapely.LineString(r.coords), spacing))
        seen: set[tuple[float, float]] = set()
        for pt in found:
            key = (round(pt.x, 2), round(pt.y, 2))
            if key not in seen:
                seen.add(key)
                rows.append((label, kind, pt))
    return gpd.GeoDataFrame(
        {"site": [r[0] for r in rows], "entrance": [r[1] for r in rows]},
        geometry=[r[2] for r in rows], crs=p.crs,
    )


def site_entrances(sites: gpd.GeoDataFrame, streets: gpd.GeoDataFrame | None, *,
                   spacing: float) -> gpd.GeoDataFrame:
    """The entrances the service radius walks to: :func:`park_entrances` of the
    sites of :func:`green_sites` that count (``is_green`` or ``is_park``), with
    their site's ``is_park`` and ``site_area_m2``."""
    used = sites[(sites["is_green"] | sites["is_park"]).to_numpy(bool)] if len(sites) else sites
    entrances = park_entrances(used, streets, spacing=spacing)
    if len(entrances):
        entrances["is_park"] = sites.loc[entrances["site"], "is_park"].to_numpy()
        entrances["site_area_m2"] = sites.loc[entrances["site"], "area_m2"].to_numpy()
    else:
        entrances["is_park"] = pd.Series(dtype=bool)
        entrances["site_area_m2"] = pd.Series(dtype=float)
    return entrances


def service_shares(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    *,
    green_radius: float,
    park_radius: float,
    snap_tolerance: float | None = None,
    join_tolerance: float | None = None,
    split_crossings: bool | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Population-weighted share of each community's residential buildings
    within ``green_radius`` m (network) of a green-site entrance and within
    ``park_radius`` m of a park entrance.

    ``sites`` is the output of :func:`green_sites`, ``entrances`` that of
    :func:`park_entrances` on those sites.  Returns, on the communities' index,
    ``share_within_<green_radius>m_green``, ``share_within_<park_radius>m_park``,
    ``service_weight_basis``, ``n_origins``, ``n_origins_off_network`` (counted
    as not served) and ``service_reason`` (why the shares are NaN, else "").
    ``join_tolerance`` (m) joins the near misses of hand-drawn streets (see
    :func:`gcgeo.network.build_graph`); by default the rule
    ``network.join_tolerance``.  ``split_crossings`` joins streets where they
    cross; by default the rule ``network.split_crossings``.
    """
    return service_distances(communities, buildings, streets, sites, entrances,
                             green_radius=green_radius, park_radius=park_radius,
                             snap_tolerance=snap_tolerance, join_tolerance=join_tolerance,
                             split_crossings=split_crossings, progress=progress)[0]


def service_homes(communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The homes whose walks to green the service radius measures: the homes of
    :func:`gcgeo.layers.buildings.homes` that lie in a community (the outlines
    cleaned as the green analysis cleans them), in the buildings' order, on their index."""
    crs = communities.crs
    bld = buildings.to_crs(crs) if buildings.crs is not None and buildings.crs != crs else buildings
    comm = communities.set_geometry(valid_polygons(communities.geometry))
    home = homes(bld, comm)
    return home[home["community_pos"].to_numpy() >= 0]


def service_distances(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    *,
    green_radius: float,
    park_radius: float,
    snap_tolerance: float | None = None,
    join_tolerance: float | None = None,
    split_crossings: bool | None = None,
    progress: Callable[[str], None] | None = None,
    graph: Any = None,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Shares per community and the origins (one Point per home of
    :func:`service_homes`) with their distances; see :func:`service_shares`.
    ``graph`` walks a network given in place of the streets' own
    (:func:`gcgeo.network.graph_network`: the workspace's kept network, a
    GraphML file); the entrances are still found on ``streets``."""
    gcol = f"share_within_{green_radius:g}m_green"
    pcol = f"share_within_{park_radius:g}m_park"
    idx = communities.index
    out = pd.DataFrame(
        {gcol: np.nan, pcol: np.nan, "service_weight_basis": "", "n_origins": 0,
         "n_origins_off_network": 0, "service_reason": ""},
        index=idx,
    )
    out["service_weight_basis"] = out["service_weight_basis"].astype(object)
    out["service_reason"] = out["service_reason"].astype(object)
    no_origins = gpd.GeoDataFrame(
        {"building": pd.Series(dtype=str), "community": pd.Series(dtype=str),
         "weight": pd.Series(dtype=float), "dist_green_m": pd.Series(dtype=float),
         "dist_park_m": pd.Series(dtype=float), "off_network": pd.Series(dtype=bool),
         f"served_{green_radius:g}m_green": pd.Series(dtype=bool),
         f"served_{park_radius:g}m_park": pd.Series(dtype=bool)},
        geometry=gpd.GeoSeries([], crs=communities.crs), crs=communities.crs,
    )
    if streets is None or not len(streets):
        out["service_reason"] = ("no streets layer (add the walking network: "
                                 "gcgeo add WS streets FILE)")
        return out, no_origins
    if buildings is None or not len(buildings):
        out["service_reason"] = ("no buildings layer (add residential buildings: "
                                 "gcgeo add WS buildings FILE)")
        return out, no_origins
    from .. import network  # the walking graph (network distances)

    crs = communities.crs
    # the same homes and head counts as the living circle (gcgeo.layers.buildings)
    home = service_homes(communities, buildings)  # shares are per community
    origins = home.geometry
    comm_pos = home["community_pos"].to_numpy(dtype=int)

    targets: dict[str, gpd.GeoSeries] = {}
    ent = entrances.to_crs(crs) if entrances.crs is not None and entrances.crs != crs else entrances
    for key, flag in (("green", "is_green"), ("park", "is_park")):
        site_ids = sites.index[sites[flag].to_numpy(bool)] if len(sites) else []
        targets[key] = ent.geometry[ent["site"].isin(site_ids).to_numpy()].reset_index(drop=True)
    if progress is not None:
        progress("walking graph")
    if graph is not None:
        net = network.graph_network(graph)
        if net.crs is not None and crs is not None and net.crs != crs:  # a GraphML in its own CRS
            origins = origins.to_crs(net.crs)
            targets = {k: t.to_crs(net.crs) for k, t in targets.items()}
    else:
        st = _walkable(streets)
        st = st.to_crs(crs) if st.crs is not None and st.crs != crs else st
        if join_tolerance is None:
            join_tolerance = network.join_tolerance()
        if split_crossings is None:
            split_crossings = network.split_crossings()
        net = network.network_from_streets(st, join_tolerance=float(join_tolerance),
                                           split_crossings=bool(split_crossings))
    if progress is not None:
        progress("shortest paths")
    # the homes snapped once, for their distances and to count those off the network
    osnap = network.snap(net, network.check_points(net, origins, "homes"), snap_tolerance)
    tsnaps = {k: network.snap(net, network.check_points(net, t, f"{k} entrances"), snap_tolerance)
              for k, t in targets.items()}
    d = network.distances_snapped(net, osnap, tsnaps, cutoff=max(green_radius, park_radius))
    off = osnap["off_network"].to_numpy()

    served_g = (d["green"] <= green_radius).to_numpy()
    served_p = (d["park"] <= park_radius).to_numpy()
    weights = home["population"].to_numpy(float)
    source = home["pop_source"].to_numpy(object)
    for c in np.unique(comm_pos):
        m = comm_pos == c
        w = weights[m]
        if not w.sum() > 0:  # a community of population 0: count its homes equally
            w = np.ones(m.sum())
        basis = ", ".join(sorted(set(source[m])))
        col = out.columns.get_loc
        out.iloc[c, col(gcol)] = float(w[served_g[m]].sum() / w.sum())
        out.iloc[c, col(pcol)] = float(w[served_p[m]].sum() / w.sum())
        out.iloc[c, col("service_weight_basis")] = basis
        out.iloc[c, col("n_origins")] = int(m.sum())
        out.iloc[c, col("n_origins_off_network")] = int(off[m].sum())
    none = (out["n_origins"] == 0).to_numpy()
    out.loc[none, "service_reason"] = "no residential buildings in the community"
    if not len(sites) or not sites["is_green"].any():
        out.loc[~none, "service_reason"] = "no public green space in the green_space layer"
    elif not sites["is_park"].any():
        out.loc[~none, "service_reason"] = "no green site counts as a park (see rules park.*)"
    origin_frame = gpd.GeoDataFrame(
        {
            "building": home["building_id"].to_numpy(object),
            "community": home["community_id"].to_numpy(object),
            "weight": weights,
            "dist_green_m": d["green"].to_numpy(),
            "dist_park_m": d["park"].to_numpy(),
            "off_network": off.astype(bool),
            f"served_{green_radius:g}m_green": served_g,
            f"served_{park_radius:g}m_park": served_p,
        },
        geometry=origins.to_numpy(), crs=crs,
    )
    return out, origin_frame


# --------------------------------------------------------------------------
# entry points


def _require(layers: Mapping[str, gpd.GeoDataFrame], kind: str, how: str) -> gpd.GeoDataFrame:
    frame = layers.get(kind)
    if frame is None:
        raise AnalysisError(
            f"the green analysis needs the '{kind}' layer, which is missing; add it with "
            f"`gcgeo add WS.gpkg {kind} FILE`{how}."
        )
    if not isinstance(frame, gpd.GeoDataFrame):
        raise AnalysisError(f"layer '{kind}' must be a GeoDataFrame.")
    return frame


def run(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    raster: str | Path | None = None,
    red: int | None = None,
    nir: int | None = None,
    ndvi_threshold: float | None = None,
    join_tolerance: float | None = None,
    split_crossings: bool | None = None,
    graph: Any = None,
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Green coverage of every community.

    ``layers`` needs ``communities`` and ``green_space``; ``streets`` and
    ``buildings`` give the service-radius shares (NaN with a reason without
    them).  ``raster`` (with band numbers ``red`` and ``nir``) adds NDVI
    vegetation cover; ``ndvi_threshold`` defaults to the rule
    ``ndvi.threshold``, ``join_tolerance`` (m, street ends this close are
    joined) to the rule ``network.join_tolerance`` and ``split_crossings``
    (streets joined where they cross) to ``network.split_crossings``;
    ``graph`` is a network to walk in place of the streets layer's own (the
    workspace's kept network, which ``gcgeo analyze`` hands over, or a GraphML
    file); the parks' entrances are still found on the streets.

    Returns ``green_communities`` (community polygons with the metrics and
    pass/fail columns, the concentrated green's share in the sun among them),
    ``green_sites`` (public green merged into sites, with ``is_park``, the
    ``park_tier`` and the parks' sports share), ``green_entrances``
    (Points), ``green_origins`` (one Point per residential building with its
    weight, network distances ``dist_green_m`` / ``dist_park_m`` — NaN beyond
    the larger radius or off the network — and ``served_*`` flags),
    ``green_concentrated`` (the concentrated green counted, MultiPolygons) and,
    with a raster,
    ``green_ndvi_sensitivity`` (community × threshold → vegetation fraction).
    """
    R = _rules.load("green", rules)
    step = progress or (lambda _s: None)
    comm, green, streets, buildings = _inputs(layers)
    # sports grounds count only as the sports share of the parks they lie in
    green_all, green = green, green[~_kinds_in(green, _rules.value(R, "park.sports_kinds"))]
    old = yes_no(comm["old_estate"]).fillna(False).to_numpy(bool) \
        if "old_estate" in comm.columns else np.zeros(len(comm), bool)
    pop = comm["population"] if "population" in comm.columns else None

    step("green area")
    cgeom = valid_polygons(comm.geometry)
    out = comm.copy()
    _ratio_and_public_green(out, cgeom, green, old, pop, R)

    step("concentrated green")
    conc = _concentrated(out, cgeom, green, old, pop, R)
    step("sunlight")
    _join(out, concentrated_sunlight(conc, buildings, R))

    step("park entrances")
    sites, entrances, origins = _service_radius(out, comm, green, streets, buildings, R, rules,
                                                join_tolerance, split_crossings, step, graph)
    step("parks")
    _join(sites, park_figures(sites, green_all, R))
    ids = feature_ids(comm)
    outputs: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {
        "green_communities": out,
        "green_sites": sites,
        "green_entrances": entrances,
        "green_origins": origins,
        "green_concentrated": gpd.GeoDataFrame(
            {"community": ids[conc.notna().to_numpy()].to_numpy(),
             "area_m2": conc.dropna().area.to_numpy()},
            geometry=[shapely.MultiPolygon(list(shapely.get_parts(g)))
                      for g in conc.dropna().to_numpy()],
            crs=comm.crs,
        ),
    }
    if raster is not None:
        step("NDVI")
        outputs["green_ndvi_sensitivity"] = _ndvi_cover(out, comm, cgeom, R, raster, red, nir,
                                                        ndvi_threshold, step)
    return outputs


def _inputs(layers: Mapping[str, gpd.GeoDataFrame]
            ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame | None,
                       gpd.GeoDataFrame | None]:
    """Communities, green space, streets and buildings, through the CRS gate."""
    comm = _require(layers, "communities", "")
    green = _require(layers, "green_space", " (or import it from OSM: gcgeo import-osm)")
    comm = metric(comm, "layer 'communities'")  # the CRS gate every analysis passes
    crs = comm.crs
    green = align(green, crs, "layer 'green_space'", against="the communities")
    if "kind" not in green.columns and "public" not in green.columns:
        raise AnalysisError(
            "layer 'green_space' has neither a 'kind' nor a 'public' column, so public green "
            "cannot be told apart; map a column to 'kind' (park, pocket_park, attached, …) or "
            "'public' (true/false) and add the layer again."
        )
    streets = align(layers.get("streets"), crs, "layer 'streets'", against="the communities")
    buildings = align(layers.get("buildings"), crs, "layer 'buildings'", against="the communities")
    return comm, green, streets, buildings


def _ratio_and_public_green(out: gpd.GeoDataFrame, cgeom: gpd.GeoSeries, green: gpd.GeoDataFrame,
                            old: np.ndarray, pop: pd.Series | None, R: Mapping[str, Any]) -> None:
    """Green ratio and public green per person, with their requirements, into ``out``."""
    V = lambda key: _rules.value(R, key)  # noqa: E731
    gr = green_ratio(cgeom, green)
    out["green_area_m2"] = gr["green_area_m2"]
    out["green_ratio"] = gr["green_ratio"]
    out["green_ratio_req"] = np.where(old, V("green_ratio.old"), V("green_ratio.new"))
    out["green_ratio_pass"] = _pass(out["green_ratio"], out["green_ratio_req"])
    out["green_ratio_reason"] = [_ratio_reason(r, q, o) for r, q, o in
                                 zip(out["green_ratio"], out["green_ratio_req"], old)]
    pub = is_public(green, public_kinds=V("public_kinds"))
    out["public_green_m2"] = green_area(cgeom, green[pub.to_numpy()])
    ppp, reason = per_person(out["public_green_m2"], pop)
    out["public_green_per_person_m2"] = ppp
    out["population_reason"] = reason
    factor = V("old_area_factor")
    for tier, th in R["public_green_per_person"].items():
        req = np.where(old, th["value"] * factor, th["value"])
        out[f"public_green_req_{tier}"] = req
        out[f"public_green_pass_{tier}"] = _pass(ppp, req)


def _ratio_reason(ratio: float, required: float, old: bool) -> str:
    """Why the green ratio passes or fails, in a sentence (:mod:`gcgeo.reasons` puts it in Chinese).

    >>> _ratio_reason(0.0536, 0.05, True), _ratio_reason(0.2499, 0.25, False)
    ('green ratio 5.4% ≥ 5% required (old estate)', 'green ratio 24.99% < 25% required')
    """
    if not np.isfinite(ratio):
        return "the community has no area"
    digits = 1  # enough digits that a failing ratio never reads as its requirement
    while digits < 4 and ratio != required and f"{ratio * 100:.{digits}f}" == f"{required * 100:.{digits}f}":
        digits += 1
    return (f"green ratio {ratio * 100:.{digits}f}% {'≥' if ratio >= required else '<'} {required * 100:g}% "
            f"required{' (old estate)' if old else ''}")


def _concentrated(out: gpd.GeoDataFrame, cgeom: gpd.GeoSeries, green: gpd.GeoDataFrame,
                  old: np.ndarray, pop: pd.Series | None, R: Mapping[str, Any]) -> gpd.GeoSeries:
    """Concentrated green per community and person, with its requirement, into ``out``."""
    V = lambda key: _rules.value(R, key)  # noqa: E731
    conc = concentrated_green(cgeom, green, min_width=V("concentrated.min_width"),
                              exclude_kinds=V("concentrated.exclude_kinds"))
    out["concentrated_green_m2"] = conc.area.fillna(0.0)
    cpp, _ = per_person(out["concentrated_green_m2"], pop)
    out["concentrated_green_per_person_m2"] = cpp
    out["concentrated_req_m2pp"] = np.where(old, V("concentrated.per_person_old"),
                                            V("concentrated.per_person"))
    out["concentrated_pass"] = _pass(cpp, out["concentrated_req_m2pp"])
    return conc


def _join(frame: pd.DataFrame, columns: pd.DataFrame) -> None:
    for col in columns.columns:
        frame[col] = columns[col]


def _kinds_in(frame: gpd.GeoDataFrame, kinds: Iterable[str]) -> np.ndarray:
    """Rows whose ``kind`` is one of ``kinds`` (none without the column)."""
    if "kind" not in frame.columns:
        return np.zeros(len(frame), bool)
    return frame["kind"].astype("string").str.strip().isin(set(kinds)).fillna(False).to_numpy(bool)


def _service_radius(out, comm, green, streets, buildings, R, rules, join_tolerance,
                    split_crossings, step, graph=None):
    """"300 m to green, 500 m to a park": sites, their entrances and the homes' distances;
    the shares per community into ``out``."""
    from ..network import join_tolerance as network_join_tolerance
    from ..network import split_crossings as network_split_crossings

    V = lambda key: _rules.value(R, key)  # noqa: E731
    sites = green_sites(
        green, public_kinds=V("public_kinds"), park_kinds=V("park.kinds"),
        park_min_area=V("park.min_area"), park_min_width=V("park.min_width"),
        green_min_area=V("service.green_min_area"),
    )
    entrances = site_entrances(sites, streets, spacing=V("service.gate_spacing"))
    shares, origins = service_distances(
        comm, buildings, streets, sites, entrances,
        green_radius=V("service.green_radius"), park_radius=V("service.park_radius"),
        snap_tolerance=V("service.snap_tolerance"),
        join_tolerance=(join_tolerance if join_tolerance is not None
                        else network_join_tolerance(rules)),
        split_crossings=(split_crossings if split_crossings is not None
                         else network_split_crossings(rules)),
        progress=step, graph=graph,
    )
    for col in shares.columns:
        out[col] = shares[col]
    return sites, entrances, origins


def _ndvi_cover(out, comm, cgeom, R, raster, red, nir, ndvi_threshold, step) -> pd.DataFrame:
    """NDVI vegetation cover per community into ``out``; the sensitivity table over thresholds."""
    from . import ndvi as _ndvi

    thr = float(ndvi_threshold) if ndvi_threshold is not None else float(_rules.value(R, "ndvi.threshold"))
    sens = sorted({float(t) for t in _rules.value(R, "ndvi.sensitivity")} | {thr})
    cover = _ndvi.vegetation_cover(cgeom, raster, red=red, nir=nir, threshold=thr,
                                   thresholds=sens, progress=step)
    for col in ("ndvi_mean", "veg_fraction", "ndvi_valid_frac", "ndvi_reason"):
        out[col] = cover[col]
    out["ndvi_threshold"] = thr
    name = comm["name"] if "name" in comm.columns else pd.Series("", index=comm.index)
    ids = feature_ids(comm).to_numpy()
    rows = [pd.DataFrame({"community": ids, "name": name.astype("string").fillna("").to_numpy(),
                          "threshold": t, "veg_fraction": cover[_ndvi.threshold_column(t)].to_numpy()})
            for t in sens]
    return pd.concat(rows, ignore_index=True)


def _pass(value: pd.Series | np.ndarray, required: pd.Series | np.ndarray) -> pd.Series:
    """value ≥ required as pandas 'boolean' (NA where value is NaN)."""
    v = pd.Series(np.asarray(value, dtype=float))
    r = np.asarray(required, dtype=float)
    res = pd.Series(v.to_numpy() >= r, dtype="boolean")
    res[v.isna().to_numpy()] = pd.NA
    if isinstance(value, pd.Series):
        res.index = value.index
    return res


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community with the key green figures, for the terminal."""
    gc = outputs["green_communities"]
    cols = [c for c in ("name",) if c in gc.columns]
    cols += ["green_ratio", "public_green_per_person_m2", "concentrated_pass"]
    cols += [c for c in gc.columns if c.startswith("share_within_")]
    cols += [c for c in ("veg_fraction", "ndvi_mean") if c in gc.columns]
    table = pd.DataFrame(gc[cols])
    for c in table.columns:
        if pd.api.types.is_float_dtype(table[c]):
            table[c] = table[c].round(3)
    return table


# --------------------------------------------------------------------------
# the descriptor

_COLUMNS = {
        "green_ratio_req": ("绿地率要求", "Required green ratio", "pct"),
        "green_ratio_pass": ("绿地率达标", "Green ratio passes", "bool"),
        "green_ratio_reason": ("绿地率说明", "Green ratio note", "text"),
        "concentrated_green_m2": ("集中绿地面积", "Concentrated green (m²)", "int"),
        "concentrated_green_per_person_m2": ("人均集中绿地", "Concentrated green per person (m²)", "float"),
        "concentrated_req_m2pp": ("人均集中绿地要求", "Required concentrated green per person (m²)", "float"),
        "concentrated_pass": ("集中绿地达标", "Concentrated green passes", "bool"),
        "concentrated_sunlit_m2": ("集中绿地日照面积", "Concentrated green in the sun (m²)", "int"),
        "concentrated_sunlit_share": ("集中绿地日照比例", "Share of concentrated green in the sun",
                                      "pct"),
        "concentrated_sunlit_req": ("集中绿地日照比例要求", "Required share in the sun", "pct"),
        "concentrated_sunlit_pass": ("集中绿地日照达标", "Concentrated green sunlight passes",
                                     "bool"),
        "sunlight_reason": ("日照说明", "Sunlight note", "text"),
        "population_reason": ("人口说明", "Population note", "text"),
        "service_weight_basis": ("权重依据", "Weighting", "text"),
        "service_reason": ("服务半径说明", "Service-radius note", "text"),
        "n_origins_off_network": ("未接入路网居住点", "Origins off the network", "int"),
        "is_green": ("计入见绿", "Counts as green", "bool"),
        "is_park": ("计入见园", "Counts as park", "bool"),
        "park_tier": ("公园级别", "Park tier", "text"),
        "sports_m2": ("体育活动场地面积", "Sports ground (m²)", "int"),
        "sports_share": ("体育活动场地比例", "Sports ground share", "pct"),
        "sports_share_pass": ("体育活动场地比例达标", "Sports ground share passes", "bool"),
        "sports_reason": ("体育活动场地说明", "Sports ground note", "text"),
        "kinds": ("绿地类型", "Kinds", "text"),
        "n_polygons": ("图斑数", "Polygons", "int"),
        "site": ("绿地编号", "Site", "text"),
        "entrance": ("出入口", "Entrance", "text"),
        "site_area_m2": ("绿地面积", "Site area (m²)", "int"),
        "weight": ("权重", "Weight", "float"),
        "dist_green_m": ("到绿地步行距离", "Walk to green (m)", "m"),
        "dist_park_m": ("到公园步行距离", "Walk to a park (m)", "m"),
        "ndvi_threshold": ("NDVI阈值", "NDVI threshold", "float"),
        "ndvi_valid_frac": ("有效像元比例", "Valid pixel share", "pct"),
        "ndvi_reason": ("NDVI说明", "NDVI note", "text"),
        "green_ratio": ("绿地率", "Green ratio", "pct"),
        "green_area_m2": ("绿地面积", "Green area (m²)", "int"),
        "public_green_m2": ("公共绿地面积", "Public green area (m²)", "int"),
        "public_green_per_person_m2": ("人均公共绿地", "Public green per person (m²)", "float"),
        "share_within_300m_green": ("300米见绿覆盖比例", "Share within 300 m of green", "pct"),
        "share_within_500m_park": ("500米见园覆盖比例", "Share within 500 m of a park", "pct"),
        "ndvi_mean": ("平均NDVI", "Mean NDVI", "float"),
        "veg_fraction": ("植被覆盖率", "Vegetation cover", "pct"),
        "park_id": ("公园编号", "Park id", "text"),
        "meets_per_person": ("人均绿地达标", "Meets green per person", "bool"),
}

ANALYSIS = Analysis(
    name="green",
    label_zh="绿地",
    label_en="Green space",
    description_en="green ratio, public green per person, concentrated green, 300 m to green / "
                   "500 m to a park along the streets, and NDVI vegetation cover",
    description_zh="绿地率、人均公共绿地、集中绿地、“300米见绿、500米见园”步行覆盖及NDVI植被覆盖",
    run=run,
    summary=summary,
    requires=("communities", "green_space"),
    optional=("streets", "buildings"),
    rule_sets=RULE_SETS,
    outputs=(
        Output("green_communities", "社区绿地", "Green by community",
               style="gcgeo.maps._layers:style_green_communities", columns=_COLUMNS),
        Output("green_sites", "公共绿地", "Public green sites", style="gcgeo.maps._layers:style_green_sites"),
        Output("green_entrances", "绿地出入口", "Green entrances",
               style="gcgeo.maps._layers:style_green_entrances", geometry_type="Point"),
        Output("green_origins", "居住点见绿见园", "Homes to green and parks",
               style="gcgeo.maps._layers:style_green_origins", geometry_type="Point"),
        Output("green_concentrated", "集中绿地", "Concentrated green", geometry_type="MultiPolygon"),
        Output("green_ndvi_sensitivity", "NDVI阈值敏感性", "NDVI threshold sensitivity", geometry=False),
    ),
    options=(
        Option("raster", "file", "multispectral raster for NDVI (default: the workspace's raster)",
               "用于计算NDVI的多光谱影像（默认：工作空间所附影像）"),
        Option("red", "int", "band number of red", "红光波段号", min=1),
        Option("nir", "int", "band number of near infrared", "近红外波段号", min=1),
        Option("ndvi_threshold", "float", "NDVI above which a pixel is vegetation",
               "NDVI高于此值的像元计为植被", rule="green.ndvi.threshold", min=-1, max=1),
        *NETWORK_OPTIONS,
        GRAPH_OPTION,
    ),
    criteria=(
        # The green ratio is the one figure held against a community-level requirement; public
        # green per person (set per living-circle tier, GB 50180 §4.0.4) and the share within
        # 500 m of a park (no verified required share) are figures beside it, not verdicts.
        Criterion(7, "green_communities", "green_ratio_pass",
                  "green ratio against its requirement (rules green_ratio.new / green_ratio.old); "
                  "public green per person and the park service radius are reported, not decided",
                  "绿地率对照要求（规则 green_ratio.new / green_ratio.old）；人均公共绿地、公园服务半径"
                  "仅列出数据、不作判定",
                  part_en="green ratio", part_zh="绿地率",
                  unmeasured_en="the layout of green space (public green per person and the share within "
                                "500 m of a park are in layer green_communities, not decided) and the "
                                "public activity spaces and facilities",
                  unmeasured_zh="绿地布局（人均公共绿地、500米见园覆盖见“社区绿地”图层，未作判定）"
                                "及公共活动空间和设施"),
    ),
    headlines="gcgeo.headlines:green",
    views=(ViewSpec("gcgeo.maps._views:green", "green ratio, green per person, service-radius "
                    "coverage and NDVI per community; parks"),),
    rasters=(RasterInput("raster", "raster", bands=("red", "nir")),),
)
