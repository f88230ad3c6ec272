"""The synthetic town's streets: a regular grid, an elevated expressway, footpaths.

Street centre lines run on every multiple of :data:`~.layout.BLOCK_M` and are
split at every crossing, so the walking graph is a lattice whose node
``j * (nx + 1) + i`` sits at ``(i * BLOCK_M, j * BLOCK_M)``.  Footpaths are
dead-end spurs from a grid node, numbered after the grid nodes.
"""

from __future__ import annotations

import numpy as np

from .features import Builder
from .layout import BLOCK_M, BLOCKS_PER_SIDE, Town

_STREET_NAMES = (
    "人和街", "鼓楼路", "官道街", "金城路", "府前街", "光明路", "振兴路", "新华路",
    "文化路", "健康路", "利民路", "建设路", "育英路", "鱼邱湖路", "时风路", "双海湖路",
    "北湖路", "南环路", "东环路", "西环路",
)


def add_street_grid(rng: np.random.Generator, bld: Builder, town: Town) -> None:
    """Add the street grid (named, every third street ``secondary``) and the expressway.

    The expressway (``walkable`` false) joins opposite corners of the grid.
    Draws the street names from ``rng``.
    """
    B, K, nx, ny = BLOCK_M, BLOCKS_PER_SIDE, town.nx, town.ny
    node_id = town.node_id
    hnames = rng.choice(_STREET_NAMES, size=len(_STREET_NAMES), replace=False)
    street_names_h = {j: str(hnames[j % len(hnames)]) for j in range(ny + 1)}
    vnames = [n for n in hnames if n not in street_names_h.values()] or list(hnames)
    street_names_v = {i: str(vnames[i % len(vnames)]) for i in range(nx + 1)}
    for j in range(ny + 1):
        for i in range(nx):
            main = j % K == 0
            bld.add("streets", id=bld.next_id("S", 4), name=street_names_h[j],
                    kind="secondary" if main else "residential", walkable=True,
                    u=node_id(i, j), v=node_id(i + 1, j),
                    geometry=bld.line((i * B, j * B), ((i + 1) * B, j * B)))
    for i in range(nx + 1):
        for j in range(ny):
            main = i % K == 0
            bld.add("streets", id=bld.next_id("S", 4), name=street_names_v[i],
                    kind="secondary" if main else "residential", walkable=True,
                    u=node_id(i, j), v=node_id(i, j + 1),
                    geometry=bld.line((i * B, j * B), (i * B, (j + 1) * B)))
    bld.add("streets", id=bld.next_id("S", 4), name="高唐高架快速路", kind="motorway",
            walkable=False, u=node_id(0, 0), v=node_id(nx, ny),
            geometry=bld.line((0.0, 0.0), (town.width, town.height)))


def add_footpath(bld: Builder, town: Town, from_xy: tuple[float, float],
                 to_xy: tuple[float, float], i: int, j: int, name: str | None) -> int:
    """Add a footway from grid node ``(i, j)`` at ``from_xy`` to ``to_xy``; its far end's node id."""
    nid = town.new_node()
    bld.add("streets", id=bld.next_id("S", 4), name=name, kind="footway", walkable=True,
            u=town.node_id(i, j), v=nid, geometry=bld.line(from_xy, to_xy))
    return nid
