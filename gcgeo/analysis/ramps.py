"""Kerb ramps (缘石坡道): GB 50763-2012 §3.1 on every ramp, §4.2.1 at every crossing.

Each ramp of the ``ramps`` layer (every row but those of kind ``crossing``)
is held to three rules of its form (``kind``):

* slope (§3.1.2): full-width single-slope ramps at most 1:20, three-sided
  and other forms at most 1:12 (rules ``slope.<form>``, written as the run
  of 1:n);
* width (§3.1.3): a three-sided ramp's front at least 1.20 m, any other
  form's opening at least 1.50 m; a full-width ramp must be as wide as its
  footway, which the layers do not record, so its width is not checked;
* lip (§3.1.1): at most 10 mm above the carriageway.

A flush kerb (``flush``, 平缘石) has no slope or width to check and, unless
a lip is recorded, no lip.  A ramp whose form is not recorded is judged on
what every form would say: 1:20 or gentler passes, steeper than 1:12
fails, in between is unknown.  A rule whose evidence is missing or cannot
be read is ``unknown`` for that ramp, never passed, and the ramp is listed
(``ramp_data_missing``, ``ramp_value_unreadable`` with the text given).

Slopes are read by :func:`gcgeo.values.to_slope` as planners write them:
``"1:12"``, ``"1/12"``, ``"8%"``, ``"8.3"`` and ``0.083`` — a bare number
above 1 is a percentage, 1 or below a ratio.  What ``gcgeo add`` could not
read as a number (kept in ``slope_raw``) is read here the same way.

Crossings are streets whose ``kind`` or ``footway`` says so (rules
``crossing.streets``: OSM ``footway=crossing`` ways, a planner's 人行横道)
and points of the ramps layer of kind ``crossing`` (OSM ``highway=crossing``
nodes).  Each end of a crossing needs a kerb ramp within
``crossing.max_distance`` (§4.2.1 (2): 人行横道两端必须设置缘石坡道): for a
line, within that distance of the end and nearer it than the other end; for
a point, on each side of the street it crosses (the nearest street within
that distance that is no path, rules ``crossing.path_kinds``).  A point
lying on a crossing line is the same crossing.  Without any kerb ramp in
the layer (OSM extracts often map crossings but no kerbs) crossings are
unknown, not missing their ramps.

Per community: ramps checked, passing, failing, unknown; crossings served
at both ends, missing a ramp, unknown; a status per rule with its reason
and the worst of them, ``status``, which decides criterion 9 (aging-friendly
and barrier-free public space).

>>> import geopandas as gpd, shapely
>>> ramps = gpd.GeoDataFrame({"id": ["R1", "R2", "R3"], "kind": ["三面坡", "full_width", "other"],
...                           "slope": ["1:10", "4%", None], "width_m": [1.2, 3.0, 2.0],
...                           "lip_mm": [5, 15, 0]},
...                          geometry=shapely.points([(0, 0), (50, 0), (90, 0)]), crs="EPSG:4547")
>>> out = run({"ramps": ramps})
>>> out["ramps_findings"][["feature_id", "kind", "measured", "required"]].values.tolist()
[['R1', 'ramp_too_steep', '1:10 (10%)', '1:12'], ['R2', 'ramp_lip_too_high', '15', '10'], \
['R3', 'ramp_data_missing', nan, nan]]
>>> out["ramps_communities"][["ramps_checked", "ramps_failing", "ramps_unknown"]].values.tolist()
[[3, 2, 1]]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import rules as _rules
from .._errors import AnalysisError
from ..layers import get_spec
from ..values import feature_ids, slope_text, to_number, to_slope
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
from .contract import Analysis, Criterion, Option

__all__ = ["read_ramps", "run", "summary"]

RULE_SETS = ("ramps",)
#: The forms a ramp is judged by (the ramps layer's kinds, crossings aside).
FORMS = ("full_width", "three_sided", "other", "flush")
#: The per-ramp rules, as named in ``ramps_communities`` (``<rule>_status``).
RAMP_RULES = ("ramp_slope", "ramp_width", "ramp_lip")
#: A crossing point this close to a crossing line is that crossing (metres).
SAME_CROSSING_M = 1.0
#: A ramp this close to the line of the street a crossing point crosses is on neither side.
ON_STREET_M = 0.01
_EPS = 1e-9
NO_RAMPS = "no kerb ramps recorded in the ramps layer: crossings cannot be judged"
_SEVERITY = {"ramp_too_steep": "high", "ramp_lip_too_high": "high", "ramp_too_narrow": "medium",
             "ramp_value_unreadable": "medium", "ramp_data_missing": "low",
             "crossing_without_ramp": "high", "crossing_ramp_one_end": "medium",
             "crossing_unchecked": "low"}
_UNITS = {"slope": "ratio", "width_m": "m", "lip_mm": "mm", "kind": ""}


def run(layers: Mapping[str, gpd.GeoDataFrame], *, rules: Mapping[str, Any] | None = None,
        progress: Callable[[str], None] | None = None, crossing_distance: float | None = None
        ) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Kerb ramps and crossings against GB 50763-2012; see the module docstring.

    ``crossing_distance`` overrides the rule ``crossing.max_distance`` (metres).
    Returns ``ramps_findings`` (one row per problem: the ramp's or crossing's id,
    what was measured against what is required, the clause) and
    ``ramps_communities`` (counts, ``<rule>_status`` / ``<rule>_reason`` for
    ``ramp_slope``, ``ramp_width``, ``ramp_lip`` and ``crossing_ramps``, and
    ``status``, criterion 9).
    """
    r = _rules.load("ramps", rules)
    if layers.get("ramps") is None:
        raise AnalysisError("the ramps analysis needs the 'ramps' layer (kerb ramps with kind, slope, "
                            "width_m, lip_mm; crossings as kind 'crossing'); add it with `gcgeo add WS "
                            "ramps FILE` or `gcgeo import-osm`.")
    got = prepare(layers, "ramps", ["communities", "streets"])
    layer, comm, streets = got["ramps"], got["communities"], got["streets"]
    assert layer is not None
    distance = float(crossing_distance if crossing_distance is not None
                     else rule(r, "crossing.max_distance")[0])
    if not distance > 0:
        raise AnalysisError(f"crossing_distance must be a positive number of metres, not {distance}.")
    if progress:
        progress("kerb ramps")
    attrs = read_ramps(layer)
    is_crossing = (attrs["kind"] == "crossing").to_numpy()
    ramps = layer[~is_crossing]
    judged = _judge_ramps(attrs[~is_crossing], r)
    if progress:
        progress("crossings")
    crossings = _crossings(layer[is_crossing], streets, r)
    _serve(crossings, ramps.geometry, streets, distance, r)
    findings = _ramp_findings(ramps, judged, r) + _crossing_findings(crossings, distance, r)
    ids = communities_index(comm)
    in_comm = _where(ramps.geometry, comm)
    cross_comm = _where(gpd.GeoSeries(crossings["geometry"].tolist(), crs=layer.crs), comm)
    figures, statuses = _community_statuses(ids, judged, feature_ids(ramps), in_comm, crossings,
                                            cross_comm)
    crs = layer.crs
    return {"ramps_findings": findings_frame(findings, crs, comm),
            "ramps_communities": community_table(comm, figures, statuses, crs)}


# --------------------------------------------------------------------------
# reading the ramps layer


def _given(df: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as given: what ``gcgeo add`` could not read (kept in ``<col>_raw``) put back."""
    s = df[col].astype(object) if col in df.columns else pd.Series(None, index=df.index, dtype=object)
    raw = f"{col}_raw"
    if raw in df.columns:
        s = s.where(df[raw].isna().to_numpy(), df[raw].astype(object))
    return s


def read_ramps(ramps: pd.DataFrame) -> pd.DataFrame:
    """The ramps layer's attributes as the check reads them, on ``ramps``' index.

    ``kind`` is one of :data:`gcgeo.layers.ramps.KINDS` (Chinese spellings such
    as 三面坡 read as their key) or None; ``slope`` is rise/run read by
    :func:`gcgeo.values.to_slope`; ``width_m`` and ``lip_mm`` numbers (``"1.5米"``
    reads 1.5).  ``unreadable`` maps each attribute given but not readable to
    the text given (an empty dict where all was read).

    >>> read_ramps(pd.DataFrame({"kind": ["全宽式", "扇形"], "slope": ["1：20", "陡"]})).values.tolist()
    [['full_width', 0.05, nan, nan, {}], [None, nan, nan, nan, {'kind': '扇形', 'slope': '陡'}]]
    """
    lookup = get_spec("ramps").column("kind").value_lookup()
    text = _given(ramps, "kind")
    blank = text.isna() | text.astype(str).str.strip().eq("")
    kind = text.map(lambda v: None if v is None or pd.isna(v) else lookup.get(str(v).strip().lower()))
    out = pd.DataFrame({"kind": kind.astype(object).where(kind.notna(), None)}, index=ramps.index)
    bad: dict[str, pd.Series] = {"kind": ~blank & kind.isna()}
    given: dict[str, pd.Series] = {"kind": text}
    given["slope"] = _given(ramps, "slope")
    out["slope"], bad["slope"] = to_slope(given["slope"])
    for col, unit in (("width_m", "m"), ("lip_mm", "mm")):
        given[col] = _given(ramps, col)
        out[col], bad[col] = to_number(given[col], unit=unit)
        bad[col] = bad[col] | (out[col] < 0).to_numpy()
        out.loc[bad[col].to_numpy(bool), col] = np.nan
    out["unreadable"] = [
        {c: str(given[c].iloc[i]) for c in ("kind", "slope", "width_m", "lip_mm") if bool(bad[c].iloc[i])}
        for i in range(len(out))]
    return out


# --------------------------------------------------------------------------
# judging each ramp


@dataclass(frozen=True)
class _Verdict:
    """One rule on one ramp: pass / fail / unknown / n/a, what was measured, what is required."""

    status: str
    measured: Any = None
    required: Any = None
    reason: str = ""
    missing: str = ""  # the attribute whose absence makes it unknown


def _limits(r: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    return {"slope": {f: 1.0 / float(rule(r, f"slope.{f}")[0]) for f in ("full_width", "three_sided", "other")},
            "width": {f: float(rule(r, f"width.{f}")[0]) for f in ("three_sided", "other")},
            "lip": {"all": float(rule(r, "lip")[0])}}


def _num(x: float) -> float | int:
    """A measured or required figure as it reads best: 10 rather than 10.0."""
    return int(x) if float(x).is_integer() else round(float(x), 3)


def _ratio(slope: float) -> str:
    return f"1:{1.0 / slope:g}" if slope > 0 else "0"


def _slope_verdict(form: str | None, s: float, unreadable: Mapping[str, str],
                   lim: Mapping[str, float]) -> _Verdict:
    if form == "flush":
        return _Verdict("n/a")
    if np.isnan(s):
        if "slope" in unreadable:
            return _Verdict("unknown", reason=f"slope '{unreadable['slope']}' cannot be read")
        return _Verdict("unknown", reason="slope not recorded", missing="slope")
    if form is None:
        loose, strict = max(lim.values()), min(lim.values())
        if s <= strict + _EPS:
            return _Verdict("pass", slope_text(s), _ratio(strict))
        if s > loose + _EPS:
            return _Verdict("fail", slope_text(s), _ratio(loose),
                            f"slope {slope_text(s)} steeper than {_ratio(loose)}, the most any form allows")
        return _Verdict("unknown", slope_text(s), reason=f"slope {slope_text(s)}: form not recorded "
                        f"({_ratio(strict)} full-width, {_ratio(loose)} other forms)", missing="kind")
    need = lim[form]
    if s > need + _EPS:
        return _Verdict("fail", slope_text(s), _ratio(need),
                        f"slope {slope_text(s)} steeper than {_ratio(need)} ({form.replace('_', '-')})")
    return _Verdict("pass", slope_text(s), _ratio(need))


def _width_verdict(form: str | None, w: float, unreadable: Mapping[str, str],
                   lim: Mapping[str, float]) -> _Verdict:
    if form in ("full_width", "flush"):
        return _Verdict("n/a")
    if np.isnan(w):
        if "width_m" in unreadable:
            return _Verdict("unknown", reason=f"width '{unreadable['width_m']}' cannot be read")
        return _Verdict("unknown", reason="width not recorded", missing="width_m")
    if form is None:
        widest = max(lim.values())
        if w + _EPS >= widest:
            return _Verdict("pass", _num(w), _num(widest))
        return _Verdict("unknown", w, reason=f"width {w:g} m: form not recorded (a full-width ramp needs "
                        f"its footway's width, a three-sided {lim['three_sided']:g} m, others "
                        f"{lim['other']:g} m)", missing="kind")
    need = lim[form]
    if w + _EPS < need:
        return _Verdict("fail", _num(w), _num(need),
                        f"width {w:g} m narrower than {need:g} m ({form.replace('_', '-')})")
    return _Verdict("pass", _num(w), _num(need))


def _lip_verdict(form: str | None, lip: float, unreadable: Mapping[str, str], need: float) -> _Verdict:
    if np.isnan(lip):
        if "lip_mm" in unreadable:
            return _Verdict("unknown", reason=f"lip '{unreadable['lip_mm']}' cannot be read")
        if form == "flush":
            return _Verdict("pass", 0, _num(need), "flush kerb")
        return _Verdict("unknown", reason="lip not recorded", missing="lip_mm")
    if lip > need + _EPS:
        return _Verdict("fail", _num(lip), _num(need), f"lip {lip:g} mm above {need:g} mm")
    return _Verdict("pass", _num(lip), _num(need))


def _judge_ramps(attrs: pd.DataFrame, r: Mapping[str, Any]) -> pd.DataFrame:
    """Per ramp: a :class:`_Verdict` per rule of :data:`RAMP_RULES` and ``status``, the worst."""
    lim = _limits(r)
    rows = []
    for form, s, w, lip, bad in attrs[["kind", "slope", "width_m", "lip_mm", "unreadable"]].itertuples(
            index=False, name=None):
        form = form if form in FORMS else None
        rows.append({"ramp_slope": _slope_verdict(form, float(s), bad, lim["slope"]),
                     "ramp_width": _width_verdict(form, float(w), bad, lim["width"]),
                     "ramp_lip": _lip_verdict(form, float(lip), bad, lim["lip"]["all"])})
    out = pd.DataFrame(rows, index=attrs.index, columns=list(RAMP_RULES))
    st = out.map(lambda v: v.status) if len(out) else out
    out["status"] = np.where((st == "fail").any(axis=1), "fail",
                             np.where((st == "unknown").any(axis=1), "unknown", "pass")) if len(out) else []
    out["unreadable"] = attrs["unreadable"]
    out["form"] = attrs["kind"].where(attrs["kind"].isin(FORMS), None)
    return out


def _ramp_findings(ramps: gpd.GeoDataFrame, judged: pd.DataFrame, r: Mapping[str, Any]) -> list[Finding]:
    """One finding per failed rule, per unreadable value and per ramp missing what a rule needs."""
    fids = feature_ids(ramps)
    kinds = {"ramp_slope": ("ramp_too_steep", "slope"), "ramp_width": ("ramp_too_narrow", "width"),
             "ramp_lip": ("ramp_lip_too_high", "lip")}
    out: list[Finding] = []
    for i, geom in enumerate(ramps.geometry.array):
        row = judged.iloc[i]
        fid = str(fids.iloc[i])
        for name, (kind, threshold) in kinds.items():
            v: _Verdict = row[name]
            if v.status != "fail":
                continue
            clause = _clause(r, threshold, row["form"])
            out.append(Finding(fid, "ramps", kind, geom, measured=v.measured, required=v.required,
                               unit={"ramp_slope": "ratio", "ramp_width": "m", "ramp_lip": "mm"}[name],
                               clause=clause, severity=_SEVERITY[kind], message=v.reason,
                               extra={"attribute": {"ramp_slope": "slope", "ramp_width": "width_m",
                                                    "ramp_lip": "lip_mm"}[name]}))
        for col, text in row["unreadable"].items():
            out.append(Finding(fid, "ramps", "ramp_value_unreadable", geom, measured=text, unit=_UNITS[col],
                               severity=_SEVERITY["ramp_value_unreadable"],
                               message=_unreadable_message(col, text), extra={"attribute": col}))
        missing = {row[n].missing for n in RAMP_RULES if row[n].status == "unknown" and row[n].missing}
        if missing and row["form"] is None and "kind" not in row["unreadable"] and any(
                row[n].status == "unknown" for n in ("ramp_slope", "ramp_width")):
            missing.add("kind")  # the form decides the slope and width required
        if missing:
            out.append(Finding(fid, "ramps", "ramp_data_missing", geom, severity=_SEVERITY["ramp_data_missing"],
                               message="; ".join(row[n].reason for n in RAMP_RULES
                                                 if row[n].status == "unknown" and row[n].missing),
                               extra={"attribute": ", ".join(sorted(missing))}))
    return out


def _clause(r: Mapping[str, Any], threshold: str, form: str | None) -> str:
    """The clause of the rule a ramp failed: its form's, or the loosest form's when not recorded."""
    if threshold == "lip":
        return rule(r, "lip")[2]
    return rule(r, f"{threshold}.{form if form in ('full_width', 'three_sided') else 'other'}")[2]


def _unreadable_message(col: str, text: str) -> str:
    how = {"slope": "write it as 1:12, 1/12, 8% or 0.083 (a bare number above 1 is read as per cent)",
           "width_m": "write it in metres (1.5 or 1.5米)",
           "lip_mm": "write it in millimetres (10 or 10mm)",
           "kind": f"use one of: {', '.join(get_spec('ramps').column('kind').allowed or ())}"}[col]
    return f"{col} '{text}' cannot be read; {how}."


# --------------------------------------------------------------------------
# crossings


def _text_in(series: pd.Series, values: Any) -> np.ndarray:
    wanted = {str(v).strip().lower() for v in values}
    return series.astype("string").str.strip().str.lower().isin(wanted).fillna(False).to_numpy(bool)


def _crossing_lines(streets: gpd.GeoDataFrame | None, r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Streets the rules call crossings, one row per crossing: segments meeting end to end
    (a way split where it meets the road it crosses) are joined, their ids with ``+``."""
    if streets is None or not len(streets):
        return []
    mask = np.zeros(len(streets), dtype=bool)
    for col, values in r["crossing"].get("streets", {}).items():
        if col in streets.columns:
            mask |= _text_in(streets[col], values)
    geoms = np.asarray(streets.geometry.array, dtype=object)
    mask &= ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not mask.any():
        return []
    ids = feature_ids(streets[mask]).to_numpy(dtype=object)
    segs = geoms[mask]
    parts = np.asarray(shapely.get_parts(shapely.line_merge(shapely.multilinestrings(
        shapely.get_parts(segs)))), dtype=object)
    mids = shapely.line_interpolate_point(segs, 0.5, normalized=True)
    seg_i, part_i = shapely.STRtree(parts).query(mids, predicate="dwithin", distance=1e-6)
    members: dict[int, list[str]] = {}
    for s, q in sorted(zip(seg_i.tolist(), part_i.tolist())):
        members.setdefault(q, [])
        if ids[s] not in members[q]:
            members[q].append(str(ids[s]))
    rows = []
    for q, part in enumerate(parts):
        xy = shapely.get_coordinates(part)
        rows.append({"feature_id": "+".join(members.get(q, [])) or f"#{q}", "layer": "streets",
                     "geometry": part, "ends": (shapely.Point(xy[0]), shapely.Point(xy[-1]))})
    return rows


def _crossings(points: gpd.GeoDataFrame, streets: gpd.GeoDataFrame | None,
               r: Mapping[str, Any]) -> pd.DataFrame:
    """Every crossing: streets the rules call crossings, then crossing points not on one of them.

    Columns: ``feature_id``, ``layer``, ``geometry``, ``ends`` (a line's two end points, or
    None for a point), then filled by :func:`_serve`.
    """
    rows = _crossing_lines(streets, r)
    lines = np.asarray([row["geometry"] for row in rows], dtype=object)
    pts = np.asarray(points.geometry.array, dtype=object)
    near_line = np.zeros(len(pts), dtype=bool)
    if len(lines) and len(pts):
        hit, _ = shapely.STRtree(lines).query(pts, predicate="dwithin", distance=SAME_CROSSING_M)
        near_line[hit] = True
    for fid, g, dup in zip(feature_ids(points), pts, near_line):
        if not dup and g is not None and not g.is_empty:
            rows.append({"feature_id": str(fid), "layer": "ramps", "geometry": g, "ends": None})
    return pd.DataFrame(rows, columns=["feature_id", "layer", "geometry", "ends"])


def _serve(crossings: pd.DataFrame, ramp_geoms: gpd.GeoSeries, streets: gpd.GeoDataFrame | None,
           distance: float, r: Mapping[str, Any]) -> None:
    """Add to ``crossings``: ``status`` (served / one_end / none / unknown), ``ends_unserved``
    (the end points lacking a ramp, where known), ``nearest_m`` (metres to the nearest ramp
    of a crossing with none) and ``reason``."""
    status, unserved, nearest, reasons = [], [], [], []
    pts = np.asarray(ramp_geoms.array, dtype=object)
    pts = pts[~(shapely.is_missing(pts) | shapely.is_empty(pts))] if len(pts) else pts
    tree = shapely.STRtree(pts) if len(pts) else None
    roads = _roads(streets, r)
    for g, ends in crossings[["geometry", "ends"]].itertuples(index=False, name=None):
        if tree is None:
            status.append("unknown")
            unserved.append(())
            nearest.append(np.nan)
            reasons.append(NO_RAMPS)
            continue
        if ends is not None:
            st, missing, reason = _serve_line(ends, pts, tree, distance)
        else:
            st, missing, reason = _serve_point(g, pts, tree, distance, roads)
        status.append(st)
        unserved.append(missing)
        # with no ramp at either end, how far the nearest one is (with one, the nearest may
        # well be that one, and says nothing of the other end)
        near = [float(shapely.distance(e, pts[tree.query_nearest(e)[0]])) for e in missing]
        nearest.append(min(near) if near and st == "none" else np.nan)
        reasons.append(reason)
    crossings["status"] = status
    crossings["ends_unserved"] = unserved
    crossings["nearest_m"] = nearest
    crossings["reason"] = reasons


def _serve_line(ends: tuple[shapely.Point, shapely.Point], pts: np.ndarray, tree: shapely.STRtree,
                distance: float) -> tuple[str, tuple[Any, ...], str]:
    """A crossing line: each end needs a ramp within ``distance``, nearer it than the other end."""
    near = tree.query(list(ends), predicate="dwithin", distance=distance)[1]
    cand = pts[np.unique(near)]
    d0, d1 = shapely.distance(cand, ends[0]), shapely.distance(cand, ends[1])
    served = (bool(((d0 <= distance) & (d0 <= d1)).any()), bool(((d1 <= distance) & (d1 <= d0)).any()))
    missing = tuple(e for e, ok in zip(ends, served) if not ok)
    if all(served):
        return "served", (), ""
    if any(served):
        return "one_end", missing, f"no kerb ramp within {distance:g} m of one end"
    return "none", missing, f"no kerb ramp within {distance:g} m of either end"


def _roads(streets: gpd.GeoDataFrame | None, r: Mapping[str, Any]) -> np.ndarray:
    """The lines a crossing point may cross: streets that are neither paths nor crossings."""
    if streets is None or not len(streets):
        return np.empty(0, dtype=object)
    keep = np.ones(len(streets), dtype=bool)
    if "kind" in streets.columns:
        keep &= ~_text_in(streets["kind"], r["crossing"].get("path_kinds", ()))
    for col, values in r["crossing"].get("streets", {}).items():
        if col in streets.columns:
            keep &= ~_text_in(streets[col], values)
    g = np.asarray(streets.geometry.array, dtype=object)[keep]
    return g[~(shapely.is_missing(g) | shapely.is_empty(g))]


def _serve_point(p: shapely.Point, pts: np.ndarray, tree: shapely.STRtree, distance: float,
                 roads: np.ndarray) -> tuple[str, tuple[Any, ...], str]:
    """A crossing point: a ramp within ``distance`` on each side of the street it crosses."""
    near = pts[tree.query(p, predicate="dwithin", distance=distance)]
    road = None
    if len(roads):
        hit = shapely.STRtree(roads).query_nearest(p, max_distance=distance)
        road = roads[hit[0]] if len(hit) else None
    if road is None:
        if not len(near):
            return "none", (p,), f"no kerb ramp within {distance:g} m"
        return "unknown", (), (f"no street within {distance:g} m to tell its two sides apart; "
                               f"{len(near)} kerb ramp(s) nearby")
    at = road.project(p)
    a = road.interpolate(max(at - 1.0, 0.0))
    b = road.interpolate(min(at + 1.0, road.length))
    foot = road.interpolate(at)
    tx, ty = b.x - a.x, b.y - a.y
    norm = float(np.hypot(tx, ty)) or 1.0
    xy = shapely.get_coordinates(near) if len(near) else np.empty((0, 2))
    side = (tx * (xy[:, 1] - foot.y) - ty * (xy[:, 0] - foot.x)) / norm
    left, right = bool((side > ON_STREET_M).any()), bool((side < -ON_STREET_M).any())
    if left and right:
        return "served", (), ""
    if left or right:
        return "one_end", (p,), f"kerb ramp(s) within {distance:g} m on one side of the street only"
    return "none", (p,), f"no kerb ramp within {distance:g} m on either side of the street"


def _crossing_findings(crossings: pd.DataFrame, distance: float, r: Mapping[str, Any]) -> list[Finding]:
    kinds = {"none": "crossing_without_ramp", "one_end": "crossing_ramp_one_end"}
    clause = rule(r, "crossing.max_distance")[2]
    out: list[Finding] = []
    for row in crossings.itertuples(index=False):
        if row.status == "served" or row.reason == NO_RAMPS:
            continue  # without any ramp in the layer, the communities say so once
        if row.status == "unknown":
            out.append(Finding(row.feature_id, row.layer, "crossing_unchecked",
                               shapely.point_on_surface(row.geometry), required=distance, unit="m",
                               clause=clause, severity=_SEVERITY["crossing_unchecked"], message=row.reason))
            continue
        kind = kinds[row.status]
        where = row.ends_unserved[0] if row.status == "one_end" and row.ends is not None else \
            shapely.point_on_surface(row.geometry)
        out.append(Finding(row.feature_id, row.layer, kind, where,
                           measured=None if np.isnan(row.nearest_m) else round(float(row.nearest_m), 2),
                           required=distance, unit="m", clause=clause, severity=_SEVERITY[kind],
                           message=row.reason))
    return out


# --------------------------------------------------------------------------
# per community


def _where(geoms: gpd.GeoSeries, comm: gpd.GeoDataFrame | None) -> pd.Series:
    """The community of each geometry; ``(all)`` without communities."""
    if comm is None or not len(comm):
        return pd.Series("(all)", index=geoms.index, dtype=object)
    return community_of(geoms, comm)


def _listed(ids: pd.Series, most: int = 5) -> str:
    head = ", ".join(ids.astype(str).head(most))
    return head + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _rule_status(ids: pd.Index, where: pd.Series, status: pd.Series, names: pd.Series, *,
                 what: str, none: str, reasons: pd.Series | None = None, na: str = ""
                 ) -> tuple[pd.Series, pd.Series]:
    """A rule per community from its items' statuses: any fail fails, then any unknown is unknown;
    a community without items is unknown (``none`` says why)."""
    st = pd.Series("unknown", index=ids, dtype=object)
    why = pd.Series(none, index=ids, dtype=object)
    frame = pd.DataFrame({"c": where.to_numpy(), "s": status.to_numpy(), "id": names.to_numpy(),
                          "why": (reasons if reasons is not None else status).to_numpy()})
    for cid, grp in frame.dropna(subset=["c"]).groupby("c", sort=False):
        if cid not in st.index:
            continue
        fail, unknown = grp[grp["s"] == "fail"], grp[grp["s"] == "unknown"]
        if len(fail):
            st[cid] = "fail"
            why[cid] = f"{len(fail)} of {len(grp)} {what}: {_listed(fail['id'])}"
        elif len(unknown):
            st[cid] = "unknown"
            first = unknown["why"].iloc[0] if reasons is not None else ""
            why[cid] = f"{len(unknown)} of {len(grp)} not known ({_listed(unknown['id'])})" + (
                f": {first}" if first else "")
        else:
            st[cid] = "pass"
            n_na = int((grp["s"] == "n/a").sum())
            why[cid] = f"{n_na} of {len(grp)} not checked: {na}" if n_na else ""
    return st, why


def _community_statuses(ids: pd.Index, judged: pd.DataFrame, names: pd.Series, in_comm: pd.Series,
                        crossings: pd.DataFrame, cross_comm: pd.Series
                        ) -> tuple[pd.DataFrame, dict[str, tuple[pd.Series, pd.Series]]]:
    """Counts per community and, per rule, its status and reason."""
    figures = pd.DataFrame(index=ids)
    per = pd.DataFrame({"c": in_comm.to_numpy(), "s": judged["status"].to_numpy()
                        if len(judged) else np.empty(0, dtype=object)})
    counts = per.groupby(["c", "s"]).size().unstack(fill_value=0) if len(per) else pd.DataFrame()
    figures["ramps_checked"] = per.groupby("c").size().reindex(ids).fillna(0).astype(int)
    for col, s in (("ramps_passing", "pass"), ("ramps_failing", "fail"), ("ramps_unknown", "unknown")):
        figures[col] = (counts[s] if s in counts.columns else pd.Series(dtype=int)).reindex(ids) \
            .fillna(0).astype(int)
    cs = crossings["status"] if len(crossings) else pd.Series(dtype=object)
    cper = pd.DataFrame({"c": cross_comm.to_numpy(), "s": cs.to_numpy()})
    figures["crossings"] = cper.groupby("c").size().reindex(ids).fillna(0).astype(int)
    for col, values in (("crossings_served", ("served",)), ("crossings_unserved", ("one_end", "none")),
                        ("crossings_unknown", ("unknown",))):
        figures[col] = cper[cper["s"].isin(values)].groupby("c").size().reindex(ids).fillna(0).astype(int)
    statuses: dict[str, tuple[pd.Series, pd.Series]] = {}
    what = {"ramp_slope": "ramps too steep", "ramp_width": "ramps too narrow",
            "ramp_lip": "ramps with a lip over the limit"}
    na = {"ramp_slope": "flush kerbs have no slope",
          "ramp_width": "a full-width ramp is as wide as its footway (§3.1.3 (1)), not recorded; a "
                        "flush kerb has no opening",
          "ramp_lip": ""}
    for name in RAMP_RULES:
        col = judged[name] if len(judged) else pd.Series(dtype=object)
        statuses[name] = _rule_status(ids, in_comm, col.map(lambda v: v.status), names, what=what[name],
                                      none="no kerb ramps recorded in the community",
                                      reasons=col.map(lambda v: v.reason), na=na[name])
    cmap = {"served": "pass", "one_end": "fail", "none": "fail", "unknown": "unknown"}
    statuses["crossing_ramps"] = _rule_status(
        ids, cross_comm, cs.map(cmap), crossings["feature_id"] if len(crossings) else pd.Series(dtype=object),
        what="crossings missing a kerb ramp at an end",
        none="no crossings recorded (streets of a crossing kind, or ramps of kind 'crossing')",
        reasons=crossings["reason"] if len(crossings) else pd.Series(dtype=object))
    return figures, statuses


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: ramps and crossings counted, each rule's status, criterion 9."""
    t = outputs["ramps_communities"]
    cols = [c for c in ("community_name", "ramps_checked", "ramps_passing", "ramps_failing", "ramps_unknown",
                        "crossings", "crossings_served", "crossings_unserved", "crossings_unknown",
                        *(f"{n}_status" for n in (*RAMP_RULES, "crossing_ramps")), "status") if c in t.columns]
    return pd.DataFrame(t[cols]).reset_index(drop=True)


ANALYSIS = Analysis(
    name="ramps",
    label_zh="缘石坡道",
    label_en="Kerb ramps",
    description_en="kerb ramps against GB 50763-2012 §3.1 (slope, width, lip) and crossings without a "
                   "ramp at each end (§4.2.1); criterion 9",
    description_zh="缘石坡道坡度、宽度、高差（GB 50763-2012第3.1节）及人行横道两端缘石坡道（第4.2.1条）；第9项",
    run=run,
    summary=summary,
    requires=("ramps",),
    optional=("communities", "streets"),
    rule_sets=RULE_SETS,
    options=(Option("crossing_distance", "float", "metres within which a kerb ramp serves an end of a "
                    "crossing", "人行横道端点与缘石坡道的最大距离（米）", rule="ramps.crossing.max_distance",
                    min=0, min_exclusive=True),),
    outputs=check_outputs("ramps", "缘石坡道", "Kerb ramps", findings_type="Point", columns={
        "attribute": ("属性", "Attribute", "text"),
        "ramps_checked": ("缘石坡道数", "Kerb ramps checked", "int"),
        "ramps_passing": ("达标坡道数", "Ramps passing", "int"),
        "ramps_failing": ("不达标坡道数", "Ramps failing", "int"),
        "ramps_unknown": ("无法判断的坡道数", "Ramps unknown", "int"),
        "crossings": ("人行横道数", "Crossings", "int"),
        "crossings_served": ("两端有坡道的人行横道", "Crossings with ramps at both ends", "int"),
        "crossings_unserved": ("缺少坡道的人行横道", "Crossings missing a ramp", "int"),
        "crossings_unknown": ("无法判断的人行横道", "Crossings unknown", "int"),
        "ramp_slope_status": ("坡度（第3.1.2条）", "Slope (§3.1.2)", "text"),
        "ramp_slope_reason": ("坡度说明", "Slope: reason", "text"),
        "ramp_width_status": ("宽度（第3.1.3条）", "Width (§3.1.3)", "text"),
        "ramp_width_reason": ("宽度说明", "Width: reason", "text"),
        "ramp_lip_status": ("坡口高差（第3.1.1条）", "Lip (§3.1.1)", "text"),
        "ramp_lip_reason": ("高差说明", "Lip: reason", "text"),
        "crossing_ramps_status": ("人行横道两端坡道（第4.2.1条）", "Ramps at crossings (§4.2.1)", "text"),
        "crossing_ramps_reason": ("人行横道说明", "Crossings: reason", "text"),
    }),
    criteria=(Criterion(9, "ramps_communities", "status",
                        "kerb ramps within GB 50763-2012 §3.1 (slope, width, lip) and a ramp at each end of "
                        "every crossing (§4.2.1)",
                        "缘石坡道坡度、宽度、坡口高差符合GB 50763-2012第3.1节，人行横道两端均设缘石坡道",
                        part_en="kerb ramps", part_zh="缘石坡道",
                        unmeasured_en="age-friendly retrofit of public spaces and barrier-free facilities "
                                      "other than kerb ramps (entrance ramps, tactile paving, handrails, "
                                      "accessible toilets…)",
                        unmeasured_zh="公共空间适老化改造及缘石坡道以外的无障碍设施（出入口坡道、盲道、扶手、"
                                      "无障碍厕所等）"),),
    headlines="gcgeo.headlines:inventory_check",
    views=(check_view("ramps", "communities by kerb-ramp status, ramps and crossings with problems"),),
)
