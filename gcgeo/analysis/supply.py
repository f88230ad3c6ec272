"""Capacity and choice: how many facilities each home can reach, and how much of them.

The living circle asks whether the nearest facility of each category is near
enough.  This analysis asks the planner's next two questions, on the same
walking network, homes and snapping (:mod:`gcgeo.network`) and with the same
categories, tiers and distances (rules ``living_circle``):

* **choice** — per home and category, the number of facilities of the
  category within the category's tier distance (``choices_<category>``), and per
  community the share of residents with none, one, and two or more;
* **supply and demand** — a two-step floating catchment area (2SFCA): each
  facility's capacity shared among the residents within its catchment (the
  tier distance), ``R_j = S_j / Σ P_i``; each home's accessibility the sum of
  the shares of the facilities within its reach, ``A_i = Σ R_j``, written per
  1000 residents (``access_<category>_per_1000``).  The capacity of a facility is read
  from the column the rules name for its category (``capacity.<category>``,
  e.g. kindergarten ``places``, clinic ``doctors``); without one every
  facility counts as 1 and ``capacity_source`` says "count".  Per community
  the residents-weighted mean accessibility is compared with the category's
  norm (``norms.<category>``, capacity per 1000 residents) where the rules
  give one and the capacity was read from its column.

A facility whose catchment holds no resident serves nobody: its share is
missing and adds nothing.  Summed over homes, residents × accessibility
gives back the capacity of every facility that has residents within reach.
Distances come from one limited Dijkstra per facility
(:func:`gcgeo.network.reach_pairs`), kept as sparse home × facility pairs.

>>> import geopandas as gpd, shapely
>>> streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (600, 0)])], crs=4547)
>>> fac = gpd.GeoDataFrame({"category": ["kindergarten"] * 2, "places": [90, 30]},
...                        geometry=shapely.points([(0, 0), (400, 0)]), crs=4547)
>>> homes = gpd.GeoDataFrame({"population": [1000.0, 2000.0]},
...                          geometry=shapely.points([(120, 0), (350, 0)]), crs=4547)
>>> out = run({"streets": streets, "facilities": fac}, origins=homes)
>>> out["supply_facilities"][["residents_in_reach", "capacity_per_1000_reach"]].values.tolist()
[[1000.0, 90.0], [3000.0, 10.0]]
>>> h = out["supply_homes"]
>>> h["choices_kindergarten"].tolist(), h["access_kindergarten_per_1000"].round(6).tolist()
([2, 1], [100.0, 10.0])
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import rules as _rules
from .._errors import AnalysisError, InputError, RulesError
from ..crs import align, metric
from ..layers.facilities import current_categories, refuse_unknown
from ..network import (
    augment,
    check_points,
    compile_network,
    graph_network,
    locate_snaps,
    network_from_streets,
    reach_pairs,
    snap,
)
from ..network import join_tolerance as network_join_tolerance
from ..network import split_crossings as network_split_crossings
from ..values import feature_ids, row_list, to_number
from . import _iso_procs as _procs
from . import living_circle
from .checks import community_table
from .contract import GRAPH_OPTION, NETWORK_OPTIONS, Analysis, Option, Output, ViewSpec

log = logging.getLogger(__name__)

__all__ = ["capacities", "category_reach", "floating_catchment", "run", "summary"]

RULES = "supply"
#: Built-in rule sets the analysis reads (a change to one makes its results stale).
RULE_SETS = (RULES, "living_circle", "network")
#: The community row when there is no communities layer.
ALL = "(all)"


# --------------------------------------------------------------------------
# building blocks


def floating_catchment(home: np.ndarray, facility: np.ndarray, population: np.ndarray,
                       capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two steps of the floating catchment over pairs within reach.

    ``home[k]`` and ``facility[k]`` (positions) are within each other's
    catchment, each pair once.  Returns per facility the residents within its
    catchment and its ratio ``capacity / residents`` (NaN with no resident),
    and per home its accessibility, the sum of the ratios within its reach.

    >>> d, r, a = floating_catchment(np.array([0, 1, 1]), np.array([0, 0, 1]),
    ...                              np.array([10.0, 30.0]), np.array([4.0, 3.0]))
    >>> d.tolist(), r.tolist(), a.tolist()
    ([40.0, 30.0], [0.1, 0.1], [0.1, 0.2])
    """
    pop = np.nan_to_num(np.asarray(population, dtype=float))
    cap = np.asarray(capacity, dtype=float)
    demand = np.bincount(facility, weights=pop[home], minlength=len(cap)).astype(float)
    ratio = np.full(len(cap), np.nan)
    np.divide(cap, demand, out=ratio, where=demand > 0)
    access = np.bincount(home, weights=np.nan_to_num(ratio[facility]), minlength=len(pop))
    return demand, ratio, access.astype(float)


def category_reach(lc_rules: Mapping[str, Any], *, walking_speed: float | None = None
                   ) -> dict[str, tuple[str, float]]:
    """Category → (its tier, the tier's walking distance in m), for every category a tier
    requires (the nearest such tier: a 5-minute category is reached within 300 m)."""
    tier_m = living_circle.tiers(lc_rules, walking_speed=walking_speed)
    req = living_circle.required_categories(lc_rules, tier_m)
    out: dict[str, tuple[str, float]] = {}
    for cat in lc_rules["categories"]:
        own = [t for t in tier_m if cat in req[t]]
        if own:
            out[cat] = (own[0], float(tier_m[own[0]]))
    return out


def capacities(facilities: pd.DataFrame, rules: Mapping[str, Any]
               ) -> tuple[np.ndarray, dict[str, str]]:
    """Each facility's capacity and, per category, where it came from.

    A category whose ``capacity.<category>.column`` is in ``facilities`` with
    a value for every facility of the category takes those values
    (source ``column:<name>``); one where the column is absent or empty for
    the whole category counts 1 per facility (``count``).  Text that is no
    number, a negative number, or a value missing for some facilities of a
    category while others have one is an :class:`InputError` naming the
    column and the rows — every problem at once.
    """
    cat = facilities["category"].astype(str).to_numpy()
    cap = np.ones(len(facilities))
    source: dict[str, str] = {}
    ids = feature_ids(facilities).to_numpy(object) if len(facilities) else np.zeros(0, object)
    problems: list[str] = []
    for c in pd.unique(cat):
        spec = rules.get("capacity", {}).get(c)
        col = spec.get("column") if spec else None
        if not col or col not in facilities.columns:
            source[c] = "count"
            continue
        rows = np.flatnonzero(cat == c)
        raw = facilities[col].iloc[rows]
        values, bad = to_number(raw)
        v = values.to_numpy(float)
        bad = bad.to_numpy(bool)
        missing = np.isnan(v) & ~bad
        if missing.all():
            source[c] = "count"
            log.info("facilities: column '%s' is empty for every %s; each counts as 1", col, c)
            continue
        unit = spec.get("unit_en", "capacity")
        if bad.any():
            problems.append(f"{c}: {row_list(ids[rows][bad], raw.to_numpy(object)[bad])} "
                            f"{'is' if bad.sum() == 1 else 'are'} not a number of {unit}")
        neg = ~np.isnan(v) & (v < 0)
        if neg.any():
            problems.append(f"{c}: {row_list(ids[rows][neg], raw.to_numpy(object)[neg])} "
                            f"{'is' if neg.sum() == 1 else 'are'} negative")
        if missing.any():
            problems.append(f"{c}: {row_list(ids[rows][missing])} "
                            f"{'has' if missing.sum() == 1 else 'have'} no value while other "
                            f"{c} facilities have one")
        cap[rows] = v
        source[c] = f"column:{col}"
    if problems:
        cols = sorted({rules["capacity"][p.split(":")[0]]["column"] for p in problems})
        raise InputError(
            f"layer 'facilities', column {', '.join(repr(c) for c in cols)} (capacity): "
            + "; ".join(problems) + ". Write each capacity as a number of zero or more (e.g. "
            "180), fill in the missing ones, or rename the column so that every facility of "
            "the category counts as 1.")
    return cap, source


# --------------------------------------------------------------------------
# the analysis


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
    graph: Any = None,
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Choice and two-step floating catchment of every home; see the module docstring.

    ``layers`` needs ``streets``, ``facilities`` (points with ``category``
    and, optionally, the capacity columns the rules name) and, with
    ``origins="buildings"``, ``buildings``; ``communities`` is optional.
    ``origins`` may be a GeoDataFrame of points with a ``population`` column.
    The options are the living circle's (``walking_speed``,
    ``snap_tolerance``, ``join_tolerance``, ``split_crossings``, and ``graph``: a
    network walked in place of the streets layer's own, e.g. the workspace's kept
    network that ``gcgeo analyze`` hands over).

    Returns ``supply_homes`` (per home and category: ``choices_<category>``,
    ``access_<category>_per_1000``; a table, one row per home), ``supply_facilities`` (per facility: its
    capacity, residents in its catchment and capacity per 1000 of them),
    ``supply_communities`` (communities with the categories below their norm),
    ``supply_community_categories`` (per community and category: shares of
    residents by number of choices, mean accessibility, norm) and
    ``supply_categories`` (the same for the whole area).
    """
    say = progress or (lambda stage: None)
    r = _rules.load(RULES, rules)
    lc = _rules.load("living_circle", rules)
    reach = category_reach(lc, walking_speed=walking_speed)
    _check_rule_categories(r, lc)
    tol = float(snap_tolerance if snap_tolerance is not None
                else _rules.value(lc, "snapping.tolerance"))
    facilities, streets = layers.get("facilities"), layers.get("streets")
    if facilities is None or streets is None:
        need = "facilities" if facilities is None else "streets"
        raise AnalysisError(f"the supply analysis needs the '{need}' layer; add it with "
                            f"`gcgeo import-osm` or `gcgeo add WS {need} FILE`.")
    say("graph")
    join = float(join_tolerance if join_tolerance is not None else network_join_tolerance(rules))
    split = bool(split_crossings if split_crossings is not None else network_split_crossings(rules))
    streets = metric(streets, "layer 'streets'")
    net = (graph_network(graph) if graph is not None
           else compile_network(network_from_streets(streets, join_tolerance=join, split_crossings=split)))
    fac = _facilities(align(facilities, net.crs, "layer 'facilities'", against="the walking network"),
                      lc, reach)
    cap, cap_source = capacities(fac, r)
    # the communities and homes as the living circle reads them
    communities = living_circle.community_boundaries(layers.get("communities"), net.crs)
    say("origins")
    org = living_circle.home_origins(layers, origins, communities, net.crs, analysis="supply")

    say("snapping")
    osnap = snap(net, check_points(net, org.geometry, "homes"), tol)
    # areas (parks, squares…) are reached at their entrances, as the living circle does
    acc = living_circle.access_points(fac.set_axis(np.arange(len(fac))), streets,
                                      spacing=float(_rules.value(lc, "areas.gate_spacing")))
    acc_of = acc.index.to_numpy(np.intp)  # the facility each access point belongs to
    asnap = snap(net, check_points(net, acc.geometry, "facilities"), tol)
    fac_on = np.zeros(len(fac), bool)  # a facility is on the network when one of its points is
    np.logical_or.at(fac_on, acc_of, ~asnap["off_network"].to_numpy(bool))
    fsnap = pd.DataFrame({"off_network": ~fac_on})
    aug = augment(net, asnap.reset_index(drop=True))
    where = locate_snaps(aug, osnap)
    fcat = fac["category"].astype(str).to_numpy()
    pop = np.nan_to_num(org["population"].to_numpy(float))

    say("catchments")
    n_homes = len(org)
    cats = list(reach)
    choices, access, demand, ratio = _catchments(aug, where, acc, acc_of, fcat, cats, reach, pop, cap)

    say("tables")
    norms = {c: _norm(r, c) for c in cats}
    home_out = _home_table(org, osnap, cats, choices, access)
    fac_out = _facility_table(fac, fsnap, cap, cap_source, demand, ratio)
    key = (org["community_id"].to_numpy(object) if communities is not None
           else np.full(n_homes, ALL, dtype=object))
    cc = _community_categories(key, pop, cats, choices, access, norms, cap_source, communities)
    comm = _communities(cc, key, pop, communities, net.crs)
    cat_out = _category_table(cats, reach, fcat, fsnap, cap, cap_source, pop, choices, access, norms)
    return {"supply_homes": home_out, "supply_facilities": fac_out, "supply_communities": comm,
            "supply_community_categories": cc, "supply_categories": cat_out}


#: Facilities from which :func:`_catchments` shares the categories with a forked child
#: (fewer: the fork costs more than it saves).
PROCESS_MIN = 128


def _catchments(aug, where, acc, acc_of, fcat, cats, reach, pop, cap, *, processes: bool | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per category (rows in the order of ``cats``) each home's choices and accessibility,
    and per facility the residents in its catchment and its ratio.

    The categories are independent: from :data:`PROCESS_MIN` facilities on
    (``processes=None``; True or False to choose) they are shared with a forked child
    where the system allows (:mod:`gcgeo.analysis._iso_procs`), the costliest first
    (facilities × tier distance squared), so that the two meet on small ones.  The
    same figures either way.
    """
    n_homes = len(pop)
    members = [np.flatnonzero(fcat == c) for c in cats]

    def category(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        idx = members[k]
        pts = np.flatnonzero(np.isin(acc_of, idx))
        pairs = reach_pairs(aug, where, aug.target_node[pts], cutoff=reach[cats[k]][1],
                            xy=acc.geometry.to_numpy()[pts])
        home, site = pairs.point, np.searchsorted(idx, acc_of[pts][pairs.target])
        if len(np.unique(acc_of[pts])) < len(pts):
            # (home, facility) once, however many of an area's entrances are in reach
            key = np.unique(home * len(idx) + site)
            home, site = key // len(idx), key % len(idx)
        return (np.bincount(home, minlength=n_homes),
                *floating_catchment(home, site, pop, cap[idx]))

    order = sorted(range(len(cats)), key=lambda k: -len(members[k]) * reach[cats[k]][1] ** 2)
    if processes is None:
        processes = len(fcat) >= PROCESS_MIN and _procs.can_fork()
    if processes and len(order) > 1:
        got = _procs.both_ends(lambda j: category(order[j]), len(order), pack=_same, unpack=_same)
    else:
        got = [category(k) for k in order]
    choices = np.zeros((len(cats), n_homes), dtype=np.int64)
    access = np.zeros((len(cats), n_homes))
    demand = np.zeros(len(fcat))
    ratio = np.full(len(fcat), np.nan)
    for k, (n, d, r, a) in zip(order, got):
        choices[k], access[k] = n, a
        demand[members[k]], ratio[members[k]] = d, r
    return choices, access, demand, ratio


def _same(value: Any) -> Any:
    return value


def _check_rule_categories(r: Mapping[str, Any], lc: Mapping[str, Any]) -> None:
    """A capacity or norm for a category the living circle does not know is a misspelling."""
    known = set(lc["categories"])
    bad = [f"{t}.{c}" for t in ("capacity", "norms") for c in r.get(t, {}) if c not in known]
    if bad:
        raise RulesError(f"supply rules {', '.join(bad)}: no such living-circle category (known: "
                         f"{', '.join(sorted(known))}); fix the name, or add the category under "
                         "[living_circle.categories.<name>].")


def _facilities(fac: gpd.GeoDataFrame, lc: Mapping[str, Any], reach: Mapping[str, Any]
                ) -> gpd.GeoDataFrame:
    """The facilities of the categories a tier requires; an unknown category is an error."""
    if "category" not in fac.columns:
        raise InputError("layer 'facilities' has no 'category' column; map your column onto it "
                         f"(categories: {', '.join(lc['categories'])}).")
    fac = current_categories(fac, "layer 'facilities'")  # (a workspace from before a renaming)
    refuse_unknown(fac, list(lc["categories"]))
    cat = fac["category"]
    g = fac.geometry
    keep = g.notna().to_numpy() & ~g.is_empty.to_numpy() & cat.astype(str).isin(list(reach)).to_numpy()
    return fac[keep]


def _norm(r: Mapping[str, Any], cat: str) -> float | None:
    if cat not in r.get("norms", {}):
        return None
    return float(_rules.value(r, f"norms.{cat}"))


def _norm_status(value: float, norm: float | None, source: str, residents: float) -> tuple[str, str]:
    if norm is None:
        return "no norm", ""
    if not source.startswith("column:"):
        return "unknown", "capacity not given (each facility counted as 1)"
    if not residents > 0:
        return "unknown", "no residents"
    if value >= norm:
        return "pass", ""
    return "fail", f"{value:.1f} < {norm:g} per 1000 residents"


def _home_table(org, osnap, cats, choices, access) -> pd.DataFrame:
    """One row per home (``origin_id`` as in ``lc_origins``), per category its
    ``choices_<category>`` and ``access_<category>_per_1000``; no geometry
    (lc_origins or the buildings hold it)."""
    cols: dict[str, Any] = {
        "origin_id": np.arange(len(org), dtype=np.int64),
        "building_id": org["building_id"].array,
        "community_id": org["community_id"].array if "community_id" in org.columns else None,
        "population": org["population"].to_numpy(float),
        "off_network": osnap["off_network"].to_numpy(bool),
    }
    for k, c in enumerate(cats):
        cols[f"choices_{c}"] = choices[k]
        cols[f"access_{c}_per_1000"] = access[k] * 1000.0
    return pd.DataFrame(cols)


def _facility_table(fac, fsnap, cap, cap_source, demand, ratio) -> gpd.GeoDataFrame:
    cat = fac["category"].astype(str).to_numpy()
    cols: dict[str, Any] = {"facility_id": feature_ids(fac).to_numpy(object), "category": cat}
    if "name" in fac.columns:
        cols["name"] = fac["name"].to_numpy(object)
    cols.update({
        "service_capacity": cap,
        "capacity_source": [cap_source.get(c, "count") for c in cat],
        "off_network": fsnap["off_network"].to_numpy(bool),
        "residents_in_reach": demand,
        "capacity_per_1000_reach": ratio * 1000.0,
    })
    return gpd.GeoDataFrame(cols, geometry=fac.geometry.to_numpy(), crs=fac.crs)


def _weighted(key: np.ndarray, weight: np.ndarray, values: np.ndarray, ids: pd.Index) -> pd.Series:
    s = pd.Series(weight * values).groupby(key).sum()
    return s.reindex(ids, fill_value=0.0)


def _community_categories(key, pop, cats, choices, access, norms, cap_source, communities
                          ) -> pd.DataFrame:
    """Per community (or the whole area) and category: residents by number of choices,
    mean accessibility, the norm and its status."""
    inside = pd.notna(key)
    k, p = key[inside], pop[inside]
    ids = (pd.Index(feature_ids(communities).to_numpy(object)) if communities is not None
           else pd.Index([ALL]))
    names = (dict(zip(ids, communities["name"].to_numpy(object))) if communities is not None
             and "name" in communities.columns else {})
    residents = pd.Series(p).groupby(k).sum().reindex(ids, fill_value=0.0)
    res = residents.where(residents > 0)
    rows = []
    for j, c in enumerate(cats):
        ch, ac = choices[j][inside], access[j][inside]
        frame = pd.DataFrame({
            "community_id": ids, "community_name": [names.get(i, "") for i in ids], "category": c,
            "residents": residents.to_numpy(),
            "share_no_choice": (_weighted(k, p, ch == 0, ids) / res).to_numpy(),
            "share_one_choice": (_weighted(k, p, ch == 1, ids) / res).to_numpy(),
            "share_two_plus_choices": (_weighted(k, p, ch >= 2, ids) / res).to_numpy(),
            "mean_choices": (_weighted(k, p, ch, ids) / res).to_numpy(),
            "access_per_1000": (_weighted(k, p, ac, ids) / res).to_numpy() * 1000.0,
            "norm_per_1000": np.nan if norms[c] is None else norms[c],
        })
        st = [_norm_status(v, norms[c], cap_source.get(c, "count"), n)
              for v, n in zip(frame["access_per_1000"], frame["residents"])]
        frame["supply_norm_status"] = [s for s, _ in st]
        frame["supply_norm_reason"] = [w for _, w in st]
        rows.append(frame)
    cols = ["community_id", "community_name", "category", "residents", "share_no_choice",
            "share_one_choice", "share_two_plus_choices", "mean_choices", "access_per_1000",
            "norm_per_1000", "supply_norm_status", "supply_norm_reason"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def _communities(cc: pd.DataFrame, key, pop, communities, crs) -> gpd.GeoDataFrame | pd.DataFrame:
    """Communities with the categories below their norm: fail when one is, unknown when none
    can be compared, pass when every category with a norm meets it."""
    ids = (pd.Index(feature_ids(communities).to_numpy(object), name="community_id")
           if communities is not None else pd.Index([ALL], name="community_id"))
    inside = pd.notna(key)
    homes_n = pd.Series(1, index=range(int(inside.sum()))).groupby(key[inside]).sum()
    residents = pd.Series(pop[inside]).groupby(key[inside]).sum()
    figures = pd.DataFrame({"homes": homes_n.reindex(ids, fill_value=0).astype(np.int64),
                            "residents": residents.reindex(ids, fill_value=0.0)}, index=ids)
    normed = cc[cc["supply_norm_status"] != "no norm"]
    status = pd.Series("unknown", index=ids, dtype=object)
    reason = pd.Series("no category has a norm in the rules (supply norms.<category>)",
                       index=ids, dtype=object)
    below = pd.Series("", index=ids, dtype=object)
    for cid, g in normed.groupby("community_id", sort=False):
        fail = g[g["supply_norm_status"] == "fail"]
        unk = g[g["supply_norm_status"] == "unknown"]
        below[cid] = ", ".join(fail["category"])
        if len(fail):
            status[cid] = "fail"
            reason[cid] = "; ".join(f"{c} {w}" for c, w in zip(fail["category"], fail["supply_norm_reason"]))
        elif len(unk):
            status[cid] = "unknown"
            reason[cid] = "; ".join(f"{c}: {w}" for c, w in zip(unk["category"], unk["supply_norm_reason"]))
        else:
            status[cid], reason[cid] = "pass", ""
    figures["categories_below_norm"] = below
    table = community_table(communities, figures, {"supply_norm": (status, reason)}, crs)
    if communities is None:  # the whole area, drawn nowhere
        return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries([None] * len(table), crs=crs))
    return table


def _category_table(cats, reach, fcat, fsnap, cap, cap_source, pop, choices, access, norms
                    ) -> pd.DataFrame:
    """Per category over the whole area: facilities, capacity, supply and choice."""
    on = ~fsnap["off_network"].to_numpy(bool)
    total = float(pop.sum())
    rows = []
    for j, c in enumerate(cats):
        mine = fcat == c
        ch, ac = choices[j], access[j]
        src = cap_source.get(c, "count")
        capacity = float(cap[mine & on].sum())
        mean_access = float((pop * ac).sum() / total * 1000.0) if total > 0 else np.nan
        st, why = _norm_status(mean_access, norms[c], src, total)
        rows.append({
            "category": c, "tier": reach[c][0], "reach_m": reach[c][1],
            "facilities": int(mine.sum()), "facilities_on_network": int((mine & on).sum()),
            "capacity_source": src, "capacity_total": capacity,
            "supply_per_1000": capacity / total * 1000.0 if total > 0 else np.nan,
            "access_per_1000": mean_access,
            "norm_per_1000": np.nan if norms[c] is None else norms[c],
            "supply_norm_status": st, "supply_norm_reason": why,
            "share_no_choice": _mean(pop, ch == 0), "share_one_choice": _mean(pop, ch == 1),
            "share_two_plus_choices": _mean(pop, ch >= 2), "mean_choices": _mean(pop, ch),
        })
    return pd.DataFrame(rows)


def _mean(weight: np.ndarray, values: np.ndarray) -> float:
    total = float(weight.sum())
    return float((weight * values).sum() / total) if total > 0 else np.nan


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: homes, residents, the categories below their norm and the status."""
    t = outputs["supply_communities"]
    cols = [c for c in ("community_name", "homes", "residents", "categories_below_norm",
                        "supply_norm_status", "supply_norm_reason") if c in t.columns]
    return pd.DataFrame(t[cols]).reset_index(drop=True)


# --------------------------------------------------------------------------
# the descriptor

_SHARED = {
    "access_per_1000": ("千人可及服务能力（两步移动搜索法）",
                        "Accessible capacity per 1000 residents (2SFCA)", "float"),
    "share_no_choice": ("无可选设施居民比例", "Residents with no facility within reach", "pct"),
    "share_one_choice": ("仅一处可选居民比例", "Residents with one facility within reach", "pct"),
    "share_two_plus_choices": ("两处及以上可选居民比例", "Residents with two or more within reach",
                               "pct"),
    "mean_choices": ("人均可选设施数", "Mean facilities within reach", "float"),
    "norm_per_1000": ("千人指标", "Norm per 1000 residents", "float"),
    "supply_norm_status": ("供给达标情况", "Supply against the norm", "text"),
    "supply_norm_reason": ("供给说明", "Supply: reason", "text"),
    "capacity_source": ("服务能力来源", "Capacity taken from", "text"),
}
#: (the per-category columns of supply_homes are labelled by family: gcgeo.labels)
_HOMES: dict[str, tuple[str, str, str]] = {}
_FACILITIES = {
    "facility_id": ("设施编号", "Facility id", "text"),
    "service_capacity": ("服务能力", "Service capacity", "float"),
    "capacity_source": _SHARED["capacity_source"],
    "residents_in_reach": ("服务范围内居民数", "Residents within its catchment", "float"),
    "capacity_per_1000_reach": ("服务范围内千人服务能力", "Capacity per 1000 residents within its "
                                "catchment", "float"),
}
_COMMUNITIES = {
    "categories_below_norm": ("低于千人指标的设施类别", "Categories below their norm", "text"),
    "supply_norm_status": _SHARED["supply_norm_status"],
    "supply_norm_reason": _SHARED["supply_norm_reason"],
}
_CC = {k: _SHARED[k] for k in ("share_no_choice", "share_one_choice", "share_two_plus_choices",
                               "mean_choices", "access_per_1000", "norm_per_1000",
                               "supply_norm_status", "supply_norm_reason")}
_CATEGORIES = {
    **_CC,
    "reach_m": ("服务半径（步行）", "Catchment (walking, m)", "m"),
    "capacity_source": _SHARED["capacity_source"],
    "capacity_total": ("服务能力合计", "Total capacity on the network", "float"),
    "supply_per_1000": ("千人服务能力", "Capacity per 1000 residents", "float"),
}

ANALYSIS = Analysis(
    name="supply",
    label_zh="设施供给与选择",
    label_en="Facility supply and choice",
    description_en="per home and category the facilities within the tier's walking distance "
                   "(choice) and a two-step floating catchment of their capacity (places, doctors, "
                   "beds) against the residents they serve; per community against the norms",
    description_zh="每个居住点在生活圈步行距离内可选的各类设施数，及按服务能力（学位、医生、床位）与"
                   "服务人口计算的两步移动搜索法可及性；各社区与千人指标比较",
    run=run,
    summary=summary,
    requires=("facilities", "buildings", "streets"),
    optional=("communities",),
    rule_sets=RULE_SETS,
    outputs=(
        Output("supply_homes", "居住点可选设施", "Choice and access per home", geometry=False,
               columns=_HOMES),
        Output("supply_facilities", "设施服务能力", "Facility capacity and catchment",
               style="gcgeo.maps._layers:style_facilities", columns=_FACILITIES),
        Output("supply_communities", "社区设施供给", "Supply by community",
               style="gcgeo.maps._layers:style_check_communities", columns=_COMMUNITIES),
        Output("supply_community_categories", "社区各类设施供给", "Supply by community and category",
               geometry=False, columns=_CC),
        Output("supply_categories", "各类设施供给", "Supply per category", geometry=False,
               report_table=True, columns=_CATEGORIES),
    ),
    options=(
        Option("walking_speed", "float", "km/h to turn each tier's minutes into metres "
               "(default: the tiers' distances)", "把各层级分钟数换算为米的步行速度（公里/小时）",
               min=0, min_exclusive=True, max=20),
        Option("snap_tolerance", "float", "metres beyond which a home or facility is reported "
               "off-network", "居住点或设施距路网超过此距离（米）即报告为未接入路网",
               rule="living_circle.snapping.tolerance", min=0),
        *NETWORK_OPTIONS,
        GRAPH_OPTION,
    ),
    views=(ViewSpec("", "communities by supply against the norms, facilities with their capacity",
                    requires=("supply_communities", "supply_facilities")),),
)
