"""Walks on the synthetic town's street grid, worked out by construction (no graph search).

Every walkable street of the town lies on the lattice of
:data:`~.layout.BLOCK_M` and the lattice is complete, so the shortest walk
between two grid nodes is their Manhattan distance (the expressway is not
walkable; footpaths are dead-end spurs that shorten nothing).  A point beside
a street reaches it straight, at the foot of the perpendicular on the
nearest grid line (its connector); from a foot the walk leaves by either end
of its block edge.  A named home stands at the end of its footpath, so its
walk is the footpath to its grid node, then the lattice.

:func:`walks_to_nearest` gives, for every residential building, the walk to
the nearest of some points: the answers of the checks that ask what lies
within a walk of every home (garbage sorting points, e-bike charging).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from .features import Builder
from .layout import BLOCK_M, Town

XY = tuple[float, float]


def foot(town: Town, x: float, y: float) -> tuple[XY, float]:
    """The nearest point of the street grid to town point ``(x, y)``, and the distance to it."""
    B = BLOCK_M
    gx = min(max(round(x / B), 0), town.nx) * B
    gy = min(max(round(y / B), 0), town.ny) * B
    cx, cy = min(max(x, 0.0), town.width), min(max(y, 0.0), town.height)
    on_v = ((gx, cy), math.hypot(x - gx, y - cy))  # on the vertical street x = gx
    on_h = ((cx, gy), math.hypot(x - cx, y - gy))  # on the horizontal street y = gy
    if abs(on_v[1] - on_h[1]) < 1e-6 and on_v[0] != on_h[0]:
        raise AssertionError(f"({x}, {y}) is as near two streets; the layout is ambiguous")
    return on_v if on_v[1] < on_h[1] else on_h


def _ends(p: XY) -> list[XY]:
    """The grid nodes at the ends of the block edge ``p`` lies on (``p`` itself at a node)."""
    B = BLOCK_M
    x, y = p
    if x % B == 0 and y % B == 0:
        return [p]
    if x % B == 0:
        return [(x, math.floor(y / B) * B), (x, math.ceil(y / B) * B)]
    return [(math.floor(x / B) * B, y), (math.ceil(x / B) * B, y)]


def lattice(a: XY, b: XY) -> float:
    """The walk between two points of the street grid."""
    same_v = a[0] == b[0] and a[0] % BLOCK_M == 0 and math.floor(a[1] / BLOCK_M) == math.floor(b[1] / BLOCK_M)
    same_h = a[1] == b[1] and a[1] % BLOCK_M == 0 and math.floor(a[0] / BLOCK_M) == math.floor(b[0] / BLOCK_M)
    if same_v or same_h:
        return abs(a[0] - b[0]) + abs(a[1] - b[1])
    return min(abs(a[0] - ea[0]) + abs(a[1] - ea[1]) + abs(ea[0] - eb[0]) + abs(ea[1] - eb[1])
               + abs(eb[0] - b[0]) + abs(eb[1] - b[1]) for ea in _ends(a) for eb in _ends(b))


def _town_xy(bld: Builder, geom: shapely.Geometry) -> XY:
    c = geom.centroid
    return (round(c.x - bld.ox, 6), round(c.y - bld.oy, 6))


def check_clear_of_footpaths(bld: Builder, town: Town, points: list[XY]) -> None:
    """Refuse points nearer a footpath than the street grid (they would be snapped onto it)."""
    paths = [shapely.affinity.translate(r["geometry"], -bld.ox, -bld.oy)
             for r in bld.rows["streets"] if r.get("kind") == "footway"]
    tree = shapely.STRtree(paths)
    for p in points:
        _, c = foot(town, *p)
        near = tree.query(shapely.Point(p), predicate="dwithin", distance=c)
        if len(near):
            raise AssertionError(f"point {p} is nearer a footpath than a street; the layout is wrong")


def walks_to_nearest(bld: Builder, town: Town, homes: dict[str, dict[str, Any]],
                     points: list[XY]) -> dict[str, float]:
    """Residential building id → its walk to the nearest of ``points`` (town coordinates).

    A building's walk starts at the centre of its footprint (a point inside
    it, as gcgeo takes homes), straight to the nearest street; a named home
    (``homes``) starts at the end of its footpath.  Infinite without points.
    """
    check_clear_of_footpaths(bld, town, points)
    feet = [foot(town, *p) for p in points]
    starts = {row["id"]: _town_xy(bld, row["geometry"]) for row in bld.rows["buildings"]
              if row.get("use") == "residential" and row["id"] not in homes}
    check_clear_of_footpaths(bld, town, list(starts.values()))
    nodes = {town.node_id(i, j): (i * BLOCK_M, j * BLOCK_M)
             for j in range(town.ny + 1) for i in range(town.nx + 1)}
    out: dict[str, float] = {}
    for row in bld.rows["buildings"]:
        if row.get("use") != "residential":
            continue
        bid = row["id"]
        if bid in homes:
            start, access = nodes[homes[bid]["grid_node"]], float(homes[bid]["access_m"])
        else:
            start, access = foot(town, *starts[bid])
        out[bid] = access + min((lattice(start, f) + c for f, c in feet), default=np.inf)
    return out
