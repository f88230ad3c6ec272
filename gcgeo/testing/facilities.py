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

# The categories whose facilities are drawn from the county's shared generator,
# in the order they always were (culture_station takes the draws of the former
# single `culture` category).  Categories added to the rules since draw from a
# generator of their own, so every other layer of a county stays as it was.
_SHARED_DRAWS = ("kindergarten", "primary_school", "middle_school", "health", "pharmacy",
                 "supermarket", "market", "elderly_care", "community_service", "sports",
                 "culture_station", "bus_stop", "other")
_OWN_STREAM = 0xFAC  # spawn key of the generator for the other categories


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
    per category of ``_SHARED_DRAWS`` the count, nodes and name of each
    facility.  The other categories draw the same from a generator seeded by
    ``rng``'s seed sequence (read, not drawn from), so adding a category leaves
    the rest of the county unchanged.
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
    own = _own_generator(rng)
    later = [c for c in labels if c not in _SHARED_DRAWS and c != "park"]
    for cat in [*(c for c in _SHARED_DRAWS if c in labels), *later]:
        g = rng if cat in _SHARED_DRAWS else own
        n = 1 if cat == "middle_school" else int(g.integers(1, 4))
        picks = g.choice((nx + 1) * (ny + 1), size=n, replace=False)
        for p in sorted(int(q) for q in picks):
            i, j = p % (nx + 1), p // (nx + 1)
            fid = bld.next_id("F")
            bld.add("facilities", id=fid, name=f"{g.choice(_PLACE_PREFIXES)}{labels[cat]}",
                    category=cat, geometry=bld.point(i * B, j * B))
            fac_nodes.setdefault(cat, []).append((fid, i, j))
    for h in homes.values():
        _walk_to_facilities(h, fac_nodes, nx)
    return {cat: len(v) for cat, v in fac_nodes.items()}


def _own_generator(rng: np.random.Generator) -> np.random.Generator:
    """A generator determined by ``rng``'s seed that draws nothing from ``rng``."""
    seq = rng.bit_generator.seed_seq
    if not isinstance(seq, np.random.SeedSequence):  # generators gcgeo makes are seeded so
        raise TypeError("the county's generator must be seeded with a SeedSequence")
    return np.random.default_rng(np.random.SeedSequence(
        entropy=seq.entropy, spawn_key=(*seq.spawn_key, _OWN_STREAM)))


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
