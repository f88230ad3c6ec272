"""Shortest paths: compiled multi-source Dijkstra from nodes, over the network
with its chains of degree-2 nodes contracted, and from snapped points, over the
network augmented with them (virtual nodes splitting their edges).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from .._errors import InputError
from .build import Network, adjacency, compile_network
from .snapping import check_points, snap

if TYPE_CHECKING:
    import networkx as nx

log = logging.getLogger(__name__)

__all__ = [
    "Augmented",
    "Chains",
    "augment",
    "contract_chains",
    "dist_via_ends",
    "distances_snapped",
    "locate_snaps",
    "multi_source",
    "node_distances",
    "point_dist",
    "point_distances",
]

#: Positions along an edge closer than this (metres) are the same position.
_POS_EPS = 1e-6


# --------------------------------------------------------------------------
# node distances


def node_distances(
    G: nx.Graph | Network,
    sources: Iterable[Hashable],
    *,
    cutoff: float,
    weight: str = "length",
) -> pd.Series:
    """Distance from the nearest of ``sources`` to every node (NaN beyond ``cutoff``).

    Indexed by the graph's nodes; equals
    :func:`networkx.multi_source_dijkstra_path_length` with the same cutoff.
    """
    net = compile_network(G, weight=weight)
    src = list(sources)
    idx = net.nodes.get_indexer(src) if src else np.zeros(0, dtype=np.intp)
    if (idx < 0).any():
        bad = [s for s, i in zip(src, idx) if i < 0][:5]
        raise InputError(f"source node(s) {bad} are not in the graph.")
    csr = net.csr()
    chains = None if net.directed else contract_chains(csr, idx)
    d = multi_source(csr, np.unique(idx), cutoff, chains=chains)
    return pd.Series(d[: net.n_nodes], index=net.nodes, dtype=float)


def multi_source(
    csr: sparse.csr_matrix, sources: np.ndarray, cutoff: float, *, chains: Chains | None = None
) -> np.ndarray:
    """Distance of every node of ``csr`` from the nearest of ``sources`` (node
    positions), NaN beyond ``cutoff``: one compiled Dijkstra from all of them.

    With ``chains`` (:func:`contract_chains` of ``csr``, every source kept) the search
    runs on the contracted graph and the chain nodes are filled in after.
    """
    n = csr.shape[0]
    if len(sources) == 0 or n == 0:
        return np.full(n, np.nan)
    limit = float(cutoff) if np.isfinite(cutoff) else np.inf
    if chains is None:
        d = dijkstra(csr, directed=True, indices=sources, min_only=True, limit=limit)
    else:
        d = chains.distances(sources, limit)
    d[~np.isfinite(d) | (d > cutoff)] = np.nan
    return d


#: Contract only when at least this share of the nodes lies inside chains or at dead ends.
_CHAIN_MIN_SHARE = 0.1
#: Rounds of contraction at most.
_CHAIN_MAX_DEPTH = 8


@dataclass(frozen=True, eq=False)
class Chains:
    """An undirected graph with its chains of degree-2 nodes contracted and
    its dead-end nodes set aside, for the searches to settle fewer nodes.

    ``csr`` joins the ``core`` nodes only (numbered by their position in
    ``core``): every chain is one edge between its two end nodes, as long
    as the chain.  Dead end ``leaf[i]`` (one edge, once the chains are
    contracted) lies ``leaf_w[i]`` from ``leaf_to[i]``.  Interior node
    ``interior[i]`` lies ``acc[i, k]`` from end node ``end[i, k]`` (k = 0,
    1; the number of nodes, one past the last, when the chain is a ring
    with no end).  From sources that are all core nodes, any path to a dead
    end passes its one neighbour and any path into a chain enters at one of
    its ends, so those distances follow from the core's.
    """

    csr: sparse.csr_matrix
    core: np.ndarray
    leaf: np.ndarray
    leaf_to: np.ndarray
    leaf_w: np.ndarray
    interior: np.ndarray
    end: np.ndarray
    acc: np.ndarray
    inner: Chains | None = None  # the core contracted again, when that pays

    def distances(self, sources: np.ndarray, limit: float) -> np.ndarray:
        """Distance of every node from the nearest source (inf when not reached)."""
        n = len(self.core) + len(self.leaf) + len(self.interior)
        pos = np.empty(n, dtype=np.int64)
        pos[self.core] = np.arange(len(self.core))
        d = np.full(n + 1, np.inf)  # one extra, last entry at infinity
        if self.inner is not None:
            d[self.core] = self.inner.distances(pos[sources], limit)
        else:
            d[self.core] = dijkstra(self.csr, directed=True, indices=pos[sources],
                                    min_only=True, limit=limit)
        d[self.leaf] = d[self.leaf_to] + self.leaf_w
        via = d[self.end]
        via += self.acc
        d[self.interior] = np.minimum(via[:, 0], via[:, 1])
        return d[:n]


def contract_chains(csr: sparse.csr_matrix, keep: np.ndarray, *, depth: int = 0) -> Chains | None:
    """Contract the degree-2 nodes of a symmetric ``csr`` (no self-loops, no
    parallel entries, as :func:`adjacency` builds it) and set its dead ends aside,
    keeping the nodes in ``keep`` (the sources) in the core.

    None when too few nodes lie inside chains for the contraction to pay.
    Chains are walked by pointer jumping over the half-edges (each step
    doubles the reach), so the cost is O(E log L) array work for chains of
    at most L nodes.
    """
    n = csr.shape[0]
    indptr = csr.indptr.astype(np.int64)
    col = csr.indices.astype(np.int64)
    deg = np.diff(indptr)
    kept = np.zeros(n, bool)
    kept[np.asarray(keep, dtype=np.int64)] = True
    interior = (deg == 2) & ~kept
    if n == 0 or (interior | ((deg == 1) & ~kept)).sum() < _CHAIN_MIN_SHARE * n:
        return None
    row = np.repeat(np.arange(n, dtype=np.int64), deg)
    # half-edge h runs row[h] -> col[h]; through an interior node it goes on
    # along that node's other half-edge
    into = interior[col]
    nxt = np.full(len(col), -1, dtype=np.int64)
    first = indptr[col[into]]
    nxt[into] = first + (col[first] == row[into])
    acc = csr.data.astype(np.float64).copy()
    end = np.where(into, -1, col)
    active = np.flatnonzero(into)
    for _ in range(max(1, len(col)).bit_length()):  # each round doubles the reach
        if not len(active):
            break
        j = nxt[active]
        acc[active] += acc[j]
        end[active] = end[j]
        nxt[active] = nxt[j]
        active = active[nxt[active] >= 0]
    end[active] = n  # rings of interior nodes only, with no way in: a node at infinity
    # one edge per chain end: the half-edges leaving the other nodes (parallel
    # chains stay parallel entries, which Dijkstra takes as they are)
    out = np.flatnonzero(~interior[row] & (end < n))
    cdeg = np.bincount(row[out], minlength=n)
    is_leaf = (cdeg == 1) & ~kept & ~interior
    lh = out[is_leaf[row[out]]]  # the one half-edge of each dead end, in node order
    out = out[~is_leaf[row[out]] & ~is_leaf[end[out]]]
    core = np.flatnonzero(~interior & ~is_leaf)
    pos = np.full(n, -1, dtype=np.int64)
    pos[core] = np.arange(len(core))
    indptr_c = np.zeros(len(core) + 1, dtype=csr.indptr.dtype)
    np.cumsum(np.bincount(pos[row[out]], minlength=len(core)), out=indptr_c[1:])
    cs = sparse.csr_matrix((acc[out], pos[end[out]].astype(csr.indices.dtype), indptr_c),
                           shape=(len(core), len(core)))
    nodes = np.flatnonzero(interior)
    h = indptr[nodes][:, None] + np.arange(2)
    # setting dead ends aside leaves new chains and dead ends: contract again
    inner = (contract_chains(cs, np.flatnonzero(kept[core]), depth=depth + 1)
             if depth < _CHAIN_MAX_DEPTH else None)
    return Chains(csr=cs, core=core, leaf=row[lh], leaf_to=end[lh], leaf_w=acc[lh],
                   interior=nodes, end=end[h], acc=acc[h], inner=inner)



# --------------------------------------------------------------------------
# the network augmented with snapped targets


@dataclass(frozen=True, eq=False)
class Augmented:
    """``net`` with targets inserted: split edges, virtual nodes, leaves.

    ``csr`` spans the base nodes, then one node per distinct interior
    position on a split edge, then one leaf per target with a connector.
    ``target_node[i]`` is the node a search for target ``i`` starts from
    (-1 when off-network).  ``chain_*`` describe, for every split edge, the
    sorted positions along it and the node at each (edge ends included).
    """

    net: Network
    csr: sparse.csr_matrix
    n_nodes: int
    target_node: np.ndarray
    split: np.ndarray  # bool per base edge
    chain_start: np.ndarray  # per base edge, index into chain arrays (or -1)
    chain_count: np.ndarray
    chain_pos: np.ndarray
    chain_node: np.ndarray
    piece_edge: np.ndarray  # per augmented street piece: base edge
    piece_from: np.ndarray  # position along base edge
    piece_to: np.ndarray
    piece_u: np.ndarray  # augmented node at piece_from
    piece_v: np.ndarray


def augment(net: Network, snaps: pd.DataFrame) -> Augmented:
    """``net`` with snapped targets inserted as nodes, for searches from them.

    ``snaps`` are the targets snapped onto ``net`` (:func:`snap`), taken by
    position.  A target inside an edge splits the edge at a virtual node
    (targets at one position share it), one at an edge's end is that node,
    and one with a connector hangs on a leaf that far from its point on the
    street.  The base nodes keep their numbers.
    """
    n = net.n_nodes
    on = snaps["edge"].to_numpy() >= 0
    t_edge = snaps["edge"].to_numpy()
    t_off = snaps["offset"].to_numpy()
    t_conn = snaps["connector_m"].to_numpy()
    target_node = np.full(len(snaps), -1, dtype=np.int64)
    e_on = t_edge[on]
    p_on = t_off[on]
    w_on = net.weight[e_on] if len(e_on) else np.zeros(0)
    at_u = p_on <= _POS_EPS
    at_v = ~at_u & (p_on >= w_on - _POS_EPS)
    inner = ~at_u & ~at_v
    snap_node = np.empty(len(e_on), dtype=np.int64)
    snap_node[at_u] = net.u[e_on[at_u]]
    snap_node[at_v] = net.v[e_on[at_v]]
    # distinct interior positions per edge become virtual nodes
    ie, ip = e_on[inner], p_on[inner]
    order = np.lexsort((ip, ie))
    ie_s, ip_s = ie[order], ip[order]
    new = np.ones(len(ie_s), bool)
    new[1:] = (ie_s[1:] != ie_s[:-1]) | (ip_s[1:] - ip_s[:-1] > _POS_EPS)
    grp = np.cumsum(new) - 1
    vnode = n + grp
    inner_node = np.empty(len(ie_s), dtype=np.int64)
    inner_node[order] = vnode
    snap_node[inner] = inner_node
    n_virtual = int(new.sum())
    uniq_e = ie_s[new]
    uniq_p = ip_s[new]
    # chains: for every split edge, u, interior nodes..., v
    split = np.zeros(net.n_edges, bool)
    split[uniq_e] = True
    se = np.flatnonzero(split)
    counts_inner = np.bincount(uniq_e, minlength=net.n_edges)[se] if len(se) else np.zeros(0, int)
    chain_count_se = counts_inner + 2
    chain_start = np.full(net.n_edges, -1, dtype=np.int64)
    chain_count = np.zeros(net.n_edges, dtype=np.int64)
    starts = (np.cumsum(chain_count_se) - chain_count_se).astype(np.int64)
    chain_start[se] = starts
    chain_count[se] = chain_count_se
    total = int(chain_count_se.sum())
    chain_pos = np.empty(total)
    chain_node = np.empty(total, dtype=np.int64)
    chain_pos[starts] = 0.0
    chain_node[starts] = net.u[se]
    ends = starts + chain_count_se - 1
    chain_pos[ends] = net.weight[se]
    chain_node[ends] = net.v[se]
    # interior slots: for each unique (edge, pos), its rank within its edge
    if len(uniq_e):
        first_of_edge = np.ones(len(uniq_e), bool)
        first_of_edge[1:] = uniq_e[1:] != uniq_e[:-1]
        run_start = np.maximum.accumulate(np.where(first_of_edge, np.arange(len(uniq_e)), 0))
        rank = np.arange(len(uniq_e)) - run_start
        slot = chain_start[uniq_e] + 1 + rank
        chain_pos[slot] = uniq_p
        chain_node[slot] = n + np.arange(n_virtual)
    # street pieces: unsplit base edges + consecutive chain pairs
    keep = np.flatnonzero(~split)
    if total:
        is_last = np.zeros(total, bool)
        is_last[ends] = True
        a = np.flatnonzero(~is_last)
        owner = np.repeat(se, chain_count_se)
        pe = np.concatenate([keep, owner[a]])
        pf = np.concatenate([np.zeros(len(keep)), chain_pos[a]])
        pt = np.concatenate([net.weight[keep], chain_pos[a + 1]])
        pu = np.concatenate([net.u[keep], chain_node[a]])
        pv = np.concatenate([net.v[keep], chain_node[a + 1]])
    else:
        pe, pf, pt, pu, pv = keep, np.zeros(len(keep)), net.weight[keep], net.u[keep], net.v[keep]
    # leaves for targets with a connector
    conn_on = t_conn[on]
    has_conn = conn_on > 0
    n_leaf = int(has_conn.sum())
    leaf = n + n_virtual + np.arange(n_leaf)
    start_node = snap_node.copy()
    start_node[has_conn] = leaf
    target_node[np.flatnonzero(on)] = start_node
    m = n + n_virtual + n_leaf
    eu = np.concatenate([pu, snap_node[has_conn]])
    ev = np.concatenate([pv, leaf])
    ew = np.concatenate([pt - pf, conn_on[has_conn]])
    csr = adjacency(eu, ev, ew, m, undirected=True)
    return Augmented(
        net=net, csr=csr, n_nodes=m, target_node=target_node, split=split,
        chain_start=chain_start, chain_count=chain_count, chain_pos=chain_pos,
        chain_node=chain_node, piece_edge=pe, piece_from=pf, piece_to=pt,
        piece_u=pu, piece_v=pv,
    )


def locate_snaps(aug: Augmented, snaps: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Where snapped points lie in the augmented graph: the nodes either side and the gaps.

    Returns ``on`` (mask of points on the network) and, for those, the left
    and right node, the distance back to the left node and on to the right
    one, and the connector.
    """
    net = aug.net
    e = snaps["edge"].to_numpy()
    on = e >= 0
    e = e[on]
    p = snaps["offset"].to_numpy()[on]
    c = snaps["connector_m"].to_numpy()[on]
    left = net.u[e].copy()
    right = net.v[e].copy()
    pl = np.zeros(len(e))
    pr = net.weight[e].copy()
    sp_ = aug.split[e]
    if sp_.any():
        es, ps = e[sp_], p[sp_]
        lo = aug.chain_start[es].copy()  # chain_pos[lo] <= p
        hi = lo + aug.chain_count[es] - 1  # chain_pos[hi] >= p
        while True:
            gap = hi - lo > 1
            if not gap.any():
                break
            mid = (lo + hi) // 2
            go_right = gap & (aug.chain_pos[mid] <= ps)
            go_left = gap & ~go_right
            lo = np.where(go_right, mid, lo)
            hi = np.where(go_left, mid, hi)
        left[sp_] = aug.chain_node[lo]
        right[sp_] = aug.chain_node[hi]
        pl[sp_] = aug.chain_pos[lo]
        pr[sp_] = aug.chain_pos[hi]
    return on, left, right, p - pl, pr - p, c


def point_dist(
    aug: Augmented,
    snaps: pd.DataFrame,
    node_dist: np.ndarray,
    *,
    where: tuple[np.ndarray, ...] | None = None,
) -> np.ndarray:
    """Distance to snapped points from node distances of the augmented graph (exact).

    ``where`` is :func:`locate_snaps` of ``snaps``, when already computed.
    ``node_dist`` may hold one row per source (sources × nodes): the distances
    are then one row per source too.
    """
    on, left, right, to_l, to_r, c = locate_snaps(aug, snaps) if where is None else where
    out = np.full(node_dist.shape[:-1] + (len(on),), np.nan)
    if not on.any():
        return out
    out[..., on] = dist_via_ends(node_dist, np.column_stack([left, right]),
                                 np.column_stack([to_l, to_r]), c)
    return out


def dist_via_ends(node_dist: np.ndarray, ends: np.ndarray, gaps: np.ndarray,
                  conn: np.ndarray) -> np.ndarray:
    """Distance to points on edges from node distances: per point the nodes either
    side (``ends``, points × 2), the way along the edge to each (``gaps``) and the
    connector (``conn``); the nearer way round.  NaN where neither end is reached
    (NaN or infinite node distances) and where the gaps are NaN (a point off the
    network).  ``node_dist`` may hold one row per source, as for :func:`point_dist`
    (which reads :func:`locate_snaps` this way)."""
    with np.errstate(invalid="ignore"):
        via = np.take(node_dist, ends, axis=-1) + gaps
        d = np.fmin(via[..., 0], via[..., 1]) + conn
    d[~np.isfinite(d)] = np.nan
    return d


def point_distances(
    G: nx.Graph | Network,
    origins: gpd.GeoSeries,
    targets: Mapping[str, gpd.GeoSeries],
    *,
    cutoff: float,
    snap_tolerance: float | None = None,
    weight: str = "length",
) -> pd.DataFrame:
    """Network distance from every origin to the nearest target of each key.

    Origins and targets are snapped to the nearest point on the nearest edge
    (:func:`snap_points`); the connectors count.  Returns a frame indexed like
    ``origins`` with one column per key of ``targets`` (metres), NaN beyond
    ``cutoff``, for origins off the network, and for keys with no target on
    the network.  The graph is treated as undirected (walking).
    """
    net = compile_network(G, weight=weight)
    osnap = snap(net, check_points(net, origins, "origins"), snap_tolerance)
    tsnaps = {k: snap(net, check_points(net, t, f"targets '{k}'"), snap_tolerance)
              for k, t in targets.items()}
    return distances_snapped(net, osnap, tsnaps, cutoff=cutoff)


def distances_snapped(
    net: Network,
    osnap: pd.DataFrame,
    tsnaps: Mapping[str, pd.DataFrame],
    *,
    cutoff: float,
) -> pd.DataFrame:
    """:func:`point_distances` of points already snapped onto ``net`` (:func:`snap`):
    ``osnap`` the origins, ``tsnaps`` the targets of each key.

    One network augmented with all the targets serves every key.
    """
    keys = list(tsnaps)
    allt = pd.concat([s.reset_index(drop=True) for s in tsnaps.values()], ignore_index=True) \
        if keys else osnap.iloc[:0]
    owner = np.repeat(np.arange(len(keys)), [len(s) for s in tsnaps.values()]) if keys else np.zeros(0, int)
    aug = augment(net, allt)
    where = locate_snaps(aug, osnap)
    chains = contract_chains(aug.csr, aug.target_node[aug.target_node >= 0])
    out = {}
    for k, key in enumerate(keys):
        src = aug.target_node[(owner == k) & (aug.target_node >= 0)]
        if len(src) == 0:
            log.warning("no '%s' target on the walking network; its distances are all missing", key)
            out[key] = np.full(len(osnap), np.nan)
            continue
        nd = multi_source(aug.csr, np.unique(src), cutoff, chains=chains)
        d = point_dist(aug, osnap, nd, where=where)
        d[d > cutoff] = np.nan
        out[key] = d
    return pd.DataFrame(out, index=osnap.index, columns=keys, dtype=float)
