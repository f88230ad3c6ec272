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

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from .paths import Augmented

__all__ = ["ReachPairs", "reach_pairs"]

#: Dense cells (targets × nodes) one chunk of searches may hold (8 bytes each).
MAX_CELLS = 16_000_000


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


def reach_pairs(aug: Augmented, where: tuple[np.ndarray, ...], sources: np.ndarray, *,
                cutoff: float, max_cells: int = MAX_CELLS) -> ReachPairs:
    """Every (point, target) pair within ``cutoff`` metres along the network.

    ``aug`` is the network augmented with the targets (:func:`augment`),
    ``where`` the points located on it (:func:`locate_snaps`: points off the
    network reach nothing) and ``sources`` the node each target's search
    starts from (``aug.target_node`` or a selection of it; -1 for a target off
    the network, which reaches nothing).  Distances are exact, as
    :func:`point_dist` gives them, connectors included.
    """
    on, left, right, to_l, to_r, conn = where
    pos = np.flatnonzero(on)
    sources = np.asarray(sources, dtype=np.int64)
    empty = ReachPairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    live = np.flatnonzero(sources >= 0)
    if not len(pos) or not len(live) or not (cutoff >= 0):
        return empty
    # node -> the points beside it, once as a left and once as a right node
    side = np.repeat(np.array([False, True]), len(pos))
    inc_node = np.concatenate([left, right])
    order = np.argsort(inc_node, kind="stable")
    inc_k = np.concatenate([np.arange(len(pos))] * 2)[order]
    inc_right = side[order]
    ptr = np.zeros(aug.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(inc_node, minlength=aug.n_nodes), out=ptr[1:])
    chunk = max(1, int(max_cells // max(aug.n_nodes, 1)))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for s in range(0, len(live), chunk):
        tgt = live[s:s + chunk]
        d = np.atleast_2d(dijkstra(aug.csr, directed=True, indices=sources[tgt], limit=float(cutoff)))
        row, node = np.nonzero(d <= cutoff)
        cnt = ptr[node + 1] - ptr[node]
        total = int(cnt.sum())
        if not total:
            continue
        rep = np.repeat(np.arange(len(node)), cnt)
        k = ptr[node][rep] + (np.arange(total) - (np.cumsum(cnt) - cnt)[rep])
        r, p = row[rep], inc_k[k]
        # the point's distance through either end of its piece of street, read off the row
        dl, dr = d[r, left[p]], d[r, right[p]]
        dist = np.minimum(dl + to_l[p], dr + to_r[p]) + conn[p]
        # a point whose two ends are both reached is found twice: keep it through its left
        keep = (dist <= cutoff) & (~inc_right[k] | ~(dl <= cutoff))
        parts.append((pos[p[keep]], tgt[r[keep]], dist[keep]))
    if not parts:
        return empty
    return ReachPairs(np.concatenate([q[0] for q in parts]).astype(np.int64),
                      np.concatenate([q[1] for q in parts]).astype(np.int64),
                      np.concatenate([q[2] for q in parts]))
