"""Cleaning hand-drawn street lines into a network: lines split where another
line ends on them (T-junctions), near-missed ends joined, crossings made
junctions on request; and the reports of what was not joined
(:func:`near_misses`, :func:`crossings`).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

log = logging.getLogger(__name__)

__all__ = ["JOIN_DECIMALS", "crossings", "near_misses", "split_at_junctions", "substrings"]

#: Coordinates are rounded to this many decimals (0.1 mm) when street lines
#: are joined at shared end points.
JOIN_DECIMALS = 4


def substrings(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The pieces of lines ``geoms[i]`` from distance ``start[i]`` to ``end[i]`` along them
    (vectorised, ``start`` < ``end``): a LineString per line, its vertices in between kept."""
    if len(geoms) == 0:
        return np.zeros(0, dtype=object)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    seg = np.concatenate([[0.0], seg])
    first = np.ones(len(idx), bool)
    first[1:] = idx[1:] != idx[:-1]
    seg[first] = 0.0
    cum = np.cumsum(seg)
    cum -= np.repeat(cum[first], np.bincount(idx, minlength=len(geoms)))
    keep = (cum > start[idx]) & (cum < end[idx])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    n = len(geoms)
    xy = np.concatenate([p0, coords[keep], p1])
    owner = np.concatenate([np.arange(n), idx[keep], np.arange(n)])
    key = np.concatenate([np.full(n, -np.inf), cum[keep], np.full(n, np.inf)])
    order = np.lexsort((key, owner))
    return shapely.linestrings(xy[order], indices=owner[order])


def _end_coords(arr: np.ndarray) -> np.ndarray:
    """The x, y of the lines' end points: their starts, then their ends (NaN for an empty line).

    Taken from the lines' coordinates: a third of the time of making each end a point."""
    coords, idx = shapely.get_coordinates(arr, return_index=True)
    count = np.bincount(idx, minlength=len(arr))
    last = np.cumsum(count) - 1
    out = np.full((2 * len(arr), 2), np.nan)
    has = count > 0
    out[: len(arr)][has] = coords[(last - count + 1)[has]]
    out[len(arr):][has] = coords[last[has]]
    return out


def _ends(arr: np.ndarray) -> np.ndarray:
    """The end points of the lines: their starts, then their ends (None for an empty line)."""
    xy = _end_coords(arr)
    pts = shapely.points(xy)
    pts[np.isnan(xy[:, 0])] = None
    return pts


def _join_near_ends(arr: np.ndarray, ends: np.ndarray, dangling: np.ndarray,
                    tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Move dangling ends lying within ``tolerance`` of each other onto one point
    (the first of each group), so that the lines join there.  Returns the
    lines and which ends moved."""
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(arr)
    moved = np.zeros(2 * n, bool)
    d = np.flatnonzero(dangling)
    if len(d) < 2:
        return arr, moved
    xy = shapely.get_coordinates(ends)
    pairs = cKDTree(xy[d]).query_pairs(tolerance, output_type="ndarray")
    pairs = pairs[d[pairs[:, 0]] % n != d[pairs[:, 1]] % n]  # not a line's own two ends
    if len(pairs) == 0:
        return arr, moved
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                              shape=(len(d), len(d)))
    _, group = connected_components(graph, directed=False)
    first = np.full(group.max() + 1, len(d))
    np.minimum.at(first, group, np.arange(len(d)))
    joined = np.bincount(group, minlength=len(first))[group] > 1
    target = xy.copy()
    target[d] = xy[d][first[group]]
    moved[d[joined]] = True
    log.info("streets: %d dangling end(s) joined to another within %g m", int(moved.sum()),
             tolerance)
    return _move_ends(arr, target), moved


def _move_ends(arr: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The lines with their first and last coordinates set to ``target`` (starts, then ends).

    Only the lines with an end to move are made again (a few in a city's hundreds of
    thousands); lines with z are all made again in two dimensions, as moved lines are."""
    n = len(arr)
    redo = np.arange(n)
    if not shapely.has_z(arr).any():
        now = _end_coords(arr)
        same = (now == target) | (np.isnan(now) & np.isnan(target))
        move = ~same.all(axis=1)
        redo = np.flatnonzero(move[:n] | move[n:])
        if not len(redo):
            return arr.copy()
    coords, idx = shapely.get_coordinates(arr[redo], return_index=True)
    counts = np.bincount(idx, minlength=len(redo))
    last = np.cumsum(counts) - 1
    coords[last - counts + 1] = target[:n][redo]
    coords[last] = target[n:][redo]
    out = arr.copy()
    out[redo] = shapely.linestrings(coords, indices=idx)
    return out


def _on_other_lines(tree: shapely.STRtree, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (end, line) where an end (starts, then ends, of the lines in
    ``tree``) lies on another line, to 0.1 mm."""
    n = len(ends) // 2
    pi, li = tree.query(ends, predicate="dwithin", distance=10.0 ** -JOIN_DECIMALS)
    keep = pi % n != li
    return pi[keep], li[keep]


def _lone(ends: np.ndarray) -> np.ndarray:
    """Which ends meet no other end (to 0.1 mm)."""
    key = pd.DataFrame(np.round(shapely.get_coordinates(ends), JOIN_DECIMALS))
    return ~key.duplicated(keep=False).to_numpy()


def _dangling(ends: np.ndarray, on_other: np.ndarray) -> np.ndarray:
    """Which ends meet no other end (to 0.1 mm) and lie on no other line
    (``on_other``, the ends that do, from :func:`_on_other_lines`)."""
    dangling = _lone(ends)
    dangling[on_other] = False
    return dangling


def _dangling_ends(tree: shapely.STRtree, ends: np.ndarray) -> np.ndarray:
    """:func:`_dangling`, the lines looked up for the lone ends only (a tenth of a city's
    ends: 0.49 → 0.03 s at 190k lines)."""
    n = len(ends) // 2
    dangling = _lone(ends)
    lone = np.flatnonzero(dangling)
    pi, li = tree.query(ends[lone], predicate="dwithin", distance=10.0 ** -JOIN_DECIMALS)
    on = lone[pi]
    dangling[on[on % n != li]] = False
    return dangling


def near_misses(streets: gpd.GeoDataFrame, *, beyond: float, within: float) -> pd.DataFrame:
    """Street ends that stop short of another street, more than ``beyond`` and at
    most ``within`` metres from it: gaps the walking network does not join.

    Only dangling ends count (meeting no other end and lying on no other
    line).  Returns one row per such end: ``row`` (the streets row label),
    ``end`` ("start" / "end"), ``distance_m`` and ``nearest_row``, the row
    of the nearest other street; nearest gaps first.  A layer with node ids
    ``u``/``v`` (an OSM import) is joined by those, and has none.
    """
    cols = ["row", "end", "distance_m", "nearest_row"]
    geoms = streets.geometry
    if {"u", "v"} <= set(streets.columns) and not streets[["u", "v"]].isna().any().any():
        return pd.DataFrame(columns=cols)
    geoms = geoms[geoms.notna() & ~geoms.is_empty & geoms.geom_type.isin(
        ["LineString", "MultiLineString"])]
    parts = geoms.explode(index_parts=False)
    arr, labels = parts.to_numpy(), parts.index.to_numpy()
    n = len(arr)
    if n == 0:
        return pd.DataFrame(columns=cols)
    ends = _ends(arr)
    tree = shapely.STRtree(arr)
    q = np.flatnonzero(_dangling_ends(tree, ends))
    qi, ql = tree.query(ends[q], predicate="dwithin", distance=within)
    owner = np.concatenate([np.arange(n), np.arange(n)])
    other = labels[owner[q[qi]]] != labels[ql]  # not a part of the same row
    qi, ql = qi[other], ql[other]
    dist = shapely.distance(ends[q[qi]], arr[ql])
    best = np.lexsort((ql, dist, qi))
    best = best[np.r_[True, qi[best][1:] != qi[best][:-1]]] if len(best) else best
    gap = dist[best] > beyond
    p, line, d = q[qi[best]][gap], ql[best][gap], dist[best][gap]
    out = pd.DataFrame({"row": labels[owner[p]], "end": np.where(p < n, "start", "end"),
                        "distance_m": d, "nearest_row": labels[line]}, columns=cols)
    return out.sort_values(["distance_m", "row"], kind="stable").reset_index(drop=True)


def crossings(streets: gpd.GeoDataFrame) -> pd.DataFrame:
    """Where two streets cross with neither ending there: the walking network
    joins them only with ``split_crossings`` (see :func:`build_graph`).

    Returns one row per crossing: ``row`` and ``other_row`` (the streets row
    labels, ``row`` first in the layer), ``x`` and ``y``.  A layer with node ids
    ``u``/``v`` (an OSM import) is joined by those, and has none.
    """
    cols = ["row", "other_row", "x", "y"]
    if {"u", "v"} <= set(streets.columns) and not streets[["u", "v"]].isna().any().any():
        return pd.DataFrame(columns=cols)
    geoms = streets.geometry
    geoms = geoms[geoms.notna() & ~geoms.is_empty & geoms.geom_type.isin(
        ["LineString", "MultiLineString"])]
    parts = geoms.explode(index_parts=False)
    arr, labels = parts.to_numpy(), parts.index.to_numpy()
    line, point = _crossings(arr) if len(arr) else (np.zeros(0, int), np.zeros(0, object))
    half = len(line) // 2  # each crossing comes once for each line: first, then second
    a, b = line[:half], line[half:]
    xy = shapely.get_coordinates(point[:half]) if half else np.zeros((0, 2))
    out = pd.DataFrame({"row": labels[a], "other_row": labels[b], "x": xy[:, 0], "y": xy[:, 1]},
                       columns=cols)
    return out[out["row"] != out["other_row"]].reset_index(drop=True)  # parts of one row


def split_at_junctions(arr: np.ndarray, labels: np.ndarray, join_tolerance: float = 0.0,
                        split_crossings: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Split lines where another line's end point lies on their interior
    (T-junctions).  With ``join_tolerance``, dangling ends (meeting no other
    end and lying on no other line) are joined first: to another dangling end
    within that distance (:func:`_join_near_ends`), or else to the nearest
    point of another line within it, which is split there.  With
    ``split_crossings``, two lines that cross are both split at the crossing.

    ``arr`` holds LineStrings and ``labels`` their streets row labels; returns
    the lines after the cuts (the untouched ones first, then the pieces in
    order along each cut line) and their labels."""
    tol = 10.0 ** -JOIN_DECIMALS
    n = len(arr)
    ends = _ends(arr)
    owner = np.concatenate([np.arange(n), np.arange(n)])
    tree = shapely.STRtree(arr)
    pi, li = _on_other_lines(tree, ends)
    if join_tolerance > tol:
        dangling = _dangling(ends, pi)
        arr, moved = _join_near_ends(arr, ends, dangling, join_tolerance)
        if moved.any():  # those ends meet now; the lines moved by less than the tolerance
            dangling &= ~moved
            ends = _ends(arr)
            tree = shapely.STRtree(arr)
            pi, li = _on_other_lines(tree, ends)
        q = np.flatnonzero(dangling)
        qi, ql = tree.query(ends[q], predicate="dwithin", distance=join_tolerance)
        other = owner[q[qi]] != ql
        qi, ql = qi[other], ql[other]
        if len(qi):
            # the nearest other line of each dangling end (the lowest-numbered on ties)
            dist = shapely.distance(ends[q[qi]], arr[ql])
            best = np.lexsort((ql, dist, qi))
            best = best[np.r_[True, qi[best][1:] != qi[best][:-1]]]
            near_p, near_l = q[qi[best]], ql[best]
            target = _end_coords(arr)
            for _ in range(2):  # once more onto the lines as moved (their own ends may have)
                near = shapely.points(_end_coords(arr)[near_p])
                on = shapely.line_interpolate_point(
                    arr[near_l], shapely.line_locate_point(arr[near_l], near))
                target[near_p] = shapely.get_coordinates(on)
                arr = _move_ends(arr, target)
            log.info("streets: %d dangling end(s) joined to a line within %g m", len(near_p),
                     join_tolerance)
            pi, li = np.concatenate([pi, near_p]), np.concatenate([li, near_l])
    at = shapely.points(_end_coords(arr)[pi])  # line li[j] is cut at point at[j]
    if split_crossings:
        cl, cp = _crossings(arr)
        if len(cl):
            log.info("streets: %d crossing(s) of two lines made junctions", len(cl) // 2)
        li, at = np.concatenate([li, cl]), np.concatenate([at, cp])
    if len(li) == 0:
        return arr, labels
    pos = shapely.line_locate_point(arr[li], at)
    glen = shapely.length(arr[li])
    inner = (pos > tol) & (pos < glen - tol)
    li, pos, at = li[inner], pos[inner], at[inner]
    if len(li) == 0:
        return arr, labels
    order = np.lexsort((pos, li))
    li, pos, at = li[order], pos[order], at[order]
    # one cut per place: the same point, or two within 0.1 mm along the line
    new = np.r_[True, (li[1:] != li[:-1]) | (pos[1:] - pos[:-1] > tol)]
    li, pos, at = li[new], pos[new], shapely.get_coordinates(at[new])
    lines_cut, first = np.unique(li, return_index=True)
    count = np.diff(np.r_[first, len(li)])  # cuts per line
    n_pieces = count + 1
    owner_l = np.repeat(lines_cut, n_pieces)
    k = np.arange(len(owner_l)) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    cut_of = np.repeat(first, n_pieces) + k  # the cut a piece ends at (one past, for the last)
    is_first, is_last = k == 0, k == np.repeat(count, n_pieces)
    lo = np.where(is_first, 0.0, pos[np.minimum(cut_of - 1, len(pos) - 1)])
    hi = np.where(is_last, shapely.length(arr[owner_l]), pos[np.minimum(cut_of, len(pos) - 1)])
    pieces = substrings(arr[owner_l], lo, hi)
    # the ends at a cut are the cut's point exactly, so that the pieces meet there
    target = _end_coords(pieces)
    m = len(pieces)
    target[:m][~is_first] = at[cut_of[~is_first] - 1]
    target[m:][~is_last] = at[cut_of[~is_last]]
    pieces = _move_ends(pieces, target)
    untouched = np.setdiff1d(np.arange(len(arr)), lines_cut)
    log.info("streets: %d line(s) split at junctions", len(lines_cut))
    return (np.concatenate([arr[untouched], pieces]),
            np.concatenate([labels[untouched], labels[owner_l]]))


def _crossings(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where two lines cross, each away from its ends: per crossing, both lines
    (``line``) and the point (``point``), once for each."""
    a, b = shapely.STRtree(arr).query(arr)  # boxes that meet; each pair once, then tested
    keep = a < b
    a, b = a[keep], b[keep]
    cross = shapely.crosses(arr[a], arr[b])  # three times faster than the tree's predicate
    a, b = a[cross], b[cross]
    if not len(a):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    parts, idx = shapely.get_parts(shapely.intersection(arr[a], arr[b]), return_index=True)
    pt = shapely.get_type_id(parts) == shapely.GeometryType.POINT
    parts, idx = parts[pt], idx[pt]
    return np.concatenate([a[idx], b[idx]]), np.concatenate([parts, parts])

