"""Where the synthetic town lies: the county, the grid of blocks, the communities.

Everything here is in metres from the town origin (the south-west grid node)
unless it says otherwise.  :func:`plan_town` draws the town's position and its
communities' attributes; the other modules place features on its blocks.
"""

from __future__ import annotations

import functools
import importlib.resources
import math
from dataclasses import dataclass, field

import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer

from .. import crs as _crs
from .._errors import InputError

#: Side of one street block (street centre line to centre line), metres.
BLOCK_M = 200.0
#: Blocks per community side.
BLOCKS_PER_SIDE = 3

#: Names the communities are drawn from (at most this many communities).
COMMUNITY_NAMES = (
    "鱼邱湖社区", "金城社区", "新华社区", "文化社区", "光明社区", "南湖社区",
    "双海湖社区", "府前社区", "官道街社区", "人和社区", "振兴社区", "育英社区",
    "鼓楼社区", "清平社区", "琉璃寺社区", "固河社区",
)
_STREET_OFFICES = ("鱼邱湖街道", "汇鑫街道", "人和街道")

# Special blocks: (community index, block column, block row).
#: Block whose fire lane (4.5 m) has a car parked 1.5 m into it.
B_OBSTRUCTED_LANE = (0, 0, 0)
#: Block whose dead-end fire lane ends in a 15 m turnaround.
B_TURNAROUND_OK = (0, 2, 0)
#: Block holding the two overlapping green rectangles.
B_PAIR = (0, 0, 1)
#: Block from whose east edge a green square crosses into the next community.
B_CROSSING_LEFT = (0, 2, 1)
#: Block holding the 6 m wide green strip.
B_STRIP = (0, 0, 2)
#: Block holding the old tree.
B_TREE = (0, 1, 0)
#: Block whose fire lane is built 3.5 m wide.
B_NARROW_LANE = (1, 0, 0)
#: Block whose 6 m fire lane has a stall in it and a height-limit gantry over it.
B_WIDE_LANE = (1, 1, 0)
#: Block whose dead-end fire lane has no turnaround.
B_DEAD_END = (1, 2, 0)
#: Block whose dead-end fire lane ends in a 10 m turnaround (too small).
B_TURNAROUND_SMALL = (1, 2, 2)
#: (block column, block row) whose B4 slot is a shop building, in every community.
B_COMMERCIAL = (2, 2)
#: The special blocks above and (1, 0, 1), where the crossing square ends: no
#: pocket park goes in them.
SPECIAL_BLOCKS = {B_OBSTRUCTED_LANE, B_TURNAROUND_OK, B_PAIR, B_CROSSING_LEFT, B_STRIP,
                  B_TREE, B_NARROW_LANE, B_WIDE_LANE, B_DEAD_END, B_TURNAROUND_SMALL,
                  (1, 0, 1)}

#: An axis-aligned rectangle ``(minx, miny, maxx, maxy)``, metres.
Rect = tuple[float, ...]


# --- the county ------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _boundary_lonlat() -> shapely.Geometry:
    res = importlib.resources.files("gcgeo") / "data" / "gaotang_county.geojson"
    with importlib.resources.as_file(res) as path:
        gdf = pyogrio.read_dataframe(path)
    if gdf.crs is None or not CRS(gdf.crs).equals(CRS.from_epsg(4490)):
        gdf = gdf.set_crs(4490, allow_override=True) if gdf.crs is None else gdf.to_crs(4490)
    geom = shapely.union_all(np.asarray(gdf.geometry.values, dtype=object))
    if geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    return geom


@functools.lru_cache(maxsize=4)
def _boundary_projected(epsg: int) -> shapely.Geometry:
    t = Transformer.from_crs(4490, epsg, always_xy=True)
    return shapely.transform(_boundary_lonlat(), lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def county_boundary() -> tuple[int, shapely.Geometry]:
    """EPSG code of Gaotang's CGCS2000 3° zone (its centre's) and the county polygon in it."""
    minx, _, maxx, _ = _boundary_lonlat().bounds
    epsg = _crs.cgcs2000_zone_epsg((minx + maxx) / 2.0)
    return epsg, _boundary_projected(epsg)


def _choose_origin(rng: np.random.Generator, boundary: shapely.Geometry, width: float,
                   height: float) -> tuple[float, float]:
    """A south-west corner, on a 100 m lattice, that keeps the town well inside."""
    c = boundary.centroid
    cx, cy = round(c.x / 100.0) * 100.0, round(c.y / 100.0) * 100.0
    shapely.prepare(boundary)
    for _ in range(200):
        dx, dy = rng.integers(-40, 41, size=2) * 100.0
        x0, y0 = cx - round(width / 200.0) * 100.0 + dx, cy - round(height / 200.0) * 100.0 + dy
        if boundary.contains(shapely.box(x0 - 500, y0 - 500, x0 + width + 500, y0 + height + 500)):
            return float(x0), float(y0)
    raise InputError(  # pragma: no cover - only for towns far larger than the county
        f"a town of {width:.0f} × {height:.0f} m does not fit inside the county; use fewer "
        "communities.")


# --- the town --------------------------------------------------------------


@dataclass
class Town:
    """The plan of the synthetic town: its street grid, communities and blocks.

    Communities are squares of :data:`BLOCKS_PER_SIDE` × :data:`BLOCKS_PER_SIDE`
    blocks on a grid of ``cols`` columns; ``nx`` × ``ny`` blocks in all.  The
    per-community lists (``ids`` … ``people_per_household``) are indexed by
    community number; a block is ``(community, column, row)``.
    """

    origin: tuple[float, float]
    cols: int
    nx: int
    ny: int
    ids: list[str]
    names: list[str]
    offices: list[str]
    old_estate: np.ndarray
    managed: np.ndarray
    people_per_household: np.ndarray
    community_origins: list[tuple[float, float]]
    community_rects: list[Rect]
    residential_blocks: list[tuple[int, int, int]]
    next_node: int = field(init=False)

    def __post_init__(self) -> None:
        self.next_node = self.n_nodes

    @property
    def n_communities(self) -> int:
        """Number of communities."""
        return len(self.ids)

    @property
    def width(self) -> float:
        """East–west extent of the grid, metres."""
        return self.nx * BLOCK_M

    @property
    def height(self) -> float:
        """North–south extent of the grid, metres."""
        return self.ny * BLOCK_M

    @property
    def n_nodes(self) -> int:
        """Number of grid nodes (footpath ends are numbered after them)."""
        return (self.nx + 1) * (self.ny + 1)

    def node_id(self, i: int, j: int) -> int:
        """Street-graph id of the grid node at ``(i * BLOCK_M, j * BLOCK_M)``."""
        return j * (self.nx + 1) + i

    def new_node(self) -> int:
        """A fresh street-graph node id, for the far end of a footpath."""
        nid = self.next_node
        self.next_node += 1
        return nid

    def block_origin(self, c: int, bi: int, bj: int) -> tuple[float, float]:
        """South-west street node of block ``(bi, bj)`` of community ``c``."""
        return self.community_origins[c][0] + bi * BLOCK_M, self.community_origins[c][1] + bj * BLOCK_M


def plan_town(rng: np.random.Generator, boundary: shapely.Geometry, n_communities: int) -> Town:
    """Place a town of ``n_communities`` inside ``boundary`` and draw its communities' attributes.

    Draws from ``rng``: the origin, then names, street offices, old-estate and
    property-managed flags (community 0 old and unmanaged, 1 the reverse) and
    people per household.
    """
    B, K = BLOCK_M, BLOCKS_PER_SIDE
    cols = math.ceil(math.sqrt(n_communities))
    rows_ = math.ceil(n_communities / cols)
    nx, ny = cols * K, rows_ * K
    origin = _choose_origin(rng, boundary, nx * B, ny * B)
    names = [str(s) for s in rng.choice(COMMUNITY_NAMES, size=n_communities, replace=False)]
    offices = [str(rng.choice(_STREET_OFFICES)) for _ in range(n_communities)]
    old = rng.random(n_communities) < 0.5
    old[0], old[1] = True, False
    managed = rng.random(n_communities) < 0.6
    managed[0], managed[1] = False, True
    pph = rng.choice([2.5, 3.0], size=n_communities)
    com_origin = [((c % cols) * K * B, (c // cols) * K * B) for c in range(n_communities)]
    return Town(
        origin=origin, cols=cols, nx=nx, ny=ny,
        ids=[f"C{c + 1:02d}" for c in range(n_communities)],
        names=names, offices=offices, old_estate=old, managed=managed,
        people_per_household=pph, community_origins=com_origin,
        community_rects=[(x, y, x + K * B, y + K * B) for x, y in com_origin],
        residential_blocks=[(c, bi, bj) for c in range(n_communities) for bj in range(K)
                            for bi in range(K) if (bi, bj) != (1, 1)])


# --- rectangles ------------------------------------------------------------


def rect_area(r: Rect) -> float:
    """Area of the axis-aligned rectangle ``(minx, miny, maxx, maxy)`` (0 if empty)."""
    return max(r[2] - r[0], 0.0) * max(r[3] - r[1], 0.0)


def rect_clip(a: Rect, b: Rect) -> tuple[float, float, float, float]:
    """Intersection of two rectangles (empty ones have max < min)."""
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def union_area_in(rects: list[Rect], window: Rect) -> float:
    """Area of the union of axis-aligned rectangles inside ``window``.

    Inclusion–exclusion to the second order; the layout never lets three green
    rectangles share a point, which is checked.
    """
    clipped = [c for c in (rect_clip(r, window) for r in rects) if rect_area(c) > 0]
    total = sum(rect_area(c) for c in clipped)
    pairs = []
    for i in range(len(clipped)):
        for j in range(i + 1, len(clipped)):
            o = rect_clip(clipped[i], clipped[j])
            if rect_area(o) > 0:
                pairs.append(o)
                total -= rect_area(o)
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            if rect_area(rect_clip(pairs[i], pairs[j])) > 0:  # pragma: no cover - layout
                raise AssertionError("three green rectangles overlap; the layout is wrong")
    return total


def rect_point_distance(r: Rect, p: tuple[float, float]) -> float:
    """Distance from point ``p`` to rectangle ``r`` (0 inside it)."""
    dx = max(r[0] - p[0], 0.0, p[0] - r[2])
    dy = max(r[1] - p[1], 0.0, p[1] - r[3])
    return math.hypot(dx, dy)
