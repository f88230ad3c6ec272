"""The synthetic town's green space and the green areas an analysis should find.

The centre block of every community holds a public park (a square of drawn
side with a footpath to its centre).  Special blocks hold two overlapping
rectangles, a square crossing into the next community and a 6 m strip; some
free residential blocks get a pocket park.  All green polygons are axis-aligned
rectangles, so their union areas per community are computed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .features import Builder
from .layout import (
    B_CROSSING_LEFT,
    B_PAIR,
    B_STRIP,
    BLOCK_M,
    SPECIAL_BLOCKS,
    Rect,
    Town,
    rect_area,
    rect_clip,
    union_area_in,
)
from .streets import add_footpath

# Block-local layout (metres from the block's south-west street node).
_POCKET_SLOT = (115.0, 60.0, 165.0, 84.0)
_STRIP = (20.0, 150.0, 180.0, 156.0)  # 6 m wide
_PAIR = ((20.0, 100.0, 80.0, 125.0), (50.0, 105.0, 110.0, 125.0))
_PARK_KINDS = ("park", "community_park", "garden", "square")
_PARK_ZH = {"park": "公园", "community_park": "社区公园", "garden": "游园", "square": "广场"}


@dataclass
class GreenSpace:
    """What placing the green space established.

    ``truth`` — the ``green`` entry of :attr:`SyntheticCounty.truth
    <gcgeo.testing.SyntheticCounty.truth>`; ``park_names`` — the name of each
    community's park, by community number.
    """

    truth: dict[str, Any]
    park_names: list[str]


class _Green:
    """The green polygons placed so far: (id, rectangle, public, least width)."""

    def __init__(self, bld: Builder) -> None:
        self.bld = bld
        self.placed: list[tuple[str, Rect, bool, float]] = []

    def add(self, rect: Rect, kind: str, public: bool, name: str) -> str:
        gid = self.bld.next_id("G")
        self.bld.add("green_space", id=gid, name=name, kind=kind, public=public,
                     geometry=self.bld.poly(rect))
        self.placed.append((gid, rect, public, min(rect[2] - rect[0], rect[3] - rect[1])))
        return gid


def add_green_space(rng: np.random.Generator, bld: Builder, town: Town,
                    communities: dict[str, dict[str, Any]]) -> GreenSpace:
    """Add the parks, the special green features and pocket parks.

    Adds ``green_area_m2``, ``green_ratio``, ``public_green_area_m2`` and
    ``green_area_ge_8m_m2`` to each entry of ``communities`` (community id →
    truth).  Draws from ``rng``: each park's side, then the number and blocks
    of pocket parks.
    """
    green = _Green(bld)
    park_ids, park_names = _add_parks(rng, bld, town, green)
    x0, y0 = town.block_origin(*B_PAIR)
    pair = (green.add(bld.box(x0, y0, _PAIR[0]), "grass", False, "宅旁绿地"),
            green.add(bld.box(x0, y0, _PAIR[1]), "garden", True, "小游园"))
    pair_overlap = rect_area(rect_clip(_PAIR[0], _PAIR[1]))
    x0, y0 = town.block_origin(*B_CROSSING_LEFT)
    crossing_rect = (x0 + 160.0, y0 + 10.0, x0 + BLOCK_M + 30.0, y0 + 33.0)
    crossing = green.add(crossing_rect, "square", True, "邻里广场")
    x0, y0 = town.block_origin(*B_STRIP)
    green.add(bld.box(x0, y0, _STRIP), "attached", False, "道路附属绿带")
    _add_pocket_parks(rng, bld, town, green)

    placed = green.placed
    all_rects = [g[1] for g in placed]
    pub_rects = [g[1] for g in placed if g[2]]
    wide_rects = [g[1] for g in placed if g[3] >= 8.0]
    com_rect = town.community_rects
    for c in range(town.n_communities):
        t = communities[town.ids[c]]
        t["green_area_m2"] = union_area_in(all_rects, com_rect[c])
        t["green_ratio"] = t["green_area_m2"] / t["area_m2"]
        t["public_green_area_m2"] = union_area_in(pub_rects, com_rect[c])
        t["green_area_ge_8m_m2"] = union_area_in(wide_rects, com_rect[c])
    truth = {
        "overlapping_pair": pair,
        "overlap_area_m2": pair_overlap,
        "crossing_id": crossing,
        "crossing_parts_m2": {
            town.ids[c]: rect_area(rect_clip(crossing_rect, com_rect[c]))
            for c in range(town.n_communities)
            if rect_area(rect_clip(crossing_rect, com_rect[c])) > 0
        },
        "thin_ids": [g[0] for g in placed if g[3] < 8.0],
        "thin_width_m": _STRIP[3] - _STRIP[1],
        "park_ids": park_ids,
    }
    return GreenSpace(truth=truth, park_names=park_names)


def _add_parks(rng: np.random.Generator, bld: Builder, town: Town,
               green: _Green) -> tuple[list[str], list[str]]:
    """A park centred in each community's centre block, with a footpath to its centre."""
    park_ids, park_names = [], []
    for c in range(town.n_communities):
        x0, y0 = town.block_origin(c, 1, 1)
        side = float(rng.integers(12, 19) * 10)
        h = side / 2
        kind = _PARK_KINDS[c % len(_PARK_KINDS)]
        zh = _PARK_ZH[kind]
        name = f"{town.names[c][:-2]}{zh}"
        park_ids.append(green.add(bld.box(x0, y0, (100 - h, 100 - h, 100 + h, 100 + h)), kind,
                                  True, name))
        park_names.append(name)
        gi, gj = round(x0 / BLOCK_M), round(y0 / BLOCK_M)
        add_footpath(bld, town, (x0, y0), (x0 + 100, y0 + 100), gi, gj, f"{name}步道")
    return park_ids, park_names


def _add_pocket_parks(rng: np.random.Generator, bld: Builder, town: Town, green: _Green) -> None:
    """Pocket parks in a drawn quarter to half of the residential blocks that are not special."""
    free_blocks = [b for b in town.residential_blocks if b not in SPECIAL_BLOCKS]
    n_pocket = max(1, int(rng.integers(len(free_blocks) // 4, len(free_blocks) // 2 + 1)))
    pocket_blocks = [free_blocks[k] for k in
                     sorted(rng.choice(len(free_blocks), size=min(n_pocket, len(free_blocks)),
                                       replace=False))]
    for blk in pocket_blocks:
        x0, y0 = town.block_origin(*blk)
        green.add(bld.box(x0, y0, _POCKET_SLOT), "pocket_park", True, "口袋公园")
