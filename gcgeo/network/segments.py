"""The snapping index: the straight segments of every edge and a KD-tree over
short pieces of them, for an exact nearest-segment search of many points.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

__all__ = ["SnapIndex", "build_snap_index", "nearest_segment", "on_segments", "snap_index_of"]


#: Street segments are cut into pieces no longer than twice this (CRS units,
#: metres) for the snapping index: a point's distance to a segment is at least
#: its distance to the nearest piece midpoint minus this.
_PIECE_HALF = 5.0
#: Nearest piece midpoints looked at per point before the exact ball search.
_SNAP_K = 8
#: Slack (CRS units) for rounding in the piece bound.
_SNAP_EPS = 1e-6


@dataclass(frozen=True, eq=False)
class SnapIndex:
    """The straight segments of every edge and a KD-tree over short pieces of them.

    Segment ``s`` runs from (``x0``, ``y0``) by (``dx``, ``dy``) and belongs to
    edge ``edge[s]``, starting ``start[s]`` along the edge's geometry.  Each
    segment is cut into equal pieces of half-length at most ``half``; the
    KD-tree holds the piece midpoints and ``piece_seg`` their segment.  Any
    point within distance ``d`` of a segment is within ``d + half`` of one of
    its piece midpoints, which makes the nearest-segment search exact.
    """

    x0: np.ndarray
    y0: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    inv_len2: np.ndarray  # 1 / squared length, 0 for a zero-length segment
    seg_len: np.ndarray
    start: np.ndarray
    edge: np.ndarray
    piece_seg: np.ndarray
    kd: Any
    half: float


def build_snap_index(geometry: np.ndarray) -> SnapIndex | None:
    """Segments and piece KD-tree of the edge lines; None when a geometry is not a LineString."""
    present = ~pd.isna(geometry)
    if present.any():
        types = shapely.get_type_id(geometry[present])
        if (types != shapely.GeometryType.LINESTRING).any():
            return None
    coords, idx = shapely.get_coordinates(geometry, return_index=True)
    return snap_index_of(coords, idx)


def snap_index_of(coords: np.ndarray, idx: np.ndarray) -> SnapIndex:
    """:func:`build_snap_index` of LineStrings given as their coordinates ``coords`` and
    each coordinate's line ``idx`` (as :func:`shapely.get_coordinates` gives them)."""
    from scipy.spatial import cKDTree

    same = idx[1:] == idx[:-1]  # consecutive coordinates of one line form a segment
    a = np.flatnonzero(same)
    x0, y0 = coords[a, 0], coords[a, 1]
    dx, dy = coords[a + 1, 0] - x0, coords[a + 1, 1] - y0
    seg_len = np.hypot(dx, dy)
    edge = idx[a].astype(np.int64)
    cum = np.cumsum(seg_len)
    first = np.ones(len(a), bool)
    first[1:] = edge[1:] != edge[:-1]
    base = np.maximum.accumulate(np.where(first, np.arange(len(a)), 0))
    start = cum - seg_len - (cum[base] - seg_len[base])
    half = _PIECE_HALF
    n_pieces = np.maximum(1, np.ceil(seg_len / (2 * half))).astype(np.int64)
    piece_seg = np.repeat(np.arange(len(a)), n_pieces)
    k = np.arange(len(piece_seg)) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    frac = (k + 0.5) / n_pieces[piece_seg]
    mid = np.column_stack([x0[piece_seg] + frac * dx[piece_seg], y0[piece_seg] + frac * dy[piece_seg]])
    # the sliding-midpoint build is twice as fast here and queries no slower
    kd = cKDTree(mid, balanced_tree=False) if len(mid) else None
    len2 = dx * dx + dy * dy
    inv_len2 = np.divide(1.0, len2, out=np.zeros_like(len2), where=len2 > 0)
    return SnapIndex(x0=x0, y0=y0, dx=dx, dy=dy, inv_len2=inv_len2, seg_len=seg_len,
                      start=start, edge=edge, piece_seg=piece_seg, kd=kd, half=half)


#: Snap queries of more points than this run in grid order.
_SNAP_SORT_MIN = 5000
#: Grid cell (CRS units, metres) of that order.
_SNAP_SORT_CELL = 100.0


def _grid_order(xy: np.ndarray) -> np.ndarray:
    """A permutation visiting the points cell by cell of a coarse grid."""
    lo = xy.min(axis=0)
    cell = np.floor((xy - lo) / _SNAP_SORT_CELL).astype(np.int64)
    return np.argsort(cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1], kind="stable")


def _seg_project(ix: SnapIndex, seg: np.ndarray, px: np.ndarray, py: np.ndarray):
    """Projection parameter (0..1) and *squared* distance of points onto segments."""
    dx, dy = ix.dx[seg], ix.dy[seg]
    rx, ry = px - ix.x0[seg], py - ix.y0[seg]
    t = rx * dx
    t += ry * dy
    t *= ix.inv_len2[seg]
    np.clip(t, 0.0, 1.0, out=t)
    dx *= t
    dy *= t
    rx -= dx
    ry -= dy
    rx *= rx
    ry *= ry
    rx += ry
    return t, rx


def nearest_segment(ix: SnapIndex, px: np.ndarray, py: np.ndarray, tol: float,
                    allowed: np.ndarray | None = None):
    """Exact nearest segment of every point (the lowest-numbered one among ties).

    Returns the segment (-1 beyond ``tol``), the projection parameter and the
    distance.  A first pass looks at the ``_SNAP_K`` nearest piece midpoints;
    a point is settled when the farthest of them is more than ``half`` beyond
    its best distance (then no other segment can be as near).  The rest get
    every piece within their best distance plus ``half``.

    With ``allowed`` (a flag per edge) only the segments of allowed edges
    count: every piece within ``tol`` plus ``half`` is looked at (``tol``
    must then be finite).
    """
    n = len(px)
    seg = np.full(n, -1, dtype=np.int64)
    t = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    if n == 0 or ix.kd is None:
        return seg, t, dist
    if allowed is not None:
        if not np.isfinite(tol):
            raise ValueError("snapping among some edges needs a finite tolerance")
        lists = ix.kd.query_ball_point(np.column_stack([px, py]), tol + ix.half + _SNAP_EPS)
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        pieces = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64,
                             count=int(counts.sum()))
        qi, cand = np.repeat(np.arange(n), counts), ix.piece_seg[pieces]
        ok = allowed[ix.edge[cand]]
        _pick(ix, qi[ok], cand[ok], px, py, seg, t, dist)
        off = ~(dist <= tol)
        seg[off], t[off], dist[off] = -1, np.nan, np.nan
        return seg, t, dist
    h = ix.half
    k = min(_SNAP_K, ix.kd.n)
    bound = tol + h if np.isfinite(tol) else np.inf
    # points in the order of a coarse grid: neighbours in a row share tree
    # paths, which makes the query about a third faster than in random order
    xy = np.column_stack([px, py])
    order = _grid_order(xy) if n > _SNAP_SORT_MIN else None
    dk, pk = ix.kd.query(xy if order is None else xy[order], k=k, distance_upper_bound=bound,
                         workers=-1)
    dk, pk = dk.reshape(n, k), pk.reshape(n, k)
    if order is not None:
        back = np.empty_like(order)
        back[order] = np.arange(n)
        dk, pk = dk[back], pk[back]
    found = pk < ix.kd.n
    cand = np.where(found, ix.piece_seg[np.where(found, pk, 0)], 0)
    tt, dd = _seg_project(ix, cand, px[:, None], py[:, None])  # squared distances
    dd[~found] = np.inf
    best2 = dd.min(axis=1)
    # among equally near segments the lowest (segments are numbered in edge order)
    rank = np.where(dd == best2[:, None], cand, np.iinfo(np.int64).max)
    j = rank.argmin(axis=1)
    rows = np.arange(n)
    best = np.sqrt(best2)
    hit = np.isfinite(best)
    seg[hit] = cand[rows, j][hit]
    t[hit] = tt[rows, j][hit]
    dist[hit] = best[hit]
    limit = np.minimum(best, tol)
    # settled: fewer than k pieces within the bound, or the k-th is beyond limit + half
    settled = ~found[:, -1] | (dk[:, -1] - h > limit + _SNAP_EPS)
    todo = np.flatnonzero(~settled)
    if len(todo):
        r = limit[todo] + h + _SNAP_EPS
        lists = ix.kd.query_ball_point(np.column_stack([px[todo], py[todo]]), r, workers=-1)
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        pieces = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64,
                             count=int(counts.sum()))
        _pick(ix, np.repeat(todo, counts), ix.piece_seg[pieces], px, py, seg, t, dist)
    off = ~(dist <= tol)
    seg[off], t[off], dist[off] = -1, np.nan, np.nan
    return seg, t, dist


def _pick(ix: SnapIndex, qi: np.ndarray, cand: np.ndarray, px: np.ndarray, py: np.ndarray,
          seg: np.ndarray, t: np.ndarray, dist: np.ndarray) -> None:
    """Point ``qi[j]`` may snap to segment ``cand[j]``: keep the nearest (lowest on ties).

    ``qi`` comes in runs of equal points (as ``np.repeat`` makes it).
    """
    if len(qi) == 0:
        return
    tt, dd = _seg_project(ix, cand, px[qi], py[qi])  # squared distances
    start = np.flatnonzero(np.r_[True, qi[1:] != qi[:-1]])
    run = np.repeat(np.arange(len(start)), np.diff(np.r_[start, len(qi)]))
    nearest = dd == np.minimum.reduceat(dd, start)[run]
    lowest = np.where(nearest, cand, np.iinfo(np.int64).max)
    w = np.flatnonzero(nearest & (cand == np.minimum.reduceat(lowest, start)[run]))
    w = w[np.r_[True, qi[w[1:]] != qi[w[:-1]]]]  # one per point
    q = qi[w]
    seg[q], t[q], dist[q] = cand[w], tt[w], np.sqrt(dd[w])



def on_segments(ix: SnapIndex, seg: np.ndarray, t: np.ndarray, length: np.ndarray,
                weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where points snapped at parameter ``t`` of segments ``seg`` (as
    :func:`nearest_segment` gives them) lie: their x, y, and the offset from the
    start of their edge in the edge's weight (``length`` and ``weight`` are those
    of each point's edge: its geometry's length and its weight)."""
    x = ix.x0[seg] + t * ix.dx[seg]
    y = ix.y0[seg] + t * ix.dy[seg]
    along = ix.start[seg] + t * ix.seg_len[seg]
    frac = np.divide(along, length, out=np.zeros_like(along), where=length > 0)
    return x, y, np.clip(frac, 0.0, 1.0) * weight
