"""Findings and summaries: rows per finding, one row per lane, one per community.

Width and clear-height findings are made here from the measured stations and
footprints (turnaround findings in :mod:`.turnarounds`); :func:`findings_frame`
gathers every batch into the ``fire_findings`` layer, :func:`summarise_lanes`
and :func:`summarise_communities` give ``fire_lanes_summary`` and
``fire_communities``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .centreline import LanePieces
from .inputs import (
    geometries,
    index_pairs,
    numbers,
    read_numbers,
    repair,
    row_ids,
    rule_clause,
    rule_value,
    short_list,
)
from .stations import Obstacles, station_runs

log = logging.getLogger(__name__)

#: Kinds of finding, in the order they are reported.
FINDING_KINDS = ("too_narrow", "obstructed", "no_turnaround", "low_clearance")

_FINDING_COLUMNS = [
    "lane_id", "kind", "label_zh", "measured", "required", "unit", "clause",
    "obstruction_ids", "obstruction_kinds", "from_m", "to_m", "severity",
    "severity_rank", "community", "community_id", "note",
]


# --------------------------------------------------------------------------
# severities and communities


def _severity_width(v: np.ndarray, r: Mapping[str, Any]) -> np.ndarray:
    high = float(rule_value(r, "severity.width_high"))
    med = float(rule_value(r, "severity.width_medium"))
    return np.where(v < high, "high", np.where(v < med, "medium", "low")).astype(object)


def _severity_height(v: np.ndarray, r: Mapping[str, Any]) -> np.ndarray:
    high = float(rule_value(r, "severity.height_high"))
    return np.where(v < high, "high", "medium").astype(object)


def _community_of(points: np.ndarray, comm: gpd.GeoDataFrame | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    name = np.full(len(points), None, dtype=object)
    cid = np.full(len(points), None, dtype=object)
    if comm is None or len(comm) == 0 or len(points) == 0:
        return name, cid
    geoms = repair(geometries(comm), row_ids(comm), "communities")
    i, j = index_pairs(shapely.STRtree(geoms).query(points, predicate="within"))
    if len(i):
        first = np.r_[True, i[1:] != i[:-1]]
        i, j = i[first], j[first]
        names = comm["name"].astype(str).to_numpy(dtype=object) if "name" in comm.columns \
            else row_ids(comm)
        name[i] = names[j]
        cid[i] = row_ids(comm)[j]
    return name, cid


# --------------------------------------------------------------------------
# findings by kind: each a list of batches, a frame of rows and their points


def width_findings(pk: LanePieces, st: Mapping[str, np.ndarray], clear: np.ndarray,
                   s_hit: np.ndarray, o_hit: np.ndarray, obstacles: Obstacles,
                   r: Mapping[str, Any]) -> list[tuple[pd.DataFrame, np.ndarray]]:
    """too_narrow and obstructed findings, one per run of consecutive failing stations.

    ``st`` as from :func:`.stations.stations`; ``clear``, ``s_hit`` and
    ``o_hit`` as from :func:`.stations.measure_clear_width` on
    ``obstacles.geometry``.  A lane too narrow by design is ``too_narrow``;
    a station whose clear width falls short because something intrudes is
    ``obstructed``, naming what intrudes along the run.
    """
    req_w = float(rule_value(r, "clear_width"))
    tol = float(rule_value(r, "lane.width_tolerance"))
    design = st["section"]
    intruded = np.zeros(len(clear), bool)
    intruded[s_hit] = True
    out = [_width_runs(pk, st, design < req_w - tol, design, "too_narrow", None, r),
           _width_runs(pk, st, (clear < req_w - tol) & intruded, clear, "obstructed",
                       (s_hit, o_hit, obstacles), r)]
    return [b for b in out if b is not None]


def _width_runs(pk: LanePieces, st: Mapping[str, np.ndarray], flag: np.ndarray,
                values: np.ndarray, kind: str,
                blame: tuple[np.ndarray, np.ndarray, Obstacles] | None, r: Mapping[str, Any]
                ) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Findings of ``kind`` for the runs of stations in ``flag``, at each run's worst station.

    ``blame`` (intruding station / obstacle pairs and the obstacles) names
    the obstacles of each run; None when the finding blames none.
    """
    piece = st["piece"]
    idx, run_id = station_runs(piece, flag)
    if len(idx) == 0:
        return None
    starts = np.r_[0, np.flatnonzero(np.diff(run_id)) + 1]
    ends = np.r_[starts[1:] - 1, len(idx) - 1]
    n_runs = len(starts)
    order = np.lexsort((values[idx], run_id))
    worst = idx[order[np.r_[True, run_id[order][1:] != run_id[order][:-1]]]]
    blame_ids = np.full(n_runs, "", dtype=object)
    blame_kinds = np.full(n_runs, "", dtype=object)
    if blame is not None and len(blame[0]):
        s_hit, o_hit, obstacles = blame
        run_of = np.full(len(values), -1)
        run_of[idx] = run_id
        sel = run_of[s_hit] >= 0
        b = pd.DataFrame({"run": run_of[s_hit][sel], "id": obstacles.ids[o_hit[sel]],
                          "kind": obstacles.kind[o_hit[sel]]})
        for col, target in (("id", blame_ids), ("kind", blame_kinds)):
            u = b[["run", col]].drop_duplicates().sort_values("run", kind="stable")
            runs_u = u["run"].to_numpy()
            cut = np.flatnonzero(np.diff(runs_u)) + 1
            groups = np.split(u[col].to_numpy(dtype=object), cut)
            target[runs_u[np.r_[0, cut]]] = [";".join(g) for g in groups]
    lane_p = pk.lane_pos[piece][worst]
    half = st["step"] / 2.0
    frame = pd.DataFrame({
        "lane_id": pk.lane_ids[lane_p], "kind": kind,
        "measured": np.round(values[worst], 3), "required": float(rule_value(r, "clear_width")),
        "unit": "m", "clause": rule_clause(r, "clear_width"), "obstruction_ids": blame_ids,
        "obstruction_kinds": blame_kinds,
        "from_m": st["chainage"][idx[starts]] - half[idx[starts]],
        "to_m": st["chainage"][idx[ends]] + half[idx[ends]],
        "severity": _severity_width(values[worst], r),
        "note": np.where(pk.width_source[lane_p] == "default",
                         "width from the rule default", ""),
        "_lane": lane_p,
    })
    return frame, st["point"][worst]


def clearance_findings(lanes: gpd.GeoDataFrame, pk: LanePieces,
                       fp: Mapping[str, np.ndarray] | None, r: Mapping[str, Any]
                       ) -> tuple[list[tuple[pd.DataFrame, np.ndarray]], np.ndarray]:
    """low_clearance findings, and per lane whether its clear height went unchecked.

    A lane's own ``clear_height_m`` and the ``height_m`` of obstructions over
    it (``fp`` as from :func:`.stations.footprints`; None without
    obstructions) are checked against ``clear_height``.  A lane's clear
    height is checked when it has a readable ``clear_height_m`` and no
    height-checking obstruction without ``height_m`` stands over it.
    """
    req_h = float(rule_value(r, "clear_height"))
    out, unchecked = _lane_heights(lanes, pk, req_h, r)
    if fp is None or len(pk.area) == 0:
        return out, unchecked
    tree = shapely.STRtree(pk.area)
    need = np.flatnonzero(fp["needs_height"])
    if len(need):
        i, m = index_pairs(tree.query(fp["geometry"][need], predicate="intersects"))
        if len(i):
            unchecked = unchecked.copy()
            unchecked[pk.lane_pos[m]] = True
            log.warning("obstructions %s stand over fire lanes (ids %s) but have no height_m; the "
                        "clear height there is not checked.",
                        short_list(fp["ids"][need[np.unique(i)]]),
                        short_list(np.unique(pk.lane_ids[pk.lane_pos[m]])))
    chk = np.flatnonzero(fp["checks"] & (fp["height"] < req_h))
    if len(chk) == 0:
        return out, unchecked
    i, m = index_pairs(tree.query(fp["geometry"][chk], predicate="intersects"))
    if len(i) == 0:
        return out, unchecked
    df = pd.DataFrame({"o": chk[i], "piece": m, "lane": pk.lane_pos[m]})
    df = df.drop_duplicates(["o", "lane"])
    o = df["o"].to_numpy()
    pc = df["piece"].to_numpy()
    p = df["lane"].to_numpy()
    lines = pk.line[pc]
    at = shapely.line_locate_point(lines, shapely.centroid(fp["geometry"][o]))
    hv = fp["height"][o].astype(float)
    out.append((pd.DataFrame({
        "lane_id": pk.lane_ids[p], "kind": "low_clearance", "measured": hv,
        "required": req_h, "unit": "m", "clause": rule_clause(r, "clear_height"),
        "obstruction_ids": fp["ids"][o].astype(str), "obstruction_kinds": fp["kind"][o].astype(str),
        "from_m": at, "to_m": at, "severity": _severity_height(hv, r),
        "note": "height_m of the obstruction", "_lane": p,
    }), shapely.line_interpolate_point(lines, at)))
    return out, unchecked


def _lane_heights(lanes: gpd.GeoDataFrame, pk: LanePieces, req_h: float, r: Mapping[str, Any]
                  ) -> tuple[list[tuple[pd.DataFrame, np.ndarray]], np.ndarray]:
    """low_clearance findings from the lanes' ``clear_height_m``; lanes without a readable one.

    Unreadable and missing heights are told apart in two warnings.
    """
    h, unreadable = read_numbers(lanes, "clear_height_m")
    unchecked = ~np.isfinite(h)
    if unreadable.any():
        vals = lanes["clear_height_m"].to_numpy(dtype=object)[unreadable]
        log.warning("layer 'fire_lanes': clear_height_m of %d lanes cannot be read as metres "
                    "(ids %s; values %s); their clear height is not checked. Write plain numbers "
                    "such as 4.5 or 4.5米.", int(unreadable.sum()),
                    short_list(pk.lane_ids[unreadable]),
                    short_list(np.array([str(v) for v in vals]), 5))
    absent = unchecked & ~unreadable & (pk.width_source != "skipped")
    if absent.any():
        log.warning("layer 'fire_lanes': %d lanes have no clear_height_m (ids %s); their clear "
                    "height (GB 50016-2014 §7.1.8) is not checked and criterion 8 stays "
                    "incomplete.", int(absent.sum()), short_list(pk.lane_ids[absent]))
    out: list[tuple[pd.DataFrame, np.ndarray]] = []
    low = np.flatnonzero(np.isfinite(h) & (h < req_h))
    if len(low) == 0:
        return out, unchecked
    first_piece = pd.Series(np.arange(len(pk.lane_pos))).groupby(pk.lane_pos).min()
    sev = _severity_height(h[low], r)
    for k, p in enumerate(low):
        if p not in first_piece.index:
            continue
        line = pk.line[first_piece[p]]
        out.append((pd.DataFrame([{
            "lane_id": pk.lane_ids[p], "kind": "low_clearance", "measured": float(h[p]),
            "required": req_h, "unit": "m", "clause": rule_clause(r, "clear_height"),
            "obstruction_ids": "", "obstruction_kinds": "", "from_m": 0.0,
            "to_m": float(line.length), "severity": sev[k],
            "note": "clear_height_m of the lane", "_lane": p,
        }]), np.array([line.interpolate(0.5, normalized=True)], dtype=object)))
    return out, unchecked


# --------------------------------------------------------------------------
# the output frames


def findings_frame(batches: list[tuple[pd.DataFrame, np.ndarray]], crs: Any,
                   r: Mapping[str, Any], communities: gpd.GeoDataFrame | None
                   ) -> gpd.GeoDataFrame:
    """The findings of every batch as one frame, ordered by lane, kind and chainage.

    Adds the label, the severity's rank and the community each finding lies
    in; keeps ``_lane`` (the lane's position) for the summaries.
    """
    levels = list(r.get("severity", {}).get("levels", ["low", "medium", "high"]))
    labels = r.get("labels", {})
    if not batches:
        df = pd.DataFrame({c: pd.Series(dtype="float64" if c in (
            "measured", "required", "from_m", "to_m") else "int64" if c == "severity_rank"
            else "object") for c in _FINDING_COLUMNS})
        df["_lane"] = pd.Series(dtype="int64")
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    df = pd.concat([b[0] for b in batches], ignore_index=True)
    geom = np.concatenate([b[1] for b in batches])
    df["label_zh"] = [labels.get(k, {}).get("label_zh", k) for k in df["kind"]]
    df["severity_rank"] = [levels.index(s) + 1 if s in levels else 0 for s in df["severity"]]
    df["community"], df["community_id"] = _community_of(geom, communities)
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    df["_order"] = df["kind"].map(order)
    gdf = gpd.GeoDataFrame(df, geometry=geom, crs=crs)
    gdf = gdf.sort_values(["_lane", "_order", "from_m"], kind="stable").reset_index(drop=True)
    return gdf[[*_FINDING_COLUMNS, "_lane", "geometry"]]


def summarise_lanes(lanes: gpd.GeoDataFrame, pk: LanePieces, st: Mapping[str, np.ndarray],
                    clear: np.ndarray, findings: gpd.GeoDataFrame, n_dead: np.ndarray,
                    buildings: gpd.GeoDataFrame | None, r: Mapping[str, Any],
                    communities: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """One row per lane, on the lanes' index: length, widths, findings by kind, community.

    ``st`` and ``clear`` are the stations and their clear width, ``findings``
    as from :func:`findings_frame`, ``n_dead`` the dead ends per lane.  Drawn
    as the lanes (as centre lines when lines and polygons are mixed).
    """
    req_w = float(rule_value(r, "clear_width"))
    tol = float(rule_value(r, "lane.width_tolerance"))
    n = len(lanes)
    lane_st = pk.lane_pos[st["piece"]]
    step = st["step"]
    length = np.bincount(lane_st, weights=step, minlength=n)
    below = np.bincount(lane_st, weights=step * (clear < req_w - tol), minlength=n)
    min_clear = np.full(n, np.nan)
    if len(clear):
        np.fmin.at(min_clear, lane_st, clear)
    width = pk.width.copy()
    design = np.full(n, np.nan)
    if len(width):
        np.fmin.at(design, pk.lane_pos, width)
    poly_lane = pk.width_source == "polygon"
    if poly_lane.any():
        med = pd.Series(st["section"]).groupby(lane_st).median()
        idx = np.flatnonzero(poly_lane)
        idx = idx[np.isin(idx, med.index)]
        design[idx] = med[idx].to_numpy()
    wall = np.full(n, np.nan)
    if buildings is not None and len(buildings) and len(pk.area):
        bg = repair(geometries(buildings), row_ids(buildings), "buildings")
        bg = bg[~shapely.is_missing(bg)]
        if len(bg):
            a, b = index_pairs(shapely.STRtree(bg).query_nearest(pk.area, all_matches=False))
            d = shapely.distance(pk.area[a], bg[b])
            np.fmin.at(wall, pk.lane_pos[a], d)
    out = pd.DataFrame(index=lanes.index)
    out["lane_id"] = pk.lane_ids
    out["length_m"] = np.round(length, 2)
    out["width_m"] = design
    out["width_source"] = pk.width_source
    out["clear_width_min_m"] = np.round(min_clear, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_below_req"] = np.where(length > 0, below / length, np.nan)
    out["clear_height_m"] = numbers(lanes, "clear_height_m")
    out["wall_dist_m"] = np.round(wall, 2)
    out["near_wall"] = np.isfinite(wall) & (wall < float(rule_value(r, "wall_distance")))
    out["dead_ends"] = n_dead
    lane_f = findings["_lane"].to_numpy(dtype=int)
    for kind in FINDING_KINDS:
        sel = (findings["kind"] == kind).to_numpy()
        out[f"n_{kind}"] = np.bincount(lane_f[sel], minlength=n)[:n]
    out["n_findings"] = np.bincount(lane_f, minlength=n)[:n]
    rank = np.zeros(n, int)
    if len(findings):
        np.maximum.at(rank, lane_f, findings["severity_rank"].to_numpy(dtype=int))
    levels = ["none", *r.get("severity", {}).get("levels", ["low", "medium", "high"])]
    out["worst_severity"] = [levels[k] for k in rank]
    out["severity_rank"] = rank
    # community: where the middle of the lane lies
    mid = np.full(n, None, dtype=object)
    first_piece = pd.Series(np.arange(len(pk.lane_pos))).groupby(pk.lane_pos).min()
    if len(first_piece):
        mid[first_piece.index.to_numpy()] = shapely.line_interpolate_point(
            pk.line[first_piece.to_numpy()], 0.5, normalized=True)
    has = np.array([g is not None for g in mid], dtype=bool)
    name = np.full(n, None, dtype=object)
    cid = np.full(n, None, dtype=object)
    if has.any():
        name[has], cid[has] = _community_of(mid[has], communities)
    out["community"] = name
    out["community_id"] = cid
    geoms = geometries(lanes)
    types = {t for t in shapely.get_type_id(geoms[~shapely.is_missing(geoms)]) if t in (1, 3, 5, 6)}
    lines_types, poly_types = types & {1, 5}, types & {3, 6}
    if lines_types and poly_types:
        log.info("fire_lanes mixes lines and polygons; the lane summary is drawn as centre lines.")
        lines = np.full(n, None, dtype=object)
        merged = pd.Series(pk.line).groupby(pk.lane_pos).agg(
            lambda s: shapely.line_merge(shapely.multilinestrings(list(s))) if len(s) > 1
            else s.iloc[0])
        lines[merged.index.to_numpy()] = merged.to_numpy()
        geoms = lines
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=lanes.index),
                            crs=lanes.crs)


def summarise_communities(lane_summary: gpd.GeoDataFrame, findings: gpd.GeoDataFrame,
                          communities: gpd.GeoDataFrame | None, r: Mapping[str, Any]
                          ) -> gpd.GeoDataFrame | pd.DataFrame:
    """One row per community (one for all lanes without communities) and its criterion 8.

    ``lane_summary`` as from :func:`summarise_lanes` with ``checks_skipped``
    added; ``criterion8`` as described in :func:`gcgeo.analysis.fire_lanes.summary`.
    """
    failing = set(r.get("criterion8", {}).get("failing_kinds", FINDING_KINDS))
    levels = ["none", *r.get("severity", {}).get("levels", ["low", "medium", "high"])]
    if communities is not None and len(communities):
        cid = row_ids(communities)
        name = communities["name"].astype(str).to_numpy(dtype=object) \
            if "name" in communities.columns else cid
        base = pd.DataFrame({"community_id": cid, "community": name}, index=communities.index)
        key_lane = lane_summary["community_id"]
        key_find = findings["community_id"]
    else:
        base = pd.DataFrame({"community_id": ["all"], "community": ["(all lanes)"]})
        key_lane = pd.Series("all", index=lane_summary.index)
        key_find = pd.Series("all", index=findings.index, dtype=object)
    length = lane_summary["length_m"].fillna(0.0)
    below = (lane_summary["share_below_req"].fillna(0.0) * length)
    g_len = length.groupby(key_lane.to_numpy()).sum()
    g_below = below.groupby(key_lane.to_numpy()).sum()
    g_n = length.groupby(key_lane.to_numpy()).size()
    out = base.copy()
    ids = out["community_id"]
    out["n_lanes"] = ids.map(g_n).fillna(0).astype(int).to_numpy()
    out["lanes_km"] = (ids.map(g_len).fillna(0.0) / 1000.0).round(3).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = ids.map(g_below).fillna(0.0).to_numpy() / (ids.map(g_len).fillna(0.0).to_numpy())
    out["share_below_req"] = np.where(out["lanes_km"] > 0, share, np.nan)
    fails = np.zeros(len(out), int)
    for kind in FINDING_KINDS:
        counts = key_find[(findings["kind"] == kind).to_numpy()].value_counts()
        out[f"n_{kind}"] = ids.map(counts).fillna(0).astype(int).to_numpy()
        if kind in failing:
            fails += out[f"n_{kind}"].to_numpy()
    out["n_findings"] = out[[f"n_{k}" for k in FINDING_KINDS]].sum(axis=1).to_numpy()
    rank = findings.groupby(key_find.to_numpy())["severity_rank"].max() if len(findings) \
        else pd.Series(dtype=int)
    out["severity_rank"] = ids.map(rank).fillna(0).astype(int).to_numpy()
    out["worst_severity"] = [levels[k] for k in out["severity_rank"]]
    n_default = (lane_summary["width_source"] == "default").groupby(key_lane.to_numpy()).sum()
    out["n_lanes_default_width"] = ids.map(n_default).fillna(0).astype(int).to_numpy()
    names = lane_summary["checks_skipped"].astype(str).str.split(";")
    skipped = names.groupby(key_lane.to_numpy()).agg(
        lambda s: ";".join(sorted({c for lst in s for c in lst if c})))
    out["checks_skipped"] = np.array([skipped.get(i, "") for i in ids], dtype=object)
    incomplete = (out["n_lanes_default_width"] > 0).to_numpy() | (out["checks_skipped"] != "").to_numpy()
    out["criterion8"] = np.where(
        fails > 0, "fail",
        np.where(out["n_lanes"] == 0, "no_lanes", np.where(incomplete, "incomplete", "pass")))
    if communities is not None and len(communities):
        return gpd.GeoDataFrame(out, geometry=communities.geometry.values, crs=communities.crs)
    return out
