"""Every pair within reach: the distance from each of many targets to every
snapped point within a cutoff, not only to the nearest target.

Where :func:`~gcgeo.network.multi_source` answers "how far is the nearest
facility", :func:`reach_pairs` answers "which facilities are within reach of
this home, and how far is each": one limited Dijkstra per target
(:func:`scipy.sparse.csgraph.dijkstra` with ``limit``, the targets in
chunks so that the dense rows of a chunk stay within a memory budget), the
reached nodes read off each row, and the points beside those nodes found
through a node → point incidence built once.  The result is sparse: a city's
2,000 facilities and 100,000 homes give a few million pairs, not 200 million
cells.

>>> import geopandas as gpd, shapely
>>> from gcgeo.network import augment, compile_network, locate_snaps, network_from_streets, snap
>>> streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (300, 0)])], crs=3857)
>>> net = compile_network(network_from_streets(streets))
>>> shops = snap(net, gpd.GeoSeries(shapely.points([(0, 0), (300, 0)]), crs=3857), 50)
>>> homes = snap(net, gpd.GeoSeries(shapely.points([(100, 10), (250, 0)]), crs=3857), 50)
>>> aug = augment(net, shops)
>>> p = reach_pairs(aug, locate_snaps(aug, homes), aug.target_node, cutoff=240)
>>> sorted(zip(p.point.tolist(), p.target.tolist(), p.distance.round(6).tolist()))
[(0, 0, 110.0), (0, 1, 210.0), (1, 1, 50.0)]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from .paths import Augmented

__all__ = ["ReachPairs", "near_first", "near_searches", "reach_pairs"]

#: Dense cells (targets × nodes) one chunk of searches may hold (8 bytes each).
MAX_CELLS = 16_000_000
#: Targets searched together on the nodes near them (:func:`reach_pairs`).
CHUNK = 32


@dataclass(frozen=True)
class ReachPairs:
    """Pairs (``point[k]``, ``target[k]``) at network distance ``distance[k]``
    (metres, at most the cutoff); positions into the points and targets given.
    Each pair appears once, at its shortest distance (through either end of the
    point's piece of street)."""

    point: np.ndarray
    target: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.point)


def near_first(xy: np.ndarray, cell: float = 500.0) -> np.ndarray:
    """An order of the points ``xy`` (n × 2 coordinates, or geometries: their
    centroids) in which neighbours come together: by cells of ``cell`` metres, row
    by row, alternating direction.  Points without a position come first.

    >>> near_first(np.array([[0.0, 0.0], [900.0, 0.0], [0.0, 600.0], [100.0, 0.0]])).tolist()
    [0, 3, 1, 2]
    >>> import shapely
    >>> near_first(np.array([shapely.Point(900, 0), None, shapely.Point(0, 0)])).tolist()
    [1, 2, 0]
    """
    xy = np.asarray(xy)
    if xy.dtype == object:  # geometries (None or empty: no position)
        c = shapely.centroid(xy)
        xy = np.column_stack([shapely.get_x(c), shapely.get_y(c)]).astype(float)
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not len(xy):
        return np.zeros(0, dtype=np.int64)
    ok = np.isfinite(xy).all(axis=1)
    lo = xy[ok].min(axis=0) if ok.any() else np.zeros(2)
    xy = np.where(ok[:, None], xy, lo - cell)
    ix = np.floor((xy[:, 0] - lo[0]) / cell).astype(np.int64)
    iy = np.floor((xy[:, 1] - lo[1]) / cell).astype(np.int64)
    ix = np.where(iy % 2 == 1, ix.max() - ix, ix)
    return np.lexsort((ix, iy))


def near_searches(csr: sparse.csr_matrix, sources: np.ndarray, cutoff: float, *,
                  xy: np.ndarray | None = None, chunk: int = CHUNK, max_cells: int = MAX_CELLS
                  ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Limited Dijkstra searches from every node of ``sources`` over the directed
    graph ``csr``, each on the nodes near it only.

    The sources are taken ``chunk`` at a time, neighbours together when ``xy``
    (their positions or geometries) is given (:func:`near_first`).  One search from the whole
    chunk finds the nodes within ``cutoff`` of any of its sources; each source's own
    search runs on those nodes only, since no path within the cutoff leaves them.
    A city's searches then fill rows of the nodes near a chunk, not of every node.

    Yields ``(part, near, local, d)`` per group of sources: ``part`` their positions
    in ``sources``, ``near`` the chunk's nodes (sorted), ``local`` every node's
    position in ``near`` (-1 outside; valid until the next group) and ``d`` the
    distances (``len(part)`` × ``len(near)``, inf beyond the cutoff).  A group holds
    at most ``max_cells`` distances where a chunk allows.

    >>> from scipy import sparse
    >>> path = sparse.csr_matrix(([100.0] * 4, ([0, 1, 2, 3], [1, 2, 3, 4])), shape=(5, 5))
    >>> g = path + path.T
    >>> [(p.tolist(), near.tolist(), d.tolist()) for p, near, _, d in near_searches(g, [0, 4], 150)]
    [([0, 1], [0, 1, 3, 4], [[0.0, 100.0, inf, inf], [inf, inf, 100.0, 0.0]])]
    """
    sources = np.asarray(sources, dtype=np.int64)
    order = np.arange(len(sources)) if xy is None else near_first(xy)
    local = np.full(csr.shape[0], -1, dtype=np.int64)
    step = max(1, int(chunk))
    for s in range(0, len(order), step):
        tgt = order[s:s + step]
        near = np.flatnonzero(dijkstra(csr, directed=True, indices=sources[tgt], min_only=True,
                                       limit=float(cutoff)) <= cutoff)
        local[near] = np.arange(len(near))
        sub = csr[near][:, near]
        rows = max(1, int(max_cells // max(len(near), 1)))
        for k in range(0, len(tgt), rows):
            part = tgt[k:k + rows]
            yield part, near, local, np.atleast_2d(dijkstra(sub, directed=True,
                                                            indices=local[sources[part]],
                                                            limit=float(cutoff)))
        local[near] = -1


def reach_pairs(aug: Augmented, where: tuple[np.ndarray, ...], sources: np.ndarray, *,
                cutoff: float, xy: np.ndarray | None = None, chunk: int = CHUNK,
                max_cells: int = MAX_CELLS) -> ReachPairs:
    """Every (point, target) pair within ``cutoff`` metres along the network.

    ``aug`` is the network augmented with the targets (:func:`augment`),
    ``where`` the points located on it (:func:`locate_snaps`: points off the
    network reach nothing) and ``sources`` the node each target's search
    starts from (``aug.target_node`` or a selection of it; -1 for a target off
    the network, which reaches nothing).  Distances are exact, as
    :func:`point_dist` gives them, connectors included.

    The targets are searched on the nodes near them (:func:`near_searches`),
    neighbours together when ``xy`` (their positions or geometries) is given.
    """
    on, left, right, to_l, to_r, conn = where
    pos = np.flatnonzero(on)
    sources = np.asarray(sources, dtype=np.int64)
    empty = ReachPairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    live = np.flatnonzero(sources >= 0)
    if not len(pos) or not len(live) or not (cutoff >= 0):
        return empty
    n = aug.n_nodes
    # node -> the points beside it, once as a left and once as a right node
    side = np.repeat(np.array([False, True]), len(pos))
    inc_node = np.concatenate([left, right])
    order = np.argsort(inc_node, kind="stable")
    inc_k = np.concatenate([np.arange(len(pos))] * 2)[order]
    inc_right = side[order]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(inc_node, minlength=n), out=ptr[1:])
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for part, near, local, d in near_searches(aug.csr, sources[live], cutoff,
                                              xy=None if xy is None else np.asarray(xy)[live],
                                              chunk=chunk, max_cells=max_cells):
        row, col = np.nonzero(d <= cutoff)
        node = near[col]
        cnt = ptr[node + 1] - ptr[node]
        total = int(cnt.sum())
        if not total:
            continue
        rep = np.repeat(np.arange(len(node)), cnt)
        kk = ptr[node][rep] + (np.arange(total) - (np.cumsum(cnt) - cnt)[rep])
        r, p = row[rep], inc_k[kk]
        # the point's distance through either end of its piece of street, read off the row
        # (an end outside the chunk's nodes is beyond the cutoff)
        ll, lr = local[left[p]], local[right[p]]
        dl = np.where(ll >= 0, d[r, ll], np.inf)
        dr = np.where(lr >= 0, d[r, lr], np.inf)
        dist = np.minimum(dl + to_l[p], dr + to_r[p]) + conn[p]
        # a point whose two ends are both reached is found twice: keep it through its left
        keep = (dist <= cutoff) & (~inc_right[kk] | ~(dl <= cutoff))
        parts.append((pos[p[keep]], live[part[r[keep]]], dist[keep]))
    if not parts:
        return empty
    return ReachPairs(np.concatenate([q[0] for q in parts]).astype(np.int64),
                      np.concatenate([q[1] for q in parts]).astype(np.int64),
                      np.concatenate([q[2] for q in parts]))
