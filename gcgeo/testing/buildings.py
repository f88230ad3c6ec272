"""The synthetic town's buildings, their residents, named homes and the communities.

Every residential block holds four slab buildings (60 × 14 m, at block-local
x 30–90 / 110–170 and y 38–52 / 130–144); the B4 slot of block
:data:`~.layout.B_COMMERCIAL` is a shop building.  Storeys are drawn (4–6 in
old estates, 6–18 elsewhere); households are six per floor and residents
households × the community's people per household.  A named home is the B1
building of a drawn block, with a footpath from the block's south-west node to
its centroid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .features import Builder
from .layout import B_COMMERCIAL, BLOCK_M, BLOCKS_PER_SIDE, Rect, Town
from .streets import add_footpath

# Block-local layout (metres from the block's south-west street node).
_BUILDING_SLOTS = {
    "B1": (30.0, 38.0, 90.0, 52.0),
    "B2": (110.0, 38.0, 170.0, 52.0),
    "B3": (30.0, 130.0, 90.0, 144.0),
    "B4": (110.0, 130.0, 170.0, 144.0),
}
_HH_PER_FLOOR = 6
_FLOOR_HEIGHT_M = 3.0


@dataclass
class Buildings:
    """What placing the buildings established.

    ``communities`` — community id → its truth so far (name, street office,
    area, population, households, building counts, flags); ``homes`` — named
    home id → ``node``, ``grid_node``, ``access_m``, ``community``; ``rects``
    — building id → its rectangle in town coordinates.
    """

    communities: dict[str, dict[str, Any]]
    homes: dict[str, dict[str, Any]]
    rects: dict[str, Rect]


def add_buildings(rng: np.random.Generator, bld: Builder, town: Town, n_homes: int) -> Buildings:
    """Add the buildings of every non-green block and the footpaths to ``n_homes`` named homes.

    Draws from ``rng``: the blocks of the named homes, then each building's storeys.
    """
    B, K = BLOCK_M, BLOCKS_PER_SIDE
    res_blocks = town.residential_blocks
    names, com_ids = town.names, town.ids
    truth_com: dict[str, dict[str, Any]] = {}
    home_blocks = set(map(tuple, [res_blocks[k] for k in
                                  rng.choice(len(res_blocks), size=n_homes, replace=False)]))
    homes: dict[str, dict[str, Any]] = {}
    building_rects: dict[str, Rect] = {}
    for c in range(town.n_communities):
        pop, hh, n_b, n_res = 0.0, 0, 0, 0
        for bj in range(K):
            for bi in range(K):
                if (bi, bj) == (1, 1):
                    continue
                x0, y0 = town.block_origin(c, bi, bj)
                for slot, r in _BUILDING_SLOTS.items():
                    rect = bld.box(x0, y0, r)
                    bid = bld.next_id("B", 4)
                    n_b += 1
                    commercial = (bi, bj) == B_COMMERCIAL and slot == "B4"
                    if commercial:
                        floors = int(rng.integers(2, 5))
                        bld.add("buildings", id=bid, name=f"{names[c][:-2]}商业楼", use="commercial",
                                residential=False, floors=floors,
                                height_m=floors * 4.5, population=0.0,
                                geometry=bld.poly(rect))
                    else:
                        old = town.old_estate[c]
                        floors = int(rng.integers(4, 7) if old else rng.integers(6, 19))
                        people = floors * _HH_PER_FLOOR * float(town.people_per_household[c])
                        n_res += 1
                        pop += people
                        hh += floors * _HH_PER_FLOOR
                        bld.add("buildings", id=bid,
                                name=f"{names[c][:-2]}小区{n_res}号楼", use="residential",
                                residential=True, floors=floors,
                                height_m=floors * _FLOOR_HEIGHT_M, population=people,
                                geometry=bld.poly(rect))
                    building_rects[bid] = rect
                    if slot == "B1" and (c, bi, bj) in home_blocks:
                        homes[bid] = _home(bld, town, rect, x0, y0, com_ids[c])
        truth_com[com_ids[c]] = {
            "name": names[c], "street_office": town.offices[c], "area_m2": (K * B) ** 2,
            "population": round(pop), "households": int(hh), "n_buildings": n_b,
            "n_residential": n_res, "old_estate": bool(town.old_estate[c]),
            "property_managed": bool(town.managed[c]),
        }
    return Buildings(communities=truth_com, homes=homes, rects=building_rects)


def _home(bld: Builder, town: Town, rect: Rect, x0: float, y0: float,
          community: str) -> dict[str, Any]:
    """A footpath from the block's south-west node to the building's centroid; its truth."""
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    gi, gj = round(x0 / BLOCK_M), round(y0 / BLOCK_M)
    nid = add_footpath(bld, town, (x0, y0), (cx, cy), gi, gj, None)
    return {"node": nid, "grid_node": town.node_id(gi, gj),
            "access_m": math.hypot(cx - x0, cy - y0), "community": community}


def add_communities(bld: Builder, town: Town, communities: dict[str, dict[str, Any]]) -> None:
    """Add the community squares, with population and households summed from their buildings."""
    for c in range(town.n_communities):
        t = communities[town.ids[c]]
        bld.add("communities", id=town.ids[c], name=town.names[c], street_office=town.offices[c],
                population=t["population"], households=t["households"],
                old_estate=bool(town.old_estate[c]), property_managed=bool(town.managed[c]),
                source="gcgeo.testing", geometry=bld.poly(town.community_rects[c]))
