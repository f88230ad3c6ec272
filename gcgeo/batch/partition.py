"""One large study area cut into partitions with a halo, run side by side, stitched exactly.

The living circle of a whole province's homes does not fit one process
comfortably; :func:`living_circle` cuts the study area into a grid of
partitions (``"grid:N"``), runs :func:`gcgeo.analysis.living_circle.run` on
each (as dask tasks when given a ``distributed`` client) and stitches the
results into what the unpartitioned run gives: the same homes in the same
order with the same distances (to rounding, 1e-9 m), tiers, gaps, community
shares and category table.

Why the stitched results are exact.  Every home, with its whole community,
belongs to the *core* of exactly one partition (a community goes to the grid
cell holding a point on its surface, a home outside every community to the
cell holding it); each facility is *owned* by the cell holding it, for the
category counts.  A partition is given its core homes and communities, and
the streets and facilities that intersect the box around its core (homes,
communities, owned facilities) widened by the halo::

    halo = largest tier distance + snapping tolerance + join tolerance

Streets are kept whole.  A home's distance is its connector, a path along
the streets and the facility's connector, all at most the largest tier
distance ``D`` when it counts; such a path never leaves the disc of radius
``D`` around the home, and a facility it reaches lies within ``D`` of it.
Every street crossing that disc is in the partition, whole, with every
street meeting it there, so each path of length ≤ ``D`` is present with the
same length; what the clipping changes (street pieces that end at the box,
ends no longer joined to a street outside it — at most ``join tolerance``
away) lies outside the disc, where no counted path goes.  A point snaps to
the nearest edge within the snapping tolerance: the edges that near a home,
or a facility within ``D`` of one, are all inside the box, so it snaps to
the same edge as in the whole run.  Homes and their residents are computed
from whole communities, so spreading a community's population over its
buildings gives the same figures.

Isochrone polygons are drawn in the partitions too, each with the streets
and homes of its box widened further (the polygons reach a few buffers
beyond the paths), and stitched into the whole run's ``lc_isochrones``
(:mod:`gcgeo.batch.partition_isochrones`, which says why they are exact).
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import InputError

log = logging.getLogger(__name__)

__all__ = ["Partition", "grid_size", "halo", "in_box", "living_circle", "partition_layers", "plan", "split",
           "run_partition"]

#: the options of the living circle a partitioned run passes on to each partition
PASSED = ("walking_speed", "snap_tolerance", "join_tolerance", "split_crossings")

_GRID = re.compile(r"^\s*grid\s*:\s*(\d+)\s*$")


def grid_size(spec: str | int) -> int:
    """The number of partitions ``spec`` asks for: ``"grid:N"`` (or N) gives N.

    >>> grid_size("grid:4")
    4
    """
    if isinstance(spec, int) and not isinstance(spec, bool):
        n = spec
    else:
        m = _GRID.match(str(spec))
        if m is None:
            raise InputError(f"partitions must be \"grid:N\" (N partitions, e.g. \"grid:16\"), "
                             f"not {spec!r}.")
        n = int(m.group(1))
    if n < 1:
        raise InputError(f"partitions must be \"grid:N\" with N at least 1, not {spec!r}.")
    return n


def halo(rules: Any = None, *, walking_speed: float | None = None,
         snap_tolerance: float | None = None, join_tolerance: float | None = None) -> float:
    """The halo around a partition's core (m): largest tier + snapping + join tolerance."""
    from .. import rules as _rules
    from ..analysis import living_circle as lc
    from ..network import join_tolerance as network_join_tolerance

    r = _rules.load(lc.RULES, rules)
    cutoff = max(lc.tiers(r, walking_speed=walking_speed).values())
    tol = float(snap_tolerance if snap_tolerance is not None else _rules.value(r, "snapping.tolerance"))
    join = float(join_tolerance if join_tolerance is not None else network_join_tolerance(rules))
    return float(cutoff + tol + join)


@dataclass(frozen=True)
class Partition:
    """One partition: row positions of its core homes (in ``buildings``), core
    communities, owned facilities, and the box whose streets and facilities it gets;
    ``region``, the grid cells (rows of minx, miny, maxx, maxy) whose isochrone
    areas it draws, the outer ones reaching one halo beyond the data."""

    index: int
    homes: np.ndarray
    communities: np.ndarray
    owned: np.ndarray
    box: tuple[float, float, float, float]
    region: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))


def _grid(xy: np.ndarray, bounds: tuple[float, float, float, float], n: int) -> tuple[np.ndarray, int, int]:
    """The grid cell of each point: ``nx × ny`` ≥ ``n`` cells over ``bounds``."""
    nx = max(1, math.ceil(math.sqrt(n)))
    ny = max(1, math.ceil(n / nx))
    minx, miny, maxx, maxy = bounds
    w = max((maxx - minx) / nx, 1e-9)
    h = max((maxy - miny) / ny, 1e-9)
    ix = np.clip(np.floor((xy[:, 0] - minx) / w), 0, nx - 1).astype(np.int64)
    iy = np.clip(np.floor((xy[:, 1] - miny) / h), 0, ny - 1).astype(np.int64)
    return iy * nx + ix, nx, ny


def _valid_points(geoms: np.ndarray) -> np.ndarray:
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else np.zeros(0, bool)


def plan(home_xy: np.ndarray, home_comm: np.ndarray, communities: gpd.GeoDataFrame | None,
         facilities: gpd.GeoDataFrame, *, n: int, halo_m: float) -> list[Partition]:
    """Cut the homes (points ``home_xy``, community position ``home_comm``, -1 for
    none) into about ``n`` grid partitions; see the module's text.

    Cells left without a home hand their communities and facilities to the
    nearest cell with homes; the partitions returned all have homes.
    """
    comm_geom = (np.asarray(communities.geometry.values, dtype=object) if communities is not None
                 else np.zeros(0, dtype=object))
    comm_ok = _valid_points(comm_geom)
    comm_xy = np.full((len(comm_geom), 2), np.nan)
    if comm_ok.any():
        comm_xy[comm_ok] = shapely.get_coordinates(shapely.point_on_surface(comm_geom[comm_ok]))
    fac_geom = np.asarray(facilities.geometry.values, dtype=object)
    fac_ok = _valid_points(fac_geom)
    fac_xy = np.full((len(fac_geom), 2), np.nan)
    if fac_ok.any():
        fac_xy[fac_ok] = shapely.get_coordinates(shapely.centroid(fac_geom[fac_ok]))
    every = np.vstack([home_xy, comm_xy[comm_ok], fac_xy[fac_ok]])
    every = every[np.isfinite(every).all(axis=1)]
    bounds = (*every.min(axis=0), *every.max(axis=0))
    home_cell, nx, ny = _grid(home_xy, bounds, n)
    comm_cell = np.zeros(len(comm_geom), dtype=np.int64)
    if comm_ok.any():
        comm_cell[comm_ok] = _grid(comm_xy[comm_ok], bounds, n)[0]
    fac_cell = np.zeros(len(fac_geom), dtype=np.int64)
    if fac_ok.any():
        fac_cell[fac_ok] = _grid(fac_xy[fac_ok], bounds, n)[0]
    inside = home_comm >= 0
    home_cell[inside] = comm_cell[home_comm[inside]]  # a community stays whole
    # cells without homes give their communities and facilities to the nearest cell with homes
    live = np.unique(home_cell)
    cx = (np.arange(nx * ny) % nx + 0.5)
    cy = (np.arange(nx * ny) // nx + 0.5)
    dist = np.hypot(cx[:, None] - cx[live][None, :], cy[:, None] - cy[live][None, :])
    to_live = live[np.argmin(dist, axis=1)]
    comm_cell, fac_cell = to_live[comm_cell], to_live[fac_cell]
    comm_bounds = shapely.bounds(comm_geom) if len(comm_geom) else np.zeros((0, 4))
    cells = _cells(bounds, nx, ny, halo_m)
    out = []
    for k, cell in enumerate(live):
        h = np.flatnonzero(home_cell == cell)
        c = np.flatnonzero(comm_cell == cell)
        f = np.flatnonzero(fac_cell == cell)
        boxes = [np.hstack([home_xy[h], home_xy[h]])]
        cb = comm_bounds[c][comm_ok[c]]
        boxes.append(cb)
        boxes.append(np.hstack([fac_xy[f], fac_xy[f]])[fac_ok[f]])
        allb = np.vstack(boxes)
        box = (float(allb[:, 0].min() - halo_m), float(allb[:, 1].min() - halo_m),
               float(allb[:, 2].max() + halo_m), float(allb[:, 3].max() + halo_m))
        out.append(Partition(index=k, homes=h, communities=c, owned=f, box=box,
                             region=cells[to_live == cell]))
    return out


def _cells(bounds: tuple[float, float, float, float], nx: int, ny: int, margin: float) -> np.ndarray:
    """The ``nx × ny`` grid cells over ``bounds`` (rows of minx, miny, maxx, maxy), the
    outer ones widened by ``margin``: together they tile everything within ``margin``
    of the data, and neighbours share their edges' coordinates exactly."""
    minx, miny, maxx, maxy = bounds
    xs = minx + max((maxx - minx) / nx, 1e-9) * np.arange(nx + 1, dtype=float)
    ys = miny + max((maxy - miny) / ny, 1e-9) * np.arange(ny + 1, dtype=float)
    xs[0], xs[-1] = minx - margin, max(xs[-1], maxx) + margin
    ys[0], ys[-1] = miny - margin, max(ys[-1], maxy) + margin
    ix, iy = np.arange(nx * ny) % nx, np.arange(nx * ny) // nx
    return np.column_stack([xs[ix], ys[iy], xs[ix + 1], ys[iy + 1]])


def in_box(frame: gpd.GeoDataFrame, box: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The rows of ``frame`` whose geometry intersects ``box``, whole, in their order."""
    pos = np.sort(frame.sindex.query(shapely.box(*box), predicate="intersects"))
    return frame.iloc[pos]


def run_partition(layers: Mapping[str, gpd.GeoDataFrame | None], owned: np.ndarray, *,
                  rules: Any = None, options: Mapping[str, Any] | None = None,
                  isochrones: str = "none", region: np.ndarray | None = None) -> dict[str, Any]:
    """The living circle of one partition (a dask task): its outputs, its owned
    facility points (positions in its ``facilities``, as :func:`split` makes them):
    the facility each belongs to, its category and whether it reaches the network,
    and the ``isochrones`` it draws in its ``region``
    (:func:`gcgeo.batch.partition_isochrones.draw`)."""
    from .. import rules as _rules
    from ..analysis import living_circle as lc
    from ..crs import metric
    from ..network import check_points, compile_network, network_from_streets, snap
    from ..network import join_tolerance as network_join_tolerance
    from ..network import split_crossings as network_split_crossings
    from .partition_isochrones import draw

    opts = dict(options or {})
    r = _rules.load(lc.RULES, rules)
    req = lc.required_categories(r, lc.tiers(r, walking_speed=opts.get("walking_speed")))
    cats = [c for c in r["categories"] if any(c in v for v in req.values())]
    tol = float(opts["snap_tolerance"] if opts.get("snap_tolerance") is not None
                else _rules.value(r, "snapping.tolerance"))
    join = float(opts["join_tolerance"] if opts.get("join_tolerance") is not None
                 else network_join_tolerance(rules))
    split = bool(opts["split_crossings"] if opts.get("split_crossings") is not None
                 else network_split_crossings(rules))
    streets = metric(layers["streets"], "layer 'streets'")
    net = compile_network(network_from_streets(streets, join_tolerance=join, split_crossings=split))
    facilities = layers["facilities"]
    assert facilities is not None  # partition_layers gives every partition its facilities
    fac = facilities.iloc[owned]
    fac = fac[_valid_points(np.asarray(fac.geometry.values, dtype=object))]
    fac = fac[fac["category"].astype("string").isin(cats).fillna(False).to_numpy()]
    on = (~snap(net, check_points(net, fac.geometry, "facilities"), tol)["off_network"].to_numpy(bool)
          if net.n_edges and len(fac) else np.zeros(len(fac), bool))
    owned_points = pd.DataFrame({
        "facility": fac["_facility"].to_numpy(np.int64),  # set by split()
        "category": fac["category"].astype(str).to_numpy(object), "on": on})
    outputs = lc.run({k: layers[k] for k in ("streets", "facilities", "buildings", "communities")},
                     rules=rules, graph=net, isochrones="none", **opts)
    iso = (draw(layers, owned, np.zeros((0, 4)) if region is None else region, net,
                mode=isochrones, rules=rules, options=opts) if isochrones != "none" else None)
    return {"outputs": outputs, "owned": owned_points, "isochrones": iso}


def split(layers: Mapping[str, gpd.GeoDataFrame], n: int, halo_m: float, *,
          gate_spacing: float = 50.0) -> tuple[list[Partition], dict[str, Any]]:
    """The partitions and the layers they are cut from (in the streets' metric CRS).

    The facilities are cut as the points they are reached at: an area (a park, a
    square) becomes its entrances, found once on every street
    (:func:`gcgeo.analysis.living_circle.access_points`, gates every
    ``gate_spacing`` m where no street meets it), so that a partition holding
    part of the streets finds the same entrances; column ``_facility`` keeps the
    position of the facility each point belongs to.
    """
    from ..analysis import living_circle as lc
    from ..crs import align, metric
    from ..layers import repair_geometry
    from ..layers.buildings import homes

    missing = [k for k in ("streets", "facilities", "buildings") if layers.get(k) is None]
    if missing:  # the unpartitioned run says what is missing and how to add it
        return [], {}
    streets = metric(layers["streets"], "layer 'streets'")
    crs = streets.crs
    every = {"streets": streets}
    for kind in ("facilities", "buildings", "communities"):
        frame = layers.get(kind)
        if frame is not None and not (kind == "communities" and frame.empty):
            every[kind] = align(frame, crs, f"layer '{kind}'", against="the walking network")
    for kind, frame in every.items():
        if not frame.index.is_unique:
            raise InputError(f"layer '{kind}' has repeated row labels in its index; a partitioned "
                             "run needs each row labelled once (frame.reset_index(drop=True)).")
    comm = every.get("communities")
    if comm is not None:  # the outlines the living circle locates homes in
        g = np.asarray(comm.geometry.values, dtype=object).copy()
        bad = _valid_points(g) & ~shapely.is_valid(g)
        if bad.any():
            g[bad] = repair_geometry(g[bad])[0]
        comm = comm.set_geometry(gpd.GeoSeries(g, index=comm.index, crs=comm.crs))
    home = homes(every["buildings"], comm)
    if home.empty or "category" not in every["facilities"].columns:
        return [], every
    every["homes"] = gpd.GeoDataFrame(geometry=home.geometry)  # drawn isochrones are cut around them
    fac = every["facilities"]
    every["facility_labels"] = fac.index
    fac = fac[_valid_points(np.asarray(fac.geometry.values, dtype=object))]
    acc = lc.access_points(fac.set_axis(every["facilities"].index.get_indexer(fac.index)),
                           streets, spacing=gate_spacing)
    every["facilities"] = acc.assign(_facility=acc.index.to_numpy(np.int64)).set_axis(
        pd.RangeIndex(len(acc)))
    pos = every["buildings"].index.get_indexer(home.index)
    xy = shapely.get_coordinates(home.geometry.to_numpy())
    parts = plan(xy, home["community_pos"].to_numpy(np.int64), every.get("communities"),
                 every["facilities"], n=n, halo_m=halo_m)
    parts = [Partition(index=p.index, homes=pos[p.homes], communities=p.communities,
                       owned=p.owned, box=p.box, region=p.region) for p in parts]
    log.info("living circle in %d partition(s) of %s, halo %.0f m", len(parts),
             lc.RULES, halo_m)
    return parts, every


def partition_layers(every: Mapping[str, gpd.GeoDataFrame], part: Partition, *,
                     isochrones: str = "none", halo_m: float = 0.0
                     ) -> tuple[dict[str, gpd.GeoDataFrame | None], np.ndarray]:
    """The layers of one partition, and the positions of its owned facilities in them.

    To draw ``isochrones`` it also gets the points of every home in its box
    (``homes``); for the areas of a category (``"dissolved"``, ``"split"``) the
    box takes in its region widened by ``halo_m``
    (:mod:`gcgeo.batch.partition_isochrones`).
    """
    box = part.box
    if isochrones in ("dissolved", "split") and len(part.region):
        r = part.region
        box = (min(box[0], float(r[:, 0].min()) - halo_m), min(box[1], float(r[:, 1].min()) - halo_m),
               max(box[2], float(r[:, 2].max()) + halo_m), max(box[3], float(r[:, 3].max()) + halo_m))
    facilities = every["facilities"]
    fac = in_box(facilities, box)
    owned = fac.index.get_indexer(facilities.index[part.owned])
    buildings = every["buildings"].iloc[np.sort(part.homes)].copy()
    buildings["residential"] = True  # decided once on every building, as the whole run does
    comm = every.get("communities")
    out = {"streets": in_box(every["streets"], box), "facilities": fac, "buildings": buildings,
           "communities": comm.iloc[np.sort(part.communities)] if comm is not None else None}
    if isochrones not in (None, "none"):
        out["homes"] = in_box(every["homes"], box)
    return out, owned


def _concat(frames: list[pd.DataFrame], **kw: Any) -> pd.DataFrame:
    """``pd.concat`` keeping a column's type where one partition had only missing values
    (text columns all None are ``object`` there, ``str`` elsewhere)."""
    out = pd.concat(frames, **kw)
    for col in out.columns:
        if col != "geometry" and len({str(f[col].dtype) for f in frames if col in f.columns}) > 1:
            out[col] = out[col].infer_objects()
    return out


def _stitch(results: list[dict[str, Any]], every: Mapping[str, Any],
            rules: Any, walking_speed: float | None, isochrones: str) -> dict[str, Any]:
    """The partitions' outputs as one run's: homes in the buildings' order, origin ids
    renumbered, gaps in tier and category order, communities in the layer's order."""
    from .. import rules as _rules
    from ..analysis import living_circle as lc
    from .partition_isochrones import stitch

    r = _rules.load(lc.RULES, rules)
    tier_m = lc.tiers(r, walking_speed=walking_speed)
    req = lc.required_categories(r, tier_m)
    outs = [res["outputs"] for res in results]
    origins = [o["lc_origins"] for o in outs]
    order = every["buildings"].index
    # the whole run numbers the homes in the buildings' order
    glob = [order.get_indexer(o.index) for o in origins]
    allpos = np.concatenate(glob)
    rank = np.empty(len(allpos), dtype=np.int64)
    sort = np.argsort(allpos, kind="stable")
    rank[sort] = np.arange(len(allpos))
    starts = np.cumsum([0] + [len(o) for o in origins])
    new_id = [rank[starts[i]:starts[i + 1]] for i in range(len(origins))]
    stitched = _concat(origins).iloc[sort]
    stitched["origin_id"] = np.arange(len(stitched), dtype=np.int64)
    gaps = []
    for o, ids in zip(outs, new_id):  # one row per home: in the whole run's order of homes
        g = o["lc_gaps"].copy()
        g["origin_id"] = ids[g["origin_id"].to_numpy(np.int64)]
        gaps.append(g)
    gap = _concat(gaps, ignore_index=True)
    gap = gap.iloc[np.argsort(gap["origin_id"].to_numpy(np.int64), kind="stable")].reset_index(drop=True)
    # a partition without communities has an empty table of other columns
    comm = _concat([o["lc_communities"] for o in outs if len(o["lc_communities"])]
                   or [outs[0]["lc_communities"]])
    if every.get("communities") is not None and len(comm):
        comm = comm.loc[every["communities"].index[every["communities"].index.isin(comm.index)]]
    _in_data_again(stitched, comm, results, tier_m, req)
    in_data = set(pd.concat([res["owned"] for res in results])["category"])
    lc.judge_complete(comm, [c for c in r["categories"] if any(c in v for v in req.values())
                             and c not in in_data], float(_rules.value(r, "min_share_complete")),
                      lc.own_tiers(req))
    iso = outs[0]["lc_isochrones"]
    if isochrones != "none":
        drawn = [res["isochrones"] for res in results if len(res["isochrones"])]
        iso = stitch(isochrones, _concat(drawn, ignore_index=True) if drawn else gpd.GeoDataFrame(),
                     origins=stitched, facilities=every["facilities"],
                     facility_labels=every["facility_labels"],
                     owned=pd.concat([res["owned"] for res in results], ignore_index=True),
                     communities=every.get("communities"), rules=rules,
                     walking_speed=walking_speed)
    return {"lc_origins": stitched, "lc_communities": comm, "lc_gaps": gap,
            "lc_categories": _categories(results, origins), "lc_isochrones": iso}


def _in_data_again(origins: gpd.GeoDataFrame, comm: pd.DataFrame, results: list[dict[str, Any]],
                   tier_m: Mapping[str, float], req: Mapping[str, list[str]]) -> None:
    """``in_data_within_<tier>`` and its community shares as the whole run has them:
    a category the data hold is one some partition owns a facility of, though
    another partition may see none (the partitions' own columns assumed otherwise)."""
    from ..analysis.living_circle import IN_DATA_WITHIN

    in_data = set(pd.concat([res["owned"] for res in results])["category"])
    cid = origins["community_id"].to_numpy(object)
    inside = pd.notna(cid)
    pop = origins["population"].to_numpy(float)
    res = (comm["residents"].where(comm["residents"] > 0)
           if len(comm) and "residents" in comm.columns else None)
    for t, T in tier_m.items():
        flags = [np.nan_to_num(origins[f"dist_{c}_m"].to_numpy(float), nan=np.inf) <= T
                 for c in req[t] if c in in_data]
        ok = np.logical_and.reduce(flags) if flags else np.ones(len(origins), bool)
        origins[IN_DATA_WITHIN + t] = ok
        if res is not None:
            got = pd.Series(pop[inside] * ok[inside]).groupby(cid[inside]).sum()
            comm["share_" + IN_DATA_WITHIN + t] = comm["community_id"].map(got) / res


def _categories(results: list[dict[str, Any]], origins: list[gpd.GeoDataFrame]) -> pd.DataFrame:
    """The category table of the whole run: facilities counted once (by the partition
    owning each), the share served weighted by each partition's residents."""
    from ..analysis.living_circle import category_status

    table = results[0]["outputs"]["lc_categories"].copy()
    pops = np.array([o["population"].to_numpy(float).sum() for o in origins])
    total = pops.sum()
    owned = pd.concat([res["owned"] for res in results], ignore_index=True)
    for i, cat in enumerate(table["category"]):
        mine = owned[owned["category"] == cat]
        n = int(mine["facility"].nunique())
        k = int(mine.loc[mine["on"].to_numpy(bool), "facility"].nunique())
        shares = np.array([res["outputs"]["lc_categories"].set_index("category").at[cat, "share_served"]
                           for res in results], dtype=float)
        served = np.nansum(shares * pops)
        table.loc[table.index[i], ["facilities", "facilities_on_network"]] = (n, k)
        table.loc[table.index[i], "share_served"] = served / total if total > 0 else np.nan
        table.loc[table.index[i], "status"] = category_status(n, k)
    return table


def living_circle(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    partitions: str | int,
    client: Any = None,
    rules: Any = None,
    progress: Callable[[str], None] | None = None,
    isochrones: str | None = "none",
    **options: Any,
) -> dict[str, Any]:
    """:func:`gcgeo.analysis.living_circle.run` of ``layers`` in ``partitions``
    (``"grid:N"``) pieces, each a dask task on ``client`` (a ``distributed.Client``;
    None runs them one after the other here), stitched into the whole run's outputs.

    Takes the living circle's options except ``origins`` (homes come from the
    buildings) and ``graph`` (the network is built from the streets in each
    partition); ``isochrones`` are drawn in the partitions and stitched
    (:mod:`gcgeo.batch.partition_isochrones`).
    One partition, or layers the living circle would refuse, run it whole.
    """
    from .. import rules as _rules
    from ..analysis import living_circle as lc
    from . import partition_isochrones

    n = grid_size(partitions)
    unknown = sorted(set(options) - set(PASSED))
    if unknown:
        raise InputError(f"a partitioned living circle takes the options {', '.join(PASSED)} "
                         f"and isochrones, not {', '.join(unknown)}; run without "
                         "partitions for those.")
    mode = "none" if isochrones in (None, False) else str(isochrones)
    if mode not in lc.ISOCHRONE_MODES:
        raise InputError(f"isochrones must be one of {', '.join(lc.ISOCHRONE_MODES)}, not {mode!r}.")
    opts = {k: v for k, v in options.items() if v is not None}
    say = progress or (lambda stage: None)
    say("partitions")
    h = halo(rules, walking_speed=opts.get("walking_speed"),
             snap_tolerance=opts.get("snap_tolerance"), join_tolerance=opts.get("join_tolerance"))
    if mode != "none":  # the polygons reach a few buffers further
        h = partition_isochrones.halo(h, rules)
    spacing = float(_rules.value(_rules.load(lc.RULES, rules), "areas.gate_spacing"))
    parts, every = split(layers, n, h, gate_spacing=spacing) if n > 1 else ([], {})
    if len(parts) <= 1:
        return lc.run(layers, rules=rules, progress=progress, isochrones=mode, **opts)
    pieces = [partition_layers(every, p, isochrones=mode, halo_m=h) for p in parts]
    say(f"{len(parts)} partitions")
    if client is None:
        results = [run_partition(lay, owned, rules=rules, options=opts, isochrones=mode,
                                 region=p.region) for p, (lay, owned) in zip(parts, pieces)]
    else:
        futures, run = [], uuid.uuid4().hex[:12]
        for p, (lay, owned) in zip(parts, pieces):
            # one object per partition (a dict given to scatter would name the keys)
            (data,) = client.scatter([lay], hash=False)
            futures.append(client.submit(run_partition, data, owned, rules=rules, options=opts,
                                         isochrones=mode, region=p.region,
                                         key=f"gcgeo-partition-{run}-{p.index}", pure=False))
        results = client.gather(futures)
    say("stitching")
    return _stitch(results, every, rules, opts.get("walking_speed"), mode)
