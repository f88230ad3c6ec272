"""What the living circle knows about a study area, loaded once for many questions.

:func:`load_state` builds, from a workspace's layers, the walking network (as
:func:`gcgeo.analysis.living_circle.run` builds it: the streets layer with the
rules' join tolerance and crossing rule), the homes with their residents and
community, the facilities of every required category snapped onto the network,
and each home's walking distance to the nearest facility of each category.
Siting (:mod:`gcgeo.planning.siting`) and what-if (:mod:`gcgeo.planning.whatif`)
read and update it; its tables equal the living circle's on the same inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import rules as _rules
from .._errors import AnalysisError, InputError
from ..analysis.living_circle import (
    ALL_WITHIN,
    access_points,
    community_boundaries,
    home_origins,
    required_categories,
    tiers,
)
from ..crs import align, metric
from ..layers.facilities import current_categories, refuse_unknown
from ..network import (
    Augmented,
    Network,
    augment,
    check_points,
    compile_network,
    contract_chains,
    join_tolerance,
    locate_snaps,
    multi_source,
    network_from_streets,
    point_dist,
    snap,
    split_crossings,
)
from ..values import feature_ids

log = logging.getLogger(__name__)

__all__ = ["LivingCircleState", "Search", "category_distances", "category_search", "load_state",
           "network_of", "snap_facilities"]


@dataclass(frozen=True, eq=False)
class Search:
    """The searches behind a state's distances: ``aug``, its network augmented with
    its facilities (in their order), and ``node[c]`` the distance of every node of
    ``aug`` from the facilities of category ``c`` (NaN beyond the farthest tier)."""

    aug: Augmented
    node: dict[str, np.ndarray]


@dataclass(frozen=True, eq=False)
class LivingCircleState:
    """The living circle of a study area, ready for siting and what-if questions.

    ``tiers`` maps a tier to its distance (m, nearest first), ``required``
    a tier to the categories it needs (nearer tiers' included), ``categories``
    the required categories.  ``homes`` has one row per home (``building_id``,
    ``population``, ``community_id``, ``community_name``, a point geometry) and
    ``home_snaps`` where each lies on ``net``; ``facilities`` the facilities
    of the required categories (``facility_id``, ``category``) and
    ``facility_snaps`` theirs.  ``distances[c]`` is each home's walking
    distance to the nearest facility of category ``c`` (NaN beyond the
    farthest tier or unreachable).  ``streets`` is the streets layer the
    network was built from, in the network's CRS.  ``search`` keeps the
    searches behind ``distances`` (:class:`Search`) while they match the
    network and facilities, for a street change to update (None otherwise).
    """

    rules: Mapping[str, Any]
    network_rules: tuple[float, bool]
    snap_tolerance: float
    tiers: dict[str, float]
    required: dict[str, list[str]]
    categories: list[str]
    streets: gpd.GeoDataFrame
    net: Network
    communities: gpd.GeoDataFrame | None
    homes: gpd.GeoDataFrame
    home_snaps: pd.DataFrame
    facilities: gpd.GeoDataFrame
    facility_snaps: pd.DataFrame
    distances: dict[str, np.ndarray]
    search: Search | None = None

    @property
    def cutoff(self) -> float:
        """The farthest tier's distance (m): distances beyond it are not kept."""
        return max(self.tiers.values())

    @property
    def population(self) -> np.ndarray:
        """Residents of each home."""
        return self.homes["population"].to_numpy(float)

    def tier_of(self, category: str) -> str:
        """The nearest tier requiring ``category``."""
        self.check_category(category)
        return next(t for t in self.tiers if category in self.required[t])

    def check_category(self, category: str, *, option: str = "--category") -> None:
        """Refuse a category the rules do not require, naming the known ones."""
        if category not in self.categories:
            raise InputError(
                f"{option} {category!r} is not a living-circle category; the rules know "
                f"{', '.join(self.categories)} (add one under [categories] in a rules file).")

    def served(self, distances: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Tier → whether each home reaches every category the tier requires within its distance."""
        d = self.distances if distances is None else distances
        out = {}
        for t, T in self.tiers.items():
            ok = [np.nan_to_num(d[c], nan=np.inf) <= T for c in self.required[t]]
            out[t] = np.logical_and.reduce(ok) if ok else np.ones(len(self.homes), bool)
        return out

    def community_shares(self, distances: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
        """Per community (indexed by ``community_id``): homes, residents and the
        population-weighted share served of each tier (``share_all_within_<tier>``),
        as :func:`gcgeo.analysis.living_circle.run` writes them to ``lc_communities``."""
        served = self.served(distances)
        cid = self.homes["community_id"].to_numpy(object)
        inside = pd.notna(cid)
        pop = self.population[inside]
        frame = pd.DataFrame({"community_id": cid[inside], "pop": pop})
        for t, s in served.items():
            frame[t] = pop * s[inside]
        g = frame.groupby("community_id", sort=False)
        out = pd.DataFrame({"homes": g.size(), "residents": g["pop"].sum()})
        res = out["residents"].where(out["residents"] > 0)
        for t in self.tiers:
            out[f"share_{ALL_WITHIN}{t}"] = g[t].sum() / res
        if self.communities is not None:
            ids = feature_ids(self.communities)
            out = out.reindex(pd.Index(ids.to_numpy(), name="community_id"))
            out["homes"] = out["homes"].fillna(0).astype(np.int64)
            out["residents"] = out["residents"].fillna(0.0)
            names = (self.communities["name"].to_numpy(object) if "name" in self.communities.columns
                     else np.full(len(ids), None, dtype=object))
            out.insert(0, "community_name", names)
        return out

    def with_facilities(self, facilities: gpd.GeoDataFrame, snaps: pd.DataFrame,
                        distances: Mapping[str, np.ndarray]) -> LivingCircleState:
        """This state with other facilities and distances (the rest shared)."""
        return replace(self, facilities=facilities, facility_snaps=snaps, distances=dict(distances),
                       search=None)


# --------------------------------------------------------------------------
# loading


def network_of(streets: gpd.GeoDataFrame, rules: Mapping | None = None,
               network_rules: tuple[float, bool] | None = None) -> Network:
    """The walking network of a streets layer as the living circle builds it:
    ``network.join_tolerance`` and ``network.split_crossings`` from ``rules``
    (or ``network_rules``, the two values already resolved)."""
    join, split = network_rules if network_rules is not None else (
        join_tolerance(rules), split_crossings(rules))
    return compile_network(network_from_streets(streets, join_tolerance=join, split_crossings=split))


def snap_facilities(net: Network, facilities: gpd.GeoDataFrame, tolerance: float,
                    what: str = "facilities") -> pd.DataFrame:
    """``facilities`` (points) snapped onto ``net``; off-network ones flagged and logged."""
    if not len(facilities):
        return pd.DataFrame({"edge": np.zeros(0, np.int64), "offset": np.zeros(0),
                             "connector_m": np.zeros(0), "snap_x": np.zeros(0),
                             "snap_y": np.zeros(0), "off_network": np.zeros(0, bool)})
    if net.n_edges == 0:
        raise AnalysisError("the walking network has no streets; add the 'streets' layer.")
    s = snap(net, check_points(net, facilities.geometry, what), tolerance)
    n_off = int(s["off_network"].sum())
    if n_off:
        log.warning("%d of the %s lie farther than %.0f m from any street and are left out",
                    n_off, what, tolerance)
    return s


def category_distances(net: Network, home_snaps: pd.DataFrame, facilities: gpd.GeoDataFrame,
                       facility_snaps: pd.DataFrame, categories: list[str], cutoff: float,
                       *, aug: Augmented | None = None) -> dict[str, np.ndarray]:
    """Each home's walking distance to the nearest facility of each of ``categories``
    (NaN beyond ``cutoff``): one augmented network, one search per category."""
    return category_search(net, home_snaps, facilities, facility_snaps, categories, cutoff,
                           aug=aug)[0]


def category_search(net: Network, home_snaps: pd.DataFrame, facilities: gpd.GeoDataFrame,
                    facility_snaps: pd.DataFrame, categories: list[str], cutoff: float,
                    *, aug: Augmented | None = None) -> tuple[dict[str, np.ndarray], Search]:
    """:func:`category_distances` and the searches behind them."""
    if aug is None:
        aug = augment(net, facility_snaps.reset_index(drop=True))
    where = locate_snaps(aug, home_snaps)
    cat = facilities["category"].astype(str).to_numpy()
    chains = contract_chains(aug.csr, aug.target_node[aug.target_node >= 0])
    out, node = {}, {}
    for c in categories:
        src = aug.target_node[(cat == c) & (aug.target_node >= 0)]
        if len(src) == 0:
            out[c] = np.full(len(home_snaps), np.nan)
            node[c] = np.full(aug.n_nodes, np.nan)
            continue
        nd = multi_source(aug.csr, np.unique(src), cutoff, chains=chains)
        d = point_dist(aug, home_snaps, nd, where=where)
        d[d > cutoff] = np.nan
        out[c] = d
        node[c] = nd
    return out, Search(aug=aug, node=node)


def load_state(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    rules: Mapping | str | None = None,
    walking_speed: float | None = None,
    snap_tolerance: float | None = None,
    graph: Network | None = None,
) -> LivingCircleState:
    """The living circle of ``layers`` (``streets``, ``buildings``, ``facilities``,
    optional ``communities``), computed as :func:`gcgeo.analysis.living_circle.run`
    computes it with ``origins="buildings"``; ``rules`` may be a rules file or
    a resolved :class:`gcgeo.rules.Rules`.  ``graph`` is the walking network of
    ``layers["streets"]`` built with the network rules of ``rules`` (e.g. the one
    kept beside the workspace: :func:`gcgeo.pipeline.read_with_network`); without
    it the network is built from the streets."""
    r = _rules.load("living_circle", rules)
    tier_m = tiers(r, walking_speed=walking_speed)
    req = required_categories(r, tier_m)
    cats = [c for c in r["categories"] if any(c in v for v in req.values())]
    tol = float(snap_tolerance if snap_tolerance is not None
                else _rules.value(r, "snapping.tolerance"))
    for kind in ("streets", "buildings", "facilities"):
        if layers.get(kind) is None:
            raise AnalysisError(
                f"the living circle needs the '{kind}' layer; add it with `gcgeo add WS {kind} FILE` "
                "or `gcgeo import-osm`.")
    streets = metric(layers["streets"], "layer 'streets'")
    net_rules = (join_tolerance(rules), split_crossings(rules))
    net = network_of(streets, network_rules=net_rules) if graph is None else compile_network(graph)
    # the communities and homes as the living circle reads them
    communities = community_boundaries(layers.get("communities"), net.crs)
    org = home_origins(layers, "buildings", communities, net.crs)
    org = org.drop(columns=[c for c in ("community_pos", "floor_area_m2") if c in org.columns])
    hsnap = snap(net, check_points(net, org.geometry, "homes"), tol)
    fac = facility_frame(layers["facilities"], net, cats, what="layer 'facilities'",
                         known=list(r["categories"]), streets=streets,
                         spacing=float(_rules.value(r, "areas.gate_spacing")))
    fsnap = snap_facilities(net, fac, tol)
    dist, search = category_search(net, hsnap, fac, fsnap, cats, max(tier_m.values()))
    return LivingCircleState(
        rules=r, network_rules=net_rules, snap_tolerance=tol, tiers=tier_m, required=req,
        categories=cats, streets=streets, net=net, communities=communities, homes=org,
        home_snaps=hsnap, facilities=fac, facility_snaps=fsnap, distances=dist, search=search)


def facility_frame(frame: gpd.GeoDataFrame, net: Network, categories: list[str], *,
                   what: str, known: list[str], strict: bool = False,
                   streets: gpd.GeoDataFrame | None = None, spacing: float = 50.0
                   ) -> gpd.GeoDataFrame:
    """Facilities as the state keeps them: points in the network's CRS with
    ``facility_id`` and ``category``, those of the required ``categories`` only.
    An area (a park, a square) becomes the points it is reached at, one row per
    entrance with the area's id (:func:`gcgeo.analysis.living_circle.access_points`
    on ``streets``, gates every ``spacing`` m where no street meets it).

    ``strict`` (a what-if file) refuses a missing column, an unknown category
    and a non-point row instead of leaving them out.
    """
    if "category" not in frame.columns:
        raise InputError(f"{what} has no 'category' column; add one naming each facility's "
                         f"category ({', '.join(categories)}).")
    frame = current_categories(align(frame, net.crs, what, against="the walking network"), what)
    g = frame.geometry
    keep = (g.notna() & ~g.is_empty).to_numpy(bool).copy()
    cat = frame["category"].astype("string")
    if strict:
        bad = sorted(set(cat.dropna()) - set(categories))
        if bad or cat.isna().any():
            raise InputError(
                f"{what}: categor(y/ies) {', '.join(bad) or '(empty)'} "
                f"{'are' if len(bad) > 1 else 'is'} not required by the living circle; use one of "
                f"{', '.join(categories)}.")
        if not keep.all():
            raise InputError(f"{what}: row(s) {list(frame.index[~keep][:5])} have no geometry.")
    else:
        refuse_unknown(frame, list(known), what)
    keep &= cat.isin(categories).fillna(False).to_numpy(bool)
    sub = frame[keep]
    if np.isin(shapely.get_type_id(np.asarray(sub.geometry.values, dtype=object)), (3, 6)).any():
        sub = access_points(sub.assign(id=feature_ids(sub).to_numpy(object)), streets,
                            spacing=spacing)
    return gpd.GeoDataFrame({"facility_id": feature_ids(sub).to_numpy(object),
                             "category": sub["category"].astype(str).to_numpy(object)},
                            geometry=sub.geometry.to_numpy(), crs=net.crs, index=sub.index)
