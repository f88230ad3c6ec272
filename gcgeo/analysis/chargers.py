"""Chargers: EV-ready parking, e-bike charging within a walk of every home, none indoors.

Three rules per community:

- ``ev_ready`` — the share of car parking spaces built with chargers or
  prepared for them (parking ``ev_ready`` over ``capacity``) against rule
  ``chargers.ev_ready.min_share`` (local policy; the national guidance asks
  100% of new residential parking).  A car park with no ``ev_ready`` counts
  the car chargers standing in it, at least one space each, so a community
  passes on that lower bound or stays ``unknown``; a car park without a
  capacity makes its community ``unknown``.
- ``ebike_reach`` — e-bike charging within rule ``chargers.ebike.max_walk``
  along the streets from every residential building (the walking network of
  the living circle, :func:`gcgeo.analysis.reach.home_reach`), against rule
  ``chargers.ebike.min_share``.  The homes beyond, or off the network, are
  findings.
- ``ebike_indoors`` — e-bike chargers inside a residential building's
  footprint (in a stair hall or a home: 电动自行车进楼入户, the fire risk the
  county plan puts first), each a high-severity finding; they count as no
  e-bike charging within reach.

Without the layer a rule needs, or when the ``chargers`` layer records no
e-bike charger at all, the rule is ``unknown`` with its reason, never passed.

>>> import geopandas as gpd, shapely
>>> ch = gpd.GeoDataFrame({"id": ["E1", "E2"], "kind": ["电动自行车", "e-bike"]},
...                       geometry=[shapely.Point(50, 5), shapely.Point(15, 20)], crs=4547)
>>> b = gpd.GeoDataFrame({"id": ["B1"], "use": ["residential"]},
...                      geometry=[shapely.box(0, 10, 30, 30)], crs=4547)
>>> streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (300, 0)])], crs=4547)
>>> out = run({"chargers": ch, "buildings": b, "streets": streets})
>>> out["chargers_findings"][["feature_id", "kind", "severity"]].values.tolist()
[['E2', 'ebike_charger_indoors', 'high']]
>>> t = out["chargers_communities"]
>>> t[["ebike_reach_status", "ebike_indoors_status", "ev_ready_status"]].values.tolist()
[['pass', 'fail', 'unknown']]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import network
from .. import rules as _rules
from .._errors import AnalysisError
from ..layers import get_spec
from ..layers.buildings import residential_mask
from ..values import feature_ids, to_number
from .checks import (
    Finding,
    check_outputs,
    check_view,
    communities_index,
    community_of,
    community_table,
    findings_frame,
    prepare,
    rule,
)
from .contract import NETWORK_OPTIONS, Analysis, Criterion, Option
from .reach import MEASURE_FACTOR, REACH_COLUMNS, home_reach

log = logging.getLogger(__name__)

__all__ = ["run", "summary"]

RULES = "chargers"
RULE_SETS = (RULES, "network")
_ALL = "(all)"
_SNAP_CLAUSE = "gcgeo: rule chargers.snapping.tolerance"

Statuses = dict[str, tuple[pd.Series, pd.Series]]


def _kinds(frame: gpd.GeoDataFrame, layer: str) -> pd.Series:
    """The ``kind`` column read as the spec's values (电动自行车 → e-bike…); NA where blank."""
    if "kind" not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype=object)
    lookup = get_spec(layer).column("kind").value_lookup()
    text = frame["kind"].astype("string").str.strip()
    out = text.str.lower().map(lambda v: lookup.get(v, v) if isinstance(v, str) and v else pd.NA)
    return out.astype(object)


def _where(geoms: gpd.GeoSeries, comm: gpd.GeoDataFrame | None) -> pd.Series:
    """The community of each geometry, ``(all)`` without communities."""
    got = community_of(geoms, comm)
    return got.fillna(_ALL) if comm is None or not len(comm) else got


def run(layers: Mapping[str, gpd.GeoDataFrame], *, rules: Mapping[str, Any] | None = None,
        progress: Callable[[str], None] | None = None, ebike_max_walk: float | None = None,
        snap_tolerance: float | None = None, join_tolerance: float | None = None,
        split_crossings: bool | None = None) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """The three charger rules per community; see the module docstring.

    ``ebike_max_walk`` (m) overrides rule ``chargers.ebike.max_walk``,
    ``snap_tolerance`` (m) rule ``chargers.snapping.tolerance``;
    ``join_tolerance`` and ``split_crossings`` the rules ``network.*``.
    Returns ``chargers_findings`` and ``chargers_communities``.
    """
    say = progress or (lambda stage: None)
    r = _rules.load(RULES, rules)
    if layers.get("chargers") is None:
        raise AnalysisError("the chargers analysis needs the 'chargers' layer (points with a "
                            "'kind': car or e-bike); add it with `gcgeo add WS chargers FILE` or "
                            "`gcgeo import-osm`.")
    got = prepare(layers, "chargers", ["parking", "buildings", "streets", "communities"])
    ch, comm = got["chargers"], got["communities"]
    assert ch is not None
    comm = comm if comm is not None and len(comm) else None
    ch = ch[ch.geometry.notna().to_numpy() & ~ch.geometry.is_empty.to_numpy()]
    kinds = _kinds(ch, "chargers")
    findings = _kind_findings(ch, kinds)
    ids = communities_index(comm)
    say("EV-ready parking")
    ev_fig, ev_st, ev_find = _ev_ready(got["parking"], ch[(kinds == "car").to_numpy(bool)], comm,
                                       ids, r)
    no_kind = "kind" not in ch.columns
    if no_kind:  # car chargers cannot be told apart: not counted as none
        ev_fig[["car_chargers", "car_sockets"]] = np.nan
    say("e-bike chargers indoors")
    ebike = ch[(kinds == "e-bike").to_numpy(bool)]
    inside = _indoors(ebike, got["buildings"])
    in_fig, in_st, in_find = _indoors_status(ebike, inside, got["buildings"], comm, ids, r, no_kind)
    say("e-bike charging within a walk")
    walk = float(ebike_max_walk if ebike_max_walk is not None else rule(r, "ebike.max_walk")[0])
    tol = float(snap_tolerance if snap_tolerance is not None else _rules.value(r, "snapping.tolerance"))
    net_opts = {"join_tolerance": float(join_tolerance if join_tolerance is not None
                                        else network.join_tolerance(rules)),
                "split_crossings": bool(split_crossings if split_crossings is not None
                                        else network.split_crossings(rules))}
    re_fig, re_st, re_find = _reach(ebike[inside.isna().to_numpy()], got["buildings"],
                                    got["streets"], comm, ids, r, walk, tol, net_opts,
                                    n_ebike=len(ebike), no_kind=no_kind)
    figures = pd.concat([ev_fig, in_fig, re_fig], axis=1)
    statuses: Statuses = {**ev_st, **re_st, **in_st}
    findings += ev_find + re_find + in_find
    crs = ch.crs
    return {"chargers_findings": findings_frame(findings, crs, comm),
            "chargers_communities": community_table(comm, figures, statuses, crs)}


def _kind_findings(ch: gpd.GeoDataFrame, kinds: pd.Series) -> list[Finding]:
    """Chargers whose kind is neither car nor e-bike (or blank): counted in no rule."""
    if "kind" not in ch.columns:
        return []
    bad = ~kinds.isin(["car", "e-bike"]).to_numpy(bool)
    out = []
    for cid, geom, raw in zip(feature_ids(ch)[bad], ch.geometry[bad], ch["kind"][bad]):
        blank = raw is None or pd.isna(raw) or not str(raw).strip()
        what = "blank" if blank else repr(str(raw))
        out.append(Finding(cid, "chargers", "charger_kind_unknown", geom,
                           measured=None if blank else str(raw), required="car / e-bike",
                           clause="gcgeo: layer 'chargers' column 'kind'", severity="low",
                           message=f"kind {what} is neither car (汽车) nor e-bike (电动自行车); "
                                   "the charger is counted in no rule"))
    return out


# --------------------------------------------------------------------------
# EV-ready parking


def _lots(parking: gpd.GeoDataFrame, not_car: list[str]) -> gpd.GeoDataFrame:
    """The car parks (kinds other than ``not_car``; no kind counts as a car park) with their
    capacity, EV-ready spaces and what could not be read."""
    p = parking[parking.geometry.notna().to_numpy() & ~parking.geometry.is_empty.to_numpy()]
    p = p[~_kinds(p, "parking").isin(not_car).to_numpy(bool)]
    out = gpd.GeoDataFrame({"lot": feature_ids(p).to_numpy(object)}, geometry=p.geometry.to_numpy(),
                           crs=p.crs, index=p.index)
    for col in ("capacity", "ev_ready"):
        if col in p.columns:
            out[col], bad = to_number(p[col], unit="spaces")
            out[f"{col}_raw"] = p[col].astype("string").where(bad.to_numpy(bool), None)
        else:
            out[col] = np.nan
            out[f"{col}_raw"] = None
    return out


def _ev_ready(parking: gpd.GeoDataFrame | None, car: gpd.GeoDataFrame,
              comm: gpd.GeoDataFrame | None, ids: pd.Index, r: Mapping[str, Any]
              ) -> tuple[pd.DataFrame, Statuses, list[Finding]]:
    """Spaces, EV-ready spaces, car chargers and sockets per community, and the rule."""
    need, unit, clause = rule(r, "ev_ready.min_share")
    fig = pd.DataFrame(index=ids, data={"parking_spaces": np.nan, "ev_ready_spaces": np.nan})
    sockets, _ = to_number(car["sockets"], unit="spaces") if "sockets" in car.columns else (
        pd.Series(np.nan, index=car.index), None)
    cc = pd.DataFrame({"c": _where(car.geometry, comm).to_numpy(object),
                       "s": sockets.fillna(1.0).clip(lower=1.0).to_numpy(float)})
    fig["car_chargers"] = cc.groupby("c").size().reindex(ids).fillna(0).astype(int)
    fig["car_sockets"] = cc.groupby("c")["s"].sum().reindex(ids).fillna(0).astype(int)
    status = pd.Series("unknown", index=ids, dtype=object)
    reason = pd.Series("", index=ids, dtype=object)
    if parking is None:
        reason[:] = "no parking layer: add it with `gcgeo add WS parking FILE` (capacity, ev_ready)"
        fig["ev_ready_share"] = np.nan
        return fig, {"ev_ready": (status, reason)}, []
    lots = _lots(parking, list(_rules.value(r, "ev_ready.not_car_parking")))
    lots["c"] = _where(lots.geometry, comm).to_numpy(object)
    lots = lots[lots["c"].notna().to_numpy()]
    # car chargers standing in a car park: each serves at least one of its spaces
    _, lot_i = shapely.STRtree(np.asarray(lots.geometry.array)).query(
        np.asarray(car.geometry.array), predicate="within") if len(lots) and len(car) else ([], [])
    n_in = np.bincount(np.asarray(lot_i, dtype=int), minlength=len(lots))
    cap, ev = lots["capacity"].to_numpy(float), lots["ev_ready"].to_numpy(float)
    lots["used"] = np.where(np.isnan(ev), n_in, np.where(np.isnan(cap), ev, np.minimum(ev, cap)))
    findings = _lot_findings(lots, cap, ev, unit)
    for cid in ids:
        st, why, spaces, ready = _ev_rule(lots[lots["c"] == cid], need)
        status[cid], reason[cid] = st, why
        fig.loc[cid, ["parking_spaces", "ev_ready_spaces"]] = spaces, ready
    fig["ev_ready_share"] = fig["ev_ready_spaces"] / fig["parking_spaces"].where(fig["parking_spaces"] > 0)
    share = fig["ev_ready_share"]
    for cid in ids[(status == "fail").to_numpy()]:
        findings.append(Finding(cid, "communities" if comm is not None else "parking",
                                "ev_ready_below_share", _place(cid, comm, lots),
                                measured=round(float(share[cid]), 4), required=need, unit=unit,
                                clause=clause, severity="medium", message=reason[cid]))
    return fig, {"ev_ready": (status, reason)}, findings


def _ev_rule(lots: pd.DataFrame, need: float) -> tuple[str, str, float, float]:
    """One community's car parks against the EV-ready share: status, reason, spaces, EV-ready."""
    if not len(lots):
        return "unknown", "no car parking recorded in the community (layer 'parking')", np.nan, np.nan
    ready = float(lots["used"].sum())
    no_cap = lots.loc[lots["capacity"].isna(), "lot"].tolist()
    if no_cap:
        return ("unknown", "capacity missing or unreadable for parking " + ", ".join(map(str, no_cap[:10])),
                np.nan, ready)
    spaces = float(lots["capacity"].sum())
    if spaces <= 0:
        return "unknown", "the community's car parking has 0 spaces", spaces, ready
    share = ready / spaces
    no_ev = lots.loc[lots["ev_ready"].isna(), "lot"].tolist()
    if share >= need:
        return "pass", "", spaces, ready
    if no_ev:
        return ("unknown", f"EV-ready spaces not recorded for parking {', '.join(map(str, no_ev[:10]))}; "
                f"the chargers standing in them give at least {share:.0%} ({need:.0%} required)",
                spaces, ready)
    return "fail", f"{ready:.0f} of {spaces:.0f} spaces EV-ready ({share:.0%} < {need:.0%})", spaces, ready


def _lot_findings(lots: gpd.GeoDataFrame, cap: np.ndarray, ev: np.ndarray, unit: str) -> list[Finding]:
    """Car parks whose capacity or EV-ready spaces are missing, unreadable or inconsistent."""
    out = []
    where = "gcgeo: layer 'parking' column"
    for k, (lot, geom) in enumerate(zip(lots["lot"], lots.geometry)):
        for col, kind, v in (("capacity", "parking_capacity_unknown", cap[k]),
                             ("ev_ready", "parking_ev_ready_unknown", ev[k])):
            if np.isnan(v):
                raw = lots[f"{col}_raw"].iloc[k]
                what = f"'{raw}' could not be read as a number" if raw is not None and not pd.isna(raw) \
                    else "missing"
                out.append(Finding(lot, "parking", kind, geom, measured=None, unit="spaces",
                                   clause=f"{where} '{col}'", severity="low",
                                   message=f"{col} {what}"))
        if not np.isnan(cap[k]) and not np.isnan(ev[k]) and ev[k] > cap[k]:
            out.append(Finding(lot, "parking", "ev_ready_over_capacity", geom, measured=float(ev[k]),
                               required=float(cap[k]), unit="spaces", clause=f"{where} 'ev_ready'",
                               severity="medium",
                               message=f"{ev[k]:.0f} EV-ready spaces recorded for {cap[k]:.0f} spaces; "
                                       "counted as the capacity"))
    return out


def _place(cid: str, comm: gpd.GeoDataFrame | None, lots: gpd.GeoDataFrame) -> Any:
    """Where a community-level finding is drawn: the community, or the car parks' centre."""
    if comm is not None:
        pos = int(np.flatnonzero(feature_ids(comm).to_numpy(object) == cid)[0])
        return comm.geometry.iloc[pos].representative_point()
    return shapely.union_all(np.asarray(lots.geometry.array)).representative_point()


# --------------------------------------------------------------------------
# e-bike chargers indoors, and e-bike charging within a walk


def _indoors(ebike: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None) -> pd.Series:
    """The residential building (its id) each e-bike charger stands inside, NA outside all."""
    out = pd.Series(pd.NA, index=ebike.index, dtype=object)
    if buildings is None or not len(ebike) or not len(buildings):
        return out
    res, _ = residential_mask(buildings)
    homes = buildings[res.to_numpy(bool) & buildings.geometry.notna().to_numpy()]
    if not len(homes):
        return out
    ci, bi = shapely.STRtree(np.asarray(homes.geometry.array)).query(
        np.asarray(ebike.geometry.array), predicate="within")
    first = pd.Series(bi).groupby(ci).min()
    vals = out.to_numpy(object, copy=True)
    vals[first.index.to_numpy()] = feature_ids(homes).to_numpy(object)[first.to_numpy()]
    return pd.Series(vals, index=ebike.index, dtype=object)


def _no_ebike_reason(no_kind: bool, n_ebike: int, *, reach: bool) -> str:
    """Why e-bike charging cannot be judged, or ''."""
    if no_kind:
        return ("layer 'chargers' has no 'kind' column, so e-bike chargers cannot be told from "
                "car chargers; map your column onto 'kind' (car / e-bike) and add the layer again")
    if not n_ebike:
        then = "if there is none, no home is served" if reach else "none can be checked"
        return (f"layer 'chargers' records no e-bike charger ({then}); add the e-bike chargers "
                "(kind e-bike / 电动自行车)")
    return ""


def _indoors_status(ebike: gpd.GeoDataFrame, inside: pd.Series, buildings: gpd.GeoDataFrame | None,
                    comm: gpd.GeoDataFrame | None, ids: pd.Index, r: Mapping[str, Any],
                    no_kind: bool) -> tuple[pd.DataFrame, Statuses, list[Finding]]:
    """E-bike chargers per community and those inside residential buildings, with the rule."""
    most, _, clause = rule(r, "ebike.max_indoors")
    where = _where(ebike.geometry, comm)
    fig = pd.DataFrame(index=ids)
    fig["n_ebike_chargers"] = where.value_counts().reindex(ids).fillna(0).astype(int)
    indoor = inside.notna().to_numpy(bool)
    fig["n_ebike_indoors"] = where[indoor].value_counts().reindex(ids).fillna(0).astype(int)
    why = _no_ebike_reason(no_kind, len(ebike), reach=False)
    if buildings is None:
        why = "no buildings layer: add it with `gcgeo add WS buildings FILE` (use / residential)"
    status = pd.Series(np.where(fig["n_ebike_indoors"] > most, "fail", "pass"), index=ids, dtype=object)
    reason = pd.Series([f"{n} e-bike charger(s) inside residential buildings" if n > most else ""
                        for n in fig["n_ebike_indoors"]], index=ids, dtype=object)
    if why:
        status[:], reason[:] = "unknown", why
        fig["n_ebike_indoors"] = np.nan
        return fig, {"ebike_indoors": (status, reason)}, []
    findings = [Finding(cid, "chargers", "ebike_charger_indoors", geom, measured=str(bid),
                        required="outside residential buildings", clause=clause, severity="high",
                        message=f"e-bike charger inside residential building {bid} (stair hall or "
                                "home): fire risk; move it to a separate charging shed, or check "
                                "that it stands in a fire-separated room")
                for cid, geom, bid in zip(feature_ids(ebike)[indoor], ebike.geometry[indoor],
                                          inside[indoor])]
    return fig, {"ebike_indoors": (status, reason)}, findings


def _reach(targets: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None,
           streets: gpd.GeoDataFrame | None, comm: gpd.GeoDataFrame | None, ids: pd.Index,
           r: Mapping[str, Any], walk: float, tol: float, net_opts: Mapping[str, Any], *,
           n_ebike: int, no_kind: bool) -> tuple[pd.DataFrame, Statuses, list[Finding]]:
    """Homes with e-bike charging (outside residential buildings) within the walk."""
    need, unit, clause = rule(r, "ebike.min_share")
    _, walk_unit, walk_clause = rule(r, "ebike.max_walk")
    status = pd.Series("unknown", index=ids, dtype=object)
    reason = pd.Series("", index=ids, dtype=object)
    if buildings is None:
        reason[:] = "no buildings layer: add it with `gcgeo add WS buildings FILE` (use / residential)"
        return pd.DataFrame(index=ids, columns=list(REACH_COLUMNS), dtype=float), \
            {"ebike_reach": (status, reason)}, []
    homes, fig, targets_off = home_reach(buildings, targets.geometry, streets, comm, max_walk=walk,
                                         snap_tolerance=tol, **net_opts)
    share = fig["share_homes_served"]
    status[:] = np.where(share.isna(), "unknown", np.where(share >= need, "pass", "fail"))
    reason[fig["n_homes"] == 0] = "no residential buildings in the community"
    why = ("no streets layer, so walks cannot be measured; add the walking network with "
           "`gcgeo add WS streets FILE` or `gcgeo import-osm`") if streets is None else \
        _no_ebike_reason(no_kind, n_ebike, reach=True)
    has = (fig["n_homes"] > 0).to_numpy()
    if why:
        status[has], reason[has] = "unknown", why
        return fig, {"ebike_reach": (status, reason)}, []
    fail = (status == "fail").to_numpy()
    reason[fail] = [f"{n - s} of {n} residential building(s) farther than {walk:g} m walk from "
                    f"e-bike charging ({v:.0%} served, {need:.0%} required)"
                    for n, s, v in zip(fig["n_homes"][fail], fig["n_homes_served"][fail], share[fail])]
    findings = []
    horizon = MEASURE_FACTOR * walk
    for bid, geom, d, off in zip(homes["building_id"], homes.geometry, homes["walk_m"],
                                 homes["off_network"]):
        if off:
            findings.append(Finding(bid, "buildings", "home_off_network", geom, required=tol,
                                    unit="m", clause=_SNAP_CLAUSE, severity="medium",
                                    message=f"no walkable street within {tol:g} m of the building: "
                                            "map the paths to it (or raise the snapping tolerance)"))
        elif not d <= walk:
            far = np.isfinite(d)
            findings.append(Finding(bid, "buildings", "ebike_charging_too_far", geom,
                                    measured=round(float(d), 1) if far else None, required=walk,
                                    unit=walk_unit, clause=walk_clause, severity="medium",
                                    message=(f"nearest e-bike charger {d:.0f} m walk away" if far
                                             else f"no e-bike charger within {horizon:g} m walk")))
    for cid, geom, off in zip(feature_ids(targets), targets.geometry, targets_off.fillna(False)):
        if off:
            findings.append(Finding(cid, "chargers", "ebike_charger_off_network", geom, required=tol,
                                    unit="m", clause=_SNAP_CLAUSE, severity="low",
                                    message=f"no walkable street within {tol:g} m: it serves no "
                                            "home in this check"))
    return fig, {"ebike_reach": (status, reason)}, findings


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: the EV-ready share, e-bike coverage, chargers indoors, statuses."""
    t = outputs["chargers_communities"]
    cols = [c for c in ("community_name", "ev_ready_share", "ev_ready_status", "share_homes_served",
                        "ebike_reach_status", "n_ebike_indoors", "ebike_indoors_status", "status")
            if c in t.columns]
    return pd.DataFrame(t[cols]).reset_index(drop=True)


_COLUMNS = {
    "parking_spaces": ("车位数", "Car parking spaces", "int"),
    "ev_ready_spaces": ("充电车位数（含预留）", "EV-ready spaces", "int"),
    "car_chargers": ("汽车充电桩数", "Car chargers", "int"),
    "car_sockets": ("汽车充电接口数", "Car charger sockets", "int"),
    "ev_ready_share": ("充电车位比例", "EV-ready share of spaces", "pct"),
    "ev_ready_status": ("充电车位比例达标", "EV-ready share", "text"),
    "ev_ready_reason": ("说明", "Reason", "text"),
    **REACH_COLUMNS,
    "ebike_reach_status": ("电动自行车充电步行可达", "E-bike charging within the walk", "text"),
    "ebike_reach_reason": ("说明", "Reason", "text"),
    "n_ebike_chargers": ("电动自行车充电设施数", "E-bike chargers", "int"),
    "n_ebike_indoors": ("楼内电动自行车充电设施数", "E-bike chargers inside residential buildings",
                        "int"),
    "ebike_indoors_status": ("第8项（电动自行车不进楼入户）",
                             "Criterion 8 (no e-bike charging indoors)", "text"),
    "ebike_indoors_reason": ("说明", "Reason", "text"),
}

ANALYSIS = Analysis(
    name="chargers",
    label_zh="充电设施",
    label_en="Chargers",
    description_en="EV-ready share of parking spaces, e-bike charging within a walk of every home, "
                   "and e-bike chargers inside residential buildings",
    description_zh="充电车位比例、每栋住宅步行范围内的电动自行车充电设施、电动自行车充电进楼入户",
    run=run,
    summary=summary,
    requires=("chargers",),
    optional=("parking", "buildings", "streets", "communities"),
    rule_sets=RULE_SETS,
    outputs=check_outputs("chargers", "充电设施", "Chargers", columns=_COLUMNS),
    options=(
        Option("ebike_max_walk", "float", "walk (m) within which e-bike charging serves a building",
               "电动自行车充电设施服务的步行距离（米）", rule="chargers.ebike.max_walk", min=0,
               min_exclusive=True),
        Option("snap_tolerance", "float", "metres from a walkable street beyond which a building "
               "or charger is off the network", "距步行道路超过此距离（米）即视为未接入路网",
               rule="chargers.snapping.tolerance", min=0),
        *NETWORK_OPTIONS,
    ),
    criteria=(
        Criterion(8, "chargers_communities", "ebike_indoors_status",
                  "e-bike part: no e-bike charging inside residential buildings or stair halls "
                  "(escape routes kept clear); parking order itself is the fire-lane analysis's",
                  "电动自行车部分：住宅楼内、楼梯间无电动自行车充电（不占用疏散通道）",
                  part_en="no e-bike charging indoors", part_zh="楼内无电动自行车充电",
                  unmeasured_en="parking order and the fire and ambulance lanes (the fire-lane analysis "
                                "measures the fire lanes)",
                  unmeasured_zh="停车秩序及消防、救护通道（消防车道由“消防车道”分析测量）"),
        Criterion(4, "chargers_communities", None,
                  "figures only: EV-ready share of parking spaces and e-bike charging within a walk "
                  "of every home",
                  "仅提供数据：充电车位比例、住宅步行范围内的电动自行车充电设施",
                  part_en="charging", part_zh="充电设施",
                  unmeasured_en="the community's infrastructure of other kinds",
                  unmeasured_zh="充电设施以外的各类基础设施"),
    ),
    headlines="gcgeo.headlines:inventory_check",
    views=(check_view("chargers", "communities by charging status; homes without e-bike charging, "
                      "chargers indoors"),),
)
