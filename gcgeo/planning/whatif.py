"""What a change would do: the living circle after adding or removing facilities,
opening a link or closing a street, recomputing only what the change touches.

* new facilities (:func:`add_facilities`): one search bounded by the farthest
  tier from the new facilities of each category they bring, its distances
  taken where shorter than the stored ones;
* removed facilities (:func:`remove_facilities`): the categories they belong
  to searched again from the facilities left;
* a new link or a closed street (:func:`open_links`, :func:`close_streets`):
  the network changed in place (edges dropped, or the new lines joined and
  the edges they meet cut), the homes and facilities it moves snapped again,
  and the distances updated where the change reaches (after a closure the
  nodes whose shortest path it cut, after a link one search bounded by the
  farthest tier from its ends); the network is built again, and every
  category searched again, only where the join tolerance could join
  differently (logged).

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
import shapely

from .. import rules as _rules
from .._errors import InputError
from ..crs import align
from ..network import (
    Network,
    augment,
    check_points,
    joined_by_ids,
    locate_snaps,
    multi_source,
    point_dist,
    snap,
)
from ..network.edit import (
    EPS,
    Joined,
    drop_edges,
    join_lines,
    on_pieces,
    snaps_after_drop,
    snaps_after_join,
)
from ..network.update import after_addition, after_removal, carried, places, tight_heads
from ..values import feature_ids
from .state import (
    LivingCircleState,
    Search,
    category_distances,
    category_search,
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
    text = known.astype(str).to_numpy(object)
    hit = pd.Index(ids).get_indexer(text) >= 0
    found = set(text[hit])
    bad = [i for i in ids if i not in found]
    if bad:
        sample = ", ".join(known.astype(str).head(5))
        raise InputError(f"{option}: no feature of layer '{layer}' has the id(s) {', '.join(bad)}; "
                         f"its ids look like {sample or '(the layer is empty)'} (the 'id' column, "
                         "or #row for rows without one).")
    return np.flatnonzero(hit)


def _rows_of(frame: pd.DataFrame, ids: list[str], option: str, layer: str) -> np.ndarray:
    """:func:`_match` of ``ids`` against the feature ids of ``frame``, found without
    writing out every row's id: the rows whose ``id`` value or index label could
    read as one of them are checked, and every row only when some id is not
    found that way (then also to name it): an id written with spaces around it
    is found only when it is not also written without."""
    if ids:
        keys: list = list(ids)
        labels: list = [i[1:] for i in ids if i.startswith("#")]
        for t in ids + labels:
            for kind in (int, float):
                try:
                    keys.append(kind(t))
                except ValueError:
                    pass
        cand = frame.index.isin(keys + labels)
        if "id" in frame.columns:
            cand |= frame["id"].isin(keys).to_numpy(bool)
        pos = np.flatnonzero(cand)
        text = feature_ids(frame.iloc[pos]).to_numpy(object)
        ok = pd.Index(ids).get_indexer(text) >= 0
        if set(text[ok]) == set(ids):
            return pos[ok]
    return _match(ids, feature_ids(frame), option, layer)


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
    dist, search = category_search(net, hsnap, state.facilities, fsnap, state.categories,
                                   state.cutoff)
    return replace(state, streets=streets, net=net, home_snaps=hsnap, facility_snaps=fsnap,
                   distances=dist, search=search)


def _on_network(state: LivingCircleState, streets: gpd.GeoDataFrame, net: Network,
                hsnap: pd.DataFrame, fsnap: pd.DataFrame, *, place: dict | None = None,
                dropped: np.ndarray | None = None, seeds: np.ndarray | None = None,
                moved_from: pd.DataFrame | None = None) -> LivingCircleState:
    """``state`` on a changed network, its points already moved.

    With the searches of ``state`` and ``place`` (where the changed network's
    edges and nodes lay before, see :func:`gcgeo.network.update.places`) only
    what the change touches is searched again, per category: the nodes whose
    shortest path used a ``dropped`` edge (old positions) or a facility that
    moved away (``moved_from``: the facilities' old snaps on the changed
    network), from their other neighbours; then one search bounded by the
    farthest tier from the ends of new edges (``seeds``, edges of the changed
    network) and from the facilities' new places.  Without them every category
    is searched again."""
    off = int(fsnap["off_network"].sum()) - int(state.facility_snaps["off_network"].sum())
    if off > 0:
        log.warning("%d more of the facilities lie farther than %.0f m from any street and are "
                    "left out", off, state.snap_tolerance)
    if state.search is None or place is None:
        dist, search = category_search(net, hsnap, state.facilities, fsnap, state.categories,
                                       state.cutoff)
        return replace(state, streets=streets, net=net, home_snaps=hsnap, facility_snaps=fsnap,
                       distances=dist, search=search)
    old = state.search.aug
    fs = fsnap.reset_index(drop=True)
    aug = augment(net, fs)
    before = state.facility_snaps.reset_index(drop=True)
    same = (before["edge"].to_numpy() >= 0) == (fs["edge"].to_numpy() >= 0)
    same &= (fs["edge"].to_numpy() < 0) | (
        (before[["snap_x", "snap_y", "connector_m"]].to_numpy()
         == fs[["snap_x", "snap_y", "connector_m"]].to_numpy()).all(axis=1))
    where_old = places(old, aug, targets=fs, same=same, **place)
    where = locate_snaps(aug, hsnap)
    seed_nodes = np.zeros(0, dtype=np.int64)
    if seeds is not None:
        pe = np.isin(aug.piece_edge, seeds)
        seed_nodes = np.unique(np.concatenate([aug.piece_u[pe], aug.piece_v[pe]]))
    gone = np.isin(old.piece_edge, dropped) if dropped is not None else np.zeros(0, bool)
    cat = state.facilities["category"].astype(str).to_numpy()
    tn = aug.target_node
    dist, node = {}, {}
    for c in state.categories:
        moved = (cat == c) & ~same
        nd = carried(old, state.search.node[c], where_old)
        heads = [np.zeros(0, dtype=np.int64)]
        if gone.any():
            h = tight_heads(old.piece_u[gone], old.piece_v[gone],
                            old.piece_to[gone] - old.piece_from[gone], state.search.node[c])
            heads.append(h[h < net.n_nodes])
        if moved.any() and moved_from is not None:
            was = moved_from.reset_index(drop=True)[moved]
            on, left, right, *_ = locate_snaps(aug, was)
            heads += [left, right]
        h = np.concatenate(heads)
        if len(h):
            nd = after_removal(aug.csr, nd, h, state.cutoff)
        start = tn[moved & (tn >= 0)]
        nd[start] = 0.0
        nd = after_addition(aug.csr, nd, np.concatenate([seed_nodes, start]), state.cutoff)
        d = point_dist(aug, hsnap, nd, where=where)
        d[d > state.cutoff] = np.nan
        dist[c], node[c] = d, nd
    return replace(state, streets=streets, net=net, home_snaps=hsnap, facility_snaps=fsnap,
                   distances=dist, search=Search(aug=aug, node=node))


def _cannot_edit(state: LivingCircleState) -> str | None:
    """Why the network of ``state`` cannot be changed in place (None when it can)."""
    if state.net.street is None:
        return "the network does not say which streets row each edge came from"
    if not state.streets.index.is_unique:
        return "the streets layer's row labels repeat"
    if not np.isfinite(state.snap_tolerance):
        return "the snapping tolerance is unbounded"
    if state.net.given_lines is None or not state.net.n_edges:
        return "the network has no street lines"
    return None


def _raw_point(net: Network, n: int, e: int) -> shapely.Point:
    """Where edge ``e`` meets its end node ``n`` (nodes are rounded to 0.1 mm)."""
    return shapely.get_point(net.lines[e], 0 if net.u[e] == n else -1)


def _moved(state: LivingCircleState, net: Network, nodes: np.ndarray) -> bool:
    """Whether a line end at one of ``nodes`` was moved by the join tolerance (it
    lies off its streets row's own line): where joining again might move it elsewhere."""
    if not len(nodes):
        return False
    inc = np.isin(net.u, nodes) | np.isin(net.v, nodes)
    e = np.flatnonzero(inc)
    street = np.asarray(net.street)
    rows = state.streets.geometry.reindex(pd.Index(street[e], dtype=object)).to_numpy()
    for ei, row in zip(e.tolist(), rows):
        for n in {int(net.u[ei]), int(net.v[ei])} & set(nodes.tolist()):
            if shapely.distance(row, _raw_point(net, n, ei)) > EPS:
                return True
    return False


def _why_not_drop(state: LivingCircleState, net: Network, dropped: np.ndarray) -> str | None:
    """Why dropping the edges ``dropped`` of ``state.net`` (giving ``net``) may differ from
    building the network without their streets (None when it cannot)."""
    tol = state.network_rules[0]
    if tol <= EPS or joined_by_ids(state.streets):
        return None  # joined exactly where ends meet, or by node ids: nothing moves
    old = state.net
    ends = np.unique(np.concatenate([old.u[dropped], old.v[dropped]]))
    deg = np.bincount(np.concatenate([net.u, net.v]), minlength=net.n_nodes)
    ends = ends[deg[ends] > 0]
    if _moved(state, net, ends):
        return "a street end joined to a closed street by the join tolerance"
    lonely = ends[deg[ends] == 1]
    if len(lonely):
        bounds = shapely.bounds(net.lines)
        for n in lonely.tolist():
            e = int(np.flatnonzero((net.u == n) | (net.v == n))[0])
            p = _raw_point(net, n, e)
            x, y = shapely.get_x(p), shapely.get_y(p)
            near = np.flatnonzero((bounds[:, 0] <= x + tol) & (bounds[:, 2] >= x - tol)
                                  & (bounds[:, 1] <= y + tol) & (bounds[:, 3] >= y - tol))
            near = near[near != e]
            if len(near) and (shapely.distance(net.lines[near], p) <= tol).any():
                return ("a street end left dangling lies within the join tolerance of another "
                        "street")
    return None


def open_links(state: LivingCircleState, links: gpd.GeoDataFrame, *,
               what: str = "the new links") -> LivingCircleState:
    """``state`` with the lines of ``links`` added to the streets (a new path or bridge).

    The lines join the network as :func:`gcgeo.network.join_lines` says (at
    nodes and streets their ends meet, dangling ends within the join
    tolerance; old nodes on them), the old streets staying as they are; the
    homes and facilities nearer a new line than to their street move onto it
    and one search bounded by the farthest tier runs from the new lines' ends,
    each starting at its distance before, without building the network again.

    Streets with OSM node ids ``u``/``v`` keep them: the streets layer after
    the change has one row per edge, the new lines and the pieces of streets
    they cut carrying new node ids, and rerunning the living circle on it
    gives the same distances.  Streets joined by end points get the new lines
    as rows; when joining them by end points again could move old lines (a
    new line near a dangling street end, ends joined end to end, or crossings
    joined with ``network.split_crossings``) the network is built again
    instead (logged).
    """
    if not len(links):
        raise InputError(f"{what} holds no line; give at least one street or path.")
    links = align(links, state.net.crs, what, against="the walking network")
    types = set(links.geometry.dropna().geom_type)
    if not types or types - {"LineString", "MultiLineString"}:
        raise InputError(f"{what} holds {', '.join(sorted(types)) or 'no geometry'}; "
                         "new links must be lines.")
    uv = joined_by_ids(state.streets)
    add = gpd.GeoDataFrame(geometry=links.geometry.to_numpy(), crs=state.net.crs)

    def with_rows() -> gpd.GeoDataFrame:  # the streets with the new lines as rows
        if {"u", "v"} <= set(state.streets.columns):  # node ids do not extend to new lines
            add["u"] = np.nan
            add["v"] = np.nan
        keep = [c for c in state.streets.columns if c in ("id", "walkable", "u", "v", "geometry")]
        return gpd.GeoDataFrame(pd.concat([state.streets[keep], add], ignore_index=True),
                                geometry="geometry", crs=state.net.crs)

    why = _cannot_edit(state)
    parts = add.geometry[add.geometry.notna() & ~add.geometry.is_empty].explode(index_parts=False)
    join, split = state.network_rules
    if why is None and split and not uv:
        why = "crossings are joined (network.split_crossings)"
    if why is not None:
        log.info("opening links: %s; the network is built again", why)
        return _rebuilt(state, with_rows())
    n_rows = len(state.streets)
    base_net = replace(state.net, street=state.streets.index.get_indexer(state.net.street))
    joined = join_lines(base_net, parts.to_numpy(), tolerance=join,
                        labels=n_rows + parts.index.to_numpy(), round_nodes=not uv)
    net = joined.net
    if not uv:
        streets = with_rows()
        deg = np.bincount(np.concatenate([state.net.u, state.net.v]), minlength=state.net.n_nodes)
        if joined.dead_end_joins or (deg[joined.near] == 1).any() or _moved(state, state.net,
                                                                           joined.near):
            log.info("opening links: a new line comes within the join tolerance of a dangling "
                     "street end; the network is built again")
            return _rebuilt(state, streets)
    else:
        streets, net = _streets_by_ids(state, joined)
    tol = state.snap_tolerance
    hsnap = snaps_after_join(joined, state.home_snaps, state.homes.geometry, tol)
    fsnap = snaps_after_join(joined, state.facility_snaps, state.facilities.geometry, tol)
    return _on_network(state, streets, net, hsnap, fsnap, place=_joined_places(state.net, joined),
                       seeds=joined.line_pieces,
                       moved_from=on_pieces(joined, state.facility_snaps))


def _joined_places(old: Network, joined: Joined) -> dict:
    """Where the edges and nodes of ``joined.net`` lay on ``old`` (see
    :func:`gcgeo.network.update.places`): old edges and their first pieces in
    place, the other pieces of a cut edge along it, new lines and their own
    nodes nowhere."""
    net = joined.net
    old_edge = np.full(net.n_edges, -1, dtype=np.int64)
    old_edge[: old.n_edges] = np.arange(old.n_edges)
    old_from = np.zeros(net.n_edges)
    old_edge[joined.cut_piece] = joined.cut_edge
    old_from[joined.cut_piece] = joined.cut_from
    base = np.full(net.n_nodes, -1, dtype=np.int64)
    base[: old.n_nodes] = np.arange(old.n_nodes)
    later = joined.cut_from > 0  # a piece starting at a cut: its first node is new
    at = net.u[joined.cut_piece[later]]
    new = at >= old.n_nodes
    base_at = (at[new], joined.cut_edge[later][new], joined.cut_from[later][new])
    return dict(old_edge=old_edge, old_from=old_from, base=base, base_at=base_at)


def _streets_by_ids(state: LivingCircleState, joined: Joined) -> tuple[gpd.GeoDataFrame, Network]:
    """The streets layer of a network joined by node ids after :func:`join_lines`: the
    cut rows shortened to their first piece, a row for every other piece (the
    cut row's values) and for every new line's piece, each with its node ids;
    and the network with those rows as its :attr:`Network.street`."""
    net, old = joined.net, state.net
    old_street = np.asarray(old.street)
    ids = net.nodes.to_numpy(object)
    rows = state.streets
    first = np.unique(joined.cut_piece[joined.cut_piece < old.n_edges])
    pos = rows.index.get_indexer(old_street[first])
    extra = np.arange(old.n_edges, net.n_edges)
    rest = extra[~np.isin(extra, joined.line_pieces)]
    src = rows.index.get_indexer(old_street[joined.cut_edge[np.isin(joined.cut_piece, rest)]])
    more = rows.iloc[src].copy()
    more = more.set_geometry(gpd.GeoSeries(net.lines[rest], index=more.index, crs=rows.crs))
    more["u"], more["v"] = ids[net.u[rest]], ids[net.v[rest]]
    lp = joined.line_pieces
    new = gpd.GeoDataFrame({"u": ids[net.u[lp]], "v": ids[net.v[lp]]}, geometry=net.lines[lp],
                           crs=rows.crs)
    new = new.rename_geometry(rows.geometry.name) if rows.geometry.name != "geometry" else new
    streets = gpd.GeoDataFrame(pd.concat([rows, more, new], ignore_index=True),
                               geometry=rows.geometry.name, crs=rows.crs)
    # the cut rows shortened to their first piece, in the one copy made
    cols = streets.columns
    streets.iloc[pos, cols.get_loc(rows.geometry.name)] = net.lines[first]
    streets.iloc[pos, cols.get_loc("u")] = ids[net.u[first]]
    streets.iloc[pos, cols.get_loc("v")] = ids[net.v[first]]
    street = np.concatenate([rows.index.get_indexer(old_street),
                             len(rows) + np.arange(len(rest) + len(lp))])
    return streets, replace(net, street=street)


def close_streets(state: LivingCircleState, ids: str | Iterable[str], *,
                  option: str = "--close-street") -> LivingCircleState:
    """``state`` without the streets of ``ids`` (their ``id``, or ``#row``).

    The edges that came from those rows leave the network (their nodes stay),
    the homes and facilities on them snap again onto what is left, and the
    nodes whose shortest path ran over those edges are searched again from
    their other neighbours, without building the network again.  When
    building it again could join differently (a street end that the join
    tolerance had joined to a closed street, or one left dangling within it of
    another street) the network is built again instead (logged).
    """
    pos = _rows_of(state.streets, parse_ids(ids), option, "streets")
    keep = np.ones(len(state.streets), bool)
    keep[pos] = False
    streets = state.streets[keep]
    why = _cannot_edit(state)
    if why is None:
        dropped = pd.Index(state.net.street, dtype=object).isin(state.streets.index[pos])
        net, new_of_old = drop_edges(state.net, dropped)
        why = _why_not_drop(state, net, np.flatnonzero(dropped))
    if why is not None:
        log.info("closing streets: %s; the network is built again", why)
        return _rebuilt(state, streets)
    tol = state.snap_tolerance
    hsnap = snaps_after_drop(state.net, state.home_snaps, new_of_old, state.homes.geometry, tol)
    fsnap = snaps_after_drop(state.net, state.facility_snaps, new_of_old,
                             state.facilities.geometry, tol)
    n = net.n_nodes
    none = np.zeros(0, dtype=np.int64)
    place = dict(old_edge=np.flatnonzero(new_of_old >= 0), old_from=np.zeros(net.n_edges),
                 base=np.arange(n), base_at=(none, none, np.zeros(0)))
    return _on_network(state, streets, net, hsnap, fsnap, place=place,
                       dropped=np.flatnonzero(dropped))


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
