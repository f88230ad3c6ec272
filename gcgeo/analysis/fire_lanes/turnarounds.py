"""Dead ends of the lane network and the turnarounds they need (GB 50016-2014 §7.1.9).

A lane end that joins neither another lane nor a drivable street is a dead
end; it needs a turnaround in which a square of the required side fits
(largest inscribed square, tested exactly for a set of orientations).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity

from ...layers.buildings import residential_mask
from ...values import to_bool
from .centreline import LanePieces, prepare_lanes
from .inputs import (
    align_crs,
    check_metric,
    geometries,
    index_pairs,
    load_rules,
    numbers,
    repair,
    row_ids,
    rule_clause,
    rule_value,
    short_list,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# dead ends and turnarounds


def drivable_streets(streets: gpd.GeoDataFrame | None, r: Mapping[str, Any]) -> np.ndarray:
    """Geometries of the streets a fire engine can use (``streets.not_drivable`` kinds left out)."""
    if streets is None or len(streets) == 0:
        return np.zeros(0, dtype=object)
    geoms = repair(geometries(streets), row_ids(streets), "streets")
    if "kind" in streets.columns:
        banned = {str(k).lower() for k in r.get("streets", {}).get("not_drivable", [])}
        kind = streets["kind"].astype("string").str.lower().fillna("").to_numpy(dtype=object)
        geoms = geoms[~np.isin(kind, list(banned))]
    return geoms[~shapely.is_missing(geoms)]


def find_dead_ends(pk: LanePieces, streets: np.ndarray, r: Mapping[str, Any],
                   exclude_lane: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Piece ends joining neither another lane nor one of ``streets`` (see :func:`dead_ends`).

    ``exclude_lane`` (per lane row) leaves those lanes' ends out.  Arrays, one
    entry per dead end: ``piece``, ``end`` (0 start, 1 end) and ``point``.
    """
    tol = float(rule_value(r, "lane.snap_tolerance"))
    join = float(rule_value(r, "lane.street_join_distance"))
    n = len(pk.line)
    if n == 0:
        return {"piece": np.zeros(0, int), "end": np.zeros(0, int),
                "point": np.zeros(0, dtype=object)}
    pts = np.concatenate([shapely.get_point(pk.line, 0), shapely.get_point(pk.line, -1)])
    piece = np.concatenate([np.arange(n), np.arange(n)])
    end = np.r_[np.zeros(n, int), np.ones(n, int)]
    free = ~np.concatenate([shapely.is_closed(pk.line)] * 2)
    if exclude_lane is not None:
        free &= ~exclude_lane[pk.lane_pos[piece]]
    i, m = index_pairs(shapely.STRtree(pk.area).query(pts, predicate="dwithin", distance=tol))
    joined = np.zeros(len(pts), bool)
    other = m != piece[i]
    joined[i[other]] = True
    if len(streets):
        # a street joins the end when a stretch of it longer than the snap
        # tolerance lies near the end but off the lane's own surface (widened
        # sideways only), so a street drawn along the lane itself does not count
        is_p = np.array([g is not None for g in pk.poly], dtype=bool)
        half = np.where(is_p, 0.0, np.nan_to_num(pk.width) / 2.0)
        if is_p.any():
            a = shapely.area(pk.poly[is_p].astype(object))
            half[is_p] = a / shapely.length(pk.poly[is_p].astype(object))  # mean width / 2
        zone = shapely.buffer(pts, join + half[piece], quad_segs=4)
        i2, m2 = index_pairs(shapely.STRtree(streets).query(zone, predicate="intersects"))
        keep = free[i2] & ~joined[i2]
        i2, m2 = i2[keep], m2[keep]
        if len(i2):
            own_line = shapely.buffer(pk.line, np.nan_to_num(pk.width) / 2.0 + tol,
                                      cap_style="flat")
            if is_p.any():
                own_line[is_p] = shapely.buffer(pk.poly[is_p].astype(object), tol)
            beyond = shapely.difference(streets[m2], own_line[piece[i2]])
            hit = shapely.length(shapely.intersection(zone[i2], beyond)) > tol
            joined[i2[hit]] = True
    dead = free & ~joined
    return {"piece": piece[dead], "end": end[dead], "point": pts[dead]}


def dead_ends(
    lanes: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame | None = None,
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Ends of the lane network that join neither another lane nor a drivable street.

    A lane end joins another lane when it lies within ``lane.snap_tolerance``
    of that lane's surface; it joins a street when a drivable street (kinds
    in ``streets.not_drivable`` excluded) passes within
    ``lane.street_join_distance`` of it outside the lane's own surface (so a
    street drawn along the lane itself does not count).  Lanes with
    ``dead_end`` false are left out.  Returns points with ``lane`` (index
    label), ``lane_id`` and ``end`` ("start" / "end").
    """
    check_metric(lanes, "fire_lanes")
    r = load_rules(rules)
    pk = prepare_lanes(lanes, r)
    streets = align_crs(streets, lanes.crs, "streets")
    de = find_dead_ends(pk, drivable_streets(streets, r), r, marked_not_dead_end(lanes))
    pos = pk.lane_pos[de["piece"]]
    return gpd.GeoDataFrame(
        {"lane": lanes.index.to_numpy()[pos], "lane_id": pk.lane_ids[pos],
         "end": np.where(de["end"] == 0, "start", "end")},
        geometry=de["point"], crs=lanes.crs,
    )


def marked_not_dead_end(lanes: gpd.GeoDataFrame) -> np.ndarray:
    """Per lane, whether its ``dead_end`` says no (unreadable values warn and count as yes)."""
    if "dead_end" not in lanes.columns:
        return np.zeros(len(lanes), bool)
    flag, bad = to_bool(lanes["dead_end"])
    if bad.any():
        ids = row_ids(lanes)[bad.to_numpy(dtype=bool)]
        vals = lanes["dead_end"][bad].astype(str).unique()
        log.warning("layer 'fire_lanes': dead_end values %s cannot be read as yes/no (ids %s); "
                    "those lane ends are checked as dead ends. Use 是/否, yes/no or 1/0.",
                    short_list(vals, 5), short_list(ids))
    return (~flag).fillna(False).to_numpy(dtype=bool)


def _orientations(poly: shapely.Geometry) -> list[float]:
    """Angles (degrees, 0–90) to try: the longest edges' directions and every 15°."""
    coords = shapely.get_coordinates(shapely.get_exterior_ring(poly))
    d = np.diff(coords, axis=0)
    ln = np.hypot(d[:, 0], d[:, 1])
    ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 90.0
    order = np.argsort(-ln)[:6]
    angles = {round(float(a), 1) % 90.0 for a in ang[order]}
    angles.update(float(a) for a in range(0, 90, 15))
    return sorted(angles)


class _SquareTest:
    """Exact fit test of a square in one polygon, for several orientations at once.

    In a frame turned so the square is axis-aligned, a square centred at c
    lies in P iff c is in P and not in the Minkowski sum of P's boundary with
    the square, i.e. the union of the convex hulls of every boundary edge
    swept by the square.  All orientations are evaluated in one vectorised
    shapely call; the last orientation that fitted is tried first.
    """

    def __init__(self, poly: shapely.Polygon) -> None:
        c = poly.centroid
        base = affinity.translate(poly, -c.x, -c.y)
        self.angles = np.array(_orientations(base))
        rings = [base.exterior, *base.interiors]
        p = np.concatenate([np.asarray(r.coords)[:-1, :2] for r in rings])
        q = np.concatenate([np.asarray(r.coords)[1:, :2] for r in rings])
        th = -np.radians(self.angles)
        rot = np.stack([np.stack([np.cos(th), -np.sin(th)], -1),
                        np.stack([np.sin(th), np.cos(th)], -1)], -2)  # (A, 2, 2)
        self.p = np.einsum("aij,ej->aei", rot, p)
        self.q = np.einsum("aij,ej->aei", rot, q)
        self.polys = np.array([affinity.rotate(base, -a, origin=(0, 0)) for a in self.angles],
                              dtype=object)
        self.best = 0
        # bounds from the largest inscribed circle: a square of side s holds a
        # disc of radius s/2 and lies in one of radius s/√2
        tol = max(1e-3, math.sqrt(poly.area) / 1000.0)
        circle = shapely.maximum_inscribed_circle(poly, tol)
        r = circle.length
        self.low = r * math.sqrt(2.0)
        self.high = min(2.0 * (r + tol), math.sqrt(poly.area))

    def _fits(self, idx: np.ndarray, side: float) -> np.ndarray:
        h = side / 2.0
        offs = np.array([[-h, -h], [h, -h], [h, h], [-h, h]])
        pts = np.concatenate([self.p[idx][:, :, None, :] + offs,
                              self.q[idx][:, :, None, :] + offs], axis=2)
        k, e = pts.shape[:2]
        hulls = shapely.convex_hull(shapely.multipoints(pts.reshape(k * e, 8, 2)))
        cover = shapely.union_all(hulls.reshape(k, e), axis=1)
        free = shapely.difference(self.polys[idx], cover)
        return shapely.area(free) > 1e-9

    def fits(self, side: float) -> bool:
        if side <= self.low:
            return True
        if side >= self.high:
            return False
        if self._fits(np.array([self.best]), side)[0]:
            return True
        rest = np.flatnonzero(np.arange(len(self.angles)) != self.best)
        ok = self._fits(rest, side)
        if ok.any():
            self.best = int(rest[np.argmax(ok)])
            return True
        return False


def _polygons(geom: shapely.Geometry) -> list[shapely.Polygon]:
    if geom is None or geom.is_empty:
        return []
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]


def turnaround_ok(polygon: shapely.Geometry, side: float, *, tolerance: float = 0.05) -> bool:
    """True when a square of ``side`` m (less ``tolerance``) fits in ``polygon``.

    The test is exact for each orientation tried: the polygon's longest edge
    directions and every 15°.

    >>> turnaround_ok(shapely.box(0, 0, 12, 12), 12.0)
    True
    >>> turnaround_ok(shapely.box(0, 0, 10, 10), 12.0)
    False
    """
    target = side - tolerance
    if target <= 0:
        return True
    return any(p.area >= target * target and _SquareTest(p).fits(target)
               for p in _polygons(polygon))


def largest_inscribed_square(polygon: shapely.Geometry, *, precision: float = 0.01) -> float:
    """Side (m) of the largest square that fits in ``polygon``, to ``precision``.

    Bisection on the exact fit test of :func:`turnaround_ok` over the
    orientations it tries (longest edges, every 15°), between the bounds the
    largest inscribed circle gives (r√2 ≤ side ≤ 2r).

    >>> round(largest_inscribed_square(shapely.box(0, 0, 12, 20)), 1)
    12.0
    """
    best = 0.0
    for poly in sorted(_polygons(polygon), key=lambda g: -g.area):
        test = _SquareTest(poly)
        lo, hi = max(best, test.low), test.high + precision
        if hi <= best:
            continue
        while hi - lo > precision:
            mid = (lo + hi) / 2.0
            if test.fits(mid):
                lo = mid
            else:
                hi = mid
        best = max(best, lo)
    return best


def _building_heights(b: gpd.GeoDataFrame, r: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    height = numbers(b, "height_m")
    floors = numbers(b, "floors")
    est = ~np.isfinite(height) & np.isfinite(floors)
    height = np.where(est, floors * float(rule_value(r, "high_rise.floor_height")), height)
    mask, how = residential_mask(b)
    if how.startswith("every building"):
        # nothing tells homes from other buildings: the stricter (lower) limit applies
        log.info("buildings have no use or residential column; high-rise means above %.0f m.",
                 float(rule_value(r, "high_rise.other_height")))
        residential = np.zeros(len(b), bool)
    else:
        residential = mask.to_numpy(dtype=bool)
    limit = np.where(residential, float(rule_value(r, "high_rise.residential_height")),
                     float(rule_value(r, "high_rise.other_height")))
    return height, np.isfinite(height) & (height > limit)



def _required_side(lines: np.ndarray, buildings: gpd.GeoDataFrame | None,
                   high_rise: bool | None, r: Mapping[str, Any]) -> np.ndarray:
    """Per dead end (its piece's centre line), the rule key of the turnaround side it needs."""
    n = len(lines)
    heavy = bool(r.get("turnaround", {}).get("heavy", {}).get("applies", False))
    if heavy:
        key = np.full(n, "turnaround.heavy", dtype=object)
    elif high_rise is not None:
        key = np.full(n, "turnaround.high_rise" if high_rise else "turnaround.standard",
                      dtype=object)
    else:
        key = np.full(n, "turnaround.standard", dtype=object)
        if buildings is not None and len(buildings):
            _, tall = _building_heights(buildings, r)
            if tall.any():
                tall_geoms = geometries(buildings)[tall]
                dist = float(rule_value(r, "high_rise.search_distance"))
                i, _j = index_pairs(shapely.STRtree(tall_geoms).query(
                    lines, predicate="dwithin", distance=dist))
                key[np.unique(i)] = "turnaround.high_rise"
        else:
            log.info("no buildings layer: dead ends are checked for the 12 m turnaround; pass "
                     "high_rise=True where high-rise buildings are served.")
    return key


def turnaround_findings(de: Mapping[str, np.ndarray], pk: LanePieces, r: Mapping[str, Any],
                        obstacles: np.ndarray, obstacle_ids: np.ndarray,
                        turnarounds: gpd.GeoDataFrame | None, buildings: gpd.GeoDataFrame | None,
                        high_rise: bool | None) -> list[tuple[pd.DataFrame, np.ndarray]]:
    """no_turnaround findings at the dead ends ``de`` (from :func:`find_dead_ends`).

    The turnaround is the lane's surface and the ``turnarounds`` areas it
    touches, within ``turnaround.search_radius`` of the end, minus the
    ``obstacles`` standing on it; a finding (one-row frame and its point)
    for each end where no square of the required side fits.
    """
    if len(de["piece"]) == 0:
        return []
    tol_sq = float(rule_value(r, "turnaround.tolerance"))
    radius = float(rule_value(r, "turnaround.search_radius"))
    snap = float(rule_value(r, "lane.snap_tolerance"))
    pts = de["point"]
    pieces = de["piece"]
    n = len(pts)
    key = _required_side(pk.line[pieces], buildings, high_rise, r)
    turn_geoms = np.zeros(0, dtype=object)
    if turnarounds is not None and len(turnarounds):
        turn_geoms = repair(geometries(turnarounds), row_ids(turnarounds), "turnarounds")
        turn_geoms = turn_geoms[np.isin(shapely.get_type_id(turn_geoms), (3, 6))]
    half = np.where(np.isfinite(pk.width[pieces]), pk.width[pieces] / 2.0, 0.0)
    reach = shapely.buffer(pts, snap + half, quad_segs=4)
    t_i, t_j = (index_pairs(shapely.STRtree(turn_geoms).query(reach, predicate="intersects"))
                if len(turn_geoms) else (np.zeros(0, int), np.zeros(0, int)))
    disks = shapely.buffer(pts, radius, quad_segs=8)
    ob_tree = shapely.STRtree(obstacles) if len(obstacles) else None
    out: list[tuple[pd.DataFrame, np.ndarray]] = []
    for k in range(n):
        parts = [pk.area[pieces[k]], *turn_geoms[t_j[t_i == k]]]
        cand = shapely.intersection(shapely.union_all(parts), disks[k])
        blockers = np.zeros(0, int)
        if ob_tree is not None:
            blockers = index_pairs(ob_tree.query(np.array([cand]), predicate="intersects"))[1]
            blockers = blockers[shapely.area(shapely.intersection(obstacles[blockers], cand)) > 1e-6] \
                if len(blockers) else blockers
            if len(blockers):
                cand = shapely.difference(cand, shapely.union_all(obstacles[blockers]))
        cand = shapely.simplify(cand, tol_sq / 4.0)
        side = float(rule_value(r, key[k]))
        if turnaround_ok(cand, side, tolerance=tol_sq):
            continue
        measured = largest_inscribed_square(cand)
        p = pk.lane_pos[pieces[k]]
        line = pk.line[pieces[k]]
        at = 0.0 if de["end"][k] == 0 else float(line.length)
        out.append((pd.DataFrame([{
            "lane_id": pk.lane_ids[p], "kind": "no_turnaround", "measured": round(measured, 2),
            "required": side, "unit": "m", "clause": rule_clause(r, key[k]),
            "obstruction_ids": ";".join(obstacle_ids[blockers]) if len(blockers) else "",
            "obstruction_kinds": "", "from_m": at, "to_m": at,
            "severity": str(r.get("severity", {}).get("no_turnaround", "medium")),
            "note": ("side of the largest square that fits in the turnaround"
                     + (" (high-rise)" if key[k] == "turnaround.high_rise" else "")),
            "_lane": p,
        }]), np.array([pts[k]], dtype=object)))
    return out
