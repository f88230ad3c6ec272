"""Changing a compiled walking network instead of building it again: edges
dropped (:func:`drop_edges`, a street closed) and new lines joined to it
(:func:`join_lines`, a link opened), with the points snapped onto it moved as
snapping them again would move them (:func:`snaps_after_drop`,
:func:`snaps_after_join`).

Node positions stay valid: dropping keeps every node, joining appends the new
ones, so searches on the changed network line up with the old one's nodes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .build import Network
from .clean import JOIN_DECIMALS, substrings
from .segments import build_snap_index, nearest_segment, on_segments
from .snapping import snap

log = logging.getLogger(__name__)

__all__ = ["Joined", "drop_edges", "join_lines", "on_pieces", "snaps_after_drop",
           "snaps_after_join"]

#: Points closer than this (m) are the same point; the builder's rounding (0.1 mm).
EPS = 10.0 ** -JOIN_DECIMALS


def _network(net: Network, **changed) -> Network:
    """``net`` with some arrays replaced (a new object, its caches empty)."""
    fields = dict(nodes=net.nodes, x=net.x, y=net.y, u=net.u, v=net.v, weight=net.weight,
                  geometry=net.given_lines, geom_length=net.geom_length, crs=net.crs,
                  directed=net.directed, street=net.street)
    fields.update(changed)
    return Network(**fields)


def drop_edges(net: Network, drop: np.ndarray) -> tuple[Network, np.ndarray]:
    """``net`` without the edges where ``drop`` is true, and each old edge's new
    position (-1 for a dropped one).  Every node stays, joined to what is left
    (a node may be left with two edges or none: distances are the same)."""
    keep = ~np.asarray(drop, bool)
    new_of_old = np.full(net.n_edges, -1, dtype=np.int64)
    new_of_old[keep] = np.arange(int(keep.sum()))
    out = _network(net, u=net.u[keep], v=net.v[keep], weight=net.weight[keep],
                   geometry=None if net.given_lines is None else net.given_lines[keep],
                   geom_length=net.geom_length[keep],
                   street=None if net.street is None else net.street[keep])
    return out, new_of_old


def snaps_after_drop(net: Network, snaps: pd.DataFrame, new_of_old: np.ndarray,
                     points: gpd.GeoSeries, tolerance: float | None) -> pd.DataFrame:
    """``snaps`` (:func:`~gcgeo.network.snap` of ``points`` onto ``net``) after
    :func:`drop_edges`: points on a kept edge stay where they are (the edge
    renumbered), those on a dropped edge are snapped again onto the nearest kept
    edge within ``tolerance``, as snapping onto the smaller network would."""
    out = snaps.copy()
    e = out["edge"].to_numpy()
    on = e >= 0
    ne = e.copy()
    ne[on] = new_of_old[e[on]]
    gone = on & (ne < 0)
    out["edge"] = ne
    if gone.any():
        again = snap(net, points[gone], tolerance, among=new_of_old >= 0)
        hit = again["edge"].to_numpy() >= 0
        again.loc[hit, "edge"] = new_of_old[again["edge"].to_numpy()[hit]]
        out.loc[gone, list(again.columns)] = again.to_numpy(object)
        out = out.astype(snaps.dtypes.to_dict())
    return out


# --------------------------------------------------------------------------
# new lines


@dataclass(frozen=True, eq=False)
class Joined:
    """A network with new lines joined (:func:`join_lines`).

    ``net`` keeps the old nodes and edges in their positions, an old edge
    cut in pieces keeping its first piece in place; then come the other
    pieces and the new lines' pieces.  ``cut_edge``/``cut_from``/``cut_piece``
    say, for each piece of a cut old edge, its old edge, where along it the
    piece starts and its position.  ``line_pieces`` are the positions of the
    new lines' pieces.  ``near`` holds the old nodes lying within the join
    tolerance of a new line (not on it), and ``dead_end_joins`` how many ends
    of new lines were joined to an old dead end or to another new line's end:
    the places where joining by end points could have moved old lines too.
    """

    net: Network
    cut_edge: np.ndarray
    cut_from: np.ndarray
    cut_piece: np.ndarray
    line_pieces: np.ndarray
    near: np.ndarray
    dead_end_joins: int


def _nearest_on(geoms: np.ndarray, p: shapely.Point) -> tuple[int, float]:
    """The nearest of ``geoms`` to ``p`` (the first on ties) and its distance."""
    d = shapely.distance(geoms, p)
    i = int(np.argmin(d))
    return i, float(d[i])


def _set_ends(lines: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """``lines`` with their first and last coordinates set to ``first`` and ``last``."""
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    counts = np.bincount(idx, minlength=len(lines))
    end = np.cumsum(counts) - 1
    coords[end - counts + 1] = first
    coords[end] = last
    return shapely.linestrings(coords, indices=idx)


def _cut(lines: np.ndarray, cuts: list[list[tuple[float, np.ndarray]]]):
    """Each line cut at its (position, point) cuts: the pieces (ends exactly at
    the cut points), whose line each is, and where along it it starts."""
    pieces, owner, start = [], [], []
    for i, (g, cs) in enumerate(zip(lines, cuts)):
        length = shapely.length(g)
        cs = sorted((p, xy) for p, xy in cs if EPS < p < length - EPS)
        keep: list[tuple[float, np.ndarray]] = []
        for p, xy in cs:  # one cut per place
            if not keep or p - keep[-1][0] > EPS:
                keep.append((p, xy))
        if not keep:
            pieces.append(g)
            owner.append(i)
            start.append(0.0)
            continue
        lo = np.array([0.0] + [p for p, _ in keep])
        hi = np.array([p for p, _ in keep] + [length])
        ps = substrings(np.full(len(lo), g, dtype=object), lo, hi)
        c = shapely.get_coordinates(g)
        first = np.array([c[0]] + [xy for _, xy in keep])
        last = np.array([xy for _, xy in keep] + [c[-1]])
        pieces.extend(_set_ends(ps, first, last))
        owner.extend([i] * len(ps))
        start.extend(lo)
    return (np.array(pieces, dtype=object), np.array(owner, dtype=np.int64),
            np.array(start, dtype=float))


def join_lines(net: Network, lines: np.ndarray, *, tolerance: float,
               labels: np.ndarray | None = None, round_nodes: bool = True) -> Joined:
    """``net`` (built from streets) with the LineStrings ``lines`` joined to it
    where a street layer's end points would join them, the old lines staying
    where they are:

    * an end of a new line meeting a node (to 0.1 mm) is that node, one lying
      on an edge (within 0.1 mm) cuts the edge there;
    * any other end (dangling) within ``tolerance`` of an old dead end moves
      there, else within it of another line (old or new) moves to the nearest
      point of the nearest one and cuts it;
    * a new line is cut where an old node or another new line's end lies on it.

    Lines that cross are not joined.  ``labels`` (the streets row of each new
    line) go to the pieces' :attr:`Network.street`.  With ``round_nodes`` new
    nodes sit at their point rounded to 0.1 mm, as the builder keys its nodes;
    else exactly at it.
    """
    lines = np.asarray(lines, dtype=object)
    k = len(lines)
    geom = net.lines
    bounds = shapely.bounds(geom) if net.n_edges else np.zeros((0, 4))
    deg = np.bincount(np.concatenate([net.u, net.v]), minlength=net.n_nodes)
    rx, ry = np.round(net.x, JOIN_DECIMALS), np.round(net.y, JOIN_DECIMALS)
    reach = max(float(tolerance), EPS)

    def edges_near(p: np.ndarray, r: float) -> np.ndarray:
        box = ((bounds[:, 0] <= p[0] + r) & (bounds[:, 2] >= p[0] - r)
               & (bounds[:, 1] <= p[1] + r) & (bounds[:, 3] >= p[1] - r))
        return np.flatnonzero(box)

    def node_at(p: np.ndarray) -> int:
        q = np.round(p, JOIN_DECIMALS)
        hit = np.flatnonzero((rx == q[0]) & (ry == q[1]))
        return int(hit[0]) if len(hit) else -1

    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(lines, 0)),
                           shapely.get_coordinates(shapely.get_point(lines, -1))])
    end_node = np.full(2 * k, -1, dtype=np.int64)
    edge_cuts: dict[int, list[tuple[float, np.ndarray]]] = {}
    line_cuts: list[list[tuple[float, np.ndarray]]] = [[] for _ in range(k)]
    dead_end_joins = 0
    dangling = []
    for j in range(2 * k):  # starts, then ends, as the builder orders them
        p = ends[j]
        n = node_at(p)
        if n >= 0:
            end_node[j] = n
            continue
        pt = shapely.Point(p)
        cand = edges_near(p, EPS)
        on_old = cand[shapely.distance(geom[cand], pt) <= EPS] if len(cand) else cand
        for e in on_old.tolist():  # an end on lines cuts every one of them
            edge_cuts.setdefault(e, []).append(
                (float(shapely.line_locate_point(geom[e], pt)), p.copy()))
        on_new = [i for i in range(k) if i != j % k and shapely.distance(lines[i], pt) <= EPS]
        for i in on_new:
            line_cuts[i].append((float(shapely.line_locate_point(lines[i], pt)), p.copy()))
        if len(on_old) or on_new:
            continue
        dangling.append(j)
    drawn = lines.copy()  # as drawn: ends lying on them are found on these, as the builder does
    # dangling ends: an old dead end within the tolerance, else the nearest line
    if tolerance > EPS:
        for j in dangling:
            p = ends[j]
            near_new = [i for i in dangling if i != j and i % k != j % k
                        and np.hypot(*(ends[i] - p)) <= tolerance]
            dead = np.flatnonzero((np.abs(net.x - p[0]) <= tolerance)
                                  & (np.abs(net.y - p[1]) <= tolerance) & (deg == 1))
            dead = dead[np.hypot(net.x[dead] - p[0], net.y[dead] - p[1]) <= tolerance]
            if near_new:
                dead_end_joins += 1
            if len(dead):
                dead_end_joins += 1
                n = int(dead[np.argmin(np.hypot(net.x[dead] - p[0], net.y[dead] - p[1]))])
                end_node[j] = n
                ends[j] = _node_point(net, n)
                continue
            cand = edges_near(p, tolerance)
            best = (np.inf, -1, False)
            if len(cand):
                i, d = _nearest_on(geom[cand], shapely.Point(p))
                best = (d, int(cand[i]), False)
            for i in range(k):
                if i != j % k:
                    d = float(shapely.distance(lines[i], shapely.Point(p)))
                    if d < best[0]:
                        best = (d, i, True)
            d, i, new = best
            if d > tolerance:
                continue
            target = lines[i] if new else geom[i]
            pos = float(shapely.line_locate_point(target, shapely.Point(p)))
            q = shapely.get_coordinates(shapely.line_interpolate_point(target, pos))[0]
            ends[j] = q
            if new:
                line_cuts[i].append((pos, q.copy()))
                continue
            glen = shapely.length(target)
            if pos <= EPS or pos >= glen - EPS:  # onto the edge's end: its node
                end_node[j] = int(net.u[i] if pos <= EPS else net.v[i])
            else:
                edge_cuts.setdefault(i, []).append((pos, q.copy()))
        lines = _set_ends(lines, ends[:k], ends[k:])
    # old nodes on a new line cut it; old nodes near one are reported
    near: list[int] = []
    for i in range(k):
        x0, y0, x1, y1 = shapely.total_bounds(np.array([lines[i], drawn[i]], dtype=object))
        box = np.flatnonzero((net.x >= x0 - reach) & (net.x <= x1 + reach)
                             & (net.y >= y0 - reach) & (net.y <= y1 + reach))
        if not len(box):
            continue
        own = {int(end_node[i]), int(end_node[i + k])}
        pts = shapely.points(net.x[box], net.y[box])
        d = np.minimum(shapely.distance(lines[i], pts), shapely.distance(drawn[i], pts))
        for n, dn in zip(box[d <= reach], d[d <= reach]):
            if int(n) in own:
                continue
            xy = _node_point(net, int(n))
            if shapely.distance(drawn[i], shapely.Point(xy)) <= EPS:
                line_cuts[i].append((float(shapely.line_locate_point(lines[i], shapely.Point(xy))),
                                     xy))
            elif tolerance > EPS and dn <= tolerance + EPS:
                near.append(int(n))
    return _assemble(net, lines, ends, end_node, edge_cuts, line_cuts, labels, round_nodes,
                     np.unique(np.array(near, dtype=np.int64)), dead_end_joins)


def _node_point(net: Network, n: int) -> np.ndarray:
    """Where node ``n`` lies exactly: the end of an edge there (the nodes' own
    coordinates are rounded to 0.1 mm when built from end points)."""
    e = np.flatnonzero(net.u == n)
    if len(e):
        return shapely.get_coordinates(shapely.get_point(net.lines[e[0]], 0))[0]
    e = np.flatnonzero(net.v == n)
    if len(e):
        return shapely.get_coordinates(shapely.get_point(net.lines[e[0]], -1))[0]
    return np.array([net.x[n], net.y[n]])


def _assemble(net: Network, lines: np.ndarray, ends: np.ndarray, end_node: np.ndarray,
              edge_cuts: dict, line_cuts: list, labels: np.ndarray | None, round_nodes: bool,
              near: np.ndarray, dead_end_joins: int) -> Joined:
    """The network with the cut edges and new lines' pieces (see :func:`join_lines`)."""
    k = len(lines)
    new_xy: list[np.ndarray] = []
    key_of: dict[tuple[float, float], int] = {}
    rx, ry = np.round(net.x, JOIN_DECIMALS), np.round(net.y, JOIN_DECIMALS)

    def node(p: np.ndarray) -> int:
        q = np.round(p, JOIN_DECIMALS)
        key = (float(q[0]), float(q[1]))
        if key in key_of:
            return key_of[key]
        hit = np.flatnonzero((rx == q[0]) & (ry == q[1]))
        n = int(hit[0]) if len(hit) else net.n_nodes + len(new_xy)
        if not len(hit):
            new_xy.append(q if round_nodes else np.asarray(p, float))
        key_of[key] = n
        return n

    # old edges cut
    ce = np.array(sorted(edge_cuts), dtype=np.int64)
    pieces, owner, start = _cut(net.lines[ce], [edge_cuts[e] for e in ce])
    p_end = np.concatenate([shapely.get_coordinates(shapely.get_point(pieces, 0)),
                            shapely.get_coordinates(shapely.get_point(pieces, -1))]) \
        if len(pieces) else np.zeros((0, 2))
    m = len(pieces)
    first = np.r_[True, owner[1:] != owner[:-1]] if m else np.zeros(0, bool)
    last = np.r_[owner[1:] != owner[:-1], True] if m else np.zeros(0, bool)
    pu = np.array([net.u[ce[owner[i]]] if first[i] else node(p_end[i]) for i in range(m)],
                  dtype=np.int64)
    pv = np.array([net.v[ce[owner[i]]] if last[i] else node(p_end[m + i]) for i in range(m)],
                  dtype=np.int64)
    # new lines cut
    lp, lowner, _ = _cut(lines, line_cuts)
    q = len(lp)
    l_end = np.concatenate([shapely.get_coordinates(shapely.get_point(lp, 0)),
                            shapely.get_coordinates(shapely.get_point(lp, -1))]) \
        if q else np.zeros((0, 2))
    lfirst = np.r_[True, lowner[1:] != lowner[:-1]] if q else np.zeros(0, bool)
    llast = np.r_[lowner[1:] != lowner[:-1], True] if q else np.zeros(0, bool)
    lu = np.array([end_node[lowner[i]] if lfirst[i] and end_node[lowner[i]] >= 0
                   else node(l_end[i]) for i in range(q)], dtype=np.int64)
    lv = np.array([end_node[lowner[i] + k] if llast[i] and end_node[lowner[i] + k] >= 0
                   else node(l_end[q + i]) for i in range(q)], dtype=np.int64)
    # the arrays: old edges (first pieces in place), other pieces, new pieces
    u, v = net.u.copy(), net.v.copy()
    geom = net.lines.copy()
    plen = shapely.length(pieces) if m else np.zeros(0)
    w, glen = net.weight.copy(), net.geom_length.copy()
    fi = np.flatnonzero(first)
    u[ce], v[ce], geom[ce], w[ce], glen[ce] = pu[fi], pv[fi], pieces[fi], plen[fi], plen[fi]
    rest = np.flatnonzero(~first)
    llen = shapely.length(lp) if q else np.zeros(0)
    cut_piece = np.empty(m, dtype=np.int64)
    cut_piece[fi] = ce
    cut_piece[rest] = net.n_edges + np.arange(len(rest))
    street = None
    if net.street is not None:
        lab = (np.asarray(labels, dtype=object) if labels is not None
               else np.full(k, None, dtype=object))
        street = np.concatenate([net.street, net.street[ce[owner[rest]]], lab[lowner]])
    xy = np.array(new_xy).reshape(-1, 2)
    ids = _new_ids(net.nodes, len(xy))
    out = _network(
        net, nodes=net.nodes.append(pd.Index(ids, tupleize_cols=False)),
        x=np.concatenate([net.x, xy[:, 0]]), y=np.concatenate([net.y, xy[:, 1]]),
        u=np.concatenate([u, pu[rest], lu]), v=np.concatenate([v, pv[rest], lv]),
        weight=np.concatenate([w, plen[rest], llen]),
        geometry=np.concatenate([geom, pieces[rest], lp]),
        geom_length=np.concatenate([glen, plen[rest], llen]), street=street)
    log.info("walking network: %d new line(s) joined in %d piece(s), %d edge(s) cut",
             k, q, len(ce))
    return Joined(net=out, cut_edge=ce[owner] if m else np.zeros(0, np.int64),
                  cut_from=start, cut_piece=cut_piece,
                  line_pieces=net.n_edges + len(rest) + np.arange(q), near=near,
                  dead_end_joins=dead_end_joins)


def _new_ids(nodes: pd.Index, n: int) -> list:
    """Ids for ``n`` new nodes, unused by ``nodes``: numbers past the largest when
    the ids are numbers (below the smallest when that is negative), else ``new<i>``."""
    if n == 0:
        return []
    if len(nodes) == 0 or pd.api.types.is_integer_dtype(nodes.dtype):
        top = int(nodes.max()) if len(nodes) else -1
        return list(range(top + 1, top + 1 + n))
    if pd.api.types.is_numeric_dtype(nodes.dtype):
        high = float(np.nanmax(nodes.to_numpy(float)))
        return [float(np.floor(high)) + 1 + i for i in range(n)]
    known = set(map(str, nodes))
    out: list = []
    i = 0
    while len(out) < n:
        if f"new{i}" not in known:
            out.append(f"new{i}")
        i += 1
    return out


def on_pieces(joined: Joined, snaps: pd.DataFrame) -> pd.DataFrame:
    """``snaps`` (onto the network before :func:`join_lines`) where they lie on
    ``joined.net``: points on a cut edge on the piece they lie on."""
    net = joined.net
    out = snaps.copy()
    e = out["edge"].to_numpy().copy()
    off = out["offset"].to_numpy(float).copy()
    if len(joined.cut_edge):
        cut = np.zeros(net.n_edges, bool)
        cut[joined.cut_edge] = True
        on = np.flatnonzero((e >= 0) & cut[np.maximum(e, 0)])
        for i in on:
            rows = np.flatnonzero(joined.cut_edge == e[i])
            j = rows[np.searchsorted(joined.cut_from[rows], off[i], side="right") - 1]
            p = joined.cut_piece[j]
            e[i] = p
            off[i] = float(np.clip(off[i] - joined.cut_from[j], 0.0, net.weight[p]))
    out["edge"] = e
    out["offset"] = off
    return out


def snaps_after_join(joined: Joined, snaps: pd.DataFrame, points: gpd.GeoSeries,
                     tolerance: float | None) -> pd.DataFrame:
    """``snaps`` (onto the network before :func:`join_lines`) onto ``joined.net``:
    points on a cut edge move to the piece they lie on (:func:`on_pieces`), and
    points nearer a new line's piece than to their street (or off the network
    and within ``tolerance`` of one) snap onto it, as snapping onto the new
    network would.  A point exactly as near a new line as its street (a line
    drawn along a street) stays on its street, where snapping onto a rebuilt
    network takes the edge it numbers first."""
    net = joined.net
    out = on_pieces(joined, snaps)
    e = out["edge"].to_numpy().copy()
    off = out["offset"].to_numpy(float).copy()
    lp = joined.line_pieces
    conn = out["connector_m"].to_numpy(float).copy()
    sx, sy = out["snap_x"].to_numpy(float).copy(), out["snap_y"].to_numpy(float).copy()
    if len(lp):
        ix = build_snap_index(net.lines[lp])
        arr = points.to_numpy()
        valid = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
        vi = np.flatnonzero(valid)
        xy = shapely.get_coordinates(arr[vi])
        ok = np.isfinite(xy).all(axis=1)
        vi, xy = vi[ok], xy[ok]
        tol = np.inf if tolerance is None else float(tolerance)
        x0, y0, x1, y1 = shapely.total_bounds(net.lines[lp])
        reach = np.where(e[vi] >= 0, np.fmin(conn[vi], tol), tol)
        near = ((xy[:, 0] >= x0 - reach) & (xy[:, 0] <= x1 + reach)
                & (xy[:, 1] >= y0 - reach) & (xy[:, 1] <= y1 + reach))
        vi, xy = vi[near], xy[near]
        if ix is not None and len(vi):
            seg, t, dist = nearest_segment(ix, xy[:, 0], xy[:, 1], tol)
            better = (seg >= 0) & (dist < np.where(e[vi] >= 0, conn[vi], np.inf))
            s, th, q = seg[better], t[better], vi[better]
            pe = lp[ix.edge[s]]
            e[q] = pe
            conn[q] = dist[better]
            sx[q], sy[q], off[q] = on_segments(ix, s, th, net.geom_length[pe], net.weight[pe])
    out["edge"] = e
    out["offset"] = off
    out["connector_m"] = conn
    out["snap_x"], out["snap_y"] = sx, sy
    out["off_network"] = e < 0
    return out
