"""Living-circle isochrones: the buffered streets reached, per community, per
facility, per category (dissolved) or per nearest facility (split).

The modes are those of the service-area tools planners know (Esri's
Network Analyst overlap / dissolve / split, ORS Tools and QNEAT3 per point
or dissolved): ``facility`` one polygon per facility and tier, overlapping;
``dissolved`` per category and tier the area some facility reaches;
``split`` that area divided among the facilities, each piece of street going
to the facility nearest to it along the network and each point of the area
to the nearest reached street (the polygons of a category and tier do not
overlap).  Every polygon of these three modes carries the homes and
residents it covers.

Built from the reached street pieces (never convex hulls); the pieces and tiles
they share are merged once (:mod:`gcgeo.analysis._isochrones`).  Per facility
the buffer is drawn from square cells instead (:mod:`gcgeo.analysis._iso_grid`):
never beyond the buffered streets, missing at most
:func:`gcgeo.analysis._iso_grid.tolerance` of the buffer's edge, with the homes
in reach covered and the far homes left out exactly as in the other modes.
Per community (the default) likewise, from cells laid once per category and
tier over the town and clipped exactly to each community
(:mod:`gcgeo.analysis._iso_town`): the edge of the buffer a staircase up to
that tolerance inside it (17.6 m with the 50 m buffer), the homes in reach in
the community covered, the far homes out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..network import dist_via_ends, locate_snaps, near_first, near_searches, point_dist
from ..values import feature_ids
from . import _iso_grid as _grid
from . import _iso_procs as _procs
from . import _iso_town as _town
from . import _isochrones as _iso

__all__ = ["category_isochrones", "community_isochrones", "count_homes", "facility_isochrones"]

#: Spacing (m) of the points along the reached streets whose Voronoi cells
#: divide a category's area among its facilities (split mode).
SITE_SPACING = 10.0


def community_isochrones(aug, node_d, out, communities, tier_m, req, buf, dist):
    """Per community, tier and category the buffered reached streets inside the
    community, and per tier their intersection ("all").

    Drawn from square cells laid once per category and tier over the town and
    clipped to each community (:mod:`gcgeo.analysis._iso_town`): never beyond
    the buffered streets nor the community, missing at most
    :func:`gcgeo.analysis._iso_grid.tolerance` of the buffer's edge, with the
    homes in reach covered and the far homes left out as per facility.
    """
    rows = []
    if communities is not None and len(communities):
        cid = feature_ids(communities).to_numpy()
        names = communities["name"].to_numpy(object) if "name" in communities.columns \
            else np.full(len(communities), None)
        polys = communities.geometry.to_numpy()
        live = [i for i in range(len(polys)) if polys[i] is not None and not polys[i].is_empty]
        if live:
            present = ~(out.geometry.isna() | out.geometry.is_empty).to_numpy()
            home_xy = np.full((len(out), 2), np.nan)
            home_xy[present] = shapely.get_coordinates(out.geometry.to_numpy()[present])
            cell = min(_grid.CELL, buf / 10) if buf > 0 else _grid.CELL
            town = _town.Town(_iso.Pieces(aug, buf), home_xy, out["connector_m"].to_numpy(float),
                              polys[live], cell=cell)
            area = _town.community_areas(town, polys, live, node_d, dist, tier_m, req)
            for i in live:
                for t, T in tier_m.items():
                    for c in req[t]:
                        rows.append((cid[i], names[i], c, t, T, area[(i, c, t)]))
                    if req[t]:
                        rows.append((cid[i], names[i], "all", t, T, area[(i, "all", t)]))
    df = pd.DataFrame(rows, columns=["community_id", "community_name", "category", "tier",
                                     "distance_m", "geometry"])
    # (the homes and residents of a community are in lc_communities)
    return _table(df, buf, out, None)


def _table(df: pd.DataFrame, buf: float, out: gpd.GeoDataFrame, homes: _iso.Homes | None
           ) -> gpd.GeoDataFrame:
    """The isochrone rows with their buffer, area, and (given ``homes``) the
    homes and residents inside."""
    df["buffer_m"] = buf
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=out.crs)
    gdf["area_m2"] = gdf.geometry.area
    if homes is None:
        return gdf
    return count_homes(gdf, out, homes)


def count_homes(gdf: gpd.GeoDataFrame, out: gpd.GeoDataFrame, homes: _iso.Homes | float
                ) -> gpd.GeoDataFrame:
    """``gdf`` (isochrone polygons) with the ``homes`` and ``residents`` of ``out``
    (the living circle's homes) inside each polygon; ``homes`` is the
    :class:`_isochrones.Homes` of ``out`` or the isochrone buffer to build it with."""
    if not isinstance(homes, _iso.Homes):
        homes = _iso.Homes(out.geometry.to_numpy(), float(homes))
    pop = out["population"].to_numpy(float) if "population" in out.columns \
        else np.ones(len(out))
    n = np.zeros(len(gdf), dtype=np.int64)
    res = np.zeros(len(gdf))
    if len(gdf):
        with _iso.pool() as ex:
            for k, idx in enumerate(ex.map(lambda g: _iso.inside(g, homes), gdf.geometry.to_numpy())):
                n[k] = len(idx)
                res[k] = np.nansum(pop[idx])
    gdf["homes"] = n
    gdf["residents"] = res
    return gdf


def facility_isochrones(aug, fac, fcat, osnap, out, tier_m, req, buf, chunk: int = 32,
                        processes: bool | None = None):
    """Per facility and tier the buffered streets reached from it, drawn from
    square cells (:class:`gcgeo.analysis._iso_grid.Grid`), with the homes and
    residents inside (read off the cells: exact).

    Facilities are taken in chunks of neighbours (a few search calls for the
    chunk); only the homes in a facility's window of cells get a distance.
    A facility's tiers share one window of cells, and a chunk's polygons are
    traced together (:func:`gcgeo.analysis._iso_grid.draw`).  From
    :data:`PROCESS_MIN` facilities on (``processes=None``; True or False to
    choose) the chunks are shared with a forked child where the system allows
    (:mod:`gcgeo.analysis._iso_procs`), else the facilities of a chunk go to
    threads: the same polygons either way.
    """
    fid = feature_ids(fac).to_numpy()
    on = np.flatnonzero(aug.target_node >= 0)
    on = on[near_first(fac.geometry.to_numpy()[on])]
    where = locate_snaps(aug, osnap)
    present = ~(out.geometry.isna() | out.geometry.is_empty).to_numpy()
    home_xy = np.full((len(out), 2), np.nan)
    home_xy[present] = shapely.get_coordinates(out.geometry.to_numpy()[present])
    # (cells of a tenth of a narrower buffer, so that its edge stays as fine)
    cell = min(_grid.CELL, buf / 10) if buf > 0 else _grid.CELL
    # per home the nodes either side and the way to each (NaN off the network), and
    # its connector, one row a home (:func:`gcgeo.network.dist_via_ends`)
    ends = np.zeros((len(out), 2), dtype=np.int64)
    gaps = np.full((len(out), 2), np.nan)
    snap_conn = np.full(len(out), np.nan)
    on_net = np.flatnonzero(where[0])
    ends[on_net] = np.column_stack(where[1:3])
    gaps[on_net] = np.column_stack(where[3:5])
    snap_conn[on_net] = where[5]
    pop = out["population"].to_numpy(float) if "population" in out.columns \
        else np.ones(len(out))
    job = _Chunks(aug, ends, gaps, snap_conn,
                  _grid.Grid(_iso.Pieces(aug, buf), home_xy, cell=cell),
                  out["connector_m"].to_numpy(float), pop, fcat, tier_m, req, buf)
    sels = [on[s:s + chunk] for s in range(0, len(on), chunk)]
    if processes is None:
        processes = len(on) >= PROCESS_MIN and _procs.can_fork()
    if processes and len(sels) > 1:
        got = _procs.both_ends(lambda k: _draw_chunk(job, sels[k], map), len(sels),
                               pack=_pack, unpack=_unpack)
    else:
        with _iso.pool() as ex:
            got = [_draw_chunk(job, sel, ex.map) for sel in sels]
    rows = [(i, fid[i], fcat[i], t, T, g, n, res) for part in got
            for i, t, T, g, n, res in part]
    rows.sort(key=lambda row: (row[0], row[4]))  # in the facilities' order
    df = pd.DataFrame([row[1:6] for row in rows],
                      columns=["facility_id", "category", "tier", "distance_m", "geometry"])
    gdf = _table(df, buf, out, None)
    gdf["homes"] = np.array([row[6] for row in rows], dtype=np.int64)
    gdf["residents"] = np.array([row[7] for row in rows], dtype=float)
    return gdf


#: Facilities from which :func:`facility_isochrones` shares its chunks with a
#: forked child (fewer: the fork costs more than it saves).
PROCESS_MIN = 128


class _Chunks(NamedTuple):
    """What every chunk of :func:`facility_isochrones` reads: per home
    (:func:`gcgeo.network.locate_snaps`) the nodes either side (``ends``, 0 off
    the network), the way to each (``gaps``) and the connector (``snap_conn``;
    both NaN off the network)."""

    aug: Any
    ends: np.ndarray
    gaps: np.ndarray
    snap_conn: np.ndarray
    grid: _grid.Grid
    connector: np.ndarray
    pop: np.ndarray
    fcat: np.ndarray
    tier_m: dict
    req: dict
    buf: float


def _draw_chunk(job: _Chunks, sel: np.ndarray, mapper: Callable) -> list[tuple]:
    """The polygons of the facilities ``sel``, as (facility, tier, distance,
    polygon, homes and residents inside: read off the cells, the polygon is
    their union, exact); ``mapper`` (:func:`map` or a thread
    pool's) spreads the facilities' cells and the tracing."""
    grid, aug = job.grid, job.aug
    tiers_of = [[(t, T) for t, T in job.tier_m.items() if job.fcat[i] in job.req[t]]
                for i in sel]
    lim = max((T for tt in tiers_of for _, T in tt), default=0.0)
    if lim == 0:
        return []
    # homes up to the limit plus the buffer need exact distances (see Grid.area), each
    # facility's searched on the nodes near the chunk (network.near_searches): its
    # distances over those nodes and a last inf, every node's position in them (-1:
    # beyond the limit), and the nodes it reaches
    rows_of: list[np.ndarray] = [np.zeros(0)] * len(sel)
    reached: list[np.ndarray] = [np.zeros(0, np.int64)] * len(sel)
    at = np.zeros(0, np.int64)
    for part, near, local, d in near_searches(aug.csr, aug.target_node[sel], lim + job.buf,
                                              chunk=len(sel)):
        at = local.copy() if not len(at) else at  # (one set of nodes for the chunk)
        ext = np.concatenate([d, np.full((len(d), 1), np.inf)], axis=1)
        for r, j in enumerate(part):
            rows_of[j] = ext[r]
            reached[j] = near[np.isfinite(d[r])]

    def one(j):
        nd = rows_of[j]

        def home_dist(idx):  # (only the homes of the facility's window; NaN off the network)
            return dist_via_ends(nd, np.take(at, np.take(job.ends, idx, axis=0)),
                                 np.take(job.gaps, idx, axis=0), np.take(job.snap_conn, idx))

        ij, pd_ = grid.reached_cells(nd, max(T for _, T in tiers_of[j]), reached[j], at=at)
        return grid.cells(ij, pd_, home_dist, job.connector, [T for _, T in tiers_of[j]])

    live = [j for j in range(len(sel)) if tiers_of[j]]
    got = list(mapper(one, live))
    todo = [(sel[j], t, T, c) for j, g in zip(live, got) for (t, T), c in zip(tiers_of[j], g)]
    # the chunk's polygons traced together, in a few parts for the threads (of
    # masks of like widths: they are laid one above the other)
    by_width = np.argsort([c.mask.shape[1] for *_, c in todo], kind="stable")
    parts = np.array_split(by_width, min(len(todo), 4))
    rows = []
    for part, drawn in zip(parts, mapper(lambda cs: _grid.draw(cs, grid.origin, grid.cell),
                                         [[todo[k][3] for k in part] for part in parts])):
        for k, (g, inside) in zip(part, drawn):
            i, t, T, _ = todo[k]
            rows.append((int(i), t, T, g, len(inside), np.nansum(job.pop[inside])))
    return rows


def _pack(rows: list[tuple]) -> tuple[list[tuple], np.ndarray]:
    """A chunk's rows for another process: the polygons as WKB."""
    return ([row[:3] + row[4:] for row in rows],
            shapely.to_wkb(np.array([row[3] for row in rows], dtype=object)))


def _unpack(packed: tuple[list[tuple], np.ndarray]) -> list[tuple]:
    """:func:`_pack`'s rows as they were."""
    rest, wkb = packed
    geoms = shapely.from_wkb(wkb) if len(wkb) else []
    return [(i, t, T, g, *counts) for (i, t, T, *counts), g in zip(rest, geoms)]


def category_isochrones(aug, fac, fcat, osnap, out, tier_m, req, buf, *, split: bool):
    """Per category and tier the area some facility reaches (``split=False``),
    or that area divided among the facilities by nearest facility (``split=True``).

    One multi-source search per category gives every node its distance and
    nearest facility (:func:`scipy.sparse.csgraph.dijkstra` with
    ``min_only=True``).  The dissolved area is the buffered reached streets
    less the area around homes out of reach (as per facility); it equals
    the union of the facilities' own polygons except within one buffer of
    homes out of reach (a polygon is cut only around the homes it would
    cover, and a home one facility reaches is kept).  Split: each piece of street goes to
    the facility nearest to it (a piece between two is cut where their
    distances meet) and each point of the area to the nearest reached street,
    by the Voronoi cells of points every :data:`SITE_SPACING` metres along the
    streets; the polygons of a category and tier therefore do not overlap and
    together make its dissolved area.  They come in the facilities' order.
    """
    from scipy.sparse.csgraph import dijkstra

    homes = _iso.Homes(out.geometry.to_numpy(), buf)
    fid = feature_ids(fac).to_numpy()
    where = locate_snaps(aug, osnap)
    pieces = _iso.Pieces(aug, buf)
    rows: list[tuple] = []
    for c in dict.fromkeys(c for t in tier_m for c in req[t]):
        tiers_c = [(t, T) for t, T in tier_m.items() if c in req[t]]
        mine = np.flatnonzero((fcat == c) & (aug.target_node >= 0))
        if not len(mine):
            continue
        src = np.unique(aug.target_node[mine])
        lim = max(T for _, T in tiers_c) + buf
        d, _, near = dijkstra(aug.csr, directed=True, indices=src, min_only=True,
                              return_predecessors=True, limit=lim)
        d[~np.isfinite(d)] = np.nan
        near[np.isnan(d)] = -1
        hd = point_dist(aug, osnap, d, where=where)
        # a node's facilities: the first in the data names the polygon, all are counted
        first: dict[int, object] = {}
        rank: dict[int, int] = {}  # the position of that first facility
        count: dict[int, int] = {}
        for i in mine:
            n = int(aug.target_node[i])
            first.setdefault(n, fid[i])
            rank.setdefault(n, int(i))
            count[n] = count.get(n, 0) + 1
        for t, T in tiers_c:
            area = pieces.tiled(pieces.reach(d, T))
            if not split:
                rows.append((None, len(mine), c, t, T,
                             _iso.drop_unreached(area.whole(), homes, hd, T)))
                continue
            # cut around the homes out of reach in the whole area, then divided
            cuts = _iso.unreached_cuts(area.whole(), homes, hd, T)
            cut_tree = shapely.STRtree(cuts)
            got = []
            for n, terr in _territories(*pieces.split_lines(d, near, T)):
                g = area.whole() if terr is None else area.within(terr)
                cut = cuts if terr is None else cuts[cut_tree.query(terr, predicate="intersects")]
                if len(cut):
                    g = shapely.difference(g, shapely.union_all(cut))
                got.append((rank[n], (first[n], count[n], c, t, T, _iso.multi(g))))
            rows.extend(row for _, row in sorted(got, key=lambda r: r[0]))  # facilities' order
    df = pd.DataFrame(rows, columns=["facility_id", "facilities", "category", "tier",
                                     "distance_m", "geometry"])
    if not split:
        df = df.drop(columns="facility_id")
    return _table(df, buf, out, homes)


def _territories(label: np.ndarray, lines: np.ndarray):
    """For each source, the part of the plane nearer to its streets than to
    any other source's: the Voronoi cells of points along ``lines`` (their
    vertices and every :data:`SITE_SPACING` metres), merged by ``label``.
    Yields (source, territory), the territory None when there is one source.
    """
    if not len(lines):
        return
    kinds = np.unique(label)
    if len(kinds) == 1:
        yield int(kinds[0]), None
        return
    coords, idx = _grid.segmentized_coords(lines, SITE_SPACING)
    # one site per distinct point (a point two sources share goes to the first), on a
    # centimetre grid (sites closer than that leave cells GEOS cannot merge)
    xy, first = np.unique(np.round(coords, 2), axis=0, return_index=True)
    lab = label[idx[first]]
    pts = shapely.multipoints(xy)
    box = shapely.box(*(xy.min(axis=0) - 1e4), *(xy.max(axis=0) + 1e4))
    cells = np.asarray(shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box,
                                                                   ordered=True)))
    bad = ~shapely.is_valid(cells)  # GEOS's Voronoi cells can self-intersect at near-collinear sites
    cells[bad] = shapely.make_valid(cells[bad])
    order = np.argsort(lab, kind="stable")
    bounds = np.flatnonzero(np.diff(lab[order])) + 1
    for grp in np.split(order, bounds):
        # (the cells are not noded exactly enough for coverage_union)
        yield int(lab[grp[0]]), shapely.union_all(cells[grp])
