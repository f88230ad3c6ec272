"""What a change would do: the living circle after adding or removing facilities,
opening a link or closing a street, recomputing only what the change touches.

* new facilities (:func:`add_facilities`): one search bounded by the farthest
  tier from the new facilities of each category they bring, its distances
  taken where shorter than the stored ones;
* removed facilities (:func:`remove_facilities`): the categories they belong
  to searched again from the facilities left;
* a new link or a closed street (:func:`open_links`, :func:`close_streets`):
  the network rebuilt and every category searched again.

Each returns a new :class:`~gcgeo.planning.state.LivingCircleState` equal to
loading the changed inputs (and so to rerunning the living circle on them);
:func:`compare` tells the change per community and tier, and for criterion
10 of the Shandong standard (the 15-minute living circle).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import rules as _rules
from .._errors import InputError
from ..crs import align
from ..network import augment, check_points, locate_snaps, multi_source, point_dist, snap
from ..values import feature_ids
from .state import (
    LivingCircleState,
    category_distances,
    facility_frame,
    network_of,
    snap_facilities,
)

log = logging.getLogger(__name__)

__all__ = ["WhatIf", "add_facilities", "close_streets", "compare", "open_links",
           "parse_ids", "remove_facilities", "whatif"]

#: The criterion of the Shandong standard the living circle measures.
CRITERION = 10


def parse_ids(text: str | Iterable[str]) -> list[str]:
    """Ids given as ``"a,b, c"`` (or a list of such strings), in order, without repeats.

    >>> parse_ids("F1, F2,F1")
    ['F1', 'F2']
    """
    items = [text] if isinstance(text, str) else list(text)
    out = [p.strip() for t in items for p in str(t).split(",") if p.strip()]
    return list(dict.fromkeys(out))


def _match(ids: list[str], known: pd.Series, option: str, layer: str) -> np.ndarray:
    """Positions of ``ids`` among ``known`` (feature ids); unknown ones named."""
    if not ids:
        raise InputError(f"{option} names no id; give the ids of layer '{layer}', separated by commas.")
    known_set = set(known.astype(str))
    bad = [i for i in ids if i not in known_set]
    if bad:
        sample = ", ".join(known.astype(str).head(5))
        raise InputError(f"{option}: no feature of layer '{layer}' has the id(s) {', '.join(bad)}; "
                         f"its ids look like {sample or '(the layer is empty)'} (the 'id' column, "
                         "or #row for rows without one).")
    return np.flatnonzero(known.astype(str).isin(ids).to_numpy())


def add_facilities(state: LivingCircleState, new: gpd.GeoDataFrame, *,
                   what: str = "the new facilities") -> LivingCircleState:
    """``state`` with the facilities of ``new`` (points with ``category``) added."""
    fac = facility_frame(new, state.net, state.categories, what=what,
                         known=state.categories, strict=True, streets=state.streets,
                         spacing=float(_rules.value(state.rules, "areas.gate_spacing")))
    if not len(fac):
        raise InputError(f"{what} holds no facility; give at least one point with a category.")
    snaps = snap_facilities(state.net, fac, state.snap_tolerance, what)
    aug = augment(state.net, snaps.reset_index(drop=True))
    where = locate_snaps(aug, state.home_snaps)
    cat = fac["category"].to_numpy(str)
    dist = dict(state.distances)
    for c in dict.fromkeys(cat):
        src = aug.target_node[(cat == c) & (aug.target_node >= 0)]
        if not len(src):
            continue
        nd = multi_source(aug.csr, np.unique(src), state.cutoff)
        d = point_dist(aug, state.home_snaps, nd, where=where)
        d[d > state.cutoff] = np.nan
        dist[c] = np.fmin(state.distances[c], d)
    facilities = pd.concat([state.facilities, fac], ignore_index=True)
    fsnaps = pd.concat([state.facility_snaps, snaps], ignore_index=True)
    return state.with_facilities(gpd.GeoDataFrame(facilities, geometry="geometry", crs=state.net.crs),
                                 fsnaps, dist)


def remove_facilities(state: LivingCircleState, ids: str | Iterable[str], *,
                      option: str = "--remove-facility") -> LivingCircleState:
    """``state`` without the facilities of ``ids`` (their ``id``, or ``#row``)."""
    pos = _match(parse_ids(ids), state.facilities["facility_id"], option, "facilities")
    keep = np.ones(len(state.facilities), bool)
    keep[pos] = False
    fac = state.facilities[keep]
    snaps = state.facility_snaps[keep]
    touched = list(dict.fromkeys(state.facilities["category"].to_numpy(str)[pos]))
    sub = fac["category"].isin(touched).to_numpy()
    fresh = category_distances(state.net, state.home_snaps, fac[sub], snaps[sub], touched, state.cutoff)
    return state.with_facilities(fac, snaps, {**state.distances, **fresh})


def _rebuilt(state: LivingCircleState, streets: gpd.GeoDataFrame) -> LivingCircleState:
    """``state`` on the network of ``streets``: homes and facilities snapped again, every
    category searched again."""
    net = network_of(streets, network_rules=state.network_rules)
    hsnap = snap(net, check_points(net, state.homes.geometry, "homes"), state.snap_tolerance)
    fsnap = snap_facilities(net, state.facilities, state.snap_tolerance)
    dist = category_distances(net, hsnap, state.facilities, fsnap, state.categories, state.cutoff)
    return replace(state, streets=streets, net=net, home_snaps=hsnap, facility_snaps=fsnap,
                   distances=dist)


def open_links(state: LivingCircleState, links: gpd.GeoDataFrame, *,
               what: str = "the new links") -> LivingCircleState:
    """``state`` with the lines of ``links`` added to the streets (a new path or bridge)."""
    if not len(links):
        raise InputError(f"{what} holds no line; give at least one street or path.")
    links = align(links, state.net.crs, what, against="the walking network")
    types = set(links.geometry.dropna().geom_type)
    if not types or types - {"LineString", "MultiLineString"}:
        raise InputError(f"{what} holds {', '.join(sorted(types)) or 'no geometry'}; "
                         "new links must be lines.")
    add = gpd.GeoDataFrame(geometry=links.geometry.to_numpy(), crs=state.net.crs)
    if {"u", "v"} <= set(state.streets.columns):  # node ids do not extend to new lines
        add["u"] = np.nan
        add["v"] = np.nan
    keep = [c for c in state.streets.columns if c in ("walkable", "u", "v", "geometry")]
    base = state.streets[keep]
    streets = gpd.GeoDataFrame(pd.concat([base, add], ignore_index=True), geometry="geometry",
                               crs=state.net.crs)
    return _rebuilt(state, streets)


def close_streets(state: LivingCircleState, ids: str | Iterable[str], *,
                  option: str = "--close-street") -> LivingCircleState:
    """``state`` without the streets of ``ids`` (their ``id``, or ``#row``)."""
    pos = _match(parse_ids(ids), feature_ids(state.streets), option, "streets")
    keep = np.ones(len(state.streets), bool)
    keep[pos] = False
    return _rebuilt(state, state.streets[keep])


# --------------------------------------------------------------------------
# the change


@dataclass(frozen=True)
class WhatIf:
    """A change and what it does: the state ``after`` it, per community and tier
    (``communities``: share of residents served before and after, and residents
    served), and per criterion (``criteria``: criterion 10 per tier over the
    study area, with the communities fully served)."""

    before: LivingCircleState
    after: LivingCircleState
    communities: gpd.GeoDataFrame | pd.DataFrame
    criteria: pd.DataFrame
    change: str


def compare(before: LivingCircleState, after: LivingCircleState
            ) -> tuple[gpd.GeoDataFrame | pd.DataFrame, pd.DataFrame]:
    """Per community and tier, and per criterion, the living circle before and after."""
    pop = before.population
    cid = before.homes["community_id"].to_numpy(object)
    sb, sa = before.served(), after.served()
    rows, crit = [], []
    comm = before.communities
    ids = (feature_ids(comm).to_numpy(object) if comm is not None
           else np.array(["(all homes)"], dtype=object))
    names = (comm["name"].to_numpy(object) if comm is not None and "name" in comm.columns
             else np.full(len(ids), None, dtype=object))
    key = cid if comm is not None else np.full(len(pop), "(all homes)", dtype=object)
    inside = pd.notna(key)
    frame = pd.DataFrame({"c": key[inside], "p": pop[inside]})
    residents = frame.groupby("c")["p"].sum().reindex(ids).fillna(0.0).to_numpy()
    homes = frame.groupby("c").size().reindex(ids).fillna(0).to_numpy(np.int64)
    total = pop.sum()
    for t in before.tiers:
        b = frame.assign(v=pop[inside] * sb[t][inside]).groupby("c")["v"].sum().reindex(ids).fillna(0.0)
        a = frame.assign(v=pop[inside] * sa[t][inside]).groupby("c")["v"].sum().reindex(ids).fillna(0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share_b = np.where(residents > 0, b.to_numpy() / residents, np.nan)
            share_a = np.where(residents > 0, a.to_numpy() / residents, np.nan)
        rows.append(pd.DataFrame({
            "community_id": ids, "community_name": names, "tier": t, "homes": homes,
            "residents": residents, "residents_served_before": b.to_numpy(),
            "residents_served_after": a.to_numpy(), "share_before": share_b, "share_after": share_a,
            "share_change": share_a - share_b}))
        full_b = int(np.sum(np.isclose(share_b, 1.0)))
        full_a = int(np.sum(np.isclose(share_a, 1.0)))
        crit.append({
            "criterion": CRITERION, "tier": t,
            "share_before": float((pop * sb[t]).sum() / total) if total > 0 else np.nan,
            "share_after": float((pop * sa[t]).sum() / total) if total > 0 else np.nan,
            "communities_full_before": full_b, "communities_full_after": full_a,
            "communities": int((residents > 0).sum())})
    table = pd.concat(rows, ignore_index=True)
    cr = pd.DataFrame(crit)
    cr["share_change"] = cr["share_after"] - cr["share_before"]
    if comm is None:
        return table, cr
    geom = np.tile(comm.geometry.to_numpy(), len(before.tiers))
    return gpd.GeoDataFrame(table, geometry=geom, crs=comm.crs), cr


def whatif(
    state: LivingCircleState,
    *,
    add_facility: gpd.GeoDataFrame | None = None,
    remove_facility: str | Iterable[str] | None = None,
    open_link: gpd.GeoDataFrame | None = None,
    close_street: str | Iterable[str] | None = None,
    names: dict[str, str] | None = None,
) -> WhatIf:
    """Apply the changes given (streets first, then removals, then additions) and
    compare.  ``names`` says how to name each change in messages (e.g. the option
    and file it came from)."""
    names = names or {}
    if add_facility is None and remove_facility is None and open_link is None and close_street is None:
        raise InputError("give a change: --add-facility FILE, --remove-facility IDS, "
                         "--open-link FILE or --close-street IDS.")
    after = state
    told = []
    if close_street is not None:
        after = close_streets(after, close_street, option=names.get("close_street", "--close-street"))
        told.append(f"closed streets {', '.join(parse_ids(close_street))}")
    if open_link is not None:
        after = open_links(after, open_link, what=names.get("open_link", "the new links"))
        told.append(f"opened {len(open_link)} link(s)")
    if remove_facility is not None:
        after = remove_facilities(after, remove_facility,
                                  option=names.get("remove_facility", "--remove-facility"))
        told.append(f"removed facilities {', '.join(parse_ids(remove_facility))}")
    if add_facility is not None:
        after = add_facilities(after, add_facility, what=names.get("add_facility", "the new facilities"))
        told.append(f"added {len(add_facility)} facilit(y/ies)")
    comm, crit = compare(state, after)
    return WhatIf(before=state, after=after, communities=comm, criteria=crit, change="; ".join(told))
