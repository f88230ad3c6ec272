"""Where to build: the K sites that bring the most unserved residents within reach.

The maximal covering location problem (Church and ReVelle, 1974) on the
walking network.  Demand is every home that does not yet reach a facility of
the category within its tier's distance, weighted by its residents; a
candidate site (a point of a candidates file, or a street node) covers the
homes within that distance along the network.  :func:`site` chooses K sites
maximising the residents newly covered:

* exactly, as a mixed-integer programme solved by HiGHS
  (:func:`scipy.optimize.milp`), up to :data:`EXACT_LIMIT` candidates (and
  :data:`EXACT_NONZEROS` home-site pairs);
* beyond that, greedily (each step the site adding most residents), which
  reaches at least 1 - (1 - 1/K)^K > 1 - 1/e ≈ 63% of the optimum
  (Nemhauser, Wolsey and Fisher, 1978); the result reports that bound and,
  where it is tighter, the linear-programming relaxation's value, both upper
  bounds on what any K sites could reach.

Homes with the same set of covering candidates are merged before solving.

>>> import numpy as np
>>> from scipy import sparse
>>> cover = sparse.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], bool))
>>> solve_mclp(cover, np.array([5.0, 1.0, 4.0]), 1).chosen.tolist()
[0]
>>> solve_mclp(cover, np.array([5.0, 1.0, 4.0]), 2).value
10.0
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from .._errors import InputError
from ..network import augment, check_points, multi_source, near_searches, snap
from ..values import feature_ids
from .state import LivingCircleState

log = logging.getLogger(__name__)

__all__ = ["EXACT_LIMIT", "EXACT_NONZEROS", "Solution", "SiteResult", "coverage", "site",
           "solve_mclp"]

#: Candidates up to which the choice is exact (mixed-integer programme).
EXACT_LIMIT = 3000
#: Home–site pairs within reach up to which the choice is exact.
EXACT_NONZEROS = 1_000_000
#: Seconds the solver may take before the best solution found is kept.
TIME_LIMIT = 120.0
#: Pairs within reach up to which the greedy choice also reports the LP bound.
LP_NONZEROS = 3_000_000

_EPS = 1e-9


@dataclass(frozen=True)
class Solution:
    """A choice of sites: their positions (in the order each adds most), the
    residents each adds to those before it, the total, the method and an
    upper bound on the best total any choice of as many sites could reach."""

    chosen: np.ndarray
    gains: np.ndarray
    value: float
    method: str
    upper_bound: float
    optimal: bool


@dataclass(frozen=True)
class SiteResult:
    """The sites chosen for a category (see :func:`site`).

    ``sites`` holds one point per chosen site: ``site_rank``, ``category``,
    ``tier``, ``required_m``, ``candidate_id``, ``residents_new`` (residents
    it brings within reach beyond the sites ranked before it), ``homes_new``
    and ``residents_reached`` (every unserved resident within its reach).
    ``residents_unserved`` were not served before, ``residents_reachable``
    of them lie within reach of some candidate.
    """

    sites: gpd.GeoDataFrame
    category: str
    tier: str
    required_m: float
    k: int
    candidates: int
    residents_unserved: float
    residents_reachable: float
    residents_new: float
    method: str
    optimal: bool
    upper_bound: float

    def summary(self) -> dict[str, object]:
        """The figures of the choice, one line each."""
        return {"category": self.category, "tier": self.tier, "required_m": self.required_m,
                "k": self.k, "candidates": self.candidates,
                "residents_unserved": self.residents_unserved,
                "residents_reachable": self.residents_reachable,
                "residents_new": self.residents_new, "method": self.method,
                "optimal": self.optimal, "upper_bound": self.upper_bound}


# --------------------------------------------------------------------------
# the covering problem


def _order(cover: sparse.csr_matrix, w: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``chosen`` ordered by what each adds to those before it, and those gains."""
    covered = np.zeros(cover.shape[1], bool)
    left = list(int(j) for j in chosen)
    order, gains = [], []
    while left:
        g = [float(w[cover.indices[cover.indptr[j]:cover.indptr[j + 1]]][
            ~covered[cover.indices[cover.indptr[j]:cover.indptr[j + 1]]]].sum()) for j in left]
        best = int(np.argmax(g))
        j = left.pop(best)
        order.append(j)
        gains.append(g[best])
        covered[cover.indices[cover.indptr[j]:cover.indptr[j + 1]]] = True
    return np.asarray(order, dtype=np.int64), np.asarray(gains, dtype=float)


def greedy(cover: sparse.csr_matrix, w: np.ndarray, k: int) -> np.ndarray:
    """The greedy choice of at most ``k`` rows of ``cover`` (sites × demand):
    each step the site adding most weight; stops when none adds any."""
    cover = sparse.csr_matrix(cover)
    by_demand = cover.tocsc()
    gain = np.asarray(cover @ w, dtype=float).ravel()
    covered = np.zeros(cover.shape[1], bool)
    taken = np.zeros(cover.shape[0], bool)
    chosen: list[int] = []
    for _ in range(min(k, cover.shape[0])):
        g = np.where(taken, -np.inf, gain)
        j = int(np.argmax(g))
        if not g[j] > _EPS:
            break
        chosen.append(j)
        taken[j] = True
        cols = cover.indices[cover.indptr[j]:cover.indptr[j + 1]]
        new = cols[~covered[cols]]
        covered[new] = True
        if len(new):  # the sites that also covered them now add that much less
            sub = by_demand[:, new]
            gain -= np.asarray(sub @ w[new], dtype=float).ravel()
    return np.asarray(chosen, dtype=np.int64)


def _lp_bound(cover: sparse.csr_matrix, w: np.ndarray, k: int) -> float:
    """The linear-programming relaxation's value: an upper bound on any choice of ``k``."""
    from scipy.optimize import linprog

    c, a, b = _programme(cover, w, k)
    res = linprog(c, A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
    return float(-res.fun) if res.status == 0 else np.inf


def _programme(cover: sparse.csr_matrix, w: np.ndarray, k: int):
    """min -w·y  s.t.  y_i - Σ_{j covers i} x_j <= 0,  Σ x_j <= k;  variables x then y."""
    n_s, n_d = cover.shape
    c = np.concatenate([np.zeros(n_s), -w])
    a = sparse.vstack([
        sparse.hstack([-cover.T.tocsr().astype(float), sparse.identity(n_d, format="csr")]),
        sparse.hstack([sparse.csr_matrix(np.ones((1, n_s))), sparse.csr_matrix((1, n_d))]),
    ]).tocsr()
    b = np.concatenate([np.zeros(n_d), [float(k)]])
    return c, a, b


def solve_mclp(cover: sparse.spmatrix, weights: np.ndarray, k: int, *,
               method: str = "auto") -> Solution:
    """Choose at most ``k`` rows of ``cover`` (sites × demand, true where a site
    covers a demand point) maximising the weight of the demand covered.

    ``method`` "exact" (HiGHS mixed-integer programme), "greedy", or "auto"
    (exact up to :data:`EXACT_LIMIT` sites and :data:`EXACT_NONZEROS` pairs).
    """
    cover = sparse.csr_matrix(cover, dtype=bool)
    w = np.asarray(weights, dtype=float)
    n_s = cover.shape[0]
    if method not in ("auto", "exact", "greedy"):
        raise InputError(f"method must be auto, exact or greedy, not {method!r}.")
    if n_s == 0 or k <= 0:
        return Solution(np.zeros(0, np.int64), np.zeros(0), 0.0, "exact", 0.0, True)
    exact = method == "exact" or (method == "auto" and n_s <= EXACT_LIMIT
                                  and cover.nnz <= EXACT_NONZEROS)
    reachable = float(w[np.unique(cover.indices)].sum())
    if exact:
        from scipy.optimize import Bounds, LinearConstraint, milp

        c, a, b = _programme(cover, w, k)
        integrality = np.concatenate([np.ones(n_s), np.zeros(cover.shape[1])])
        res = milp(c, constraints=LinearConstraint(a, -np.inf, b), integrality=integrality,
                   bounds=Bounds(0, 1), options={"time_limit": TIME_LIMIT})
        if res.x is not None:
            chosen = np.flatnonzero(res.x[:n_s] > 0.5)
            order, gains = _order(cover, w, chosen)
            keep = gains > _EPS
            value = float(gains.sum())
            optimal = res.status == 0
            bound = value if optimal else min(reachable, float(-res.mip_dual_bound))
            return Solution(order[keep], gains[keep], value, "exact", bound, optimal)
        log.warning("the solver found no solution within %.0f s; choosing greedily", TIME_LIMIT)
    order, gains = _order(cover, w, greedy(cover, w, k))
    value = float(gains.sum())
    kk = min(k, n_s)
    factor = 1.0 - (1.0 - 1.0 / kk) ** kk
    bound = min(reachable, value / factor)
    if cover.nnz <= LP_NONZEROS:
        bound = min(bound, _lp_bound(cover, w, k))
    optimal = value >= bound - 1e-6 * max(1.0, bound)
    return Solution(order, gains, value, "greedy", max(bound, value), optimal)


# --------------------------------------------------------------------------
# from the study area to the covering problem


def coverage(csr: sparse.csr_matrix, sites: np.ndarray, demand: np.ndarray, reach: float, *,
             site_xy: np.ndarray | None = None, demand_xy: np.ndarray | None = None
             ) -> sparse.csr_matrix:
    """Sites × demand: true where demand node ``demand[i]`` lies within ``reach``
    of site node ``sites[j]`` along the undirected graph ``csr``.

    The searches run from the smaller side, on the part of the graph within
    ``reach`` of the demand (nothing beyond can matter), each on the nodes near
    its neighbours (:func:`gcgeo.network.near_searches`; neighbours are told by
    ``site_xy`` / ``demand_xy``, their positions or geometries, where given).
    """
    if len(sites) == 0 or len(demand) == 0:
        return sparse.csr_matrix((len(sites), len(demand)), dtype=bool)
    near = np.isfinite(multi_source(csr, np.unique(demand), reach))
    live = np.flatnonzero(near[sites])  # sites farther from every home cover nobody
    keep = np.flatnonzero(near)
    pos = np.full(csr.shape[0], -1, dtype=np.int64)
    pos[keep] = np.arange(len(keep))
    sub = csr[keep][:, keep]
    s, d = pos[sites[live]], pos[demand]
    flip = len(s) > len(d)
    src, dst = (d, s) if flip else (s, d)
    xy = demand_xy if flip else (None if site_xy is None else np.asarray(site_xy)[live])
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for part, _, local, dist in near_searches(sub, src, reach + _EPS, xy=xy):
        at = local[dst]
        inside = np.flatnonzero(at >= 0)  # (the others are beyond reach of the group)
        r, c = np.nonzero(dist[:, at[inside]] <= reach + _EPS)
        rows.append(part[r])
        cols.append(inside[c])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    if flip:
        r, c = c, r
    r = live[r]
    return sparse.csr_matrix((np.ones(len(r), bool), (r, c)), shape=(len(sites), len(demand)))


def _candidates(state: LivingCircleState, candidates: gpd.GeoDataFrame | None, what: str
                ) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    """The candidate sites as points with ``candidate_id``, and their snaps (None for street nodes)."""
    net = state.net
    if candidates is None:
        pts = gpd.points_from_xy(net.x, net.y, crs=net.crs)
        return gpd.GeoDataFrame({"candidate_id": [f"node {n}" for n in net.nodes]},
                                geometry=pts, crs=net.crs), None
    if not len(candidates):
        raise InputError(f"{what} holds no candidate site; give at least one point.")
    if candidates.crs is None:
        raise InputError(f"{what} has no CRS; give a file that declares it (e.g. a GeoPackage), "
                         "or add --src-crs to say which it is.")
    geom_types = set(candidates.geometry.dropna().geom_type)
    if geom_types - {"Point"}:
        raise InputError(f"{what} holds {', '.join(sorted(geom_types - {'Point'}))} features; "
                         "candidate sites must be points.")
    pts = candidates.to_crs(net.crs)
    snaps = snap(net, check_points(net, pts.geometry, what), state.snap_tolerance)
    on = ~snaps["off_network"].to_numpy(bool)
    if not on.any():
        raise InputError(f"{what}: none of its {len(pts)} candidate site(s) lies within "
                         f"{state.snap_tolerance:.0f} m of a street of the walking network; "
                         "check that the file covers the study area (and its CRS).")
    if not on.all():
        log.warning("%s: %d candidate site(s) farther than %.0f m from any street are left out",
                    what, int((~on).sum()), state.snap_tolerance)
    out = gpd.GeoDataFrame({"candidate_id": feature_ids(pts).to_numpy(object)},
                           geometry=pts.geometry.to_numpy(), crs=net.crs, index=pts.index)
    return out[on], snaps[on]


def site(
    state: LivingCircleState,
    category: str,
    k: int,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    tier: str | None = None,
    method: str = "auto",
    what: str = "the candidates",
) -> SiteResult:
    """Choose the ``k`` sites for a ``category`` facility that bring the most
    unserved residents within the ``tier``'s walking distance (by default the
    nearest tier requiring the category).

    ``candidates`` are points (a file's rows); without them every street node
    is a candidate.  ``what`` names the candidates in messages.  See the
    module docstring for the method and its bound.
    """
    state.check_category(category)
    if tier is None:
        tier = state.tier_of(category)
    elif tier not in state.tiers:
        raise InputError(f"--tier {tier!r} is not a tier; the rules have {', '.join(state.tiers)}.")
    reach = float(state.tiers[tier])
    cand, csnaps = _candidates(state, candidates, what)
    n_cand = len(cand)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k <= 0:
        raise InputError(f"--k must be a whole number of sites, 1 or more (got {k}).")
    if k > n_cand:
        raise InputError(f"--k {k} is more than the {n_cand} candidate site(s) "
                         f"({'on the network in ' + what if candidates is not None else 'street nodes'}); "
                         f"ask for at most {n_cand}.")
    pop = state.population
    d = state.distances[category]
    on = ~state.home_snaps["off_network"].to_numpy(bool)
    unserved = ~(np.nan_to_num(d, nan=np.inf) <= reach) & (pop > 0)
    uidx = np.flatnonzero(unserved & on)  # homes off the network no site can reach
    # one network holding the unserved homes (and the candidate points) as nodes
    hs = state.home_snaps.iloc[uidx].reset_index(drop=True)
    targets = hs if csnaps is None else pd.concat([hs, csnaps.reset_index(drop=True)], ignore_index=True)
    aug = augment(state.net, targets)
    home_node = aug.target_node[:len(uidx)]
    site_node = (np.arange(state.net.n_nodes) if csnaps is None
                 else aug.target_node[len(uidx):])
    site_xy = (np.column_stack([state.net.x, state.net.y]) if csnaps is None
               else cand.geometry.to_numpy())
    cover = coverage(aug.csr, site_node, home_node, reach, site_xy=site_xy,
                     demand_xy=state.homes.geometry.to_numpy()[uidx])
    # homes alike in which sites reach them are one demand point
    w_home = pop[uidx]
    cover_t = cover.T.tocsr()
    key = pd.Series([cover_t.indices[cover_t.indptr[i]:cover_t.indptr[i + 1]].tobytes()
                     for i in range(cover_t.shape[0])])
    group = pd.factorize(key)[0] if len(key) else np.zeros(0, np.int64)
    n_g = int(group.max()) + 1 if len(group) else 0
    w = np.bincount(group, weights=w_home, minlength=n_g)
    first = pd.Series(np.arange(len(group))).groupby(group).first().to_numpy() if n_g else np.zeros(0, int)
    cover_g = cover[:, first] if n_g else cover
    useful = np.flatnonzero(np.diff(cover_g.indptr) > 0)
    sol = solve_mclp(cover_g[useful], w, int(k), method=method)
    chosen = useful[sol.chosen]
    if len(chosen) < k:
        log.warning("only %d site(s) bring anyone new within %.0f m; the other %d would add nobody",
                    len(chosen), reach, k - len(chosen))
    # what each site brings, home by home
    homes_new, reached = [], []
    covered = np.zeros(len(uidx), bool)
    for j in chosen:
        cols = cover.indices[cover.indptr[j]:cover.indptr[j + 1]]
        reached.append(float(w_home[cols].sum()))
        homes_new.append(int((~covered[cols]).sum()))
        covered[cols] = True
    pts = cand.iloc[chosen]
    sites = gpd.GeoDataFrame({
        "site_rank": np.arange(1, len(chosen) + 1, dtype=np.int64),
        "category": category, "tier": tier, "required_m": reach,
        "candidate_id": pts["candidate_id"].to_numpy(object),
        "residents_new": sol.gains, "homes_new": np.asarray(homes_new, dtype=np.int64),
        "residents_reached": np.asarray(reached, dtype=float),
        "method": sol.method,
    }, geometry=pts.geometry.to_numpy(), crs=state.net.crs)
    reachable = float(w_home[np.unique(cover.indices)].sum()) if cover.nnz else 0.0
    return SiteResult(sites=sites, category=category, tier=tier, required_m=reach, k=int(k),
                      candidates=n_cand, residents_unserved=float(pop[unserved].sum()),
                      residents_reachable=reachable, residents_new=sol.value, method=sol.method,
                      optimal=sol.optimal, upper_bound=sol.upper_bound)


def merge_sites(stored: gpd.GeoDataFrame | None, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sites layer with ``new`` in place of the stored sites of its category."""
    if stored is None or not len(stored):
        return new
    cats = set(new["category"].astype(str))
    keep = stored[~stored["category"].astype(str).isin(cats)].to_crs(new.crs)
    out = pd.concat([keep, new], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=new.crs)


def stored_categories(stored: Mapping[str, object] | gpd.GeoDataFrame | None) -> set[str]:
    """Categories already sited in a stored sites layer."""
    if stored is None or not isinstance(stored, pd.DataFrame) or "category" not in stored.columns:
        return set()
    return set(stored["category"].dropna().astype(str))
