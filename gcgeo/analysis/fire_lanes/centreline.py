"""Lanes as centre-line pieces: the medial axis of lane polygons, points along lines.

A ``fire_lanes`` layer holds centre lines (with ``width_m``) and lane
polygons.  :func:`prepare_lanes` turns it into :class:`LanePieces`: single
centre lines, each with a design width or the polygon it runs in, and the
surface of the lane.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from ..._errors import AnalysisError
from .inputs import geometries, read_numbers, repair, row_ids, rule_value, short_list

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# points and tangents along lines


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


def point_and_tangent(lines: np.ndarray, which: np.ndarray, s: np.ndarray
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
class LanePieces:
    """The lanes as single centre lines ("pieces"), each with its width or its polygon.

    Arrays of the first five fields have one entry per piece; ``lane_ids``
    and ``width_source`` one per row of the lanes layer.
    """

    lane_pos: np.ndarray  # position of the lane row each piece belongs to
    line: np.ndarray  # centre lines
    poly: np.ndarray  # lane polygon or None
    width: np.ndarray  # design width of line pieces (NaN for polygon pieces)
    area: np.ndarray  # the lane's surface (line buffered, or the polygon)
    lane_ids: np.ndarray  # one per lane row
    width_source: np.ndarray  # one per lane row: given / default / polygon / skipped


def prepare_lanes(lanes: gpd.GeoDataFrame, r: Mapping[str, Any], what: str = "fire_lanes"
                  ) -> LanePieces:
    """Layer ``what``'s lanes as :class:`LanePieces` (rules ``r`` give the default width).

    Lines keep their ``width_m`` (the rule default ``lane.default_width``
    when missing or unreadable, with a warning naming the lanes); a lane
    polygon gets its centre line from :func:`lane_centreline`; other parts
    are skipped.  An AnalysisError when no lane is usable.
    """
    ids = row_ids(lanes)
    geoms = repair(geometries(lanes), ids, what)
    width, unreadable = read_numbers(lanes, "width_m")
    bad_w = np.isfinite(width) & (width <= 0)
    unreadable |= bad_w
    width[bad_w] = np.nan
    default = float(rule_value(r, "lane.default_width"))
    parts, pos = shapely.get_parts(geoms, return_index=True)
    tid = shapely.get_type_id(parts)
    is_line = np.isin(tid, (1, 2))
    is_poly = tid == 3
    other = ~(is_line | is_poly)
    if other.any():
        log.warning("layer '%s': parts that are neither lines nor polygons skipped (ids %s).",
                    what, short_list(np.unique(ids[pos[other]])))
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
            f"polygon without a centre line (ids {short_list(ids)}). Draw the lanes as centre "
            "lines (with width_m) or as lane polygons."
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
            what, int(unread.sum()), short_list(ids[unread]),
            short_list(np.array([str(v) for v in vals]), 5),
            default)
    absent = (source == "default") & ~unreadable
    if absent.any():
        log.warning(
            "layer '%s': %d lanes have no width_m; measured with the rule default %.1f m "
            "(lane.default_width), marked width_source = 'default' (ids %s). Give real widths.",
            what, int(absent.sum()), default, short_list(ids[absent]))
    area = np.empty(len(line), dtype=object)
    if (~is_p).any():
        area[~is_p] = shapely.buffer(line[~is_p], w[~is_p] / 2.0, cap_style="flat")
    if is_p.any():
        area[is_p] = poly_arr[is_p]
    return LanePieces(lane_pos, line, poly_arr, w, area, ids, source)
