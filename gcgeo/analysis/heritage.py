"""Heritage: protection zones around old trees, historic buildings and monuments, and what intrudes.

Criterion 16 of the Shandong Green Community standard asks that a community's
heritage, historic buildings and old trees (古树名木) be protected.  Each
heritage feature gets a protection zone:

* its own ``protection_radius_m`` where it gives one (from a tree's trunk,
  from a building's footprint);
* an old tree with a ``crown_diameter_m`` (冠幅): the crown's vertical
  projection plus a margin (rule ``old_tree.margin``, 5 m);
* otherwise the rule for its kind (``radius.<kind>``) around its point or
  footprint.

Buildings, parking, obstructions and fire lanes closer to the feature than
its radius intrude (the building that *is* a historic building is not an
intrusion: rule ``same_building``).  Each intrusion is a finding measuring the
overlap with the zone: an area for polygons (m²), a length for lines (m), the
distance from the feature for points (m); ``depth_m`` says how far inside the
zone it reaches.  A community fails when anything intrudes into a zone of its
heritage; it is ``unknown`` where a zone cannot be drawn or there are no
buildings to check, never passed; a community without heritage passes, with
that reason.

>>> import geopandas as gpd, shapely
>>> tree = gpd.GeoDataFrame({"id": ["H1"], "kind": ["古树"], "crown_diameter_m": ["10米"]},
...                         geometry=[shapely.Point(0, 0)], crs="EPSG:4547")
>>> b = gpd.GeoDataFrame({"id": ["B1", "B2"]}, geometry=[shapely.box(6, -2, 20, 2),
...                      shapely.box(30, 0, 40, 10)], crs="EPSG:4547")
>>> out = run({"heritage": tree, "buildings": b})
>>> f = out["heritage_findings"]
>>> f[["feature_id", "kind", "heritage_id", "depth_m"]].values.tolist()
[['B1', 'building_in_zone', 'H1', 4.0]]
>>> out["heritage_communities"][["protected_features", "intrusions", "protection_status"]].values.tolist()
[[0, 1, 'fail']]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import rules as _rules
from .._errors import AnalysisError
from ..layers.heritage import KINDS, SPEC
from ..values import feature_ids, to_number
from .checks import (
    Finding,
    check_outputs,
    communities_index,
    community_of,
    community_table,
    findings_frame,
    prepare,
    rule,
)
from .contract import Analysis, Criterion, Output, ViewSpec

__all__ = ["INTRUDERS", "run", "summary", "zones"]

RULE_SETS = ("heritage",)

#: Layers whose features may intrude into a zone: layer → (finding kind, severity, what it is).
INTRUDERS: dict[str, tuple[str, str, str]] = {
    "buildings": ("building_in_zone", "high", "building"),
    "parking": ("parking_in_zone", "medium", "parking"),
    "obstructions": ("obstruction_in_zone", "medium", "obstruction"),
    "fire_lanes": ("fire_lane_in_zone", "medium", "fire lane"),
}

#: Segments per quarter circle of a drawn zone (areas within 0.2% of the circle's).
_QUAD_SEGS = 32


def zones(heritage: gpd.GeoDataFrame, rules: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Each heritage feature's protection zone, on ``heritage``'s index.

    Columns: ``feature_id``, ``name``, ``kind``, ``radius_m``, ``zone_basis``
    (``own radius`` / ``crown + margin`` / ``rule radius.<kind>`` / the reason
    it is unknown), ``known``, ``unreadable`` (the text of a radius or crown
    that could not be read, else None) and ``clause`` (where the radius comes
    from); geometry the zone (the feature's own geometry where the zone is
    unknown).  ``heritage`` must be in a metric CRS.
    """
    r = _rules.load("heritage", rules)
    n = len(heritage)
    kinds = _kinds(heritage)
    own, own_bad = _metres(heritage, "protection_radius_m")
    crown, crown_bad = _metres(heritage, "crown_diameter_m")
    margin, _, margin_clause = rule(r, "old_tree.margin")
    radius = np.full(n, np.nan)
    basis = np.full(n, "", dtype=object)
    clause = np.full(n, "", dtype=object)
    by_kind = {k: rule(r, f"radius.{k}") for k in KINDS}
    for i in range(n):
        k = kinds[i]
        if np.isfinite(own[i]):
            radius[i], basis[i], clause[i] = own[i], "own radius", "保护范围半径 as recorded for the feature"
        elif k == "old_tree" and np.isfinite(crown[i]):
            radius[i], basis[i] = crown[i] / 2.0 + float(margin), "crown + margin"
            clause[i] = f"heritage.old_tree.margin: {margin_clause}"
        elif k in by_kind:
            radius[i], basis[i] = float(by_kind[k][0]), f"rule radius.{k}"
            clause[i] = f"heritage.radius.{k}: {by_kind[k][2]}"
        else:
            basis[i] = ("no protection_radius_m and no kind" if k is None
                        else f"no protection_radius_m and kind {k!r} is none of {', '.join(KINDS)}")
    geom = np.asarray(heritage.geometry.array, dtype=object)
    ok = np.isfinite(radius) & ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    basis[~ok & np.isfinite(radius)] = "no geometry"
    drawn = geom.copy()
    drawn[ok] = shapely.buffer(geom[ok], radius[ok], quad_segs=_QUAD_SEGS)
    unreadable = [_unreadable_text(heritage, i, own_bad, crown_bad) for i in range(n)]
    names = [str(v) if pd.notna(v) and str(v).strip() else None
             for v in (heritage["name"] if "name" in heritage.columns else [None] * n)]
    return gpd.GeoDataFrame(
        {"feature_id": feature_ids(heritage).to_numpy(), "name": pd.Series(names, dtype=object).to_numpy(),
         "kind": kinds, "radius_m": radius, "zone_basis": basis, "known": ok,
         "unreadable": pd.Series(unreadable, dtype=object).to_numpy(), "clause": clause},
        geometry=drawn, crs=heritage.crs, index=heritage.index)


def _kinds(heritage: gpd.GeoDataFrame) -> np.ndarray:
    """Each feature's kind as the spec spells it (古树 → old_tree); None where not given."""
    if "kind" not in heritage.columns:
        return np.full(len(heritage), None, dtype=object)
    lookup = SPEC.column("kind").value_lookup()
    out = []
    for v in heritage["kind"]:
        text = None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)
        out.append(None if text is None or not text.strip() else lookup.get(text.strip().lower(), text))
    return np.asarray(out, dtype=object)


def _metres(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Column ``col`` in metres (NaN where missing) and where a value was given but unreadable
    (now, or when the layer was added: the workspace keeps the text in ``<col>_raw``)."""
    if col not in df.columns:
        return np.full(len(df), np.nan), np.zeros(len(df), bool)
    v, bad = to_number(df[col], unit="m")
    bad = bad.to_numpy(bool)
    raw = f"{col}_raw"
    if raw in df.columns:
        bad = bad | (df[raw].notna().to_numpy(bool) & v.isna().to_numpy(bool))
    v = v.to_numpy(float, copy=True)
    bad = bad | (v < 0)  # a negative length is no radius either
    v[v < 0] = np.nan
    return v, bad


def _unreadable_text(df: pd.DataFrame, i: int, own_bad: np.ndarray, crown_bad: np.ndarray) -> str | None:
    parts = []
    for col, bad in (("protection_radius_m", own_bad), ("crown_diameter_m", crown_bad)):
        if bad[i]:
            raw = f"{col}_raw"
            value = df[raw].iloc[i] if raw in df.columns and pd.notna(df[raw].iloc[i]) else df[col].iloc[i]
            parts.append(f"{col} {value!r}")
    return "; ".join(parts) or None


def run(layers: Mapping[str, gpd.GeoDataFrame], *, rules: Mapping[str, Any] | None = None,
        progress: Callable[[str], None] | None = None) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Protection zones and their intrusions; see the module docstring.

    Returns ``heritage_findings`` (one row per intrusion, or per feature whose zone cannot be
    drawn or whose radius cannot be read), ``heritage_zones`` (one zone per feature) and
    ``heritage_communities`` (features, protected features, intrusions, their area and length,
    and ``protection_status`` / ``protection_reason`` for criterion 16).
    """
    r = _rules.load("heritage", rules)
    if layers.get("heritage") is None:
        raise AnalysisError("the heritage analysis needs the 'heritage' layer (old trees, historic "
                            "buildings, monuments); add it with `gcgeo add WS heritage FILE` or "
                            "`gcgeo import-osm`.")
    got = prepare(layers, "heritage", ["communities", *INTRUDERS])
    heritage, comm = got["heritage"], got["communities"]
    assert heritage is not None
    if progress:
        progress("protection zones")
    zone = zones(heritage, r)
    findings = _zone_findings(heritage, zone)
    hits: list[dict[str, Any]] = []
    for layer in INTRUDERS:
        other = got.get(layer)
        if other is not None and len(other) and len(heritage):
            if progress:
                progress(f"intrusions: {layer}")
            hits += _intrusions(heritage, zone, other, layer, r)
    findings += [_finding(h, zone) for h in hits]
    where = community_of(heritage.geometry, comm)
    table = _communities(comm, zone, where, hits, {k: got.get(k) is not None for k in INTRUDERS})
    zone_out = zone.drop(columns=["known", "unreadable", "clause"]).assign(
        community=where.to_numpy(), intrusions=[sum(h["zone"] == i for h in hits) for i in zone.index])
    zone_out["protected"] = pd.array([None if not k else n == 0 for k, n in
                                      zip(zone["known"], zone_out["intrusions"])], dtype="boolean")
    return {"heritage_findings": findings_frame(findings, heritage.crs, comm),
            "heritage_zones": zone_out.reset_index(drop=True),
            "heritage_communities": table}


def _zone_findings(heritage: gpd.GeoDataFrame, zone: gpd.GeoDataFrame) -> list[Finding]:
    """A finding on each feature whose zone cannot be drawn or whose radius cannot be read."""
    out = []
    for i, z in zip(heritage.index, zone.itertuples()):
        extra = {"heritage_id": z.feature_id, "heritage_kind": z.kind}
        if isinstance(z.unreadable, str):
            out.append(Finding(z.feature_id, "heritage", "unreadable_radius", heritage.geometry[i],
                               measured=z.unreadable, unit="m", severity="medium", extra=extra,
                               message=f"{z.unreadable} is not a length in metres; the zone was drawn "
                                       f"from {z.zone_basis or 'nothing'}. Write it as a number "
                                       "(e.g. 15 or 15米)."))
        if not z.known:
            out.append(Finding(z.feature_id, "heritage", "zone_unknown", heritage.geometry[i],
                               severity="medium", extra=extra,
                               message=f"protection zone cannot be drawn: {z.zone_basis}; give its "
                                       "protection_radius_m or its kind."))
    return out


def _intrusions(heritage: gpd.GeoDataFrame, zone: gpd.GeoDataFrame, other: gpd.GeoDataFrame,
                layer: str, r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Features of ``other`` closer to a heritage feature than its zone's radius."""
    hgeom = np.asarray(heritage.geometry.array, dtype=object)
    ogeom = np.asarray(other.geometry.array, dtype=object)
    known = zone["known"].to_numpy(bool)
    radius = zone["radius_m"].to_numpy(float)
    indexed = ogeom.copy()
    indexed[shapely.is_empty(ogeom)] = None  # missing and empty geometries are never found
    tree = shapely.STRtree(indexed)
    which = np.flatnonzero(known)
    if not len(which):
        return []
    hi, oi = tree.query(hgeom[which], predicate="dwithin", distance=radius[which])
    hi = which[hi]
    same = float(rule(r, "same_building")[0])
    near = float(rule(r, "point_on_building")[0])
    ids = feature_ids(other).to_numpy()
    kinds = zone["kind"].to_numpy(object)
    out = []
    for h, o in zip(hi, oi):
        d = float(shapely.distance(hgeom[h], ogeom[o]))
        overlap = float(shapely.area(shapely.intersection(hgeom[h], ogeom[o])))
        if not (d < radius[h] or overlap > 0.0):
            continue
        if layer == "buildings" and kinds[h] != "old_tree" and _is_itself(hgeom[h], ogeom[o], d, same, near):
            continue
        part = shapely.intersection(ogeom[o], zone.geometry.array[h])
        dim = shapely.get_dimensions(ogeom[o])
        out.append({"zone": zone.index[h], "layer": layer, "feature_id": ids[o], "dim": int(dim),
                    "distance": d, "depth": float(radius[h]) - d,
                    "area": float(shapely.area(part)) if dim == 2 else 0.0,
                    "length": float(shapely.length(part)) if dim == 1 else 0.0,
                    "geometry": part if not shapely.is_empty(part) else ogeom[o]})
    return out


def _is_itself(h: shapely.Geometry, b: shapely.Geometry, distance: float, share: float,
               near: float) -> bool:
    """Whether building ``b`` is heritage feature ``h`` itself (or holds its point or line)."""
    if shapely.get_dimensions(h) < 2:
        return distance <= near
    common = float(shapely.area(shapely.intersection(h, b)))
    areas = [a for a in (float(shapely.area(b)), float(shapely.area(h))) if a > 0]
    return any(common >= share * a for a in areas)


def _finding(hit: Mapping[str, Any], zone: gpd.GeoDataFrame) -> Finding:
    z = zone.loc[hit["zone"]]
    kind, severity, what = INTRUDERS[hit["layer"]]
    label = z["feature_id"] + (f" {z['name']}" if isinstance(z["name"], str) else "")
    radius = float(z["radius_m"])
    if hit["dim"] == 2:
        measured, required, unit = round(hit["area"], 2), 0.0, "m2"
        how = f"{hit['area']:.1f} m² of it lies"
    elif hit["dim"] == 1:
        measured, required, unit = round(hit["length"], 2), 0.0, "m"
        how = f"{hit['length']:.1f} m of it runs"
    else:
        measured, required, unit = round(hit["distance"], 2), round(radius, 2), "m"
        how = f"it stands {hit['distance']:.1f} m from the feature,"
    message = (f"{what} {hit['feature_id']}: {how} inside the {radius:g} m protection zone of "
               f"{z['kind'] if isinstance(z['kind'], str) else 'heritage feature'} {label} "
               f"({z['zone_basis']}), reaching "
               f"{hit['depth']:.1f} m into it")
    return Finding(hit["feature_id"], hit["layer"], kind, hit["geometry"], measured=measured,
                   required=required, unit=unit, clause=z["clause"], severity=severity, message=message,
                   extra={"heritage_id": z["feature_id"], "heritage_kind": z["kind"],
                          "radius_m": round(radius, 2), "depth_m": round(hit["depth"], 2)})


def _communities(comm: gpd.GeoDataFrame | None, zone: gpd.GeoDataFrame, where: pd.Series,
                 hits: list[dict[str, Any]], given: Mapping[str, bool]) -> gpd.GeoDataFrame | pd.DataFrame:
    """Per community: features, protected ones, intrusions and criterion 16's status."""
    ids = communities_index(comm)
    cid = where if comm is not None and len(comm) else pd.Series("(all)", index=where.index)
    z = pd.DataFrame({"c": cid.to_numpy(), "kind": zone["kind"].to_numpy(), "known": zone["known"].to_numpy(),
                      "fid": zone["feature_id"].to_numpy()}, index=zone.index)
    h = pd.DataFrame(hits, columns=["zone", "layer", "area", "length"])
    h["c"] = z["c"].reindex(h["zone"]).to_numpy()
    hit_zones = set(h["zone"])
    z["hit"] = [i in hit_zones for i in z.index]
    z["protected"] = z["known"] & ~z["hit"]
    g = z.dropna(subset=["c"]).groupby("c")
    out = pd.DataFrame(index=ids)
    out["heritage_features"] = g.size().reindex(ids).fillna(0).astype(int)
    out["old_trees"] = g["kind"].agg(lambda s: int((s == "old_tree").sum())).reindex(ids).fillna(0).astype(int)
    out["historic_buildings"] = g["kind"].agg(
        lambda s: int((s == "historic_building").sum())).reindex(ids).fillna(0).astype(int)
    out["protected_features"] = g["protected"].sum().reindex(ids).fillna(0).astype(int)
    hc = h.dropna(subset=["c"]).groupby("c")
    out["intrusions"] = hc.size().reindex(ids).fillna(0).astype(int)
    out["intrusion_area_m2"] = hc["area"].sum().reindex(ids).fillna(0.0).round(2)
    out["intrusion_length_m"] = hc["length"].sum().reindex(ids).fillna(0.0).round(2)
    status = pd.Series("pass", index=ids, dtype=object)
    reason = pd.Series("", index=ids, dtype=object)
    unchecked = [k for k, v in given.items() if not v]
    for c in ids:
        mine = z[z["c"] == c]
        if not len(mine):
            reason[c] = "no heritage feature recorded in the community"
            continue
        by_layer = h[h["c"] == c]["layer"].value_counts()
        unknown = mine.loc[~mine["known"], "fid"].tolist()
        if len(by_layer):
            status[c] = "fail"
            reason[c] = (f"{int(by_layer.sum())} intrusion(s) into {int(mine['hit'].sum())} of "
                         f"{len(mine)} protection zone(s): "
                         + ", ".join(f"{k} {v}" for k, v in by_layer.items()))
        elif unknown:
            status[c] = "unknown"
            reason[c] = f"protection zone of {', '.join(unknown[:5])} cannot be drawn"
        elif "buildings" in unchecked:
            status[c] = "unknown"
            reason[c] = "no buildings layer: intrusions by buildings not checked"
        elif unchecked:
            reason[c] = f"not checked (no layer): {', '.join(unchecked)}"
    return community_table(comm, out, {"protection": (status, reason)},
                           comm.crs if comm is not None else zone.crs)


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: heritage features, protected ones, intrusions and the status."""
    t = outputs["heritage_communities"]
    cols = [c for c in ("community_name", "heritage_features", "protected_features", "intrusions",
                        "intrusion_area_m2", "protection_status", "protection_reason") if c in t.columns]
    return pd.DataFrame(t[cols]).reset_index(drop=True)


ANALYSIS = Analysis(
    name="heritage",
    label_zh="历史文化保护",
    label_en="Heritage protection",
    description_en="protection zones of old trees, historic buildings and monuments, and the "
                   "buildings, parking, obstructions and fire lanes intruding into them (criterion 16)",
    description_zh="古树名木、历史建筑、文物的保护范围及侵入其中的建筑、停车、占用物和消防车道（第16项）",
    run=run,
    summary=summary,
    requires=("heritage",),
    optional=("communities", *INTRUDERS),
    rule_sets=RULE_SETS,
    outputs=(*check_outputs("heritage", "历史文化保护", "Heritage protection", columns={
        "heritage_id": ("遗产编号", "Heritage feature", "text"),
        "heritage_kind": ("遗产类型", "Heritage kind", "text"),
        "radius_m": ("保护范围半径", "Zone radius", "m"),
        "depth_m": ("侵入深度", "Depth inside the zone", "m"),
        "heritage_features": ("遗产数", "Heritage features", "int"),
        "old_trees": ("古树名木数", "Old trees", "int"),
        "historic_buildings": ("历史建筑数", "Historic buildings", "int"),
        "protected_features": ("保护范围无侵入的遗产数", "Protected (nothing intrudes)", "int"),
        "intrusions": ("侵入数", "Intrusions", "int"),
        "intrusion_area_m2": ("侵入面积（平方米）", "Area intruding (m²)", "float"),
        "intrusion_length_m": ("侵入长度", "Length intruding", "m"),
        "protection_status": ("第16项（历史文化保护）", "Criterion 16 (heritage protected)", "text"),
        "protection_reason": ("说明", "Reason", "text"),
    }), Output("heritage_zones", "历史文化遗产保护范围", "Heritage protection zones", columns={
        "zone_basis": ("保护范围依据", "Zone from", "text"),
        "protected": ("保护范围无侵入", "Nothing intrudes", "bool"),
    })),
    criteria=(Criterion(16, "heritage_communities", "protection_status",
                        "heritage features, historic buildings and old trees with nothing intruding "
                        "into their protection zones",
                        "历史文化遗产、历史建筑、古树名木的保护范围内无建筑、停车、占用或消防车道侵入",
                        part_en="protection zones free of intrusion", part_zh="保护范围无侵入",
                        unmeasured_en="the resources' own condition and care (signs, upkeep, repair)",
                        unmeasured_zh="历史文化资源本身的保存状况与保护管理（挂牌、养护、修缮）"),),
    headlines="gcgeo.headlines:inventory_check",
    views=(ViewSpec(build="", description="protection zones and what intrudes into them",
                    requires=("heritage_communities", "heritage_zones", "heritage_findings")),),
)
