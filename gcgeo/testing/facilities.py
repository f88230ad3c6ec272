"""The synthetic town's living-circle facilities and the walking distances to them.

Facilities stand on grid nodes (those of category ``park`` where a green
block's footpath starts), so a named home's walking distance to any of them
is its footpath plus a whole number of blocks: the Manhattan distance on the
grid, which the expressway (not walkable) and the dead-end footpaths cannot
shorten.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import rules as _rules
from .features import Builder
from .layout import BLOCK_M, Town

_PLACE_PREFIXES = ("鱼邱湖", "金城", "新华", "光明", "南湖", "府前", "人和", "振兴", "育英",
                   "鼓楼", "清平", "双海")


@functools.lru_cache(maxsize=1)
def category_labels() -> dict[str, str]:
    """Facility category → its Chinese label (the first of the rules' ``label_zh``)."""
    cats = _rules.load("living_circle")["categories"]
    return {k: str(v.get("label_zh", k)).split("/")[0] for k, v in cats.items()}


def add_facilities(rng: np.random.Generator, bld: Builder, town: Town, park_names: list[str],
                   homes: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Add facilities of every living-circle category on grid nodes; category → number placed.

    One to three communities' parks get a ``park`` facility (named
    ``park_names[c]``) where their footpath starts; every other category gets
    one to three facilities on drawn nodes (``middle_school`` exactly one).
    Adds ``dist_m`` and ``nearest`` (category → distance, → ids at that
    distance) to each entry of ``homes``.  Draws from ``rng``: the parks, then
    per category the count, nodes and name of each facility.
    """
    B, nx, ny = BLOCK_M, town.nx, town.ny
    labels = category_labels()
    fac_nodes: dict[str, list[tuple[str, int, int]]] = {}
    park_entries = sorted(int(q) for q in rng.choice(
        town.n_communities, size=min(town.n_communities, int(rng.integers(1, 4))), replace=False))
    for c in park_entries:  # "park" facilities sit where a green block's footpath starts
        x0, y0 = town.block_origin(c, 1, 1)
        i, j = round(x0 / B), round(y0 / B)
        fid = bld.next_id("F")
        bld.add("facilities", id=fid, name=park_names[c], category="park",
                geometry=bld.point(i * B, j * B))
        fac_nodes.setdefault("park", []).append((fid, i, j))
    for cat in labels:
        if cat == "park":
            continue
        n = 1 if cat == "middle_school" else int(rng.integers(1, 4))
        picks = rng.choice((nx + 1) * (ny + 1), size=n, replace=False)
        for p in sorted(int(q) for q in picks):
            i, j = p % (nx + 1), p // (nx + 1)
            fid = bld.next_id("F")
            bld.add("facilities", id=fid, name=f"{rng.choice(_PLACE_PREFIXES)}{labels[cat]}",
                    category=cat, geometry=bld.point(i * B, j * B))
            fac_nodes.setdefault(cat, []).append((fid, i, j))
    for h in homes.values():
        _walk_to_facilities(h, fac_nodes, nx)
    return {cat: len(v) for cat, v in fac_nodes.items()}


def _walk_to_facilities(home: dict[str, Any], fac_nodes: dict[str, list[tuple[str, int, int]]],
                        nx: int) -> None:
    """Set the home's ``dist_m`` and ``nearest``: its footpath plus whole blocks on the grid."""
    gi, gj = home["grid_node"] % (nx + 1), home["grid_node"] // (nx + 1)
    dist, nearest = {}, {}
    for cat, places in fac_nodes.items():
        steps = [abs(i - gi) + abs(j - gj) for _, i, j in places]
        best = min(steps)
        dist[cat] = home["access_m"] + best * BLOCK_M
        nearest[cat] = [fid for (fid, _, _), s in zip(places, steps) if s == best]
    home["dist_m"] = dist
    home["nearest"] = nearest
