"""Clear width: stations along the lanes, cross-sections, obstruction footprints.

Stations are placed every ``spacing`` metres along each lane piece; at each a
cross-section perpendicular to the lane is drawn and whatever intrudes is cut
out of it; the widest free run left is the clear width there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ... import rules as _rules
from ..._errors import AnalysisError, RulesError
from .centreline import LanePieces, point_and_tangent, prepare_lanes
from .inputs import (
    align_crs,
    check_metric,
    geometries,
    index_pairs,
    load_rules,
    numbers,
    repair,
    row_ids,
    rule_value,
    short_list,
)

log = logging.getLogger(__name__)

#: How far beyond its own half-diagonal a point obstruction looks for the lane
#: to turn its footprint along (covers lanes up to 20 m wide); a search bound,
#: not a standard's figure.
_ORIENT_REACH_M = 10.0


# --------------------------------------------------------------------------
# stations and cross-sections


def stations(pk: LanePieces, spacing: float, r: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Stations every ``spacing`` m along each piece and the cross-section at each.

    Arrays, one entry per station: ``piece``, ``chainage`` (m along the
    piece), ``step`` (the length it stands for), ``point``, ``x``/``y``,
    the unit normal ``nx``/``ny``, the section's start ``ax``/``ay`` and its
    length ``section`` (design width, or the polygon's width there).
    """
    lines = pk.line
    n_p = len(lines)
    length = shapely.length(lines) if n_p else np.zeros(0)
    n = np.maximum(1, np.ceil(length / spacing - 1e-9)).astype(int)
    piece = np.repeat(np.arange(n_p), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    step = (length / n)[piece] if n_p else np.zeros(0)
    ch = (k + 0.5) * step
    x, y, ux, uy = point_and_tangent(lines, piece, ch)
    pt = shapely.points(x, y)
    nx_, ny_ = -uy, ux
    width = pk.width[piece].copy()
    half = width / 2.0
    ax, ay = x - nx_ * half, y - ny_ * half
    sec = width.copy()
    is_p = np.array([g is not None for g in pk.poly], dtype=bool)[piece] if n_p else np.zeros(0, bool)
    if is_p.any():
        idx = np.flatnonzero(is_p)
        polys = pk.poly[piece[idx]]
        b = shapely.bounds(polys)
        reach = np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) + 1.0
        c = np.stack([np.column_stack([x[idx] - nx_[idx] * reach, y[idx] - ny_[idx] * reach]),
                      np.column_stack([x[idx] + nx_[idx] * reach, y[idx] + ny_[idx] * reach])],
                     axis=1)
        inter = shapely.intersection(shapely.linestrings(c), polys)
        parts, pidx = shapely.get_parts(inter, return_index=True)
        keep = shapely.get_type_id(parts) == 1
        parts, pidx = parts[keep], pidx[keep]
        dist = shapely.distance(parts, pt[idx[pidx]])
        order = np.lexsort((dist, pidx))
        first = order[np.r_[True, pidx[order][1:] != pidx[order][:-1]]] if len(order) else order
        chosen, cp = parts[first], pidx[first]
        gi = idx[cp]
        s0 = shapely.get_coordinates(shapely.get_point(chosen, 0))
        s1 = shapely.get_coordinates(shapely.get_point(chosen, -1))
        t0 = (s0[:, 0] - x[gi]) * nx_[gi] + (s0[:, 1] - y[gi]) * ny_[gi]
        t1 = (s1[:, 0] - x[gi]) * nx_[gi] + (s1[:, 1] - y[gi]) * ny_[gi]
        lo, hi = np.minimum(t0, t1), np.maximum(t0, t1)
        ax[gi], ay[gi] = x[gi] + nx_[gi] * lo, y[gi] + ny_[gi] * lo
        sec[gi] = hi - lo
        lost = np.setdiff1d(idx, gi)
        if len(lost):
            default = float(rule_value(r, "lane.default_width"))
            sec[lost] = default
            ax[lost], ay[lost] = x[lost] - nx_[lost] * default / 2, y[lost] - ny_[lost] * default / 2
    return {"piece": piece, "chainage": ch, "step": step, "point": pt, "x": x, "y": y,
            "nx": nx_, "ny": ny_, "ax": ax, "ay": ay, "section": sec}


def _sections(st: Mapping[str, np.ndarray]) -> np.ndarray:
    ax, ay, nx_, ny_, sec = st["ax"], st["ay"], st["nx"], st["ny"], st["section"]
    c = np.stack([np.column_stack([ax, ay]),
                  np.column_stack([ax + nx_ * sec, ay + ny_ * sec])], axis=1)
    return shapely.linestrings(c) if len(c) else np.zeros(0, dtype=object)


def measure_clear_width(st: Mapping[str, np.ndarray], obstacles: np.ndarray, tol: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clear width per station and the (station, obstacle) pairs that intrude.

    ``st`` as from :func:`stations`; intrusions no deeper than ``tol`` m are ignored.
    """
    sec = st["section"]
    n_st = len(sec)
    clear = sec.astype("float64").copy()
    cs = _sections(st)
    if n_st == 0 or len(obstacles) == 0:
        return clear, np.zeros(0, int), np.zeros(0, int)
    tree = shapely.STRtree(obstacles)
    i, j = index_pairs(tree.query(cs, predicate="intersects"))
    if len(i) == 0:
        return clear, i, j
    inter = shapely.intersection(cs[i], obstacles[j])
    parts, pk = shapely.get_parts(inter, return_index=True)
    keep = shapely.get_type_id(parts) == 1
    parts, pk = parts[keep], pk[keep]
    if len(parts) == 0:
        return clear, np.zeros(0, int), np.zeros(0, int)
    coords, ck = shapely.get_coordinates(parts, return_index=True)
    s_c = i[pk[ck]]
    t = (coords[:, 0] - st["ax"][s_c]) * st["nx"][s_c] + (coords[:, 1] - st["ay"][s_c]) * st["ny"][s_c]
    starts = np.searchsorted(ck, np.arange(len(parts)))
    t0 = np.minimum.reduceat(t, starts)
    t1 = np.maximum.reduceat(t, starts)
    s = i[pk]
    ob = j[pk]
    t0 = np.clip(t0, 0.0, sec[s])
    t1 = np.clip(t1, 0.0, sec[s])
    real = (t1 - t0) > tol
    s, ob, t0, t1 = s[real], ob[real], t0[real], t1[real]
    if len(s) == 0:
        return clear, s, ob
    order = np.lexsort((t0, s))
    s, ob, t0, t1 = s[order], ob[order], t0[order], t1[order]
    big = float(sec.max()) + 10.0
    key = t1 + s * big
    runmax = np.maximum.accumulate(key)
    first = np.r_[True, s[1:] != s[:-1]]
    last = np.r_[s[1:] != s[:-1], True]
    prev = np.r_[0.0, runmax[:-1]] - s * big
    prev_end = np.where(first, 0.0, np.maximum(prev, 0.0))
    gap = np.maximum(t0 - prev_end, 0.0)
    hit = np.unique(s)
    clear[hit] = 0.0
    np.maximum.at(clear, s, gap)
    tail = np.maximum(sec[s[last]] - (runmax[last] - s[last] * big), 0.0)
    np.maximum.at(clear, s[last], tail)
    return clear, s, ob


def station_runs(piece: np.ndarray, flag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stations in ``flag`` and the id of the contiguous run (per piece) each belongs to."""
    idx = np.flatnonzero(flag)
    if len(idx) == 0:
        return idx, idx
    new = np.r_[True, (np.diff(idx) != 1) | (piece[idx[1:]] != piece[idx[:-1]])]
    return idx, np.cumsum(new) - 1


# --------------------------------------------------------------------------
# obstruction footprints


def _footprint_table(r: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    table = r.get("footprints")
    if not isinstance(table, Mapping) or "other" not in table:
        raise RulesError("rules 'footprints' must hold a table per obstruction kind, "
                         "including 'other'.")
    return {str(k): dict(v) for k, v in table.items()}


def footprints(obs: gpd.GeoDataFrame, lane_lines: np.ndarray, r: Mapping[str, Any]
               ) -> dict[str, np.ndarray]:
    """Footprints of obstructions (points get one by kind), and what each one checks.

    Arrays, one entry per row of ``obs``: ``geometry`` (None when unusable),
    ``blocks`` (narrows the clear width), ``checks`` (has a ``height_m`` to
    check the clear height against), ``needs_height`` (would check the clear
    height but has no ``height_m``), ``height``, ``kind`` and ``ids``.
    """
    table = _footprint_table(r)
    ids = row_ids(obs)
    geoms = repair(geometries(obs), ids, "obstructions")
    n = len(obs)
    if "kind" in obs.columns:
        kind = obs["kind"].astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)
    else:
        kind = np.full(n, "", dtype=object)
    unknown = ~np.isin(kind, list(table))
    if unknown.any():
        log.warning("layer 'obstructions': %d rows with a missing or unknown kind get the "
                    "'other' footprint (ids %s); kinds: %s.", int(unknown.sum()),
                    short_list(ids[unknown]), ", ".join(table))
        kind = kind.copy()
        kind[unknown] = "other"

    kind_s = pd.Series(kind, dtype=object)

    def per_kind(key: str, cast=float) -> np.ndarray:
        lut = {k: cast(v.get(key, table["other"].get(key))) for k, v in table.items()}
        return kind_s.map(lut).to_numpy()

    w = numbers(obs, "width_m")
    ln = numbers(obs, "length_m")
    height = numbers(obs, "height_m")
    w = np.where(np.isfinite(w) & (w > 0), w, per_kind("width_m") if n else w)
    ln = np.where(np.isfinite(ln) & (ln > 0), ln, per_kind("length_m") if n else ln)
    out = geoms.copy()
    tid = shapely.get_type_id(out)
    multi_pt = tid == 4
    if multi_pt.any():
        log.warning("layer 'obstructions': multipoints placed at their centroid (ids %s).",
                    short_list(ids[multi_pt]))
        out[multi_pt] = shapely.centroid(out[multi_pt])
        tid = shapely.get_type_id(out)
    pts = np.flatnonzero(tid == 0)
    if len(pts):
        p = out[pts]
        x, y = shapely.get_x(p), shapely.get_y(p)
        ux, uy = np.ones(len(pts)), np.zeros(len(pts))
        lines = lane_lines[~shapely.is_missing(lane_lines)] if len(lane_lines) else lane_lines
        if len(lines):
            # the nearest lane within reach (farther ones cannot be touched)
            reach = float(np.nanmax(np.hypot(w[pts], ln[pts]))) / 2.0 + _ORIENT_REACH_M
            a, b = index_pairs(shapely.STRtree(lines).query(p, predicate="dwithin", distance=reach))
            if len(a):
                dist = shapely.distance(p[a], lines[b])
                order = np.lexsort((dist, a))
                first = order[np.r_[True, a[order][1:] != a[order][:-1]]]
                a, b = a[first], b[first]
            s = shapely.line_locate_point(lines[b], p[a])
            _x, _y, tx, ty = point_and_tangent(lines, b, s)
            ux[a], uy[a] = tx, ty
        across = per_kind("orientation", str)[pts] == "across"
        ux, uy = np.where(across, -uy, ux), np.where(across, ux, uy)
        nx_, ny_ = -uy, ux
        hl, hw = ln[pts] / 2.0, w[pts] / 2.0
        corners = np.stack([
            np.column_stack([x - ux * hl - nx_ * hw, y - uy * hl - ny_ * hw]),
            np.column_stack([x + ux * hl - nx_ * hw, y + uy * hl - ny_ * hw]),
            np.column_stack([x + ux * hl + nx_ * hw, y + uy * hl + ny_ * hw]),
            np.column_stack([x - ux * hl + nx_ * hw, y - uy * hl + ny_ * hw]),
            np.column_stack([x - ux * hl - nx_ * hw, y - uy * hl - ny_ * hw]),
        ], axis=1)
        rect = shapely.polygons(corners)
        circle = per_kind("shape", str)[pts] == "circle"
        rect[circle] = shapely.buffer(p[circle], hw[circle], quad_segs=4)
        out[pts] = rect
    lin = np.flatnonzero(np.isin(tid, (1, 2, 5)))
    if len(lin):
        out[lin] = shapely.buffer(out[lin], w[lin] / 2.0, cap_style="flat")
    bad = np.isin(shapely.get_type_id(out), (0, 1, 2, 4, 5, 7)) & ~shapely.is_missing(out)
    if bad.any():
        log.warning("layer 'obstructions': geometries that are not areas after repair skipped "
                    "(ids %s).", short_list(ids[bad]))
        out[bad] = None
    has_h = np.isfinite(height)
    blocks = per_kind("blocks_width", bool) if n else np.zeros(0, bool)
    checks = per_kind("checks_height", bool) if n else np.zeros(0, bool)
    frees = per_kind("height_frees_width", bool) if n else np.zeros(0, bool)
    return {
        "geometry": out,
        "blocks": blocks & ~(frees & has_h) & ~shapely.is_missing(out),
        "checks": checks & has_h & ~shapely.is_missing(out),
        "needs_height": checks & ~has_h & ~blocks & ~shapely.is_missing(out),
        "height": height,
        "kind": kind,
        "ids": ids,
    }


def obstruction_footprints(
    obstructions: gpd.GeoDataFrame,
    lanes: gpd.GeoDataFrame | None = None,
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
) -> gpd.GeoSeries:
    """Footprint polygon of every obstruction, aligned on its index.

    Polygons are kept (invalid ones repaired); a point gets the default
    footprint of its kind from the rules (``footprints.<kind>``), or its own
    ``width_m`` / ``length_m``, turned along the nearest lane of ``lanes``
    (east–west without lanes).  Rows that cannot be used are None.
    """
    r = load_rules(rules)
    lines = np.zeros(0, dtype=object)
    if lanes is not None and len(lanes):
        lanes = align_crs(lanes, obstructions.crs, "fire_lanes")
        lines = prepare_lanes(lanes, r).line
    fp = footprints(obstructions, lines, r)
    return gpd.GeoSeries(fp["geometry"], index=obstructions.index, crs=obstructions.crs,
                         name="footprint")


# --------------------------------------------------------------------------
# clear width (public)


def clear_width(
    lanes: gpd.GeoDataFrame,
    obstacles: gpd.GeoDataFrame | gpd.GeoSeries | None,
    *,
    spacing: float | None = None,
    default_width: float | None = None,
    rules: Mapping[str, Any] | str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Clear width at stations every ``spacing`` m along each lane (default: the rule).

    ``lanes`` are centre lines with ``width_m`` (missing: ``default_width``,
    else the rule default) or lane polygons; ``obstacles`` are footprints
    (polygons; use :func:`obstruction_footprints` for point obstructions).
    Returns one row per station: ``lane`` (the lane's index label),
    ``chainage_m`` along the lane (part), ``width_m`` (the cross-section:
    design width, or the polygon's width there), ``clear_width_m`` (widest
    free run left after cutting out the obstacles) and ``obstacles`` (labels
    of the obstacles intruding, ``;``-separated; the ``id`` column where set).
    """
    check_metric(lanes, "fire_lanes")
    r = load_rules(rules)
    spacing = float(rule_value(r, "lane.station_spacing") if spacing is None else spacing)
    if not spacing > 0:
        raise AnalysisError(f"spacing must be a positive number of metres, not {spacing}.")
    if default_width is not None:
        r = _rules.deep_merge(r, {"lane": {"default_width": {"value": float(default_width)}}})
    pk = prepare_lanes(lanes, r)
    st = stations(pk, spacing, r)
    if obstacles is None:
        obs_geoms, obs_ids = np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    else:
        obstacles = align_crs(obstacles, lanes.crs, "obstacles")
        obs_ids = row_ids(obstacles)
        obs_geoms = repair(geometries(obstacles), obs_ids, "obstacles")
    tol = float(rule_value(r, "lane.width_tolerance"))
    clear, s, ob = measure_clear_width(st, obs_geoms, tol)
    labels = np.full(len(clear), "", dtype=object)
    if len(s):
        df = pd.DataFrame({"s": s, "o": obs_ids[ob]}).drop_duplicates()
        joined = df.groupby("s")["o"].agg(";".join)
        labels[joined.index.to_numpy()] = joined.to_numpy()
    return gpd.GeoDataFrame(
        {
            "lane": lanes.index.to_numpy()[pk.lane_pos[st["piece"]]],
            "chainage_m": st["chainage"],
            "width_m": st["section"],
            "clear_width_m": clear,
            "obstacles": labels,
        },
        geometry=st["point"],
        crs=lanes.crs,
    )


# --------------------------------------------------------------------------
# everything that narrows a lane


@dataclass
class Obstacles:
    """What narrows the lanes: footprints that block, parking spaces, buildings.

    ``geometry``, ``ids`` (``parking:<id>`` / ``building:<id>`` for those
    layers) and ``kind`` have one entry per obstacle; ``footprints`` is the
    full :func:`footprints` table of the obstructions (None without them).
    """

    geometry: np.ndarray
    ids: np.ndarray
    kind: np.ndarray
    footprints: dict[str, np.ndarray] | None


def collect_obstacles(pk: LanePieces, obstructions: gpd.GeoDataFrame | None,
                      parking: gpd.GeoDataFrame | None, buildings: gpd.GeoDataFrame | None,
                      r: Mapping[str, Any]) -> Obstacles:
    """The obstacles of the clear width, layers already in the lanes' CRS.

    Obstruction footprints that block the width, parking spaces (areas)
    whose kind is in ``parking.obstructing_kinds`` (or without a kind, when
    ``parking.missing_kind_obstructs``) and buildings (areas).
    """
    ob_geoms, ob_ids, ob_kind = [], [], []
    fp = None
    if obstructions is not None and len(obstructions):
        fp = footprints(obstructions, pk.line, r)
        ob_geoms.append(fp["geometry"][fp["blocks"]])
        ob_ids.append(fp["ids"][fp["blocks"]])
        ob_kind.append(fp["kind"][fp["blocks"]])
    else:
        log.info("no obstructions layer: the clear width counts parking and buildings only.")
    if parking is not None and len(parking):
        pids = row_ids(parking)
        pg = repair(geometries(parking), pids, "parking")
        kinds = parking["kind"].astype("string").str.lower().fillna("").to_numpy(dtype=object) \
            if "kind" in parking.columns else np.full(len(parking), "", dtype=object)
        cfg = r.get("parking", {})
        obstructing = np.isin(kinds, list(cfg.get("obstructing_kinds", [])))
        if cfg.get("missing_kind_obstructs", True):
            obstructing |= kinds == ""
        areal = np.isin(shapely.get_type_id(pg), (3, 6))
        sel = obstructing & areal
        ob_geoms.append(pg[sel])
        ob_ids.append(np.array([f"parking:{i}" for i in pids[sel]], dtype=object))
        ob_kind.append(np.full(int(sel.sum()), "parking", dtype=object))
    if buildings is not None and len(buildings):
        bids = row_ids(buildings)
        bg = repair(geometries(buildings), bids, "buildings")
        sel = np.isin(shapely.get_type_id(bg), (3, 6))
        ob_geoms.append(bg[sel])
        ob_ids.append(np.array([f"building:{i}" for i in bids[sel]], dtype=object))
        ob_kind.append(np.full(int(sel.sum()), "building", dtype=object))
    empty = np.zeros(0, dtype=object)
    return Obstacles(np.concatenate(ob_geoms) if ob_geoms else empty,
                     np.concatenate(ob_ids) if ob_ids else empty,
                     np.concatenate(ob_kind) if ob_kind else empty, fp)
