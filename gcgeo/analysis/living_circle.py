"""The 15-minute living circle (GB 50180-2018): reachability, gaps, isochrones.

From every home (residential building, or a population point) the walking
distance along the street network to the nearest facility of each category;
whether each tier of the living circle (5 / 10 / 15 minutes, by default 300 /
500 / 1000 m, rules in ``gcgeo/rules/living_circle.toml``) is served — all the
categories the tier requires, a higher tier including the lower tiers'
categories, within the tier's distance; per community the population-weighted
share of residents served; the gaps, one row per home lacking a category (the
categories each tier lacks); and, when asked for (``isochrones=``), isochrone
polygons built from the reached street edges, buffered (never convex hulls).

The building block :func:`nearest_facility_distance` works on graph nodes and
equals :func:`networkx.multi_source_dijkstra_path_length`; :func:`run` snaps
homes and facilities onto the nearest point of the nearest street edge
(:mod:`gcgeo.network`) and counts the connectors.

>>> import networkx as nx
>>> G = nx.path_graph(4)
>>> nx.set_edge_attributes(G, 100.0, "length")
>>> nearest_facility_distance(G, {"shop": [0], "park": [3]}, cutoff=250)
    shop   park
0    0.0    NaN
1  100.0  200.0
2  200.0  100.0
3    NaN    0.0
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .. import rules as _rules
from .._errors import AnalysisError, InputError
from ..crs import align, metric
from ..layers import repair_geometry, require_unique_ids
from ..layers.buildings import fill_population, homes, locate, residential_mask
from ..layers.facilities import current_categories, refuse_unknown
from ..network import (
    Network,
    augment,
    check_points,
    compile_network,
    contract_chains,
    graph_network,
    locate_snaps,
    multi_source,
    network_from_streets,
    point_dist,
    snap,
)
from ..network import join_tolerance as network_join_tolerance
from ..network import split_crossings as network_split_crossings
from ..values import feature_ids
from . import lc_isochrones
from .contract import GRAPH_OPTION, NETWORK_OPTIONS, Analysis, Criterion, Option, Output, ViewSpec
from .lc_criterion import COMPLETE, judge_complete, own_tiers

if TYPE_CHECKING:  # a graph given is checked where it is taken; the streets need no networkx
    import networkx as nx

log = logging.getLogger(__name__)

__all__ = ["ALL_WITHIN", "COMPLETE", "IN_DATA_WITHIN", "MISSING", "access_points", "areas_merged",
           "category_status", "community_boundaries", "home_origins", "judge_complete",
           "nearest_facility_distance", "own_tiers", "required_categories", "run", "summary",
           "tier_columns", "tiers"]

RULES = "living_circle"
#: Built-in rule sets the analysis reads (a change to one makes its results stale).
RULE_SETS = (RULES, "network")
#: workspace layers the analysis reads (its results are stale once one changes)
INPUTS = ("streets", "facilities", "buildings", "communities")
ISOCHRONE_MODES = ("community", "facility", "dissolved", "split", "none")
#: Per home, ``all_within_<tier>``: every category the tier requires (its own and the
#: nearer tiers') within the tier's walking distance — the standard's strict reading.
#: Per community ``share_all_within_<tier>``: the share of residents for whom it holds.
ALL_WITHIN = "all_within_"
#: ``in_data_within_<tier>`` / ``share_in_data_within_<tier>``: the same, counting only
#: the categories with at least one facility in the data (a category the data lack
#: leaves every home short in the strict reading, which says nothing of the ground).
IN_DATA_WITHIN = "in_data_within_"
#: Per home with a gap (``lc_gaps``), ``missing_<tier>``: the categories the tier requires
#: beyond its walking distance, a JSON array.
MISSING = "missing_"
#: The strict reading's column prefix before it was renamed (read in older workspaces).
OLD_ALL_WITHIN = "served_"


# --------------------------------------------------------------------------
# building block


def nearest_facility_distance(
    G: nx.Graph | Network,
    sources: Mapping[str, Iterable[Hashable]],
    *,
    cutoff: float,
    weight: str = "length",
) -> pd.DataFrame:
    """Distance from every node to the nearest facility node of each category.

    ``sources`` maps a category to the graph nodes holding its facilities.
    Returns a frame indexed by every node of ``G`` (in ``G.nodes`` order) with
    one column per category: the shortest-path distance in ``weight`` units,
    NaN beyond ``cutoff`` or unreachable (a category with no node gives an
    all-NaN column).  Equals :func:`networkx.multi_source_dijkstra_path_length`
    on the same graph; the work runs in :func:`scipy.sparse.csgraph.dijkstra`
    (many sources, ``min_only``, ``limit``) over arrays built once, with chains
    of degree-2 nodes and dead ends contracted first on an undirected graph.
    On a directed graph, distances run from the facilities along the edges.
    """
    if cutoff is None or not (float(cutoff) >= 0):
        raise InputError("cutoff must be a non-negative distance (metres).")
    net = compile_network(G, weight=weight)
    csr = net.csr()
    idx: dict[str, np.ndarray] = {}
    for cat, nodes in sources.items():
        src = list(nodes)
        i = net.nodes.get_indexer(src) if src else np.zeros(0, dtype=np.intp)
        if (i < 0).any():
            bad = [s for s, k in zip(src, i) if k < 0][:5]
            raise InputError(f"category '{cat}': source node(s) {bad} are not in the graph.")
        if not src:
            log.warning("category '%s' has no facility; its distances are all missing", cat)
        idx[cat] = np.unique(i)
    # chains of degree-2 nodes are contracted on walking (undirected) graphs
    chains = (None if net.directed or not idx
              else contract_chains(csr, np.concatenate(list(idx.values()))))
    out: dict[str, np.ndarray] = {
        cat: multi_source(csr, i, float(cutoff), chains=chains) for cat, i in idx.items()}
    return pd.DataFrame(out, index=net.nodes, columns=list(sources), dtype=float)


# --------------------------------------------------------------------------
# rules


def tiers(r: Mapping[str, Any], *, walking_speed: float | None = None) -> dict[str, float]:
    """Tier name → walking distance (m), nearest tier first.

    With ``walking_speed`` (km/h) the distance is the tier's ``minutes`` at
    that speed instead of its ``value`` in metres.
    """
    out: dict[str, float] = {}
    for name, t in r["tiers"].items():
        if walking_speed is not None:
            if not walking_speed > 0:
                raise InputError("walking_speed must be a positive speed in km/h.")
            if "minutes" not in t:
                raise _rules.RulesError(f"tier '{name}' has no 'minutes'; add it or give no speed.")
            out[name] = float(t["minutes"]) * float(walking_speed) * 1000.0 / 60.0
        else:
            out[name] = float(_rules.value(r, f"tiers.{name}"))
        if not out[name] > 0:
            raise _rules.RulesError(f"tier '{name}' distance must be positive, got {out[name]}.")
    return dict(sorted(out.items(), key=lambda kv: kv[1]))


def required_categories(r: Mapping[str, Any], tier_order: Iterable[str]) -> dict[str, list[str]]:
    """Tier → categories it requires, a tier including the nearer tiers' categories."""
    order = list(tier_order)
    own: dict[str, list[str]] = {t: [] for t in order}
    for cat, spec in r["categories"].items():
        for t in spec.get("tiers", []):
            if t not in own:
                raise _rules.RulesError(
                    f"category '{cat}' names tier '{t}', which is not a tier "
                    f"({', '.join(order)}); fix categories.{cat}.tiers."
                )
            own[t].append(cat)
    out: dict[str, list[str]] = {}
    acc: list[str] = []
    for t in order:
        acc = acc + [c for c in own[t] if c not in acc]
        out[t] = list(acc)
    return out


# --------------------------------------------------------------------------
# where facilities are reached


def access_points(facilities: gpd.GeoDataFrame, streets: gpd.GeoDataFrame | None, *,
                  spacing: float) -> gpd.GeoDataFrame:
    """The points each facility is reached at: a point facility at itself, an area
    facility (a park, a square, a school ground drawn as a polygon) at its entrances.

    Entrances are those of :func:`gcgeo.analysis.green.park_entrances`, as the green
    analysis reaches parks: where a walkable street of ``streets`` crosses or touches
    the area's outer boundary, else gates every ``spacing`` m along it.  The distance
    to a facility is then the distance to the nearest of its points.  Returns one row
    per point with the facility's columns, its index label (repeated for the
    entrances of one area) and ``access`` ("point", "path" or "virtual").

    >>> import geopandas as gpd, shapely
    >>> fac = gpd.GeoDataFrame({"category": ["park", "pharmacy"]}, crs=3857,
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.Point(500, 0)])
    >>> street = gpd.GeoDataFrame(geometry=[shapely.LineString([(50, -10), (50, 50)])], crs=3857)
    >>> got = access_points(fac, street, spacing=50)
    >>> [(i, a, p.wkt) for i, a, p in zip(got.index, got["access"], got.geometry)]
    [(0, 'path', 'POINT (50 0)'), (1, 'point', 'POINT (500 0)')]
    """
    from .green import park_entrances  # the green analysis's entrances, shared

    g = np.asarray(facilities.geometry.values, dtype=object)
    kind = shapely.get_type_id(g)
    area = np.isin(kind, (3, 6))  # Polygon, MultiPolygon
    pos = np.arange(len(facilities))
    # points (the parts of multi-points) stand for themselves
    parts, part_of = shapely.get_parts(g[~area], return_index=True)
    where = [pos[~area][part_of]]
    geoms = [parts]
    how = [np.full(len(parts), "point", dtype=object)]
    if area.any():
        ent = park_entrances(gpd.GeoSeries(g[area], index=pos[area], crs=facilities.crs),
                             streets, spacing=spacing)
        where.append(ent["site"].to_numpy(np.intp))
        geoms.append(ent.geometry.to_numpy())
        how.append(ent["entrance"].to_numpy(object))
    at = np.concatenate(where)
    order = np.argsort(at, kind="stable")  # the facilities' order, entrances together
    at = at[order]
    out = gpd.GeoDataFrame(facilities.drop(columns=facilities.geometry.name).iloc[at],
                           geometry=np.concatenate(geoms)[order], crs=facilities.crs)
    out["access"] = np.concatenate(how)[order]
    return out


# --------------------------------------------------------------------------
# the analysis


def _graph(layers: Mapping[str, gpd.GeoDataFrame], graph: Any, join_tolerance: float,
           split_crossings: bool = False) -> nx.Graph | Network:
    if graph is not None:
        return graph_network(graph)
    streets = layers.get("streets")
    if streets is None:
        raise AnalysisError(
            "the living-circle analysis needs the 'streets' layer (the walking network); add "
            "it with `gcgeo import-osm` or `gcgeo add WS streets FILE` (from Python: or pass "
            "graph=, a walking network)."
        )
    # what build_graph gives, without networkx objects; the CRS gate every analysis passes
    streets = metric(streets, "layer 'streets'")
    return network_from_streets(streets, join_tolerance=join_tolerance,
                                split_crossings=split_crossings)


def run(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    rules: Mapping | str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    walking_speed: float | None = None,
    origins: str | gpd.GeoDataFrame = "buildings",
    snap_tolerance: float | None = None,
    join_tolerance: float | None = None,
    split_crossings: bool | None = None,
    isochrones: str | None = "none",
    graph: nx.Graph | Network | str | Path | None = None,
    isochrone_facilities: Iterable[Hashable] | None = None,
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Living-circle reachability of every home; see the module docstring.

    ``layers`` needs ``streets`` (or ``graph=``, a networkx/OSMnx graph, a
    GraphML file or a :class:`gcgeo.network.Network` compiled once for many
    runs), ``facilities`` (points with ``category``) and, with
    ``origins="buildings"``, ``buildings``; ``communities`` is optional (without
    it there are no per-community shares).  ``origins`` may instead be a
    GeoDataFrame of points (e.g. population points) with an optional
    ``population`` column.  ``walking_speed`` (km/h) turns the tiers' minutes
    into metres; by default the tiers' distances are used.  ``snap_tolerance``
    (m) overrides the rule ``snapping.tolerance``, ``join_tolerance`` (m) the
    rule ``network.join_tolerance`` (street ends this close are joined when
    the network is built from the streets layer) and ``split_crossings`` the
    rule ``network.split_crossings`` (lines that cross are joined there).
    ``isochrones`` draws polygons on request (by default none: the shares,
    gaps and distances need none, and a city's community polygons cost more
    than the rest of the run): "community" (per community, tier and category,
    plus "all"), "facility"
    (per facility and tier, overlapping), "dissolved" (per category and tier,
    the area some facility reaches), "split" (that area divided among the
    facilities by nearest facility, not overlapping) or "none"; the polygons
    of the last three have the homes and residents inside
    (:mod:`gcgeo.analysis.lc_isochrones`).  A facility drawn as a polygon (a
    park, a square) is reached at its entrances (:func:`access_points`).
    ``isochrone_facilities`` (labels of the facilities layer's index) draws the
    "facility" isochrones of those facilities only.

    Per home ``all_within_<tier>`` says whether every category the tier
    requires (its own and the nearer tiers') is within the tier's distance,
    ``in_data_within_<tier>`` the same counting only the categories with a
    facility in the data; per community ``share_all_within_<tier>`` and
    ``share_in_data_within_<tier>`` are the shares of residents.

    Returns ``lc_origins``, ``lc_communities``, ``lc_gaps``, ``lc_categories``
    (per category: facilities in the data and on the network, share of
    residents served, and whether the data has none) and ``lc_isochrones``.
    """
    return _run(layers, rules=rules, progress=progress, walking_speed=walking_speed,
                origins=origins, snap_tolerance=snap_tolerance,
                join_tolerance=join_tolerance, split_crossings=split_crossings,
                isochrones=isochrones, graph=graph, isochrone_facilities=isochrone_facilities)


def _run(layers, *, rules, progress, walking_speed, origins, snap_tolerance, join_tolerance,
         split_crossings, isochrones, graph, isochrone_facilities):
    say = progress or (lambda stage: None)
    r = _rules.load(RULES, rules)
    tier_m = tiers(r, walking_speed=walking_speed)
    req = required_categories(r, tier_m)
    cats = [c for c in r["categories"] if any(c in v for v in req.values())]
    tol = float(snap_tolerance if snap_tolerance is not None else _rules.value(r, "snapping.tolerance"))
    buf = float(_rules.value(r, "isochrones.buffer"))
    mode = "none" if isochrones in (None, False) else str(isochrones)
    if mode not in ISOCHRONE_MODES:
        raise InputError(f"isochrones must be one of {', '.join(ISOCHRONE_MODES)}, not {mode!r}.")
    cutoff = max(tier_m.values())

    facilities = layers.get("facilities")
    if facilities is None:
        raise AnalysisError(
            "the living-circle analysis needs the 'facilities' layer (points with a "
            "'category'); add it with `gcgeo import-osm` or `gcgeo add WS facilities FILE`."
        )
    if "category" not in facilities.columns:
        raise AnalysisError(
            "layer 'facilities' has no 'category' column; map your column onto it "
            "(categories: " + ", ".join(r["categories"]) + ")."
        )
    say("graph")
    join = float(join_tolerance if join_tolerance is not None
                 else network_join_tolerance(rules))
    split = bool(split_crossings if split_crossings is not None
                 else network_split_crossings(rules))
    net = compile_network(_graph(layers, graph, join, split))
    if net.n_edges == 0:
        log.warning("the walking graph has no edges: every home is off the network")
    else:
        _report_components(net)
    facilities = _align(facilities, net.crs, "facilities")
    communities = community_boundaries(layers.get("communities"), net.crs)
    if communities is None:
        log.warning("no 'communities' layer: homes are not grouped into communities")

    say("origins")
    org = home_origins(layers, origins, communities, net.crs)

    say("snapping")
    osnap = snap(net, check_points(net, org.geometry, "homes"), tol) if net.n_edges else _off(org)
    fac, acc, fsnap, fac_on = _facilities(facilities, layers, r, cats, net, tol)
    aug = augment(net, fsnap.reset_index(drop=True))
    fcat = acc["category"].astype(str).to_numpy()

    say("shortest paths")
    where = locate_snaps(aug, osnap)
    # isochrones look one buffer further, so a home just past the last tier but
    # within the buffer is known as such (not as "unreached")
    reach = cutoff + (buf if mode == "community" else 0.0)
    chains = contract_chains(aug.csr, aug.target_node[aug.target_node >= 0])
    node_d: dict[str, np.ndarray] = {}
    dist = {}
    home_d = {}
    for c in cats:
        src = aug.target_node[(fcat == c) & (aug.target_node >= 0)]
        if len(src) == 0:
            log.warning("no '%s' facility on the walking network: nobody is served by one", c)
            node_d[c] = np.full(aug.n_nodes, np.nan)
        else:
            node_d[c] = multi_source(aug.csr, np.unique(src), reach, chains=chains)
        d = point_dist(aug, osnap, node_d[c], where=where)
        d[d > reach] = np.nan
        home_d[c] = d
        dist[c] = np.where(d <= cutoff, d, np.nan)

    say("tiers")
    # the per-home table is assembled in one go (column by column insertion
    # into a GeoDataFrame costs more than the tiers themselves)
    cols: dict[str, Any] = {"origin_id": np.arange(len(org), dtype=np.int64)}
    cols.update((c, org[c].array) for c in org.columns
                if not (c.startswith("_") or c in ("community_pos", "floor_area_m2")))
    cols.update((f"dist_{c}_m", dist[c]) for c in cats)
    ok = {}
    in_data = set(fac["category"].astype(str))  # categories with a facility in the data
    for t, T in tier_m.items():
        for c in req[t]:
            ok[(c, t)] = np.nan_to_num(dist[c], nan=np.inf) <= T
        cols[ALL_WITHIN + t] = _every([ok[(c, t)] for c in req[t]], len(org))
    for t in tier_m:
        cols[IN_DATA_WITHIN + t] = _every([ok[(c, t)] for c in req[t] if c in in_data], len(org))
    cols["off_network"] = osnap["off_network"].to_numpy(bool)
    cols["connector_m"] = osnap["connector_m"].to_numpy(float)
    out = gpd.GeoDataFrame(pd.DataFrame(cols, index=org.index, copy=False),
                           geometry="geometry", crs=org.crs)

    comm_out = _community_table(out, communities, tier_m, req, ok,
                                org["community_pos"].to_numpy(np.int64))
    judge_complete(comm_out, [c for c in cats if c not in in_data],
                   float(_rules.value(r, "min_share_complete")), own_tiers(req))
    gaps = _gaps(out, cats, tier_m, req, ok)
    cat_table = _category_table(out, cats, tier_m, req, ok, fac["category"].astype(str).to_numpy(),
                                fac_on)

    say("isochrones")
    if mode == "none":  # the community isochrones' columns, no rows: QGIS styles the layer
        iso = lc_isochrones.community_isochrones(aug, node_d, out, None, tier_m, req, buf, home_d)
        iso.attrs["geometry_type"] = "MultiPolygon"
    elif mode == "community":
        iso = lc_isochrones.community_isochrones(aug, node_d, out, communities, tier_m, req, buf, home_d)
    else:
        # the points facilities are reached at, named by their facility
        at = acc.set_axis(fac.index[acc.index])
        if mode == "facility":
            if isochrone_facilities is not None:  # the others split the streets, not drawn
                aug = dataclasses.replace(aug, target_node=np.where(
                    at.index.isin(list(isochrone_facilities)), aug.target_node, -1))
            iso = lc_isochrones.facility_isochrones(aug, at, fcat, osnap, out, tier_m, req, buf)
        else:
            iso = lc_isochrones.category_isochrones(aug, at, fcat, osnap, out, tier_m, req, buf,
                                                    split=mode == "split")
        if len(acc) > len(fac):  # an area reached at several entrances: one outline per tier
            iso = areas_merged(iso, fac, fac_on, out, buf)
    return {"lc_origins": out, "lc_communities": comm_out, "lc_gaps": gaps,
            "lc_categories": cat_table, "lc_isochrones": iso}


def _facilities(facilities, layers, r, cats, net, tol):
    """The facilities of the required categories, the points they are reached at
    (:func:`access_points`) snapped onto ``net``, and whether each facility is on it."""
    # (a workspace from before a category was renamed)
    fac = current_categories(facilities[facilities.geometry.notna() & ~facilities.geometry.is_empty])
    refuse_unknown(fac, list(r["categories"]))
    cat_col = fac["category"].astype("string")
    fac = fac[cat_col.isin(cats).fillna(False).to_numpy()]
    # areas (parks, squares…) are reached at their entrances, points at themselves: only
    # areas need the streets (a run on a stored network reads them when asked for)
    areas = np.isin(shapely.get_type_id(fac.geometry.to_numpy()), (3, 6)).any()
    streets = layers.get("streets") if areas else None
    acc = access_points(fac.set_axis(np.arange(len(fac))),  # on the facilities' positions
                        None if streets is None else _align(streets, net.crs, "streets"),
                        spacing=float(_rules.value(r, "areas.gate_spacing")))
    fsnap = (snap(net, check_points(net, acc.geometry, "facilities"), tol)
             if net.n_edges and len(acc) else _off(acc))
    # a facility is on the network when one of its points is
    fac_on = np.zeros(len(fac), bool)
    np.logical_or.at(fac_on, acc.index.to_numpy(np.intp), ~fsnap["off_network"].to_numpy(bool))
    n_foff = int((~fac_on).sum())
    if n_foff:
        log.warning("%d facilit(y/ies) farther than %.0f m from any street are left out", n_foff, tol)
    return fac, acc, fsnap, fac_on


def _report_components(net: Network) -> None:
    """Warn when the walking network falls apart: hand-drawn streets whose ends
    miss by more than ``network.join_tolerance``, or that cross without a
    shared vertex, are not joined, and homes on the smaller pieces reach
    nothing beyond them."""
    from scipy.sparse.csgraph import connected_components

    n, label = connected_components(net.csr(), directed=False)
    if n <= 1:
        return
    sizes = np.bincount(label)
    outside = 1.0 - sizes.max() / net.n_nodes
    level = logging.WARNING if outside > 0.05 else logging.INFO
    log.log(level, "the walking network has %d separate parts; %.0f%% of its nodes lie outside "
            "the largest. Streets that should meet must share an end point or end within "
            "network.join_tolerance of each other (check gaps and crossings in the streets "
            "layer with `gcgeo validate`, raise the tolerance: --join-tolerance, or join "
            "streets where they cross: --split-crossings)", n, outside * 100)


def community_boundaries(communities: gpd.GeoDataFrame | None, crs: CRS | None
                         ) -> gpd.GeoDataFrame | None:
    """The communities layer as the living circle reads it, and every analysis that
    counts its homes (the supply analysis, the what-if and siting state): in the
    walking network's CRS ``crs``, polygons only (points and lines refused, invalid
    outlines repaired with a warning: :func:`_polygons`), one id each; None for no
    layer or an empty one."""
    if communities is None or communities.empty:
        return None
    communities = _polygons(_align(communities, crs, "communities"))
    require_unique_ids(communities, "communities")
    return communities


def home_origins(layers: Mapping[str, gpd.GeoDataFrame], origins: str | gpd.GeoDataFrame,
                 communities: gpd.GeoDataFrame | None, crs: CRS | None, *,
                 analysis: str = "living-circle") -> gpd.GeoDataFrame:
    """The homes as the living circle takes them (and the analyses counting its homes):
    with ``origins="buildings"`` the residential buildings of ``layers["buildings"]``
    (:func:`gcgeo.layers.buildings.homes`; those without geometry left out with a
    warning), else the points ``origins`` with their ``population`` (estimated where
    missing); in ``crs``, in ``communities`` (:func:`community_boundaries`).  The
    errors name ``analysis``."""
    if isinstance(origins, str):
        if origins != "buildings":
            raise InputError("origins must be 'buildings' or a GeoDataFrame of points.")
        buildings = layers.get("buildings")
        if buildings is None:
            raise AnalysisError(
                f"the {analysis} analysis needs the 'buildings' layer (homes); add it with "
                "`gcgeo import-osm` or `gcgeo add WS buildings FILE` (from Python, or pass the "
                "homes as points: origins=<points>)."
            )
        buildings = _align(buildings, crs, "buildings")
        _report_unplaced(buildings)
        org = homes(buildings, communities)
        if org.empty:
            raise AnalysisError(
                "layer 'buildings' has no residential building (column 'residential' true or "
                "use residential / mixed); mark the homes (from Python, or pass them as points: "
                "origins=<points>)."
            )
        return org
    if not isinstance(origins, gpd.GeoDataFrame):
        raise InputError("origins must be 'buildings' or a GeoDataFrame of points.")
    origins = _align(origins, crs, "origins")
    org = gpd.GeoDataFrame(
        {"building_id": None, "floor_area_m2": 1.0,
         "population": (pd.to_numeric(origins["population"], errors="coerce")
                        if "population" in origins.columns else np.nan)},
        geometry=origins.geometry.to_numpy(), crs=origins.crs, index=origins.index,
    )
    return fill_population(locate(org, communities), communities)


def _align(frame: gpd.GeoDataFrame, crs: CRS | None, layer: str) -> gpd.GeoDataFrame:
    """``frame`` in the walking network's CRS (:func:`gcgeo.crs.align`)."""
    return align(frame, crs, f"layer '{layer}'", against="the walking network")


def _some(ids: pd.Series, n: int = 10) -> str:
    shown = ids.astype(str).tolist()
    return ", ".join(shown[:n]) + (f" and {len(shown) - n} more" if len(shown) > n else "")


def _polygons(communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The communities as polygons: points and lines refused, invalid outlines repaired.

    A point or line "community" encloses no home, and an invalid outline (a
    bow-tie) breaks the overlays; both would give wrong shares without a
    word.  Invalid outlines are made valid keeping their polygonal parts
    (:func:`gcgeo.layers.repair_geometry`) with a warning; one with no area
    left, and every point or line, is an :class:`~gcgeo.AnalysisError`.
    """
    g = np.asarray(communities.geometry.values, dtype=object)
    ids = feature_ids(communities)
    blank = shapely.is_missing(g) | shapely.is_empty(g)
    if blank.any():
        log.warning("layer 'communities': %d communit(y/ies) without a boundary (%s) count no "
                    "homes; draw their boundaries (gcgeo validate lists them)",
                    int(blank.sum()), _some(ids[blank]))
    wrong = ~blank & ~np.isin(shapely.get_type_id(g), (3, 6))  # Polygon, MultiPolygon
    if wrong.any():
        kinds = ", ".join(sorted({geom.geom_type for geom in g[wrong]}))
        raise AnalysisError(
            f"layer 'communities' holds {int(wrong.sum())} {kinds} feature(s) ({_some(ids[wrong])}) "
            "where the living circle needs community boundaries (polygons): a point or line "
            "encloses no home, so its shares would be empty. Add the communities as polygons "
            "(gcgeo add WS communities FILE --overwrite), or make street blocks the communities "
            "(gcgeo import-osm WS FILE --communities blocks --overwrite).")
    invalid = ~blank & ~shapely.is_valid(g)
    if not invalid.any():
        return communities
    repaired, ok = repair_geometry(g[invalid])
    if not ok.all():
        bad = ids[invalid][~ok]
        raise AnalysisError(
            f"layer 'communities': the boundary of {_some(bad)} is invalid and encloses no area "
            "once repaired (its outline folds back onto itself); redraw it (gcgeo validate "
            "lists it) and run the analysis again.")
    log.warning("layer 'communities': %d invalid boundar(y/ies) (%s; an outline crossing itself) repaired "
                "for this analysis, keeping their polygonal parts; store the repair with "
                "gcgeo validate --fix", int(invalid.sum()), _some(ids[invalid]))
    g = g.copy()
    g[invalid] = repaired
    return communities.set_geometry(gpd.GeoSeries(g, index=communities.index, crs=communities.crs))


def _report_unplaced(buildings: gpd.GeoDataFrame) -> None:
    """Warn about homes the analysis leaves out because they have no geometry."""
    res, _ = residential_mask(buildings)
    geom = buildings.geometry
    lost = res.to_numpy(bool) & (geom.isna() | geom.is_empty).to_numpy(bool)
    if lost.any():
        log.warning("layer 'buildings': %d residential building(s) without geometry (%s) are "
                    "left out of the living circle, so their residents are not counted; draw "
                    "them or remove them (gcgeo validate lists them)", int(lost.sum()),
                    _some(feature_ids(buildings)[lost]))


def _off(df: gpd.GeoDataFrame) -> pd.DataFrame:
    n = len(df)
    return pd.DataFrame(
        {"edge": np.full(n, -1), "offset": np.nan, "connector_m": np.nan,
         "snap_x": np.nan, "snap_y": np.nan, "off_network": True}, index=df.index)


def _every(flags: list[np.ndarray], n: int) -> np.ndarray:
    """Where every flag holds (true everywhere when there is none)."""
    return np.logical_and.reduce(flags) if flags else np.ones(n, bool)


def tier_columns(frame: pd.DataFrame, prefix: str) -> dict[str, str]:
    """Tier → column of ``frame`` named ``prefix + tier``, in the frame's order (the
    analysis writes the nearest tier first).

    ``prefix`` is :data:`ALL_WITHIN` or :data:`IN_DATA_WITHIN`, with ``"share_"``
    before it for the per-community shares.  A result stored before the strict
    reading was renamed (``served_<tier>``, ``share_served_<tier>``) is read too.

    >>> tier_columns(pd.DataFrame(columns=["share_served_5min", "share_served_10min"]),
    ...              "share_" + ALL_WITHIN)
    {'5min': 'share_served_5min', '10min': 'share_served_10min'}
    """
    names = [str(c) for c in frame.columns]
    found = {c[len(prefix):]: c for c in names if c.startswith(prefix)}
    old = prefix.replace(ALL_WITHIN, OLD_ALL_WITHIN) if ALL_WITHIN in prefix else None
    if not found and old:
        found = {c[len(old):]: c for c in names
                 if c.startswith(old) and c[len(old):].endswith("min")}
    return found


def _community_table(out, communities, tier_m, req, ok, pos) -> gpd.GeoDataFrame:
    """Per community (``pos``: each home's position in ``communities``, -1 outside all)
    its homes and residents, and the shares of residents served."""
    if communities is None:
        return gpd.GeoDataFrame({"community_id": pd.Series(dtype=object)},
                                geometry=gpd.GeoSeries([], crs=out.crs))
    cid = feature_ids(communities).to_numpy()
    base = gpd.GeoDataFrame(
        {
            "community_id": cid,
            "community_name": communities["name"].to_numpy(object)
            if "name" in communities.columns else None,
        },
        geometry=communities.geometry.to_numpy(), crs=communities.crs, index=communities.index,
    )
    # per community (its position, -1 for a home outside all) the homes, and the residents
    # weighted by each column (a missing head count adds none)
    inside = pos >= 0
    k = pos[inside]
    p = np.nan_to_num(out["population"].to_numpy(float)[inside])
    n = len(communities)
    masks = {"residents": None, "residents_off_network": out["off_network"].to_numpy()}
    for prefix in (ALL_WITHIN, IN_DATA_WITHIN):
        masks.update(("share_" + prefix + t, out[prefix + t].to_numpy(bool)) for t in tier_m)
    masks[COMPLETE] = _every([out[ALL_WITHIN + t].to_numpy(bool) for t in tier_m], len(out))
    for t in tier_m:
        masks.update((f"share_{c}_{t}", ok[(c, t)]) for c in req[t])
    cols: dict[str, np.ndarray] = {"homes": np.bincount(k, minlength=n).astype(np.int64)}
    cols.update((name, np.bincount(k, weights=p if mask is None else p * mask[inside], minlength=n))
                for name, mask in masks.items())
    res = np.where(cols["residents"] > 0, cols["residents"], np.nan)
    for name in list(cols):
        if name.startswith("share_"):
            cols[name] = cols[name] / res
    return pd.concat([base, pd.DataFrame(cols, index=base.index)], axis=1)


def areas_merged(iso: gpd.GeoDataFrame, fac, fac_on, out, buf: float) -> gpd.GeoDataFrame:
    """Isochrones of an area's entrances merged into the area's own (one outline
    per facility and tier, its homes and residents counted again); a dissolved
    category counts its facilities, not their entrances.

    ``fac`` are the facilities (with ``category``), ``fac_on`` whether each is
    on the network, ``out`` the homes (``lc_origins``) and ``buf`` the
    isochrone buffer.  A partitioned run merges its stitched rows with it.
    """
    if not len(iso):
        return iso
    if "facility_id" not in iso.columns:  # dissolved: one row per category and tier already
        fcat = fac["category"].astype(str).to_numpy()
        n = pd.Series(fcat[fac_on]).value_counts()
        return iso.assign(facilities=iso["category"].map(n).fillna(0).astype(np.int64))
    keys = [k for k in ("facility_id", "category", "tier", "distance_m", "buffer_m")
            if k in iso.columns]
    merged = iso.dissolve(by=keys, sort=False, as_index=False, aggfunc="max")
    merged["area_m2"] = merged.geometry.area
    merged = merged[[c for c in iso.columns if c in merged.columns]]
    return lc_isochrones.count_homes(merged, out, buf) if "homes" in iso.columns else merged


def category_status(facilities: int, on_network: int) -> str:
    """A category's status in ``lc_categories``: whether the data hold a facility of it and
    whether any reaches the walking network.

    >>> category_status(0, 0), category_status(2, 0), category_status(2, 1)
    ('no facility', 'none on the network', 'ok')
    """
    return "no facility" if facilities == 0 else "none on the network" if on_network == 0 else "ok"


def _category_table(out, cats, tier_m, req, ok, fcat, fac_on) -> pd.DataFrame:
    """Per required category: its strictest tier, how many facilities the data
    has and how many reach the network, and the share of residents served.

    A category with no facility at all leaves every home unserved, as the
    standard wants; ``status`` says so ("no facility", "none on the network")
    so that a gap in the data is not read as a gap on the ground.
    """
    pop = out["population"].to_numpy(float)
    total = pop.sum()
    on = fac_on
    rows = []
    for c in cats:
        tiers_c = [t for t in tier_m if c in req[t]]
        t = min(tiers_c, key=lambda k: tier_m[k])
        n = int((fcat == c).sum())
        k = int(((fcat == c) & on).sum())
        rows.append({
            "category": c, "tier": t, "required_m": float(tier_m[t]),
            "facilities": n, "facilities_on_network": k,
            "share_served": float((pop * ok[(c, t)]).sum() / total) if total > 0 else np.nan,
            "status": category_status(n, k),
        })
    return pd.DataFrame(rows, columns=["category", "tier", "required_m", "facilities",
                                       "facilities_on_network", "share_served", "status"])


def _gaps(out, cats, tier_m, req, ok) -> pd.DataFrame:
    """One row per home lacking a category at some tier: a table keyed by ``origin_id``.

    ``n_missing`` counts the categories the home lacks at any tier and
    ``missing_<tier>`` lists those the tier requires beyond its walking distance
    (a JSON array, as every list is stored, in the rules' category order; null
    where the tier lacks none).  The home's point, distances and network status
    are in ``lc_origins``, one row each too, so the two join one to one (a
    QGIS join takes one match per feature).  One row per home, not per gap:
    a city has 100k homes and 420k gaps, and GDAL writes a row at a time.
    """
    lacks = np.zeros((len(out), len(cats)), dtype=bool)  # any tier, per category
    lists: dict[str, tuple[list[str | None], np.ndarray]] = {}
    for t in tier_m:
        need = [c for c in cats if c in req[t]]
        miss = np.column_stack([~ok[(c, t)] for c in need]) if need else np.zeros((len(out), 0), bool)
        for j, c in enumerate(need):
            lacks[:, cats.index(c)] |= miss[:, j]
        # one text per pattern of categories lacked (a few hundred in a city), then taken;
        # a pattern told apart by its bits as one number (bytes of packed bits past 63)
        if len(need) <= 63:
            keys = miss.astype(np.int64) @ (np.int64(1) << np.arange(len(need), dtype=np.int64))
        else:
            packed = np.ascontiguousarray(np.packbits(miss, axis=1))
            keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
        _, first, which = np.unique(keys, return_index=True, return_inverse=True)
        text = [json.dumps([c for c, m in zip(need, row) if m], ensure_ascii=False) if row.any()
                else None for row in miss[first]]
        lists[MISSING + t] = (text, which.reshape(-1))
    n_missing = lacks.sum(axis=1)
    rows = np.flatnonzero(n_missing)
    return pd.DataFrame({
        **{k: out[k].take(rows).array for k in ("origin_id", "building_id", "community_id")},
        "n_missing": n_missing[rows].astype(np.int64),
        **{k: pd.Series(pd.array(text, dtype="str")).take(which[rows]).array
           for k, (text, which) in lists.items()},
    })


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: homes, residents, criterion 10 (the share with a complete
    living circle, its status and why) and the share served per tier."""
    comm = outputs.get("lc_communities")
    if comm is None or len(comm) == 0:
        org = outputs.get("lc_origins")
        if org is None or len(org) == 0:
            return pd.DataFrame()
        pop = org["population"].to_numpy(float)
        row = {"community": "(all homes)", "homes": len(org), "residents": pop.sum()}
        for col in [*tier_columns(org, ALL_WITHIN).values(),
                    *tier_columns(org, IN_DATA_WITHIN).values()]:
            row["share_" + col] = float((pop * org[col].to_numpy(bool)).sum() / pop.sum()) \
                if pop.sum() > 0 else np.nan
        return pd.DataFrame([row])
    # (the shares counting only the categories in the data are in the layer; a category
    # with no facility makes criterion 10 unknown, and its reason says so)
    cols = ["community_name", "homes", "residents",
            *[c for c in (COMPLETE, "min_share_complete_status", "min_share_complete_reason")
              if c in comm.columns],
            *tier_columns(comm, "share_" + ALL_WITHIN).values()]
    return pd.DataFrame(comm[cols]).rename(columns={"community_name": "community"}) \
        .reset_index(drop=True)


# --------------------------------------------------------------------------
# the descriptor

_COLUMNS = {
        "n_origins": ("居住点数", "Residential origins", "int"),
        "origin_count": ("居住点数", "Residential origins", "int"),
        "snap_dist_m": ("吸附距离", "Snapping distance (m)", "m"),
        "distance_m": ("步行距离", "Walking distance (m)", "m"),
        "missing_categories": ("缺失设施", "Missing facilities", "text"),
        "n_missing": ("缺失设施类数", "Facility types missing", "int"),
        "origin_id": ("居住点编号", "Origin id", "text"),
        "building_id": ("建筑编号", "Building id", "text"),
        "homes": ("居住点数", "Homes", "int"),
        "residents": ("居民数", "Residents", "int"),
        "residents_off_network": ("未接入路网居民", "Residents off the network", "int"),
        "off_network": ("未接入路网", "Off the network", "bool"),
        "connector_m": ("接入距离", "Connector to network (m)", "m"),
        "required_m": ("要求距离", "Required distance (m)", "m"),
        "facilities": ("设施数", "Facilities", "int"),
        "share_served": ("覆盖人口比例", "Share of residents served", "pct"),
        "facilities_on_network": ("接入路网设施数", "Facilities on the network", "int"),
        "pop_source": ("人口来源", "Population source", "text"),
}

ANALYSIS = Analysis(
    name="living_circle",
    label_zh="十五分钟生活圈",
    label_en="15-minute living circle",
    description_en="walking distance from every home to each kind of daily facility, tiers served, "
                   "shares per community, gaps, and isochrones on request (GB 50180-2018)",
    description_zh="每个居住点到各类日常设施的步行距离、各层级生活圈达标情况、社区覆盖比例、缺口，以及按需绘制的等时圈",
    run=run,
    summary=summary,
    requires=("facilities", "buildings", "streets"),  # the walking network (or graph=, in Python)
    optional=("communities",),
    rule_sets=RULE_SETS,
    outputs=(
        Output("lc_origins", "居住点", "Homes", style="gcgeo.maps._layers:style_lc_origins",
               columns=_COLUMNS, geometry_type="Point"),
        Output("lc_communities", "社区生活圈覆盖", "Living circle by community",
               style="gcgeo.maps._layers:style_lc_communities", columns={
                   COMPLETE: ("生活圈完整居民比例", "Share with a complete living circle", "pct"),
                   "min_share_complete_status": ("第10项（15分钟生活圈）",
                                                 "Criterion 10 (15-minute living circle)", "text"),
                   "min_share_complete_reason": ("说明", "Reason", "text")}),
        Output("lc_gaps", "设施缺口", "Gaps", geometry=False, style="gcgeo.maps._layers:style_lc_gaps"),
        Output("lc_categories", "各类设施", "Per category", geometry=False, report_table=True),
        Output("lc_isochrones", "等时圈", "Isochrones", style="gcgeo.maps._layers:style_lc_isochrones",
               when_empty="drawn on request with --isochrones community (per community), "
                          "facility, dissolved or split"),
    ),
    options=(
        Option("walking_speed", "float", "km/h to turn each tier's minutes into metres "
               "(default: the tiers' distances)", "把各层级分钟数换算为米的步行速度（公里/小时）",
               min=0, min_exclusive=True, max=20),
        Option("snap_tolerance", "float", "metres beyond which a home or facility is reported "
               "off-network", "居住点或设施距路网超过此距离（米）即报告为未接入路网",
               rule="living_circle.snapping.tolerance", min=0),
        *NETWORK_OPTIONS,
        Option("isochrones", "choice", "isochrone polygons, drawn on request (default none): per "
               "community, per facility (overlapping), per category (dissolved) or split by nearest "
               "facility",
               "等时圈（按需绘制，默认不绘制）：按社区、按设施（可重叠）、按类别合并，或按最近设施划分（不重叠）",
               choices=ISOCHRONE_MODES),
        GRAPH_OPTION,
    ),
    criteria=(
        Criterion(10, "lc_communities", "min_share_complete_status",
                  "share of residents with every facility category the standard requires within "
                  "its own tier's walking distance (share_complete), against rule "
                  "min_share_complete; unknown where a category has no facility in the data",
                  "全部要求的设施类别均在其所属层级步行距离内的居民比例（share_complete），"
                  "对照规则 min_share_complete；数据中缺少某类设施时为未知"),
    ),
    headlines="gcgeo.headlines:living_circle",
    views=(ViewSpec("gcgeo.maps._views:living_circle",
                    "share served per community, isochrones, homes by tier served, facilities, "
                    "gaps"),),
)
