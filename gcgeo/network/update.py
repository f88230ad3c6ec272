"""Distances on a changed network from those on the network before: after
edges are removed (they can only grow, :func:`after_removal`) or added (they
can only shrink, :func:`after_addition`), searching only the nodes whose
distance changes, not the whole network again.

Both take node distances from a set of sources on the network after the
change augmented with the targets (:func:`~gcgeo.network.augment`), as they
were before it (:func:`carried`: each node's distance at the same place of
the network before, infinite where the place is new), and return them as
they are after it, equal to a search from the sources on the changed network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from .paths import Augmented, locate_snaps, point_dist

__all__ = ["Places", "after_addition", "after_removal", "carried", "places", "tight_heads"]

#: Edges whose ends' distances differ by their length to this (relative) are on a shortest path.
_TIGHT = 1e-9


@dataclass(frozen=True, eq=False)
class Places:
    """Where each node of a changed augmented network lay in the one before it:
    ``old_node[i]`` the node at the same place before (-1 when none), and for the
    others (``at``, a node once for each) their places on the old network as
    snaps (``edge`` -1 when new).  A node at several places (where new lines
    join two streets that crossed) was as far as the nearest of them."""

    old_node: np.ndarray
    at: np.ndarray
    snaps: pd.DataFrame
    where: tuple


def _virtual_places(aug: Augmented) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The virtual nodes of ``aug`` (inside split edges): node, edge and position along it."""
    se = np.flatnonzero(aug.split)
    owner = np.repeat(se, aug.chain_count[se])
    node = aug.chain_node[: len(owner)]
    inner = (node >= aug.net.n_nodes)
    return node[inner], owner[inner], aug.chain_pos[: len(owner)][inner]


def places(old: Augmented, new: Augmented, *, old_edge: np.ndarray, old_from: np.ndarray,
           base: np.ndarray, base_at: tuple[np.ndarray, np.ndarray, np.ndarray],
           targets: pd.DataFrame, same: np.ndarray) -> Places:
    """The :class:`Places` of ``new``'s nodes in ``old``.

    ``old_edge[e]`` is the old edge new edge ``e`` lies on (-1 for a new line)
    and ``old_from[e]`` where along it the new edge starts.  The new base
    nodes are the old node ``base[i]`` (-1 when none); a new one lies at the
    places ``base_at`` (node, old edge, position along it; none: nowhere
    before).  Target
    ``t`` (``targets``, snapped onto the new network) lies where it lay before
    when ``same[t]``: its node is then the old one.
    """
    m = new.n_nodes
    old_node = np.full(m, -1, dtype=np.int64)
    nb = new.net.n_nodes
    old_node[:nb] = base
    edge = np.full(m, -1, dtype=np.int64)
    pos = np.zeros(m)
    conn = np.zeros(m)
    vn, ve, vp = _virtual_places(new)
    edge[vn] = old_edge[ve]
    pos[vn] = old_from[ve] + vp
    tn = new.target_node
    te = targets["edge"].to_numpy()
    leaf = (tn >= nb) & ~np.isin(tn, vn)  # a target hanging on its own leaf
    keep = leaf & same & (old.target_node >= 0)
    old_node[tn[keep]] = old.target_node[keep]
    moved = leaf & ~keep
    edge[tn[moved]] = old_edge[te[moved]]
    pos[tn[moved]] = old_from[te[moved]] + targets["offset"].to_numpy()[moved]
    conn[tn[moved]] = targets["connector_m"].to_numpy()[moved]
    at = np.flatnonzero(old_node < 0)
    at = at[at >= nb]  # new base nodes: at their places
    bn, be, bp = base_at
    snaps = pd.DataFrame({"edge": np.concatenate([edge[at], be]),
                          "offset": np.concatenate([pos[at], bp]),
                          "connector_m": np.concatenate([conn[at], np.zeros(len(bn))])})
    at = np.concatenate([at, bn]).astype(np.int64)
    return Places(old_node=old_node, at=at, snaps=snaps, where=locate_snaps(old, snaps))


def carried(old: Augmented, node_dist: np.ndarray, p: Places) -> np.ndarray:
    """Distances of the new network's nodes as they were before (inf where new or unreached)."""
    d = np.full(len(p.old_node), np.inf)
    has = p.old_node >= 0
    d[has] = node_dist[p.old_node[has]]
    was = point_dist(old, p.snaps, node_dist, where=p.where)
    np.minimum.at(d, p.at, np.where(np.isnan(was), np.inf, was))
    d[np.isnan(d)] = np.inf
    return d


def _sub_search(csr: sparse.csr_matrix, nodes: np.ndarray, seed: np.ndarray,
                limit: float) -> np.ndarray:
    """Distances within the subgraph of ``nodes`` from a source ``seed[i]`` away from node ``nodes[i]``."""
    sub = csr[nodes][:, nodes].tocsr()
    k = len(nodes)
    fin = np.isfinite(seed)
    top = sparse.csr_matrix((seed[fin], np.flatnonzero(fin), [0, int(fin.sum())]), shape=(1, k + 1))
    g = sparse.vstack([sparse.hstack([sub, sparse.csr_matrix((k, 1))]), top]).tocsr()
    return dijkstra(g, directed=True, indices=k, limit=limit)[:k]


def _rows(csr: sparse.csr_matrix, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The entries of the rows ``nodes`` of ``csr``: each entry's row node and position."""
    start = csr.indptr[nodes].astype(np.int64)
    cnt = csr.indptr[nodes + 1].astype(np.int64) - start
    first = np.cumsum(cnt) - cnt
    idx = np.repeat(start - first, cnt) + np.arange(int(cnt.sum()))
    return np.repeat(nodes, cnt), idx


def tight_heads(u: np.ndarray, v: np.ndarray, w: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The far ends of the edges ``u``-``v`` (length ``w``) that lie on a shortest path
    by the distances ``before`` (NaN or inf where unreached): where removing them
    may lengthen the walk."""
    du = np.where(np.isnan(before[u]), np.inf, before[u])
    dv = np.where(np.isnan(before[v]), np.inf, before[v])
    with np.errstate(invalid="ignore"):
        fwd = np.isfinite(du) & (np.abs(du + w - dv) <= _TIGHT * (1.0 + dv))
        back = np.isfinite(dv) & (np.abs(dv + w - du) <= _TIGHT * (1.0 + du))
    return np.unique(np.concatenate([v[fwd], u[back]]))


def after_removal(csr: sparse.csr_matrix, before: np.ndarray, heads: np.ndarray,
                  cutoff: float) -> np.ndarray:
    """Distances (NaN beyond ``cutoff``) on ``csr`` (symmetric), a network with edges
    or sources removed, from the sources whose distances were ``before`` (inf
    where unreached).  ``heads`` are the nodes where a removed edge or source
    may have led (:func:`tight_heads`): they and every node reached from them
    along edges on a shortest path (the distance rising by the edge's length)
    are searched again from their other neighbours; the rest keep theirs."""
    n = csr.shape[0]
    before = np.where(np.isnan(before), np.inf, before)
    lost = np.zeros(n, bool)
    front = np.unique(np.asarray(heads, dtype=np.int64))
    front = front[np.isfinite(before[front])]
    lost[front] = True
    while len(front):
        a, idx = _rows(csr, front)
        b = csr.indices[idx]
        db = before[b]
        with np.errstate(invalid="ignore"):
            on = ~lost[b] & np.isfinite(db) & (np.abs(before[a] + csr.data[idx] - db)
                                               <= _TIGHT * (1.0 + db))
        front = np.unique(b[on])
        lost[front] = True
    out = before.copy()
    nodes = np.flatnonzero(lost)
    if len(nodes):
        a, idx = _rows(csr, nodes)
        b = csr.indices[idx]
        keep = ~lost[b] & np.isfinite(before[b])
        seed = np.full(n, np.inf)
        np.minimum.at(seed, a[keep], before[b[keep]] + csr.data[idx[keep]])
        out[nodes] = _sub_search(csr, nodes, seed[nodes], cutoff)
    out[~(out <= cutoff)] = np.nan
    return out


def after_addition(csr: sparse.csr_matrix, before: np.ndarray, seeds: np.ndarray,
                   cutoff: float) -> np.ndarray:
    """Distances (NaN beyond ``cutoff``) on ``csr``, a network with edges added
    at the nodes ``seeds``, from sources whose distances on the network before
    were ``before`` (inf where unreached or new): one search from the seeds,
    each starting at its distance before, taken where shorter."""
    n = csr.shape[0]
    d = np.where(np.isnan(before), np.inf, before)
    s = np.unique(np.asarray(seeds, dtype=np.int64))
    s = s[np.isfinite(d[s]) & (d[s] <= cutoff)]
    if len(s):
        # one more node, n, joined to each seed as far as the seed's distance
        g = sparse.csr_matrix(
            (np.concatenate([csr.data, d[s]]), np.concatenate([csr.indices, s]).astype(np.int64),
             np.concatenate([csr.indptr, [csr.nnz + len(s)]]).astype(np.int64)),
            shape=(n + 1, n + 1))
        d = np.fmin(d, dijkstra(g, directed=True, indices=n, limit=cutoff)[:n])
    d[~(d <= cutoff)] = np.nan
    return d
