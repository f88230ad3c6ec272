"""Garbage sorting: the share of each community's homes within a walk of a sorting point.

Criterion 5 of the Shandong Green Community standard asks that garbage
sorting cover every residential compound (生活垃圾分类居民小区全覆盖).  For
every residential building gcgeo measures the walk along the streets to the
nearest sorting point (``garbage_points`` of the kinds of rule
``garbage.point_kinds``, or without a kind) with the walking network of the
living circle (:func:`gcgeo.analysis.reach.home_reach`), and counts it
served within rule ``garbage.max_walk`` (70 m).  Per community: homes and
residents served, and ``sorting_coverage_status`` against rule
``garbage.min_share`` (all of them).  The unserved buildings are the
findings, each with its walk; a building or point off the walking network is
listed as such.  Without streets, or without a single sorting point in the
layer, the status is ``unknown`` with its reason, never passed.

>>> import geopandas as gpd, shapely
>>> streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (300, 0)])], crs=4547)
>>> b = gpd.GeoDataFrame({"id": ["B1", "B2"], "use": ["residential"] * 2},
...                      geometry=[shapely.box(0, 10, 20, 30), shapely.box(250, 10, 270, 30)],
...                      crs=4547)
>>> pts = gpd.GeoDataFrame({"kind": ["sorting"]}, geometry=[shapely.Point(40, 5)], crs=4547)
>>> # walks: B1 20 + 30 + 5 = 55 m, B2 20 + 220 + 5 = 245 m
>>> out = run({"buildings": b, "garbage_points": pts, "streets": streets})
>>> out["garbage_findings"][["feature_id", "kind", "measured"]].values.tolist()
[['B2', 'sorting_point_too_far', '245.0']]
>>> out["garbage_communities"][["share_homes_served", "sorting_coverage_status"]].values.tolist()
[[0.5, 'fail']]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import network
from .. import rules as _rules
from .._errors import AnalysisError
from ..layers import get_spec
from ..values import feature_ids
from .checks import (
    Finding,
    check_outputs,
    check_view,
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

RULES = "garbage"
RULE_SETS = (RULES, "network")


def _require(layers: Mapping[str, gpd.GeoDataFrame], kind: str, what: str) -> None:
    if layers.get(kind) is None:
        raise AnalysisError(f"the garbage analysis needs the '{kind}' layer ({what}); add it with "
                            f"`gcgeo add WS {kind} FILE` or `gcgeo import-osm`.")


def _sorting_points(points: gpd.GeoDataFrame, kinds: list[str]) -> pd.Series:
    """Which garbage points count as sorting points: of a kind in ``kinds`` (as planners
    write it: 分类投放点, 可回收物…) or without a kind."""
    if "kind" not in points.columns:
        return pd.Series(True, index=points.index)
    lookup = get_spec("garbage_points").column("kind").value_lookup()
    text = points["kind"].astype("string").str.strip()
    kind = text.str.lower().map(lambda v: lookup.get(v, v) if isinstance(v, str) else v)
    blank = text.isna() | (text == "")
    return (blank | kind.isin(list(kinds))).fillna(True).astype(bool)


def run(layers: Mapping[str, gpd.GeoDataFrame], *, rules: Mapping[str, Any] | None = None,
        progress: Callable[[str], None] | None = None, max_walk: float | None = None,
        snap_tolerance: float | None = None, join_tolerance: float | None = None,
        split_crossings: bool | None = None) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Garbage-sorting coverage per community; see the module docstring.

    ``max_walk`` (m) overrides rule ``garbage.max_walk``, ``snap_tolerance``
    (m) rule ``garbage.snapping.tolerance``; ``join_tolerance`` and
    ``split_crossings`` the rules ``network.*``.  Returns ``garbage_findings``
    and ``garbage_communities``.
    """
    say = progress or (lambda stage: None)
    r = _rules.load(RULES, rules)
    _require(layers, "garbage_points", "sorting points")
    _require(layers, "buildings", "the residential buildings")
    got = prepare(layers, "buildings", ["garbage_points", "streets", "communities"])
    bld, pts, streets, comm = (got["buildings"], got["garbage_points"], got["streets"],
                               got["communities"])
    assert bld is not None and pts is not None
    walk, unit, clause = rule(r, "max_walk")
    walk = float(max_walk if max_walk is not None else walk)
    need = float(rule(r, "min_share")[0])
    tol = float(snap_tolerance if snap_tolerance is not None else _rules.value(r, "snapping.tolerance"))
    pts = pts[pts.geometry.notna().to_numpy() & ~pts.geometry.is_empty.to_numpy()]
    counted = pts[_sorting_points(pts, list(_rules.value(r, "point_kinds"))).to_numpy()]
    say("walking network")
    homes, figures, points_off = home_reach(
        bld, counted.geometry, streets, comm, max_walk=walk, snap_tolerance=tol,
        join_tolerance=float(join_tolerance if join_tolerance is not None
                             else network.join_tolerance(rules)),
        split_crossings=bool(split_crossings if split_crossings is not None
                             else network.split_crossings(rules)))
    figures["n_sorting_points"] = (community_of(counted.geometry, comm).fillna("(all)")
                                   .value_counts().reindex(figures.index).fillna(0).astype(int))
    status, reason = _status(figures, walk, need, streets is not None, len(counted), len(pts))
    if streets is None or not len(counted):  # nothing measured: no home is a finding
        homes = homes.iloc[:0]
    findings = _findings(homes, counted, points_off, walk, tol, unit, clause)
    table = community_table(comm, figures, {"sorting_coverage": (status, reason)}, bld.crs)
    return {"garbage_findings": findings_frame(findings, bld.crs, comm),
            "garbage_communities": table}


def _status(fig: pd.DataFrame, walk: float, need: float, have_streets: bool, n_counted: int,
            n_points: int) -> tuple[pd.Series, pd.Series]:
    """``sorting_coverage`` per community: pass / fail / unknown and why."""
    share = fig["share_homes_served"]
    status = pd.Series(np.where(share.isna(), "unknown", np.where(share >= need, "pass", "fail")),
                       index=fig.index, dtype=object)
    reason = pd.Series("", index=fig.index, dtype=object)
    none = fig["n_homes"] == 0
    reason[none] = "no residential buildings in the community"
    if not have_streets:
        why = ("no streets layer, so walks cannot be measured; add the walking network with "
               "`gcgeo add WS streets FILE` or `gcgeo import-osm`")
    elif not n_counted:
        why = (f"layer 'garbage_points' holds no sorting point ({n_points} point(s) of other "
               "kinds); if there is none, no home is served — add the points, or count more "
               "kinds (rule garbage.point_kinds)")
    else:
        why = ""
    if why:
        status[~none] = "unknown"
        reason[~none] = why
    fail = status == "fail"
    reason[fail] = [f"{n - s} of {n} residential building(s) farther than {walk:g} m walk from "
                    f"a sorting point ({v:.0%} served, {need:.0%} required)"
                    for n, s, v in zip(fig.loc[fail, "n_homes"], fig.loc[fail, "n_homes_served"],
                                       share[fail])]
    return status, reason


def _findings(homes: gpd.GeoDataFrame, points: gpd.GeoDataFrame, points_off: pd.Series,
              walk: float, tol: float, unit: str, clause: str) -> list[Finding]:
    """The unserved homes (too far, or off the network) and the points off the network."""
    out: list[Finding] = []
    horizon = MEASURE_FACTOR * walk
    for bid, geom, d, off in zip(homes["building_id"], homes.geometry, homes["walk_m"],
                                 homes["off_network"]):
        if off:
            out.append(Finding(bid, "buildings", "home_off_network", geom, required=tol, unit="m",
                               clause="gcgeo: rule garbage.snapping.tolerance", severity="medium",
                               message=f"no walkable street within {tol:g} m of the building: "
                                       "map the paths to it (or raise the snapping tolerance)"))
        elif not d <= walk:
            far = np.isfinite(d)
            out.append(Finding(bid, "buildings", "sorting_point_too_far", geom,
                               measured=round(float(d), 1) if far else None, required=walk,
                               unit=unit, clause=clause, severity="medium",
                               message=(f"nearest sorting point {d:.0f} m walk away" if far else
                                        f"no sorting point within {horizon:g} m walk")))
    ids = feature_ids(points)
    for pid, geom, off in zip(ids, points.geometry, points_off.fillna(False)):
        if off:
            out.append(Finding(pid, "garbage_points", "sorting_point_off_network", geom,
                               required=tol, unit="m", clause="gcgeo: rule garbage.snapping.tolerance",
                               severity="low",
                               message=f"no walkable street within {tol:g} m: it serves no home "
                                       "in this check"))
    return out


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: homes and residents served, and the status."""
    t = outputs["garbage_communities"]
    cols = [c for c in ("community_name", "n_homes", "n_homes_served", "share_homes_served",
                        "share_residents_served", "n_sorting_points", "sorting_coverage_status",
                        "sorting_coverage_reason") if c in t.columns]
    return pd.DataFrame(t[cols]).reset_index(drop=True)


_COLUMNS = {
    **REACH_COLUMNS,
    "n_sorting_points": ("垃圾分类投放点数", "Sorting points", "int"),
    "sorting_coverage_status": ("第5项（垃圾分类全覆盖）", "Criterion 5 (garbage sorting covers all)",
                                "text"),
    "sorting_coverage_reason": ("说明", "Reason", "text"),
}

ANALYSIS = Analysis(
    name="garbage",
    label_zh="垃圾分类",
    label_en="Garbage sorting",
    description_en="share of each community's residential buildings and residents within a walk "
                   "of a garbage sorting point (criterion 5), with the unserved buildings",
    description_zh="各社区步行范围内有垃圾分类投放点的住宅楼栋及人口比例（第5项），列出未覆盖楼栋",
    run=run,
    summary=summary,
    requires=("buildings", "garbage_points"),
    optional=("streets", "communities"),
    rule_sets=RULE_SETS,
    outputs=check_outputs("garbage", "垃圾分类", "Garbage sorting", columns=_COLUMNS, findings_type="Point"),
    options=(
        Option("max_walk", "float", "walk (m) within which a sorting point serves a building",
               "投放点服务的步行距离（米）", rule="garbage.max_walk", min=0, min_exclusive=True),
        Option("snap_tolerance", "float", "metres from a walkable street beyond which a building "
               "or point is off the network", "距步行道路超过此距离（米）即视为未接入路网",
               rule="garbage.snapping.tolerance", min=0),
        *NETWORK_OPTIONS,
    ),
    criteria=(Criterion(5, "garbage_communities", "sorting_coverage_status",
                        "garbage-sorting part only: every residential building within a walk of a "
                        "sorting point (road treatment and sponge retrofit are not measured)",
                        "仅垃圾分类部分：每栋住宅步行范围内均有垃圾分类投放点（道路治理、海绵化改造未计）",
                        part_en="waste-sorting coverage", part_zh="垃圾分类覆盖",
                        unmeasured_en="comprehensive road treatment and sponge retrofit and construction",
                        unmeasured_zh="社区道路综合治理、海绵化改造和建设"),),
    headlines="gcgeo.headlines:inventory_check",
    views=(check_view("garbage", "communities by garbage-sorting coverage; unserved buildings"),),
)
