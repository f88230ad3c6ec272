"""Fire and rescue lanes (消防车道 / 生命通道): clear width, clear height, turnarounds.

Criterion 8 of the green-community standard asks for orderly parking and no
occupied fire or rescue lanes.  GB 50016-2014 (2018 ed.) §7.1.8 wants a clear
width and a clear height of at least 4.0 m; §7.1.9 wants a turnaround of at
least 12 m × 12 m (15 m × 15 m for high-rise buildings) at a dead end.  All
figures come from ``gcgeo/rules/fire_lanes.toml`` and can be overridden.

How the clear width is measured
-------------------------------
Stations are placed every ``spacing`` metres along each lane (centred in
equal steps, so every station stands for the same length).  At each station
a cross-section perpendicular to the lane is drawn: the lane's design width
centred on the centre line, or, for a lane given as a polygon, the polygon's
own cross-section there.  Every obstruction footprint, parking space and
building intruding into the cross-section is cut out of it; the widest free
run left is the clear width at that station.  Point obstructions get a
footprint by kind (a car 1.8 m × 4.8 m, …) turned along the nearest lane.
Everything is vectorised with shapely 2 and an STRtree.

Dead ends of the lane network that do not join a drivable street need a
turnaround in which a square of the required side fits (largest inscribed
square, tested exactly for a set of orientations), taken from a
``turnarounds`` layer and the lane itself near the end, minus whatever
stands on it.

>>> import geopandas as gpd, shapely
>>> lanes = gpd.GeoDataFrame({"width_m": [4.5]},
...     geometry=[shapely.LineString([(0, 0), (20, 0)])], crs="EPSG:4547")
>>> car = gpd.GeoSeries([shapely.box(8, 0.75, 12.8, 2.55)], crs="EPSG:4547")
>>> st = clear_width(lanes, car, spacing=1.0)
>>> float(st["clear_width_m"].min())
3.0
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity

from .. import rules as _rules
from .._errors import AnalysisError, CRSError, RulesError
from ..layers.buildings import residential_mask
from ..values import to_bool

__all__ = [
    "FINDING_KINDS",
    "clear_width",
    "dead_ends",
    "lane_centreline",
    "largest_inscribed_square",
    "load_rules",
    "obstruction_footprints",
    "run",
    "summary",
    "turnaround_ok",
]

log = logging.getLogger(__name__)

RULES_NAME = "fire_lanes"
#: Built-in rule sets the analysis reads (a change to one makes its results stale).
RULE_SETS = (RULES_NAME,)
#: workspace layers the analysis reads (its results are stale once one changes)
INPUTS = ("fire_lanes", "turnarounds", "obstructions", "parking", "buildings", "streets",
          "communities")

#: Kinds of finding, in the order they are reported.
FINDING_KINDS = ("too_narrow", "obstructed", "no_turnaround", "low_clearance")

#: How far beyond its own half-diagonal a point obstruction looks for the lane
#: to turn its footprint along (covers lanes up to 20 m wide); a search bound,
#: not a standard's figure.
_ORIENT_REACH_M = 10.0

_FINDING_COLUMNS = [
    "lane_id", "kind", "label_zh", "measured", "required", "unit", "clause",
    "obstruction_ids", "obstruction_kinds", "from_m", "to_m", "severity",
    "severity_rank", "community", "community_id", "note",
]


# --------------------------------------------------------------------------
# small helpers


def load_rules(rules: Mapping[str, Any] | str | Path | None = None) -> dict[str, Any]:
    """The fire-lane rules: built-in, or updated by a user's TOML path or mapping."""
    return _rules.load(RULES_NAME, rules)


def _v(r: Mapping[str, Any], key: str) -> Any:
    return _rules.value(r, key)


def _clause(r: Mapping[str, Any], key: str) -> str:
    return str(_rules.threshold(r, key).get("clause", ""))


def _check_metric(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None:
        raise CRSError(
            f"layer '{what}' has no CRS; declare it (gcgeo.crs.declare_crs) and reproject it to "
            "a metric CRS with gcgeo.crs.to_metric before measuring fire lanes."
        )
    if not gdf.crs.is_projected:
        raise CRSError(
            f"layer '{what}' is in {gdf.crs.name}, a geographic CRS (degrees); lane widths need "
            f"metres. Reproject it first: gcgeo.crs.to_metric({what}) (a CGCS2000 zone in China, "
            "UTM elsewhere)."
        )


def _align(gdf: gpd.GeoDataFrame | gpd.GeoSeries | None, crs: Any, what: str):
    """``gdf`` in ``crs`` (the lanes' CRS).

    A layer without a CRS is refused when ``crs`` is set: its coordinates may
    be degrees or another projection, and guessing would silently find nothing.
    """
    if gdf is None:
        return None
    if gdf.crs is None:
        if crs is None:
            return gdf
        raise CRSError(
            f"layer '{what}' has no CRS while the fire lanes are in {crs.name}; its coordinates "
            f"cannot be matched to the lanes. Declare its CRS when importing it (--src-crs, e.g. "
            f"--src-crs EPSG:4490 for lon/lat, or gcgeo.crs.declare_crs) so it can be reprojected."
        )
    if crs is not None and not gdf.crs.equals(crs):
        log.info("reprojecting layer '%s' to the fire lanes' CRS.", what)
        return gdf.to_crs(crs)
    return gdf


def _ids(gdf: pd.DataFrame | pd.Series) -> np.ndarray:
    """Labels users know rows by: the ``id`` column where set, else the index label."""
    idx = np.array([str(i) for i in gdf.index], dtype=object)
    if isinstance(gdf, pd.DataFrame) and "id" in gdf.columns:
        col = gdf["id"]
        ok = col.notna().to_numpy()
        idx[ok] = col[ok].astype(str).to_numpy()
    return idx


def _num_read(gdf: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of ``col`` in metres, and a mask of values given but unreadable.

    Text such as ``"3.5米"``, ``"3.5m"`` or ``" 3.5 M "`` reads as 3.5; a
    missing column or blank cell is NaN and not unreadable.
    """
    n = len(gdf)
    if col not in gdf.columns:
        return np.full(n, np.nan), np.zeros(n, bool)
    series = gdf[col]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype="float64", na_value=np.nan, copy=True), np.zeros(n, bool)
    text = series.astype("string").str.strip()
    text = text.str.replace(r"\s*(?:米|[mM])$", "", regex=True)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    given = (series.notna() & (text != "").fillna(False)).to_numpy(dtype=bool)
    return values, given & ~np.isfinite(values)


def _num(gdf: pd.DataFrame, col: str) -> np.ndarray:
    return _num_read(gdf, col)[0]


def _geoms(obj: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    series = obj.geometry if isinstance(obj, gpd.GeoDataFrame) else obj
    return np.asarray(series.array, dtype=object)


def _list(ids: np.ndarray, limit: int = 10) -> str:
    ids = [str(i) for i in ids]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _repair(geoms: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    """Invalid geometries made valid (warning names the ids); empty ones set to None."""
    out = geoms.copy()
    missing = shapely.is_missing(out) | shapely.is_empty(out)
    if missing.any():
        log.warning("layer '%s': %d rows without geometry skipped (ids %s).", what,
                    int(missing.sum()), _list(ids[missing]))
        out[missing] = None
    bad = ~missing & ~shapely.is_valid(out)
    if bad.any():
        reasons = shapely.is_valid_reason(out[bad])
        log.warning("layer '%s': %d invalid geometries repaired with make_valid (ids %s; %s).",
                    what, int(bad.sum()), _list(ids[bad]), reasons[0])
        out[bad] = shapely.make_valid(out[bad])
    return out


def _unit(dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = np.hypot(dx, dy)
    zero = norm == 0
    norm[zero] = 1.0
    ux, uy = dx / norm, dy / norm
    ux[zero], uy[zero] = 1.0, 0.0
    return ux, uy


def _tangent(lines: np.ndarray, s: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit tangent of ``lines`` at distances ``s`` (central difference ± ``delta``)."""
    length = shapely.length(lines)
    p0 = shapely.line_interpolate_point(lines, np.clip(s - delta, 0.0, length))
    p1 = shapely.line_interpolate_point(lines, np.clip(s + delta, 0.0, length))
    return _unit(shapely.get_x(p1) - shapely.get_x(p0), shapely.get_y(p1) - shapely.get_y(p0))


def _walk(lines: np.ndarray, which: np.ndarray, s: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Point and unit tangent at distance ``s`` along ``lines[which]`` (numpy, no GEOS).

    The tangent is the direction of the segment the point falls on (the
    outgoing one at a vertex).
    """
    coords, ci = shapely.get_coordinates(lines, return_index=True)
    n_l = len(lines)
    counts = np.bincount(ci, minlength=n_l)
    off = np.r_[0, np.cumsum(counts)[:-1]]
    d = np.hypot(*np.diff(coords, axis=0).T) if len(coords) > 1 else np.zeros(0)
    d[ci[1:] != ci[:-1]] = 0.0
    cl = np.r_[0.0, np.cumsum(d)]
    cl -= cl[off][ci]
    big = float(cl.max(initial=0.0)) + 1.0
    k = np.searchsorted(cl + ci * big, s + which * big, side="right") - 1
    k = np.clip(k, off[which], off[which] + np.maximum(counts[which] - 2, 0))
    k1 = np.minimum(k + 1, len(coords) - 1)
    dx, dy = coords[k1, 0] - coords[k, 0], coords[k1, 1] - coords[k, 1]
    seg = np.hypot(dx, dy)
    ok = seg > 0
    frac = np.where(ok, (s - cl[k]) / np.where(ok, seg, 1.0), 0.0)
    x, y = coords[k, 0] + frac * dx, coords[k, 1] + frac * dy
    ux, uy = _unit(dx, dy)
    if (~ok).any():  # zero-length segment: fall back to a central difference
        bad = np.flatnonzero(~ok)
        ux[bad], uy[bad] = _tangent(lines[which[bad]], s[bad], np.full(len(bad), 0.25))
    return x, y, ux, uy


def _pairs(res: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    res = np.asarray(res)
    if res.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return res[0].astype(int), res[1].astype(int)


# --------------------------------------------------------------------------
# polygon lanes: centre line from the medial axis


def lane_centreline(polygon: shapely.Geometry, *, spacing: float | None = None) -> shapely.Geometry:
    """Centre line of a lane polygon, from its medial axis.

    The boundary is densified every ``spacing`` metres (default: a quarter of
    the polygon's mean width, at most 1 m), the Voronoi edges inside the
    polygon give the medial axis, short corner spurs are pruned, the longest
    path is kept (the whole pruned axis when it has loops, as for a ring lane)
    and its ends are extended to the polygon's boundary.

    >>> line = lane_centreline(shapely.box(0, 0, 40, 4))
    >>> [round(c, 3) for c in line.bounds]
    [0.0, 2.0, 40.0, 2.0]
    """
    import networkx as nx

    poly = polygon if polygon.is_valid else shapely.make_valid(polygon)
    if poly.geom_type != "Polygon":
        parts = [p for p in shapely.get_parts(poly) if p.geom_type == "Polygon"]
        if not parts:
            return shapely.LineString()
        poly = max(parts, key=lambda p: p.area)
    if poly.is_empty or poly.area == 0:
        return shapely.LineString()
    mean_width = 2.0 * poly.area / poly.length
    d = spacing if spacing is not None else float(np.clip(mean_width / 4.0, 0.05, 1.0))
    dense = shapely.segmentize(poly, d)
    pts = np.unique(np.round(shapely.get_coordinates(dense.boundary), 9), axis=0)
    edges = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), only_edges=True))
    shapely.prepare(poly)
    edges = edges[shapely.contains_properly(poly, edges)]
    if len(edges) == 0:
        c = poly.centroid
        return shapely.LineString([c, c])
    coords = shapely.get_coordinates(edges).reshape(-1, 2, 2)
    graph = nx.Graph()
    key = np.round(coords, 6)
    for (a, b), (ca, cb) in zip(key, coords, strict=True):
        ta, tb = tuple(a), tuple(b)
        if ta != tb:
            graph.add_edge(ta, tb, weight=float(np.hypot(*(cb - ca))))
    # prune corner spurs: terminal branches shorter than twice the radius
    # (distance to the boundary) at the junction they leave from
    boundary = poly.boundary
    for _ in range(2):
        leaves = [n for n in graph.nodes if graph.degree(n) == 1]
        remove: list[tuple[float, float]] = []
        for leaf in leaves:
            branch, length, prev, node = [leaf], 0.0, None, leaf
            while graph.degree(node) <= 2:
                nxt = [m for m in graph.neighbors(node) if m != prev]
                if not nxt:
                    break
                length += graph[node][nxt[0]]["weight"]
                prev, node = node, nxt[0]
                if graph.degree(node) <= 2:
                    branch.append(node)
            if graph.degree(node) >= 3:
                radius = boundary.distance(shapely.Point(node))
                if length < 2.0 * radius:
                    remove.extend(branch)
        if not remove:
            break
        graph.remove_nodes_from(remove)
    comp = max(nx.connected_components(graph), key=len)
    sub = graph.subgraph(comp)
    if sub.number_of_edges() >= sub.number_of_nodes():  # loops: keep the whole axis
        merged = shapely.line_merge(shapely.multilinestrings(
            [shapely.LineString([a, b]) for a, b in sub.edges]))
        return shapely.simplify(merged, d / 2.0)
    start = next(iter(comp))
    dist = nx.single_source_dijkstra_path_length(sub, start)
    u = max(dist, key=dist.get)
    dist, paths = nx.single_source_dijkstra(sub, u)
    v = max(dist, key=dist.get)
    path = np.array(paths[v])
    if len(path) < 2:
        path = np.array([path[0], path[0]])
    line = shapely.simplify(shapely.LineString(path), d / 2.0)
    return _extend_to_boundary(line, poly)


def _extend_to_boundary(line: shapely.LineString, poly: shapely.Polygon) -> shapely.LineString:
    coords = list(shapely.get_coordinates(line))
    if len(coords) < 2 or line.length == 0:
        return line
    reach = math.hypot(poly.bounds[2] - poly.bounds[0], poly.bounds[3] - poly.bounds[1])
    out = [np.asarray(c) for c in coords]
    for at_start in (True, False):
        end = out[0] if at_start else out[-1]
        back = line.interpolate(min(line.length, 1.0) if at_start else max(0.0, line.length - 1.0))
        direction = end - np.array([back.x, back.y])
        norm = np.hypot(*direction)
        if norm == 0:
            continue
        ray = shapely.LineString([end, end + direction / norm * reach])
        piece = ray.intersection(poly)
        best = None
        for part in shapely.get_parts(piece):
            if part.geom_type == "LineString" and part.distance(shapely.Point(end)) < 1e-6:
                best = part
        if best is None:
            continue
        far = max(shapely.get_coordinates(best), key=lambda c: np.hypot(*(c - end)))
        if np.hypot(*(far - end)) > 1e-9:
            if at_start:
                out.insert(0, far)
            else:
                out.append(far)
    return shapely.LineString(out)


# --------------------------------------------------------------------------
# lanes → pieces (single centre lines with a width or a polygon)


@dataclass
class _Pieces:
    lane_pos: np.ndarray  # position of the lane row each piece belongs to
    line: np.ndarray  # centre lines
    poly: np.ndarray  # lane polygon or None
    width: np.ndarray  # design width of line pieces (NaN for polygon pieces)
    area: np.ndarray  # the lane's surface (line buffered, or the polygon)
    lane_ids: np.ndarray  # one per lane row
    width_source: np.ndarray  # one per lane row: given / default / polygon / skipped


def _prepare(lanes: gpd.GeoDataFrame, r: Mapping[str, Any], what: str = "fire_lanes") -> _Pieces:
    ids = _ids(lanes)
    geoms = _repair(_geoms(lanes), ids, what)
    width, unreadable = _num_read(lanes, "width_m")
    bad_w = np.isfinite(width) & (width <= 0)
    unreadable |= bad_w
    width[bad_w] = np.nan
    default = float(_v(r, "lane.default_width"))
    parts, pos = shapely.get_parts(geoms, return_index=True)
    tid = shapely.get_type_id(parts)
    is_line = np.isin(tid, (1, 2))
    is_poly = tid == 3
    other = ~(is_line | is_poly)
    if other.any():
        log.warning("layer '%s': parts that are neither lines nor polygons skipped (ids %s).",
                    what, _list(np.unique(ids[pos[other]])))
    lines_l = parts[is_line]
    ring = tid[is_line] == 2
    if ring.any():
        lines_l[ring] = shapely.linestrings(
            [shapely.get_coordinates(g) for g in lines_l[ring]])
    pos_l = pos[is_line]
    # polygon lanes: centre line(s) from the medial axis
    polys = parts[is_poly]
    pos_p = pos[is_poly]
    cl_lines, cl_pos, cl_poly = [], [], []
    for poly, p in zip(polys, pos_p, strict=True):
        cl = lane_centreline(poly)
        for part in shapely.get_parts(cl):
            if part.geom_type == "LineString" and part.length > 0:
                cl_lines.append(part)
                cl_pos.append(p)
                cl_poly.append(poly)
    line = np.concatenate([lines_l, np.array(cl_lines, dtype=object)])
    if len(line) == 0:
        raise AnalysisError(
            f"layer '{what}' has no usable lane: every feature is missing, empty, a point or a "
            f"polygon without a centre line (ids {_list(ids)}). Draw the lanes as centre lines "
            "(with width_m) or as lane polygons."
        )
    lane_pos = np.concatenate([pos_l, np.array(cl_pos, dtype=int)]).astype(int)
    poly_arr = np.concatenate([np.full(len(lines_l), None, dtype=object),
                               np.array(cl_poly, dtype=object)])
    w = np.concatenate([width[pos_l], np.full(len(cl_lines), np.nan)])
    is_p = np.concatenate([np.zeros(len(lines_l), bool), np.ones(len(cl_lines), bool)])
    need_default = ~is_p & ~np.isfinite(w)
    w[need_default] = default
    source = np.full(len(lanes), "skipped", dtype=object)
    has_line = np.zeros(len(lanes), bool)
    has_line[pos_l] = True
    source[has_line] = np.where(np.isfinite(width[has_line]), "given", "default")
    source[np.array(cl_pos, dtype=int)] = "polygon"
    unread = (source == "default") & unreadable
    if unread.any():
        vals = lanes["width_m"].to_numpy(dtype=object)[unread]
        log.warning(
            "layer '%s': width_m of %d lanes cannot be read as a positive width in metres "
            "(ids %s; values %s); measured with the rule default %.1f m (lane.default_width), "
            "marked width_source = 'default'. Write plain numbers such as 4.5 or 4.5米.",
            what, int(unread.sum()), _list(ids[unread]), _list(np.array([str(v) for v in vals]), 5),
            default)
    absent = (source == "default") & ~unreadable
    if absent.any():
        log.warning(
            "layer '%s': %d lanes have no width_m; measured with the rule default %.1f m "
            "(lane.default_width), marked width_source = 'default' (ids %s). Give real widths.",
            what, int(absent.sum()), default, _list(ids[absent]))
    area = np.empty(len(line), dtype=object)
    if (~is_p).any():
        area[~is_p] = shapely.buffer(line[~is_p], w[~is_p] / 2.0, cap_style="flat")
    if is_p.any():
        area[is_p] = poly_arr[is_p]
    return _Pieces(lane_pos, line, poly_arr, w, area, ids, source)


# --------------------------------------------------------------------------
# stations and cross-sections


def _stations(pk: _Pieces, spacing: float, r: Mapping[str, Any]) -> dict[str, np.ndarray]:
    lines = pk.line
    n_p = len(lines)
    length = shapely.length(lines) if n_p else np.zeros(0)
    n = np.maximum(1, np.ceil(length / spacing - 1e-9)).astype(int)
    piece = np.repeat(np.arange(n_p), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    step = (length / n)[piece] if n_p else np.zeros(0)
    ch = (k + 0.5) * step
    x, y, ux, uy = _walk(lines, piece, ch)
    pt = shapely.points(x, y)
    nx_, ny_ = -uy, ux
    width = pk.width[piece].copy()
    half = width / 2.0
    ax, ay = x - nx_ * half, y - ny_ * half
    sec = width.copy()
    is_p = np.array([g is not None for g in pk.poly], dtype=bool)[piece] if n_p else np.zeros(0, bool)
    if is_p.any():
        idx = np.flatnonzero(is_p)
        polys = pk.poly[piece[idx]]
        b = shapely.bounds(polys)
        reach = np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) + 1.0
        c = np.stack([np.column_stack([x[idx] - nx_[idx] * reach, y[idx] - ny_[idx] * reach]),
                      np.column_stack([x[idx] + nx_[idx] * reach, y[idx] + ny_[idx] * reach])],
                     axis=1)
        inter = shapely.intersection(shapely.linestrings(c), polys)
        parts, pidx = shapely.get_parts(inter, return_index=True)
        keep = shapely.get_type_id(parts) == 1
        parts, pidx = parts[keep], pidx[keep]
        dist = shapely.distance(parts, pt[idx[pidx]])
        order = np.lexsort((dist, pidx))
        first = order[np.r_[True, pidx[order][1:] != pidx[order][:-1]]] if len(order) else order
        chosen, cp = parts[first], pidx[first]
        gi = idx[cp]
        s0 = shapely.get_coordinates(shapely.get_point(chosen, 0))
        s1 = shapely.get_coordinates(shapely.get_point(chosen, -1))
        t0 = (s0[:, 0] - x[gi]) * nx_[gi] + (s0[:, 1] - y[gi]) * ny_[gi]
        t1 = (s1[:, 0] - x[gi]) * nx_[gi] + (s1[:, 1] - y[gi]) * ny_[gi]
        lo, hi = np.minimum(t0, t1), np.maximum(t0, t1)
        ax[gi], ay[gi] = x[gi] + nx_[gi] * lo, y[gi] + ny_[gi] * lo
        sec[gi] = hi - lo
        lost = np.setdiff1d(idx, gi)
        if len(lost):
            default = float(_v(r, "lane.default_width"))
            sec[lost] = default
            ax[lost], ay[lost] = x[lost] - nx_[lost] * default / 2, y[lost] - ny_[lost] * default / 2
    return {"piece": piece, "chainage": ch, "step": step, "point": pt, "x": x, "y": y,
            "nx": nx_, "ny": ny_, "ax": ax, "ay": ay, "section": sec}


def _sections(st: Mapping[str, np.ndarray]) -> np.ndarray:
    ax, ay, nx_, ny_, sec = st["ax"], st["ay"], st["nx"], st["ny"], st["section"]
    c = np.stack([np.column_stack([ax, ay]),
                  np.column_stack([ax + nx_ * sec, ay + ny_ * sec])], axis=1)
    return shapely.linestrings(c) if len(c) else np.zeros(0, dtype=object)


def _measure(st: Mapping[str, np.ndarray], obstacles: np.ndarray, tol: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clear width per station and the (station, obstacle) pairs that intrude."""
    sec = st["section"]
    n_st = len(sec)
    clear = sec.astype("float64").copy()
    cs = _sections(st)
    if n_st == 0 or len(obstacles) == 0:
        return clear, np.zeros(0, int), np.zeros(0, int)
    tree = shapely.STRtree(obstacles)
    i, j = _pairs(tree.query(cs, predicate="intersects"))
    if len(i) == 0:
        return clear, i, j
    inter = shapely.intersection(cs[i], obstacles[j])
    parts, pk = shapely.get_parts(inter, return_index=True)
    keep = shapely.get_type_id(parts) == 1
    parts, pk = parts[keep], pk[keep]
    if len(parts) == 0:
        return clear, np.zeros(0, int), np.zeros(0, int)
    coords, ck = shapely.get_coordinates(parts, return_index=True)
    s_c = i[pk[ck]]
    t = (coords[:, 0] - st["ax"][s_c]) * st["nx"][s_c] + (coords[:, 1] - st["ay"][s_c]) * st["ny"][s_c]
    starts = np.searchsorted(ck, np.arange(len(parts)))
    t0 = np.minimum.reduceat(t, starts)
    t1 = np.maximum.reduceat(t, starts)
    s = i[pk]
    ob = j[pk]
    t0 = np.clip(t0, 0.0, sec[s])
    t1 = np.clip(t1, 0.0, sec[s])
    real = (t1 - t0) > tol
    s, ob, t0, t1 = s[real], ob[real], t0[real], t1[real]
    if len(s) == 0:
        return clear, s, ob
    order = np.lexsort((t0, s))
    s, ob, t0, t1 = s[order], ob[order], t0[order], t1[order]
    big = float(sec.max()) + 10.0
    key = t1 + s * big
    runmax = np.maximum.accumulate(key)
    first = np.r_[True, s[1:] != s[:-1]]
    last = np.r_[s[1:] != s[:-1], True]
    prev = np.r_[0.0, runmax[:-1]] - s * big
    prev_end = np.where(first, 0.0, np.maximum(prev, 0.0))
    gap = np.maximum(t0 - prev_end, 0.0)
    hit = np.unique(s)
    clear[hit] = 0.0
    np.maximum.at(clear, s, gap)
    tail = np.maximum(sec[s[last]] - (runmax[last] - s[last] * big), 0.0)
    np.maximum.at(clear, s[last], tail)
    return clear, s, ob


def _runs(piece: np.ndarray, flag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stations in ``flag`` and the id of the contiguous run (per piece) each belongs to."""
    idx = np.flatnonzero(flag)
    if len(idx) == 0:
        return idx, idx
    new = np.r_[True, (np.diff(idx) != 1) | (piece[idx[1:]] != piece[idx[:-1]])]
    return idx, np.cumsum(new) - 1


# --------------------------------------------------------------------------
# obstruction footprints


def _footprint_table(r: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    table = r.get("footprints")
    if not isinstance(table, Mapping) or "other" not in table:
        raise RulesError("rules 'footprints' must hold a table per obstruction kind, "
                         "including 'other'.")
    return {str(k): dict(v) for k, v in table.items()}


def _footprints(obs: gpd.GeoDataFrame, lane_lines: np.ndarray, r: Mapping[str, Any]
                ) -> dict[str, np.ndarray]:
    """Footprints of obstructions (points get one by kind), and what each one checks."""
    table = _footprint_table(r)
    ids = _ids(obs)
    geoms = _repair(_geoms(obs), ids, "obstructions")
    n = len(obs)
    if "kind" in obs.columns:
        kind = obs["kind"].astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)
    else:
        kind = np.full(n, "", dtype=object)
    unknown = ~np.isin(kind, list(table))
    if unknown.any():
        log.warning("layer 'obstructions': %d rows with a missing or unknown kind get the "
                    "'other' footprint (ids %s); kinds: %s.", int(unknown.sum()),
                    _list(ids[unknown]), ", ".join(table))
        kind = kind.copy()
        kind[unknown] = "other"

    kind_s = pd.Series(kind, dtype=object)

    def per_kind(key: str, cast=float) -> np.ndarray:
        lut = {k: cast(v.get(key, table["other"].get(key))) for k, v in table.items()}
        return kind_s.map(lut).to_numpy()

    w = _num(obs, "width_m")
    ln = _num(obs, "length_m")
    height = _num(obs, "height_m")
    w = np.where(np.isfinite(w) & (w > 0), w, per_kind("width_m") if n else w)
    ln = np.where(np.isfinite(ln) & (ln > 0), ln, per_kind("length_m") if n else ln)
    out = geoms.copy()
    tid = shapely.get_type_id(out)
    multi_pt = tid == 4
    if multi_pt.any():
        log.warning("layer 'obstructions': multipoints placed at their centroid (ids %s).",
                    _list(ids[multi_pt]))
        out[multi_pt] = shapely.centroid(out[multi_pt])
        tid = shapely.get_type_id(out)
    pts = np.flatnonzero(tid == 0)
    if len(pts):
        p = out[pts]
        x, y = shapely.get_x(p), shapely.get_y(p)
        ux, uy = np.ones(len(pts)), np.zeros(len(pts))
        lines = lane_lines[~shapely.is_missing(lane_lines)] if len(lane_lines) else lane_lines
        if len(lines):
            # the nearest lane within reach (farther ones cannot be touched)
            reach = float(np.nanmax(np.hypot(w[pts], ln[pts]))) / 2.0 + _ORIENT_REACH_M
            a, b = _pairs(shapely.STRtree(lines).query(p, predicate="dwithin", distance=reach))
            if len(a):
                dist = shapely.distance(p[a], lines[b])
                order = np.lexsort((dist, a))
                first = order[np.r_[True, a[order][1:] != a[order][:-1]]]
                a, b = a[first], b[first]
            s = shapely.line_locate_point(lines[b], p[a])
            _x, _y, tx, ty = _walk(lines, b, s)
            ux[a], uy[a] = tx, ty
        across = per_kind("orientation", str)[pts] == "across"
        ux, uy = np.where(across, -uy, ux), np.where(across, ux, uy)
        nx_, ny_ = -uy, ux
        hl, hw = ln[pts] / 2.0, w[pts] / 2.0
        corners = np.stack([
            np.column_stack([x - ux * hl - nx_ * hw, y - uy * hl - ny_ * hw]),
            np.column_stack([x + ux * hl - nx_ * hw, y + uy * hl - ny_ * hw]),
            np.column_stack([x + ux * hl + nx_ * hw, y + uy * hl + ny_ * hw]),
            np.column_stack([x - ux * hl + nx_ * hw, y - uy * hl + ny_ * hw]),
            np.column_stack([x - ux * hl - nx_ * hw, y - uy * hl - ny_ * hw]),
        ], axis=1)
        rect = shapely.polygons(corners)
        circle = per_kind("shape", str)[pts] == "circle"
        rect[circle] = shapely.buffer(p[circle], hw[circle], quad_segs=4)
        out[pts] = rect
    lin = np.flatnonzero(np.isin(tid, (1, 2, 5)))
    if len(lin):
        out[lin] = shapely.buffer(out[lin], w[lin] / 2.0, cap_style="flat")
    bad = np.isin(shapely.get_type_id(out), (0, 1, 2, 4, 5, 7)) & ~shapely.is_missing(out)
    if bad.any():
        log.warning("layer 'obstructions': geometries that are not areas after repair skipped "
                    "(ids %s).", _list(ids[bad]))
        out[bad] = None
    has_h = np.isfinite(height)
    blocks = per_kind("blocks_width", bool) if n else np.zeros(0, bool)
    checks = per_kind("checks_height", bool) if n else np.zeros(0, bool)
    frees = per_kind("height_frees_width", bool) if n else np.zeros(0, bool)
    return {
        "geometry": out,
        "blocks": blocks & ~(frees & has_h) & ~shapely.is_missing(out),
        "checks": checks & has_h & ~shapely.is_missing(out),
        "needs_height": checks & ~has_h & ~blocks & ~shapely.is_missing(out),
        "height": height,
        "kind": kind,
        "ids": ids,
    }


def obstruction_footprints(
    obstructions: gpd.GeoDataFrame,
    lanes: gpd.GeoDataFrame | None = None,
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
) -> gpd.GeoSeries:
    """Footprint polygon of every obstruction, aligned on its index.

    Polygons are kept (invalid ones repaired); a point gets the default
    footprint of its kind from the rules (``footprints.<kind>``), or its own
    ``width_m`` / ``length_m``, turned along the nearest lane of ``lanes``
    (east–west without lanes).  Rows that cannot be used are None.
    """
    r = load_rules(rules)
    lines = np.zeros(0, dtype=object)
    if lanes is not None and len(lanes):
        lanes = _align(lanes, obstructions.crs, "fire_lanes")
        lines = _prepare(lanes, r).line
    fp = _footprints(obstructions, lines, r)
    return gpd.GeoSeries(fp["geometry"], index=obstructions.index, crs=obstructions.crs,
                         name="footprint")


# --------------------------------------------------------------------------
# clear width (public)


def clear_width(
    lanes: gpd.GeoDataFrame,
    obstacles: gpd.GeoDataFrame | gpd.GeoSeries | None,
    *,
    spacing: float | None = None,
    default_width: float | None = None,
    rules: Mapping[str, Any] | str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Clear width at stations every ``spacing`` m along each lane (default: the rule).

    ``lanes`` are centre lines with ``width_m`` (missing: ``default_width``,
    else the rule default) or lane polygons; ``obstacles`` are footprints
    (polygons; use :func:`obstruction_footprints` for point obstructions).
    Returns one row per station: ``lane`` (the lane's index label),
    ``chainage_m`` along the lane (part), ``width_m`` (the cross-section:
    design width, or the polygon's width there), ``clear_width_m`` (widest
    free run left after cutting out the obstacles) and ``obstacles`` (labels
    of the obstacles intruding, ``;``-separated; the ``id`` column where set).
    """
    _check_metric(lanes, "fire_lanes")
    r = load_rules(rules)
    spacing = float(_v(r, "lane.station_spacing") if spacing is None else spacing)
    if not spacing > 0:
        raise AnalysisError(f"spacing must be a positive number of metres, not {spacing}.")
    if default_width is not None:
        r = _rules.deep_merge(r, {"lane": {"default_width": {"value": float(default_width)}}})
    pk = _prepare(lanes, r)
    st = _stations(pk, spacing, r)
    if obstacles is None:
        obs_geoms, obs_ids = np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    else:
        obstacles = _align(obstacles, lanes.crs, "obstacles")
        obs_ids = _ids(obstacles)
        obs_geoms = _repair(_geoms(obstacles), obs_ids, "obstacles")
    tol = float(_v(r, "lane.width_tolerance"))
    clear, s, ob = _measure(st, obs_geoms, tol)
    labels = np.full(len(clear), "", dtype=object)
    if len(s):
        df = pd.DataFrame({"s": s, "o": obs_ids[ob]}).drop_duplicates()
        joined = df.groupby("s")["o"].agg(";".join)
        labels[joined.index.to_numpy()] = joined.to_numpy()
    return gpd.GeoDataFrame(
        {
            "lane": lanes.index.to_numpy()[pk.lane_pos[st["piece"]]],
            "chainage_m": st["chainage"],
            "width_m": st["section"],
            "clear_width_m": clear,
            "obstacles": labels,
        },
        geometry=st["point"],
        crs=lanes.crs,
    )


# --------------------------------------------------------------------------
# dead ends and turnarounds


def _drivable(streets: gpd.GeoDataFrame | None, r: Mapping[str, Any]) -> np.ndarray:
    if streets is None or len(streets) == 0:
        return np.zeros(0, dtype=object)
    geoms = _repair(_geoms(streets), _ids(streets), "streets")
    if "kind" in streets.columns:
        banned = {str(k).lower() for k in r.get("streets", {}).get("not_drivable", [])}
        kind = streets["kind"].astype("string").str.lower().fillna("").to_numpy(dtype=object)
        geoms = geoms[~np.isin(kind, list(banned))]
    return geoms[~shapely.is_missing(geoms)]


def _dead_ends(pk: _Pieces, streets: np.ndarray, r: Mapping[str, Any],
               exclude_lane: np.ndarray | None = None) -> dict[str, np.ndarray]:
    tol = float(_v(r, "lane.snap_tolerance"))
    join = float(_v(r, "lane.street_join_distance"))
    n = len(pk.line)
    if n == 0:
        return {"piece": np.zeros(0, int), "end": np.zeros(0, int),
                "point": np.zeros(0, dtype=object)}
    pts = np.concatenate([shapely.get_point(pk.line, 0), shapely.get_point(pk.line, -1)])
    piece = np.concatenate([np.arange(n), np.arange(n)])
    end = np.r_[np.zeros(n, int), np.ones(n, int)]
    free = ~np.concatenate([shapely.is_closed(pk.line)] * 2)
    if exclude_lane is not None:
        free &= ~exclude_lane[pk.lane_pos[piece]]
    i, m = _pairs(shapely.STRtree(pk.area).query(pts, predicate="dwithin", distance=tol))
    joined = np.zeros(len(pts), bool)
    other = m != piece[i]
    joined[i[other]] = True
    if len(streets):
        # a street joins the end when a stretch of it longer than the snap
        # tolerance lies near the end but off the lane's own surface (widened
        # sideways only), so a street drawn along the lane itself does not count
        is_p = np.array([g is not None for g in pk.poly], dtype=bool)
        half = np.where(is_p, 0.0, np.nan_to_num(pk.width) / 2.0)
        if is_p.any():
            a = shapely.area(pk.poly[is_p].astype(object))
            half[is_p] = a / shapely.length(pk.poly[is_p].astype(object))  # mean width / 2
        zone = shapely.buffer(pts, join + half[piece], quad_segs=4)
        i2, m2 = _pairs(shapely.STRtree(streets).query(zone, predicate="intersects"))
        keep = free[i2] & ~joined[i2]
        i2, m2 = i2[keep], m2[keep]
        if len(i2):
            own_line = shapely.buffer(pk.line, np.nan_to_num(pk.width) / 2.0 + tol,
                                      cap_style="flat")
            if is_p.any():
                own_line[is_p] = shapely.buffer(pk.poly[is_p].astype(object), tol)
            beyond = shapely.difference(streets[m2], own_line[piece[i2]])
            hit = shapely.length(shapely.intersection(zone[i2], beyond)) > tol
            joined[i2[hit]] = True
    dead = free & ~joined
    return {"piece": piece[dead], "end": end[dead], "point": pts[dead]}


def dead_ends(
    lanes: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame | None = None,
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Ends of the lane network that join neither another lane nor a drivable street.

    A lane end joins another lane when it lies within ``lane.snap_tolerance``
    of that lane's surface; it joins a street when a drivable street (kinds
    in ``streets.not_drivable`` excluded) passes within
    ``lane.street_join_distance`` of it outside the lane's own surface (so a
    street drawn along the lane itself does not count).  Lanes with
    ``dead_end`` false are left out.  Returns points with ``lane`` (index
    label), ``lane_id`` and ``end`` ("start" / "end").
    """
    _check_metric(lanes, "fire_lanes")
    r = load_rules(rules)
    pk = _prepare(lanes, r)
    streets = _align(streets, lanes.crs, "streets")
    de = _dead_ends(pk, _drivable(streets, r), r, _not_dead_end(lanes))
    pos = pk.lane_pos[de["piece"]]
    return gpd.GeoDataFrame(
        {"lane": lanes.index.to_numpy()[pos], "lane_id": pk.lane_ids[pos],
         "end": np.where(de["end"] == 0, "start", "end")},
        geometry=de["point"], crs=lanes.crs,
    )


def _not_dead_end(lanes: gpd.GeoDataFrame) -> np.ndarray:
    if "dead_end" not in lanes.columns:
        return np.zeros(len(lanes), bool)
    flag, bad = to_bool(lanes["dead_end"])
    if bad.any():
        ids = _ids(lanes)[bad.to_numpy(dtype=bool)]
        vals = lanes["dead_end"][bad].astype(str).unique()
        log.warning("layer 'fire_lanes': dead_end values %s cannot be read as yes/no (ids %s); "
                    "those lane ends are checked as dead ends. Use 是/否, yes/no or 1/0.",
                    _list(vals, 5), _list(ids))
    return (~flag).fillna(False).to_numpy(dtype=bool)


def _orientations(poly: shapely.Geometry) -> list[float]:
    """Angles (degrees, 0–90) to try: the longest edges' directions and every 15°."""
    coords = shapely.get_coordinates(shapely.get_exterior_ring(poly))
    d = np.diff(coords, axis=0)
    ln = np.hypot(d[:, 0], d[:, 1])
    ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 90.0
    order = np.argsort(-ln)[:6]
    angles = {round(float(a), 1) % 90.0 for a in ang[order]}
    angles.update(float(a) for a in range(0, 90, 15))
    return sorted(angles)


class _SquareTest:
    """Exact fit test of a square in one polygon, for several orientations at once.

    In a frame turned so the square is axis-aligned, a square centred at c
    lies in P iff c is in P and not in the Minkowski sum of P's boundary with
    the square, i.e. the union of the convex hulls of every boundary edge
    swept by the square.  All orientations are evaluated in one vectorised
    shapely call; the last orientation that fitted is tried first.
    """

    def __init__(self, poly: shapely.Polygon) -> None:
        c = poly.centroid
        base = affinity.translate(poly, -c.x, -c.y)
        self.angles = np.array(_orientations(base))
        rings = [base.exterior, *base.interiors]
        p = np.concatenate([np.asarray(r.coords)[:-1, :2] for r in rings])
        q = np.concatenate([np.asarray(r.coords)[1:, :2] for r in rings])
        th = -np.radians(self.angles)
        rot = np.stack([np.stack([np.cos(th), -np.sin(th)], -1),
                        np.stack([np.sin(th), np.cos(th)], -1)], -2)  # (A, 2, 2)
        self.p = np.einsum("aij,ej->aei", rot, p)
        self.q = np.einsum("aij,ej->aei", rot, q)
        self.polys = np.array([affinity.rotate(base, -a, origin=(0, 0)) for a in self.angles],
                              dtype=object)
        self.best = 0
        # bounds from the largest inscribed circle: a square of side s holds a
        # disc of radius s/2 and lies in one of radius s/√2
        tol = max(1e-3, math.sqrt(poly.area) / 1000.0)
        circle = shapely.maximum_inscribed_circle(poly, tol)
        r = circle.length
        self.low = r * math.sqrt(2.0)
        self.high = min(2.0 * (r + tol), math.sqrt(poly.area))

    def _fits(self, idx: np.ndarray, side: float) -> np.ndarray:
        h = side / 2.0
        offs = np.array([[-h, -h], [h, -h], [h, h], [-h, h]])
        pts = np.concatenate([self.p[idx][:, :, None, :] + offs,
                              self.q[idx][:, :, None, :] + offs], axis=2)
        k, e = pts.shape[:2]
        hulls = shapely.convex_hull(shapely.multipoints(pts.reshape(k * e, 8, 2)))
        cover = shapely.union_all(hulls.reshape(k, e), axis=1)
        free = shapely.difference(self.polys[idx], cover)
        return shapely.area(free) > 1e-9

    def fits(self, side: float) -> bool:
        if side <= self.low:
            return True
        if side >= self.high:
            return False
        if self._fits(np.array([self.best]), side)[0]:
            return True
        rest = np.flatnonzero(np.arange(len(self.angles)) != self.best)
        ok = self._fits(rest, side)
        if ok.any():
            self.best = int(rest[np.argmax(ok)])
            return True
        return False


def _polygons(geom: shapely.Geometry) -> list[shapely.Polygon]:
    if geom is None or geom.is_empty:
        return []
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]


def turnaround_ok(polygon: shapely.Geometry, side: float, *, tolerance: float = 0.05) -> bool:
    """True when a square of ``side`` m (less ``tolerance``) fits in ``polygon``.

    The test is exact for each orientation tried: the polygon's longest edge
    directions and every 15°.

    >>> turnaround_ok(shapely.box(0, 0, 12, 12), 12.0)
    True
    >>> turnaround_ok(shapely.box(0, 0, 10, 10), 12.0)
    False
    """
    target = side - tolerance
    if target <= 0:
        return True
    return any(p.area >= target * target and _SquareTest(p).fits(target)
               for p in _polygons(polygon))


def largest_inscribed_square(polygon: shapely.Geometry, *, precision: float = 0.01) -> float:
    """Side (m) of the largest square that fits in ``polygon``, to ``precision``.

    Bisection on the exact fit test of :func:`turnaround_ok` over the
    orientations it tries (longest edges, every 15°), between the bounds the
    largest inscribed circle gives (r√2 ≤ side ≤ 2r).

    >>> round(largest_inscribed_square(shapely.box(0, 0, 12, 20)), 1)
    12.0
    """
    best = 0.0
    for poly in sorted(_polygons(polygon), key=lambda g: -g.area):
        test = _SquareTest(poly)
        lo, hi = max(best, test.low), test.high + precision
        if hi <= best:
            continue
        while hi - lo > precision:
            mid = (lo + hi) / 2.0
            if test.fits(mid):
                lo = mid
            else:
                hi = mid
        best = max(best, lo)
    return best


def _building_heights(b: gpd.GeoDataFrame, r: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    height = _num(b, "height_m")
    floors = _num(b, "floors")
    est = ~np.isfinite(height) & np.isfinite(floors)
    height = np.where(est, floors * float(_v(r, "high_rise.floor_height")), height)
    mask, how = residential_mask(b)
    if how.startswith("every building"):
        # nothing tells homes from other buildings: the stricter (lower) limit applies
        log.info("buildings have no use or residential column; high-rise means above %.0f m.",
                 float(_v(r, "high_rise.other_height")))
        residential = np.zeros(len(b), bool)
    else:
        residential = mask.to_numpy(dtype=bool)
    limit = np.where(residential, float(_v(r, "high_rise.residential_height")),
                     float(_v(r, "high_rise.other_height")))
    return height, np.isfinite(height) & (height > limit)


# --------------------------------------------------------------------------
# the analysis


def _severity_width(v: np.ndarray, r: Mapping[str, Any]) -> np.ndarray:
    high, med = float(_v(r, "severity.width_high")), float(_v(r, "severity.width_medium"))
    return np.where(v < high, "high", np.where(v < med, "medium", "low")).astype(object)


def _severity_height(v: np.ndarray, r: Mapping[str, Any]) -> np.ndarray:
    high = float(_v(r, "severity.height_high"))
    return np.where(v < high, "high", "medium").astype(object)


def _community_of(points: np.ndarray, comm: gpd.GeoDataFrame | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    name = np.full(len(points), None, dtype=object)
    cid = np.full(len(points), None, dtype=object)
    if comm is None or len(comm) == 0 or len(points) == 0:
        return name, cid
    geoms = _repair(_geoms(comm), _ids(comm), "communities")
    i, j = _pairs(shapely.STRtree(geoms).query(points, predicate="within"))
    if len(i):
        first = np.r_[True, i[1:] != i[:-1]]
        i, j = i[first], j[first]
        names = comm["name"].astype(str).to_numpy(dtype=object) if "name" in comm.columns \
            else _ids(comm)
        name[i] = names[j]
        cid[i] = _ids(comm)[j]
    return name, cid


def run(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    station_spacing: float | None = None,
    high_rise: bool | None = None,
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Fire-lane obstruction analysis (criterion 8; GB 50016-2014 §7.1.8–7.1.9).

    ``layers``: ``fire_lanes`` (required; centre lines with ``width_m`` or
    lane polygons, optional ``clear_height_m``, ``dead_end``), and optional
    ``obstructions``, ``parking``, ``buildings``, ``streets`` (to tell a dead
    end from a lane joining the street network), ``communities`` (for the
    per-community summary) and ``turnarounds`` (polygons).
    ``station_spacing`` overrides ``lane.station_spacing``; ``high_rise``
    True/False forces the 15 m / 12 m turnaround, None decides from the
    buildings near each dead end.

    ``width_m`` and ``clear_height_m`` may carry a unit (``4.5米``, ``4.5m``).

    Returns ``fire_findings`` (points on the lanes), ``fire_lanes_summary``
    (one row per lane, on the lanes' index; ``checks_skipped`` names the
    checks that could not be made for the lane) and ``fire_communities``
    (one row per community, polygons; a single-row table without
    communities), whose ``criterion8`` is fail / incomplete / pass /
    no_lanes as described in :func:`summary`.
    """
    say = progress or (lambda stage: None)
    r = load_rules(rules)
    lanes = layers.get("fire_lanes")
    if lanes is None:
        raise AnalysisError(
            "the fire-lane analysis needs a 'fire_lanes' layer (centre lines with width_m, or "
            "lane polygons); add it to the workspace, e.g. drawn by hand or imported from "
            "OpenStreetMap (service=emergency_access, emergency=designated)."
        )
    if len(lanes) == 0:
        raise AnalysisError("layer 'fire_lanes' has no features; add the fire lanes first.")
    _check_metric(lanes, "fire_lanes")
    crs = lanes.crs
    turnarounds = _align(layers.get("turnarounds"), crs, "turnarounds")
    if "kind" in lanes.columns:
        t_kinds = [str(k).lower() for k in r.get("lane", {}).get("turnaround_kinds", [])]
        is_turn = lanes["kind"].astype("string").str.strip().str.lower().isin(t_kinds)
        is_turn = is_turn.fillna(False).to_numpy(dtype=bool)
        if is_turn.any():
            extra = lanes.loc[is_turn, [lanes.geometry.name]]
            turnarounds = extra if turnarounds is None else pd.concat(
                [turnarounds[[turnarounds.geometry.name]].rename_geometry(extra.geometry.name),
                 extra], ignore_index=True)
            lanes = lanes.loc[~is_turn]
            if len(lanes) == 0:
                raise AnalysisError("layer 'fire_lanes' holds only turnarounds; add the lanes.")
    spacing = float(station_spacing if station_spacing is not None
                    else _v(r, "lane.station_spacing"))
    if not spacing > 0:
        raise AnalysisError(f"station_spacing must be a positive number of metres, not {spacing}.")
    obstructions = _align(layers.get("obstructions"), crs, "obstructions")
    parking = _align(layers.get("parking"), crs, "parking")
    buildings = _align(layers.get("buildings"), crs, "buildings")
    streets = _align(layers.get("streets"), crs, "streets")
    communities = _align(layers.get("communities"), crs, "communities")
    req_w = float(_v(r, "clear_width"))
    req_h = float(_v(r, "clear_height"))
    tol = float(_v(r, "lane.width_tolerance"))

    say("lanes")
    pk = _prepare(lanes, r)

    # obstacles: obstruction footprints, parking spaces, buildings
    say("footprints")
    ob_geoms, ob_ids, ob_kind = [], [], []
    fp = None
    if obstructions is not None and len(obstructions):
        fp = _footprints(obstructions, pk.line, r)
        ob_geoms.append(fp["geometry"][fp["blocks"]])
        ob_ids.append(fp["ids"][fp["blocks"]])
        ob_kind.append(fp["kind"][fp["blocks"]])
    else:
        log.info("no obstructions layer: the clear width counts parking and buildings only.")
    if parking is not None and len(parking):
        pids = _ids(parking)
        pg = _repair(_geoms(parking), pids, "parking")
        kinds = parking["kind"].astype("string").str.lower().fillna("").to_numpy(dtype=object) \
            if "kind" in parking.columns else np.full(len(parking), "", dtype=object)
        cfg = r.get("parking", {})
        obstructing = np.isin(kinds, list(cfg.get("obstructing_kinds", [])))
        if cfg.get("missing_kind_obstructs", True):
            obstructing |= kinds == ""
        areal = np.isin(shapely.get_type_id(pg), (3, 6))
        sel = obstructing & areal
        ob_geoms.append(pg[sel])
        ob_ids.append(np.array([f"parking:{i}" for i in pids[sel]], dtype=object))
        ob_kind.append(np.full(int(sel.sum()), "parking", dtype=object))
    if buildings is not None and len(buildings):
        bids = _ids(buildings)
        bg = _repair(_geoms(buildings), bids, "buildings")
        sel = np.isin(shapely.get_type_id(bg), (3, 6))
        ob_geoms.append(bg[sel])
        ob_ids.append(np.array([f"building:{i}" for i in bids[sel]], dtype=object))
        ob_kind.append(np.full(int(sel.sum()), "building", dtype=object))
    obstacles = np.concatenate(ob_geoms) if ob_geoms else np.zeros(0, dtype=object)
    obstacle_ids = np.concatenate(ob_ids) if ob_ids else np.zeros(0, dtype=object)
    obstacle_kind = np.concatenate(ob_kind) if ob_kind else np.zeros(0, dtype=object)

    say("clear width")
    st = _stations(pk, spacing, r)
    clear, s_hit, o_hit = _measure(st, obstacles, tol)
    piece = st["piece"]
    lane_of_station = pk.lane_pos[piece]

    rows: list[pd.DataFrame] = []
    rows_geom: list[np.ndarray] = []

    def add_runs(flag: np.ndarray, values: np.ndarray, kind: str, with_obstacles: bool) -> None:
        idx, run_id = _runs(piece, flag)
        if len(idx) == 0:
            return
        starts = np.r_[0, np.flatnonzero(np.diff(run_id)) + 1]
        ends = np.r_[starts[1:] - 1, len(idx) - 1]
        n_runs = len(starts)
        order = np.lexsort((values[idx], run_id))
        worst = idx[order[np.r_[True, run_id[order][1:] != run_id[order][:-1]]]]
        blame_ids = np.full(n_runs, "", dtype=object)
        blame_kinds = np.full(n_runs, "", dtype=object)
        if with_obstacles and len(s_hit):
            run_of = np.full(len(clear), -1)
            run_of[idx] = run_id
            sel = run_of[s_hit] >= 0
            b = pd.DataFrame({"run": run_of[s_hit][sel], "id": obstacle_ids[o_hit[sel]],
                              "kind": obstacle_kind[o_hit[sel]]})
            for col, target in (("id", blame_ids), ("kind", blame_kinds)):
                u = b[["run", col]].drop_duplicates().sort_values("run", kind="stable")
                runs_u = u["run"].to_numpy()
                cut = np.flatnonzero(np.diff(runs_u)) + 1
                groups = np.split(u[col].to_numpy(dtype=object), cut)
                target[runs_u[np.r_[0, cut]]] = [";".join(g) for g in groups]
        lane_p = lane_of_station[worst]
        half = st["step"] / 2.0
        rows.append(pd.DataFrame({
            "lane_id": pk.lane_ids[lane_p], "kind": kind,
            "measured": np.round(values[worst], 3), "required": req_w, "unit": "m",
            "clause": _clause(r, "clear_width"), "obstruction_ids": blame_ids,
            "obstruction_kinds": blame_kinds,
            "from_m": st["chainage"][idx[starts]] - half[idx[starts]],
            "to_m": st["chainage"][idx[ends]] + half[idx[ends]],
            "severity": _severity_width(values[worst], r),
            "note": np.where(pk.width_source[lane_p] == "default",
                             "width from the rule default", ""),
            "_lane": lane_p,
        }))
        rows_geom.append(st["point"][worst])

    design = st["section"]
    add_runs(design < req_w - tol, design, "too_narrow", False)
    intruded = np.zeros(len(clear), bool)
    intruded[s_hit] = True
    add_runs((clear < req_w - tol) & intruded, clear, "obstructed", True)

    # dead ends and turnarounds
    say("dead ends")
    n_dead = np.zeros(len(lanes), int)
    drivable = _drivable(streets, r)
    if streets is None or len(streets) == 0:
        log.warning("no streets layer: dead ends cannot be told from lane entrances, so the "
                    "turnaround check (GB 50016-2014 §7.1.9) is skipped; add a streets layer.")
    else:
        de = _dead_ends(pk, drivable, r, _not_dead_end(lanes))
        np.add.at(n_dead, pk.lane_pos[de["piece"]], 1)
        say("turnarounds")
        _turnaround_findings(de, pk, r, obstacles, obstacle_ids, turnarounds, buildings,
                             high_rise, rows, rows_geom)

    say("clearance")
    height_unchecked = _clearance_findings(lanes, pk, r, fp, req_h, rows, rows_geom)

    # checks that could not be made, per lane
    measured = pk.width_source != "skipped"
    skipped = np.full(len(lanes), "", dtype=object)
    if streets is None or len(streets) == 0:
        needs_turn = measured & ~_not_dead_end(lanes)
        skipped[needs_turn] = "turnaround"
    no_h = measured & height_unchecked
    skipped[no_h] = [";".join(filter(None, (t, "clear_height"))) for t in skipped[no_h]]

    say("summary")
    findings = _findings_frame(rows, rows_geom, crs, r, communities)
    lane_summary = _lane_summary(lanes, pk, st, clear, findings, n_dead, buildings, r, communities)
    lane_summary.insert(lane_summary.columns.get_loc("n_findings") + 1, "checks_skipped", skipped)
    comm = _community_summary(lane_summary, findings, communities, r)
    findings = findings.drop(columns="_lane")
    return {"fire_findings": findings, "fire_lanes_summary": lane_summary,
            "fire_communities": comm}


def _turnaround_findings(de, pk, r, obstacles, obstacle_ids, turnarounds, buildings,
                         high_rise, rows, rows_geom) -> None:
    if len(de["piece"]) == 0:
        return
    tol_sq = float(_v(r, "turnaround.tolerance"))
    radius = float(_v(r, "turnaround.search_radius"))
    snap = float(_v(r, "lane.snap_tolerance"))
    heavy = bool(r.get("turnaround", {}).get("heavy", {}).get("applies", False))
    pts = de["point"]
    pieces = de["piece"]
    n = len(pts)
    if heavy:
        key = np.full(n, "turnaround.heavy", dtype=object)
    elif high_rise is not None:
        key = np.full(n, "turnaround.high_rise" if high_rise else "turnaround.standard",
                      dtype=object)
    else:
        key = np.full(n, "turnaround.standard", dtype=object)
        if buildings is not None and len(buildings):
            _, tall = _building_heights(buildings, r)
            if tall.any():
                tall_geoms = _geoms(buildings)[tall]
                dist = float(_v(r, "high_rise.search_distance"))
                i, _j = _pairs(shapely.STRtree(tall_geoms).query(
                    pk.line[pieces], predicate="dwithin", distance=dist))
                key[np.unique(i)] = "turnaround.high_rise"
        else:
            log.info("no buildings layer: dead ends are checked for the 12 m turnaround; pass "
                     "high_rise=True where high-rise buildings are served.")
    turn_geoms = np.zeros(0, dtype=object)
    if turnarounds is not None and len(turnarounds):
        turn_geoms = _repair(_geoms(turnarounds), _ids(turnarounds), "turnarounds")
        turn_geoms = turn_geoms[np.isin(shapely.get_type_id(turn_geoms), (3, 6))]
    half = np.where(np.isfinite(pk.width[pieces]), pk.width[pieces] / 2.0, 0.0)
    reach = shapely.buffer(pts, snap + half, quad_segs=4)
    t_i, t_j = (_pairs(shapely.STRtree(turn_geoms).query(reach, predicate="intersects"))
                if len(turn_geoms) else (np.zeros(0, int), np.zeros(0, int)))
    disks = shapely.buffer(pts, radius, quad_segs=8)
    ob_tree = shapely.STRtree(obstacles) if len(obstacles) else None
    for k in range(n):
        parts = [pk.area[pieces[k]], *turn_geoms[t_j[t_i == k]]]
        cand = shapely.intersection(shapely.union_all(parts), disks[k])
        blockers = np.zeros(0, int)
        if ob_tree is not None:
            blockers = _pairs(ob_tree.query(np.array([cand]), predicate="intersects"))[1]
            blockers = blockers[shapely.area(shapely.intersection(obstacles[blockers], cand)) > 1e-6] \
                if len(blockers) else blockers
            if len(blockers):
                cand = shapely.difference(cand, shapely.union_all(obstacles[blockers]))
        cand = shapely.simplify(cand, tol_sq / 4.0)
        side = float(_v(r, key[k]))
        if turnaround_ok(cand, side, tolerance=tol_sq):
            continue
        measured = largest_inscribed_square(cand)
        p = pk.lane_pos[pieces[k]]
        line = pk.line[pieces[k]]
        at = 0.0 if de["end"][k] == 0 else float(line.length)
        rows.append(pd.DataFrame([{
            "lane_id": pk.lane_ids[p], "kind": "no_turnaround", "measured": round(measured, 2),
            "required": side, "unit": "m", "clause": _clause(r, key[k]),
            "obstruction_ids": ";".join(obstacle_ids[blockers]) if len(blockers) else "",
            "obstruction_kinds": "", "from_m": at, "to_m": at,
            "severity": str(r.get("severity", {}).get("no_turnaround", "medium")),
            "note": ("side of the largest square that fits in the turnaround"
                     + (" (high-rise)" if key[k] == "turnaround.high_rise" else "")),
            "_lane": p,
        }]))
        rows_geom.append(np.array([pts[k]], dtype=object))


def _clearance_findings(lanes, pk, r, fp, req_h, rows, rows_geom) -> np.ndarray:
    """Add low_clearance findings; return, per lane, whether its clear height went unchecked.

    A lane's clear height is checked when it has a readable ``clear_height_m``
    and no height-checking obstruction without ``height_m`` stands over it.
    """
    h, unreadable = _num_read(lanes, "clear_height_m")
    unchecked = ~np.isfinite(h)
    if unreadable.any():
        vals = lanes["clear_height_m"].to_numpy(dtype=object)[unreadable]
        log.warning("layer 'fire_lanes': clear_height_m of %d lanes cannot be read as metres "
                    "(ids %s; values %s); their clear height is not checked. Write plain numbers "
                    "such as 4.5 or 4.5米.", int(unreadable.sum()), _list(pk.lane_ids[unreadable]),
                    _list(np.array([str(v) for v in vals]), 5))
    absent = unchecked & ~unreadable & (pk.width_source != "skipped")
    if absent.any():
        log.warning("layer 'fire_lanes': %d lanes have no clear_height_m (ids %s); their clear "
                    "height (GB 50016-2014 §7.1.8) is not checked and criterion 8 stays "
                    "incomplete.", int(absent.sum()), _list(pk.lane_ids[absent]))
    low = np.flatnonzero(np.isfinite(h) & (h < req_h))
    if len(low):
        first_piece = pd.Series(np.arange(len(pk.lane_pos))).groupby(pk.lane_pos).min()
        sev = _severity_height(h[low], r)
        for k, p in enumerate(low):
            if p not in first_piece.index:
                continue
            line = pk.line[first_piece[p]]
            rows.append(pd.DataFrame([{
                "lane_id": pk.lane_ids[p], "kind": "low_clearance", "measured": float(h[p]),
                "required": req_h, "unit": "m", "clause": _clause(r, "clear_height"),
                "obstruction_ids": "", "obstruction_kinds": "", "from_m": 0.0,
                "to_m": float(line.length), "severity": sev[k],
                "note": "clear_height_m of the lane", "_lane": p,
            }]))
            rows_geom.append(np.array([line.interpolate(0.5, normalized=True)], dtype=object))
    if fp is None or len(pk.area) == 0:
        return unchecked
    tree = shapely.STRtree(pk.area)
    need = np.flatnonzero(fp["needs_height"])
    if len(need):
        i, m = _pairs(tree.query(fp["geometry"][need], predicate="intersects"))
        if len(i):
            unchecked = unchecked.copy()
            unchecked[pk.lane_pos[m]] = True
            log.warning("obstructions %s stand over fire lanes (ids %s) but have no height_m; the "
                        "clear height there is not checked.", _list(fp["ids"][need[np.unique(i)]]),
                        _list(np.unique(pk.lane_ids[pk.lane_pos[m]])))
    chk = np.flatnonzero(fp["checks"] & (fp["height"] < req_h))
    if len(chk) == 0:
        return unchecked
    i, m = _pairs(tree.query(fp["geometry"][chk], predicate="intersects"))
    if len(i) == 0:
        return unchecked
    df = pd.DataFrame({"o": chk[i], "piece": m, "lane": pk.lane_pos[m]})
    df = df.drop_duplicates(["o", "lane"])
    o = df["o"].to_numpy()
    pc = df["piece"].to_numpy()
    p = df["lane"].to_numpy()
    lines = pk.line[pc]
    at = shapely.line_locate_point(lines, shapely.centroid(fp["geometry"][o]))
    hv = fp["height"][o].astype(float)
    rows.append(pd.DataFrame({
        "lane_id": pk.lane_ids[p], "kind": "low_clearance", "measured": hv,
        "required": req_h, "unit": "m", "clause": _clause(r, "clear_height"),
        "obstruction_ids": fp["ids"][o].astype(str), "obstruction_kinds": fp["kind"][o].astype(str),
        "from_m": at, "to_m": at, "severity": _severity_height(hv, r),
        "note": "height_m of the obstruction", "_lane": p,
    }))
    rows_geom.append(shapely.line_interpolate_point(lines, at))
    return unchecked


def _findings_frame(rows, rows_geom, crs, r, communities) -> gpd.GeoDataFrame:
    levels = list(r.get("severity", {}).get("levels", ["low", "medium", "high"]))
    labels = r.get("labels", {})
    if not rows:
        df = pd.DataFrame({c: pd.Series(dtype="float64" if c in (
            "measured", "required", "from_m", "to_m") else "int64" if c == "severity_rank"
            else "object") for c in _FINDING_COLUMNS})
        df["_lane"] = pd.Series(dtype="int64")
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    df = pd.concat(rows, ignore_index=True)
    geom = np.concatenate(rows_geom)
    df["label_zh"] = [labels.get(k, {}).get("label_zh", k) for k in df["kind"]]
    df["severity_rank"] = [levels.index(s) + 1 if s in levels else 0 for s in df["severity"]]
    df["community"], df["community_id"] = _community_of(geom, communities)
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    df["_order"] = df["kind"].map(order)
    gdf = gpd.GeoDataFrame(df, geometry=geom, crs=crs)
    gdf = gdf.sort_values(["_lane", "_order", "from_m"], kind="stable").reset_index(drop=True)
    return gdf[[*_FINDING_COLUMNS, "_lane", "geometry"]]


def _lane_summary(lanes, pk, st, clear, findings, n_dead, buildings, r, communities
                  ) -> gpd.GeoDataFrame:
    req_w = float(_v(r, "clear_width"))
    tol = float(_v(r, "lane.width_tolerance"))
    n = len(lanes)
    lane_st = pk.lane_pos[st["piece"]]
    step = st["step"]
    length = np.bincount(lane_st, weights=step, minlength=n)
    below = np.bincount(lane_st, weights=step * (clear < req_w - tol), minlength=n)
    min_clear = np.full(n, np.nan)
    if len(clear):
        np.fmin.at(min_clear, lane_st, clear)
    width = pk.width.copy()
    design = np.full(n, np.nan)
    if len(width):
        np.fmin.at(design, pk.lane_pos, width)
    poly_lane = pk.width_source == "polygon"
    if poly_lane.any():
        med = pd.Series(st["section"]).groupby(lane_st).median()
        idx = np.flatnonzero(poly_lane)
        idx = idx[np.isin(idx, med.index)]
        design[idx] = med[idx].to_numpy()
    wall = np.full(n, np.nan)
    if buildings is not None and len(buildings) and len(pk.area):
        bg = _repair(_geoms(buildings), _ids(buildings), "buildings")
        bg = bg[~shapely.is_missing(bg)]
        if len(bg):
            a, b = _pairs(shapely.STRtree(bg).query_nearest(pk.area, all_matches=False))
            d = shapely.distance(pk.area[a], bg[b])
            np.fmin.at(wall, pk.lane_pos[a], d)
    out = pd.DataFrame(index=lanes.index)
    out["lane_id"] = pk.lane_ids
    out["length_m"] = np.round(length, 2)
    out["width_m"] = design
    out["width_source"] = pk.width_source
    out["clear_width_min_m"] = np.round(min_clear, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_below_req"] = np.where(length > 0, below / length, np.nan)
    out["clear_height_m"] = _num(lanes, "clear_height_m")
    out["wall_dist_m"] = np.round(wall, 2)
    out["near_wall"] = np.isfinite(wall) & (wall < float(_v(r, "wall_distance")))
    out["dead_ends"] = n_dead
    lane_f = findings["_lane"].to_numpy(dtype=int)
    for kind in FINDING_KINDS:
        sel = (findings["kind"] == kind).to_numpy()
        out[f"n_{kind}"] = np.bincount(lane_f[sel], minlength=n)[:n]
    out["n_findings"] = np.bincount(lane_f, minlength=n)[:n]
    rank = np.zeros(n, int)
    if len(findings):
        np.maximum.at(rank, lane_f, findings["severity_rank"].to_numpy(dtype=int))
    levels = ["none", *r.get("severity", {}).get("levels", ["low", "medium", "high"])]
    out["worst_severity"] = [levels[k] for k in rank]
    out["severity_rank"] = rank
    # community: where the middle of the lane lies
    mid = np.full(n, None, dtype=object)
    first_piece = pd.Series(np.arange(len(pk.lane_pos))).groupby(pk.lane_pos).min()
    if len(first_piece):
        mid[first_piece.index.to_numpy()] = shapely.line_interpolate_point(
            pk.line[first_piece.to_numpy()], 0.5, normalized=True)
    has = np.array([g is not None for g in mid], dtype=bool)
    name = np.full(n, None, dtype=object)
    cid = np.full(n, None, dtype=object)
    if has.any():
        name[has], cid[has] = _community_of(mid[has], communities)
    out["community"] = name
    out["community_id"] = cid
    geoms = _geoms(lanes)
    types = {t for t in shapely.get_type_id(geoms[~shapely.is_missing(geoms)]) if t in (1, 3, 5, 6)}
    lines_types, poly_types = types & {1, 5}, types & {3, 6}
    if lines_types and poly_types:
        log.info("fire_lanes mixes lines and polygons; the lane summary is drawn as centre lines.")
        lines = np.full(n, None, dtype=object)
        merged = pd.Series(pk.line).groupby(pk.lane_pos).agg(
            lambda s: shapely.line_merge(shapely.multilinestrings(list(s))) if len(s) > 1
            else s.iloc[0])
        lines[merged.index.to_numpy()] = merged.to_numpy()
        geoms = lines
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=lanes.index),
                            crs=lanes.crs)


def _community_summary(lane_summary, findings, communities, r) -> gpd.GeoDataFrame | pd.DataFrame:
    failing = set(r.get("criterion8", {}).get("failing_kinds", FINDING_KINDS))
    levels = ["none", *r.get("severity", {}).get("levels", ["low", "medium", "high"])]
    if communities is not None and len(communities):
        cid = _ids(communities)
        name = communities["name"].astype(str).to_numpy(dtype=object) \
            if "name" in communities.columns else cid
        base = pd.DataFrame({"community_id": cid, "community": name}, index=communities.index)
        key_lane = lane_summary["community_id"]
        key_find = findings["community_id"]
    else:
        base = pd.DataFrame({"community_id": ["all"], "community": ["(all lanes)"]})
        key_lane = pd.Series("all", index=lane_summary.index)
        key_find = pd.Series("all", index=findings.index, dtype=object)
    length = lane_summary["length_m"].fillna(0.0)
    below = (lane_summary["share_below_req"].fillna(0.0) * length)
    g_len = length.groupby(key_lane.to_numpy()).sum()
    g_below = below.groupby(key_lane.to_numpy()).sum()
    g_n = length.groupby(key_lane.to_numpy()).size()
    out = base.copy()
    ids = out["community_id"]
    out["n_lanes"] = ids.map(g_n).fillna(0).astype(int).to_numpy()
    out["lanes_km"] = (ids.map(g_len).fillna(0.0) / 1000.0).round(3).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = ids.map(g_below).fillna(0.0).to_numpy() / (ids.map(g_len).fillna(0.0).to_numpy())
    out["share_below_req"] = np.where(out["lanes_km"] > 0, share, np.nan)
    fails = np.zeros(len(out), int)
    for kind in FINDING_KINDS:
        counts = key_find[(findings["kind"] == kind).to_numpy()].value_counts()
        out[f"n_{kind}"] = ids.map(counts).fillna(0).astype(int).to_numpy()
        if kind in failing:
            fails += out[f"n_{kind}"].to_numpy()
    out["n_findings"] = out[[f"n_{k}" for k in FINDING_KINDS]].sum(axis=1).to_numpy()
    rank = findings.groupby(key_find.to_numpy())["severity_rank"].max() if len(findings) \
        else pd.Series(dtype=int)
    out["severity_rank"] = ids.map(rank).fillna(0).astype(int).to_numpy()
    out["worst_severity"] = [levels[k] for k in out["severity_rank"]]
    n_default = (lane_summary["width_source"] == "default").groupby(key_lane.to_numpy()).sum()
    out["n_lanes_default_width"] = ids.map(n_default).fillna(0).astype(int).to_numpy()
    names = lane_summary["checks_skipped"].astype(str).str.split(";")
    skipped = names.groupby(key_lane.to_numpy()).agg(
        lambda s: ";".join(sorted({c for lst in s for c in lst if c})))
    out["checks_skipped"] = np.array([skipped.get(i, "") for i in ids], dtype=object)
    incomplete = (out["n_lanes_default_width"] > 0).to_numpy() | (out["checks_skipped"] != "").to_numpy()
    out["criterion8"] = np.where(
        fails > 0, "fail",
        np.where(out["n_lanes"] == 0, "no_lanes", np.where(incomplete, "incomplete", "pass")))
    if communities is not None and len(communities):
        return gpd.GeoDataFrame(out, geometry=communities.geometry.values, crs=communities.crs)
    return out


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: lanes, findings by kind, criterion 8 (for the terminal).

    ``criterion8`` is ``"fail"`` when a finding of a failing kind
    (``criterion8.failing_kinds``) lies in the community; otherwise
    ``"incomplete"`` when any of its lanes was measured with the default
    width (``n_lanes_default_width`` > 0: ``width_m`` missing or unreadable)
    or a check could not be made (``checks_skipped``: ``turnaround`` without
    a streets layer, ``clear_height`` for lanes without a readable
    ``clear_height_m`` or under an obstruction without ``height_m``);
    ``"pass"`` only when every check was made on given data and nothing
    failed; ``"no_lanes"`` when the community has no fire lane.
    """
    comm = outputs["fire_communities"]
    cols = ["community", "n_lanes", "lanes_km", "share_below_req", "n_findings",
            *(f"n_{k}" for k in FINDING_KINDS), "worst_severity", "n_lanes_default_width",
            "checks_skipped", "criterion8"]
    return pd.DataFrame(comm[cols]).reset_index(drop=True)
