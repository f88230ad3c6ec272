"""A seeded synthetic county whose answers are known by construction.

:func:`synthetic_county` lays out a small town inside the real boundary of
高唐县 (Gaotang county, Shandong) — communities, a regular street grid,
buildings with residents, green space, parking, chargers, manholes, ramps,
fire lanes with obstructions, living-circle facilities, garbage points and an
old tree — in the CGCS2000 3° Gauss–Krüger zone of the county (EPSG:4548).
Every layer conforms to its spec in :mod:`gcgeo.layers`.  The numbers an
analysis should find (green area per community, network distances from named
homes, clear widths of fire lanes…) are computed from the placed numbers, not
by running gcgeo's analyses, and returned in :attr:`SyntheticCounty.truth`.

:meth:`SyntheticCounty.write_inputs` writes the same data as a planner would
hand it over: a GBK Shapefile with Chinese columns, a CSV of Amap (GCJ-02)
coordinates, a CSV of Baidu (BD-09) coordinates, an Excel sheet of survey
coordinates, a WGS-84 GeoJSON and a CGCS2000 GeoPackage.

>>> county = synthetic_county(seed=1)
>>> county.crs.to_epsg()
4548
>>> sorted(county.layers)[:3]
['buildings', 'chargers', 'communities']
>>> county.truth["block_m"]
200.0

Layout (coordinates relative to the town origin, the south-west grid node)
--------------------------------------------------------------------------
Communities are squares of 3 × 3 street blocks of 200 m, on a grid of
``ceil(sqrt(n))`` columns; community ``C01`` is at the south-west corner and
``C02`` east of it.  Street centre lines run on every multiple of 200 m and are
split at every crossing, so the walking graph is a regular lattice whose node
``j * (nx + 1) + i`` sits at ``(i * 200, j * 200)``.  The centre block of every
community is green; the other eight blocks are residential, each with four
slab buildings (60 × 14 m, at block-local x 30–90 / 110–170 and y 38–52 /
130–144).  Footpaths are dead-end spurs (to named homes and into the green
blocks), so they never shorten a path between two grid nodes.  One elevated
expressway (``walkable`` false) joins opposite corners of the grid; it must not
be walked on, and no truth distance uses it.  Facilities stand on grid nodes
(those of category ``park`` where a green block's footpath starts), so a
named home's walking distance to any of them is its 75 m footpath plus a whole
number of blocks.  Fire-lane turnarounds are Polygon features of the
``fire_lanes`` layer with ``kind`` ``turnaround``; lanes are LineStrings with
``kind`` ``lane``.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from .. import crs as _crs
from .._errors import InputError
from . import handover
from .handover import category_labels

__all__ = ["BLOCK_M", "SyntheticCounty", "synthetic_county"]

log = logging.getLogger(__name__)

#: Side of one street block (street centre line to centre line), metres.
BLOCK_M = 200.0
#: Blocks per community side.
_K = 3

_COMMUNITY_NAMES = (
    "鱼邱湖社区", "金城社区", "新华社区", "文化社区", "光明社区", "南湖社区",
    "双海湖社区", "府前社区", "官道街社区", "人和社区", "振兴社区", "育英社区",
    "鼓楼社区", "清平社区", "琉璃寺社区", "固河社区",
)
_STREET_OFFICES = ("鱼邱湖街道", "汇鑫街道", "人和街道")
_STREET_NAMES = (
    "人和街", "鼓楼路", "官道街", "金城路", "府前街", "光明路", "振兴路", "新华路",
    "文化路", "健康路", "利民路", "建设路", "育英路", "鱼邱湖路", "时风路", "双海湖路",
    "北湖路", "南环路", "东环路", "西环路",
)
_PLACE_PREFIXES = ("鱼邱湖", "金城", "新华", "光明", "南湖", "府前", "人和", "振兴", "育英",
                   "鼓楼", "清平", "双海")
_MANAGERS = {
    "sewer": "高唐县住房和城乡建设局",
    "drain": "高唐县住房和城乡建设局",
    "water": "高唐县自来水公司",
    "gas": "高唐县燃气公司",
    "heating": "高唐县热力公司",
    "power": "国网高唐县供电公司",
    "telecom": "中国联通高唐分公司",
}

# Block-local layout (metres from the block's south-west street node).
_BUILDING_SLOTS = {
    "B1": (30.0, 38.0, 90.0, 52.0),
    "B2": (110.0, 38.0, 170.0, 52.0),
    "B3": (30.0, 130.0, 90.0, 144.0),
    "B4": (110.0, 130.0, 170.0, 144.0),
}
_LANE_Y = 92.0
_PARKING_SLOT = (20.0, 60.0, 80.0, 84.0)
_POCKET_SLOT = (115.0, 60.0, 165.0, 84.0)
_GARBAGE_AT = (100.0, 70.0)
_EBIKE_AT = (100.0, 20.0)
_TREE_AT = (100.0, 45.0)
_STRIP = (20.0, 150.0, 180.0, 156.0)  # 6 m wide
_PAIR = ((20.0, 100.0, 80.0, 125.0), (50.0, 105.0, 110.0, 125.0))
_RAMP_OFFSET = 4.0
_HH_PER_FLOOR = 6
_FLOOR_HEIGHT_M = 3.0

# Special blocks: (community index, block column, block row).
_B_OBSTRUCTED_LANE = (0, 0, 0)
_B_TURNAROUND_OK = (0, 2, 0)
_B_PAIR = (0, 0, 1)
_B_CROSSING_LEFT = (0, 2, 1)
_B_STRIP = (0, 0, 2)
_B_TREE = (0, 1, 0)
_B_NARROW_LANE = (1, 0, 0)
_B_WIDE_LANE = (1, 1, 0)
_B_DEAD_END = (1, 2, 0)
_B_TURNAROUND_SMALL = (1, 2, 2)
_B_COMMERCIAL = (2, 2)  # block whose B4 is a shop building, in every community
_SPECIAL = {_B_OBSTRUCTED_LANE, _B_TURNAROUND_OK, _B_PAIR, _B_CROSSING_LEFT, _B_STRIP,
            _B_TREE, _B_NARROW_LANE, _B_WIDE_LANE, _B_DEAD_END, _B_TURNAROUND_SMALL,
            (1, 0, 1)}

_LAYER_ORDER = ("communities", "buildings", "green_space", "parking", "chargers", "manholes",
                "ramps", "streets", "fire_lanes", "obstructions", "facilities",
                "garbage_points", "heritage")


# --- boundary --------------------------------------------------------------


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


# --- the result ------------------------------------------------------------


@dataclass
class SyntheticCounty:
    """A synthetic town inside Gaotang county, with its answers.

    Attributes
    ----------
    seed:
        The seed it was built from.
    layers:
        Layer kind → GeoDataFrame in :attr:`crs` (EPSG:4548), columns as in the
        layer specs; every ``id`` is unique across all layers.
    crs:
        The projected working CRS (CGCS2000 3° Gauss–Krüger zone of the
        county's centre).
    boundary:
        The county polygon, in :attr:`crs`.
    origin:
        ``(x, y)`` of the south-west grid node in :attr:`crs`.
    truth:
        Answers known by construction (all lengths in metres, areas in m²):

        ``crs`` (``"EPSG:4548"``), ``block_m`` (200.0), ``origin``,
        ``grid`` — ``{"nx", "ny", "n_nodes"}`` (blocks east / north; nodes
        ``0 … n_nodes-1`` are grid nodes, higher ids are footpath ends).

        ``communities`` — per community id: ``name``, ``street_office``,
        ``area_m2`` (the square, 360 000), ``population`` and ``households``
        (sums over its residential buildings, equal to the layer's columns),
        ``n_buildings``, ``n_residential``, ``old_estate``,
        ``property_managed``, ``green_area_m2`` (green polygons clipped to the
        community and de-overlapped: the area of their union inside it),
        ``green_ratio`` (that over ``area_m2``), ``public_green_area_m2``
        (the same for ``public`` green only), ``green_area_ge_8m_m2`` (union
        of green polygons at least 8 m wide, clipped), ``garbage_points``.

        ``green`` — ``overlapping_pair`` (two ids), ``overlap_area_m2``,
        ``crossing_id`` and ``crossing_parts_m2`` (community id → area of its
        part), ``thin_ids`` (polygons narrower than 8 m), ``thin_width_m``,
        ``park_ids`` (the green blocks, one per community).

        ``homes`` — per named home (a residential building id): ``node`` (the
        street-graph node at its centroid: a footpath spur ends there),
        ``grid_node`` (where the spur meets the grid), ``access_m`` (spur
        length, 75.0), ``dist_m`` (category → walking distance on the street
        graph to the nearest facility of that category, spur included: 75 +
        200·k), ``nearest`` (category → ids of the facilities at that distance),
        ``community`` (its community id).

        ``fire_lanes`` — per lane id (LineStrings only): ``width_m`` (design),
        ``clear_width_m`` (design width less what obstructions take from it),
        ``clear_height_m`` (least of the design clear height and the free
        height under overhead obstructions), ``dead_end``, ``turnaround_id``
        (the Polygon feature of kind ``turnaround`` at its end, or None),
        ``turnaround_m`` (its side), ``turnaround_passes_12x12`` (None for a
        lane that is no dead end), ``obstructions`` (ids of those on the
        lane), ``community``.  ``obstructed_lane`` names the lane with a
        car parked 1.5 m into its 4.5 m (clear width 3.0); ``narrow_lane``
        the one built 3.5 m wide; ``dead_end_lanes`` all dead ends.

        ``obstructions_off_lane`` — ids of obstructions not on any lane.
        ``chargers`` — counts by kind (``car``, ``e-bike``) and ``sockets``.
        ``parking`` — total ``capacity`` and ``ev_ready``.
        ``manholes_without_manager`` — ids; ``manholes`` — count.
        ``ramps_steeper_than_1_12``, ``ramps_full_width_steeper_than_1_20``,
        ``ramps_lip_over_10mm``, ``ramps_narrower_than_1_2m`` — ids.
        ``heritage`` — per item id: ``kind``, ``radius_m``,
        ``intruding_buildings`` (ids of buildings closer than the radius).
        ``facilities`` — category → number placed.
        ``garbage_points`` — count.
    """

    seed: int
    layers: dict[str, gpd.GeoDataFrame]
    crs: CRS
    boundary: shapely.Geometry
    origin: tuple[float, float]
    truth: dict[str, Any] = field(default_factory=dict)

    def write_inputs(self, folder: str | Path, *, overwrite: bool = False,
                     category_values: str = "zh") -> dict[str, Path]:
        """Write planner-style input files of this county into ``folder``.

        Returns name → path:

        - ``communities_shp``: Shapefile in EPSG:4548, GBK-encoded, columns
          编号 名称 街道 人口 户数 老旧小区 物业管理 (the last two 是/否), with a
          ``.cpg`` saying ``GBK``;
        - ``communities_nocpg_shp``: the same without ``.cpg`` (read it with an
          explicit encoding);
        - ``facilities_csv``: UTF-8 (with BOM) CSV, columns 编号 名称 类别
          lon lat, lon/lat in GCJ-02 (Amap);
        - ``chargers_csv``: UTF-8 CSV, columns 编号 名称 类型 插口数 功率 lng lat,
          lng/lat in BD-09 (Baidu);
        - ``manholes_xlsx``: sheet 窨井盖, columns 编号 类型 管理人 联系方式 状况
          巡检日期 x y, x/y in EPSG:4548 (easting, northing; manager blank
          where there is none);
        - ``green_geojson``: green space in WGS-84 (id name kind public);
        - ``buildings_gpkg``: buildings in EPSG:4490 (layer ``buildings``).

        ``category_values`` is ``"zh"`` (类别 / 类型 hold Chinese labels such as
        幼儿园, 汽车, 电动自行车, as planners write them) or ``"key"`` (the spec
        values: kindergarten, car, e-bike).  Existing files are kept unless
        ``overwrite``.
        """
        return handover.write_inputs(self.layers, self.crs, folder, overwrite=overwrite,
                                     category_values=category_values)


# --- construction helpers --------------------------------------------------


def _rect_area(r: tuple[float, float, float, float]) -> float:
    return max(r[2] - r[0], 0.0) * max(r[3] - r[1], 0.0)


def _rect_clip(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _union_area_in(rects: list[tuple[float, ...]], window: tuple[float, ...]) -> float:
    """Area of the union of axis-aligned rectangles inside ``window``.

    Inclusion–exclusion to the second order; the layout never lets three green
    rectangles share a point, which is checked.
    """
    clipped = [c for c in (_rect_clip(r, window) for r in rects) if _rect_area(c) > 0]
    total = sum(_rect_area(c) for c in clipped)
    pairs = []
    for i in range(len(clipped)):
        for j in range(i + 1, len(clipped)):
            o = _rect_clip(clipped[i], clipped[j])
            if _rect_area(o) > 0:
                pairs.append(o)
                total -= _rect_area(o)
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            if _rect_area(_rect_clip(pairs[i], pairs[j])) > 0:  # pragma: no cover - layout
                raise AssertionError("three green rectangles overlap; the layout is wrong")
    return total


def _rect_point_distance(r: tuple[float, ...], p: tuple[float, float]) -> float:
    dx = max(r[0] - p[0], 0.0, p[0] - r[2])
    dy = max(r[1] - p[1], 0.0, p[1] - r[3])
    return math.hypot(dx, dy)


class _Builder:
    """Collects features as rows in absolute coordinates."""

    def __init__(self, origin: tuple[float, float]) -> None:
        self.ox, self.oy = origin
        self.rows: dict[str, list[dict[str, Any]]] = {k: [] for k in _LAYER_ORDER}
        self.counters: dict[str, int] = {}

    def next_id(self, prefix: str, width: int = 3) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return f"{prefix}{n:0{width}d}"

    def box(self, x0: float, y0: float, r: tuple[float, ...]) -> tuple[float, float, float, float]:
        """Block-local rectangle → town coordinates (relative to the origin)."""
        return (x0 + r[0], y0 + r[1], x0 + r[2], y0 + r[3])

    def poly(self, r: tuple[float, ...]) -> shapely.Polygon:
        return shapely.box(self.ox + r[0], self.oy + r[1], self.ox + r[2], self.oy + r[3])

    def point(self, x: float, y: float) -> shapely.Point:
        return shapely.Point(self.ox + x, self.oy + y)

    def line(self, *pts: tuple[float, float]) -> shapely.LineString:
        return shapely.LineString([(self.ox + x, self.oy + y) for x, y in pts])

    def add(self, layer: str, /, **row: Any) -> dict[str, Any]:
        self.rows[layer].append(row)
        return row


def _frame(rows: list[dict[str, Any]], crs: CRS, dtypes: dict[str, str]) -> gpd.GeoDataFrame:
    cols = ["id", *[c for c in dtypes if c != "id"]]
    data: dict[str, Any] = {}
    for c in cols:
        values = [r.get(c) for r in rows]
        dt = dtypes.get(c, "object")
        data[c] = pd.array(values, dtype=dt) if dt != "object" else pd.Series(values, dtype=object)
    geoms = [r["geometry"] for r in rows]
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)


# --- the generator ---------------------------------------------------------


def synthetic_county(seed: int = 0, *, n_communities: int = 6,
                     n_homes: int = 3) -> SyntheticCounty:
    """Build a seeded synthetic town inside Gaotang county.

    ``seed`` fixes every random choice (town position, names, storeys,
    facilities' nodes, which features sit in which block…): the same seed gives
    identical layers and truth.  ``n_communities`` (2–16) communities of
    600 × 600 m are laid on a grid of ``ceil(sqrt(n))`` columns; ``n_homes``
    residential buildings (1 to the number of residential blocks) get a
    footpath to their centroid and exact network distances in the truth.

    See :class:`SyntheticCounty` for what ``truth`` holds and the module
    docstring for the layout.
    """
    if not isinstance(n_communities, (int, np.integer)) or not 2 <= n_communities <= len(
            _COMMUNITY_NAMES):
        raise InputError(
            f"n_communities must be an integer from 2 to {len(_COMMUNITY_NAMES)}, got "
            f"{n_communities!r}.")
    n_res_blocks = n_communities * (_K * _K - 1)
    if not isinstance(n_homes, (int, np.integer)) or not 1 <= n_homes <= n_res_blocks:
        raise InputError(f"n_homes must be an integer from 1 to {n_res_blocks}, got {n_homes!r}.")
    rng = np.random.default_rng(seed)
    B = BLOCK_M

    lonlat = _boundary_lonlat()
    minx, miny, maxx, maxy = lonlat.bounds
    epsg = _crs.cgcs2000_zone_epsg((minx + maxx) / 2.0)
    crs = CRS.from_epsg(epsg)
    boundary = _boundary_projected(epsg)

    cols = math.ceil(math.sqrt(n_communities))
    rows_ = math.ceil(n_communities / cols)
    nx, ny = cols * _K, rows_ * _K
    width, height = nx * B, ny * B
    origin = _choose_origin(rng, boundary, width, height)
    bld = _Builder(origin)
    ox, oy = origin

    # --- communities (attributes; geometry later) ---------------------------
    names = [str(s) for s in rng.choice(_COMMUNITY_NAMES, size=n_communities, replace=False)]
    offices = [str(rng.choice(_STREET_OFFICES)) for _ in range(n_communities)]
    old = rng.random(n_communities) < 0.5
    old[0], old[1] = True, False
    managed = rng.random(n_communities) < 0.6
    managed[0], managed[1] = False, True
    pph = rng.choice([2.5, 3.0], size=n_communities)
    com_origin = [((c % cols) * _K * B, (c // cols) * _K * B) for c in range(n_communities)]
    com_rect = [(x, y, x + _K * B, y + _K * B) for x, y in com_origin]
    com_ids = [f"C{c + 1:02d}" for c in range(n_communities)]

    def block_origin(c: int, bi: int, bj: int) -> tuple[float, float]:
        return com_origin[c][0] + bi * B, com_origin[c][1] + bj * B

    res_blocks = [(c, bi, bj) for c in range(n_communities) for bj in range(_K)
                  for bi in range(_K) if (bi, bj) != (1, 1)]

    # --- streets ----------------------------------------------------------------
    def node_id(i: int, j: int) -> int:
        return j * (nx + 1) + i

    n_nodes = (nx + 1) * (ny + 1)
    hnames = rng.choice(_STREET_NAMES, size=len(_STREET_NAMES), replace=False)
    street_names_h = {j: str(hnames[j % len(hnames)]) for j in range(ny + 1)}
    vnames = [n for n in hnames if n not in street_names_h.values()] or list(hnames)
    street_names_v = {i: str(vnames[i % len(vnames)]) for i in range(nx + 1)}
    for j in range(ny + 1):
        for i in range(nx):
            main = j % _K == 0
            bld.add("streets", id=bld.next_id("S", 4), name=street_names_h[j],
                    kind="secondary" if main else "residential", walkable=True,
                    u=node_id(i, j), v=node_id(i + 1, j),
                    geometry=bld.line((i * B, j * B), ((i + 1) * B, j * B)))
    for i in range(nx + 1):
        for j in range(ny):
            main = i % _K == 0
            bld.add("streets", id=bld.next_id("S", 4), name=street_names_v[i],
                    kind="secondary" if main else "residential", walkable=True,
                    u=node_id(i, j), v=node_id(i, j + 1),
                    geometry=bld.line((i * B, j * B), (i * B, (j + 1) * B)))
    bld.add("streets", id=bld.next_id("S", 4), name="高唐高架快速路", kind="motorway",
            walkable=False, u=node_id(0, 0), v=node_id(nx, ny),
            geometry=bld.line((0.0, 0.0), (width, height)))
    next_node = [n_nodes]

    def spur(from_xy: tuple[float, float], to_xy: tuple[float, float], i: int, j: int,
             name: str | None) -> int:
        nid = next_node[0]
        next_node[0] += 1
        bld.add("streets", id=bld.next_id("S", 4), name=name, kind="footway", walkable=True,
                u=node_id(i, j), v=nid, geometry=bld.line(from_xy, to_xy))
        return nid

    # --- buildings ---------------------------------------------------------------
    truth_com: dict[str, dict[str, Any]] = {}
    home_blocks = set(map(tuple, [res_blocks[k] for k in
                                  rng.choice(len(res_blocks), size=n_homes, replace=False)]))
    homes: dict[str, dict[str, Any]] = {}
    building_rects: dict[str, tuple[float, ...]] = {}
    for c in range(n_communities):
        pop = hh = n_b = n_res = 0
        for bj in range(_K):
            for bi in range(_K):
                if (bi, bj) == (1, 1):
                    continue
                x0, y0 = block_origin(c, bi, bj)
                for slot, r in _BUILDING_SLOTS.items():
                    rect = bld.box(x0, y0, r)
                    bid = bld.next_id("B", 4)
                    n_b += 1
                    commercial = (bi, bj) == _B_COMMERCIAL and slot == "B4"
                    if commercial:
                        floors = int(rng.integers(2, 5))
                        bld.add("buildings", id=bid, name=f"{names[c][:-2]}商业楼", use="commercial",
                                residential=False, floors=floors,
                                height_m=floors * 4.5, population=0.0,
                                geometry=bld.poly(rect))
                    else:
                        floors = int(rng.integers(4, 7) if old[c] else rng.integers(6, 19))
                        people = floors * _HH_PER_FLOOR * float(pph[c])
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
                        cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
                        gi, gj = round(x0 / B), round(y0 / B)
                        nid = spur((x0, y0), (cx, cy), gi, gj, None)
                        homes[bid] = {"node": nid, "grid_node": node_id(gi, gj),
                                      "access_m": math.hypot(cx - x0, cy - y0),
                                      "community": com_ids[c]}
        truth_com[com_ids[c]] = {
            "name": names[c], "street_office": offices[c], "area_m2": (_K * B) ** 2,
            "population": int(round(pop)), "households": int(hh), "n_buildings": n_b,
            "n_residential": n_res, "old_estate": bool(old[c]),
            "property_managed": bool(managed[c]),
        }
    for c in range(n_communities):
        t = truth_com[com_ids[c]]
        bld.add("communities", id=com_ids[c], name=names[c], street_office=offices[c],
                population=t["population"], households=t["households"],
                old_estate=bool(old[c]), property_managed=bool(managed[c]),
                source="gcgeo.testing", geometry=bld.poly(com_rect[c]))

    # --- green space --------------------------------------------------------------
    green: list[tuple[str, tuple[float, ...], bool, float]] = []  # id, rect, public, min width

    def add_green(rect: tuple[float, ...], kind: str, public: bool, name: str) -> str:
        gid = bld.next_id("G")
        bld.add("green_space", id=gid, name=name, kind=kind, public=public,
                geometry=bld.poly(rect))
        green.append((gid, rect, public,
                      min(rect[2] - rect[0], rect[3] - rect[1])))
        return gid

    park_kinds = ("park", "community_park", "garden", "square")
    park_ids, park_names = [], []
    for c in range(n_communities):
        x0, y0 = block_origin(c, 1, 1)
        side = float(rng.integers(12, 19) * 10)
        h = side / 2
        kind = park_kinds[c % len(park_kinds)]
        zh = {"park": "公园", "community_park": "社区公园", "garden": "游园", "square": "广场"}[kind]
        gid = add_green(bld.box(x0, y0, (100 - h, 100 - h, 100 + h, 100 + h)), kind, True,
                        f"{names[c][:-2]}{zh}")
        park_ids.append(gid)
        park_names.append(f"{names[c][:-2]}{zh}")
        gi, gj = round(x0 / B), round(y0 / B)
        spur((x0, y0), (x0 + 100, y0 + 100), gi, gj, f"{names[c][:-2]}{zh}步道")
    x0, y0 = block_origin(*_B_PAIR)
    pair = (add_green(bld.box(x0, y0, _PAIR[0]), "grass", False, "宅旁绿地"),
            add_green(bld.box(x0, y0, _PAIR[1]), "garden", True, "小游园"))
    pair_overlap = _rect_area(_rect_clip(_PAIR[0], _PAIR[1]))
    x0, y0 = block_origin(*_B_CROSSING_LEFT)
    crossing_rect = (x0 + 160.0, y0 + 10.0, x0 + B + 30.0, y0 + 33.0)
    crossing = add_green(crossing_rect, "square", True, "邻里广场")
    x0, y0 = block_origin(*_B_STRIP)
    add_green(bld.box(x0, y0, _STRIP), "attached", False, "道路附属绿带")
    free_blocks = [b for b in res_blocks if b not in _SPECIAL]
    n_pocket = max(1, int(rng.integers(len(free_blocks) // 4, len(free_blocks) // 2 + 1)))
    pocket_blocks = [free_blocks[k] for k in
                     sorted(rng.choice(len(free_blocks), size=min(n_pocket, len(free_blocks)),
                                       replace=False))]
    for blk in pocket_blocks:
        x0, y0 = block_origin(*blk)
        add_green(bld.box(x0, y0, _POCKET_SLOT), "pocket_park", True, "口袋公园")

    all_rects = [g[1] for g in green]
    pub_rects = [g[1] for g in green if g[2]]
    wide_rects = [g[1] for g in green if g[3] >= 8.0]
    for c in range(n_communities):
        t = truth_com[com_ids[c]]
        t["green_area_m2"] = _union_area_in(all_rects, com_rect[c])
        t["green_ratio"] = t["green_area_m2"] / t["area_m2"]
        t["public_green_area_m2"] = _union_area_in(pub_rects, com_rect[c])
        t["green_area_ge_8m_m2"] = _union_area_in(wide_rects, com_rect[c])
    truth_green = {
        "overlapping_pair": pair,
        "overlap_area_m2": pair_overlap,
        "crossing_id": crossing,
        "crossing_parts_m2": {
            com_ids[c]: _rect_area(_rect_clip(crossing_rect, com_rect[c]))
            for c in range(n_communities) if _rect_area(_rect_clip(crossing_rect, com_rect[c])) > 0
        },
        "thin_ids": [g[0] for g in green if g[3] < 8.0],
        "thin_width_m": _STRIP[3] - _STRIP[1],
        "park_ids": park_ids,
    }

    # --- parking and chargers -------------------------------------------------------
    park_blocks_n = max(2, int(rng.integers(len(res_blocks) // 4, len(res_blocks) // 2 + 1)))
    lot_blocks = [res_blocks[k] for k in
                  sorted(rng.choice(len(res_blocks), size=park_blocks_n, replace=False))]
    cap_total = ev_total = 0
    chargers = {"car": 0, "e-bike": 0, "sockets": 0}
    lots = []
    for blk in lot_blocks:
        x0, y0 = block_origin(*blk)
        rect = bld.box(x0, y0, _PARKING_SLOT)
        n_car = int(rng.integers(0, 5))
        sockets = [int(rng.choice([1, 2])) for _ in range(n_car)]
        capacity = int(rng.integers(30, 58))
        ev = sum(sockets)
        pid = bld.next_id("P")
        bld.add("parking", id=pid, name="地面停车场", kind="surface", capacity=capacity,
                ev_ready=ev, geometry=bld.poly(rect))
        lots.append(rect)
        cap_total += capacity
        ev_total += ev
        for k, s in enumerate(sockets):
            bld.add("chargers", id=bld.next_id("EV"), name="汽车充电桩", kind="car", sockets=s,
                    power_kw=float(rng.choice([7.0, 60.0, 120.0])), operator="国家电网",
                    geometry=bld.point(rect[0] + 4.0 + 6.0 * k, rect[1] + 3.0))
            chargers["car"] += 1
            chargers["sockets"] += s
    for blk in res_blocks:
        if rng.random() < 0.5:
            x0, y0 = block_origin(*blk)
            s = int(rng.choice([10, 20]))
            bld.add("chargers", id=bld.next_id("EV"), name="电动自行车充电站", kind="e-bike",
                    sockets=s, power_kw=float(s) * 0.4, operator="街道办事处",
                    geometry=bld.point(x0 + _EBIKE_AT[0], y0 + _EBIKE_AT[1]))
            chargers["e-bike"] += 1
            chargers["sockets"] += s

    # --- manholes -----------------------------------------------------------------
    h_edges = [(i, j, "h") for j in range(ny + 1) for i in range(nx)]
    v_edges = [(i, j, "v") for i in range(nx + 1) for j in range(ny)]
    edges = h_edges + v_edges
    n_mh = 4 * n_communities
    chosen = sorted(rng.choice(len(edges), size=n_mh, replace=False))
    no_manager = rng.random(n_mh) < 0.25
    no_manager[0], no_manager[1] = True, False
    mh_kinds = tuple(_MANAGERS)
    mh_without = []
    for k, e in enumerate(chosen):
        i, j, d = edges[e]
        x, y = (i * B + B / 2, j * B + 1.5) if d == "h" else (i * B + 1.5, j * B + B / 2)
        kind = str(rng.choice(mh_kinds))
        mid = bld.next_id("MH")
        date = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 1000)))
        manager = None if no_manager[k] else _MANAGERS[kind]
        contact = None if no_manager[k] else f"0635-{int(rng.integers(3900000, 3999999))}"
        bld.add("manholes", id=mid, kind=kind, manager=manager, contact=contact,
                condition=str(rng.choice(["good", "good", "good", "damaged", "sunken"])),
                last_inspection=date.strftime("%Y-%m-%d"), geometry=bld.point(x, y))
        if manager is None:
            mh_without.append(mid)

    # --- ramps ---------------------------------------------------------------------
    ramp_nodes = [(i, j) for j in range(ny) for i in range(nx)]
    n_ramps = 3 * n_communities
    picks = sorted(rng.choice(len(ramp_nodes), size=n_ramps, replace=False))
    steep, fw_steep, lip_high, narrow = [], [], [], []
    for k, p in enumerate(picks):
        i, j = ramp_nodes[p]
        if k == 0:
            kind, slope = "three_sided", 0.1  # built too steep: 1:10
        elif k == 1:
            kind, slope = "full_width", 0.05  # compliant: 1:20
        elif k == 2:
            kind, slope = "full_width", 1 / 15  # fine for 1:12, too steep for 1:20
        else:
            kind = str(rng.choice(["full_width", "three_sided", "other"]))
            if kind == "full_width":
                slope = float(rng.choice([0.04, 0.05, 1 / 15]))
            else:
                slope = float(rng.choice([1 / 16, 1 / 14, 0.1, 0.125]))
        width = float(rng.choice([1.0, 1.2, 1.5, 2.0, 3.0]))
        lip = float(rng.choice([0.0, 5.0, 10.0, 15.0, 20.0]))
        rid = bld.next_id("R")
        bld.add("ramps", id=rid, kind=kind, slope=slope, width_m=width, lip_mm=lip,
                wheelchair="yes" if slope <= 1 / 12 and lip <= 10 else "limited",
                geometry=bld.point(i * B + _RAMP_OFFSET, j * B + _RAMP_OFFSET))
        if slope > 1 / 12:
            steep.append(rid)
        if kind == "full_width" and slope > 1 / 20:
            fw_steep.append(rid)
        if lip > 10:
            lip_high.append(rid)
        if width < 1.2:
            narrow.append(rid)

    # --- fire lanes and obstructions ---------------------------------------------------
    lanes: dict[str, dict[str, Any]] = {}
    obstr_off: list[str] = []

    def lane(blk: tuple[int, int, int], width_m: float, *, x_from: float = 0.0,
             x_to: float = B, dead_end: bool = False, clear_height: float = 5.0) -> str:
        x0, y0 = block_origin(*blk)
        lid = bld.next_id("FL", 2)
        bld.add("fire_lanes", id=lid, name="消防车道", kind="lane", width_m=width_m,
                clear_height_m=clear_height, dead_end=dead_end,
                geometry=bld.line((x0 + x_from, y0 + _LANE_Y), (x0 + x_to, y0 + _LANE_Y)))
        lanes[lid] = {"width_m": width_m, "clear_width_m": width_m,
                      "clear_height_m": clear_height, "dead_end": dead_end,
                      "turnaround_id": None, "turnaround_m": None,
                      "turnaround_passes_12x12": None if not dead_end else False,
                      "obstructions": [], "community": com_ids[blk[0]]}
        return lid

    def turnaround(lid: str, blk: tuple[int, int, int], side: float) -> None:
        x0, y0 = block_origin(*blk)
        h = side / 2
        tid = bld.next_id("FL", 2)
        bld.add("fire_lanes", id=tid, name="回车场", kind="turnaround", width_m=side,
                clear_height_m=None, dead_end=None,
                geometry=bld.poly((x0 + 100 - h, y0 + _LANE_Y - h, x0 + 100 + h,
                                   y0 + _LANE_Y + h)))
        lanes[lid].update(turnaround_id=tid, turnaround_m=side,
                          turnaround_passes_12x12=side >= 12.0)

    def encroach(lid: str, blk: tuple[int, int, int], kind: str, x_at: float, depth: float,
                 size: tuple[float, float], name: str) -> None:
        """An obstruction reaching ``depth`` metres into the lane from its north edge."""
        x0, y0 = block_origin(*blk)
        edge = _LANE_Y + lanes[lid]["width_m"] / 2
        length, wide = size
        oid = bld.next_id("OB", 2)
        bld.add("obstructions", id=oid, name=name, kind=kind, width_m=wide, length_m=length,
                height_m=None, observed="2022-05-18",
                geometry=bld.poly((x0 + x_at, y0 + edge - depth, x0 + x_at + length,
                                   y0 + edge - depth + wide)))
        lanes[lid]["clear_width_m"] = lanes[lid]["width_m"] - depth
        lanes[lid]["obstructions"].append(oid)

    obstructed = lane(_B_OBSTRUCTED_LANE, 4.5)
    encroach(obstructed, _B_OBSTRUCTED_LANE, "car", 80.0, 1.5, (4.8, 1.8), "占道停放车辆")
    narrow_lane = lane(_B_NARROW_LANE, 3.5)
    wide = lane(_B_WIDE_LANE, 6.0)
    encroach(wide, _B_WIDE_LANE, "stall", 50.0, 0.4, (3.0, 2.0), "占道摊点")
    x0, y0 = block_origin(*_B_WIDE_LANE)
    gate = bld.next_id("OB", 2)
    gate_h = 3.6
    bld.add("obstructions", id=gate, name="限高门架", kind="overhead", width_m=8.0,
            length_m=0.5, height_m=gate_h, observed="2022-05-18",
            geometry=bld.poly((x0 + 150.0, y0 + _LANE_Y - 4.0, x0 + 150.5, y0 + _LANE_Y + 4.0)))
    lanes[wide]["clear_height_m"] = min(lanes[wide]["clear_height_m"], gate_h)
    lanes[wide]["obstructions"].append(gate)
    dead_ok = lane(_B_TURNAROUND_OK, 4.0, x_from=B, x_to=100.0, dead_end=True)
    turnaround(dead_ok, _B_TURNAROUND_OK, 15.0)
    dead_none = lane(_B_DEAD_END, 4.0, x_from=B, x_to=100.0, dead_end=True)
    dead_small = lane(_B_TURNAROUND_SMALL, 4.5, x_from=B, x_to=100.0, dead_end=True)
    turnaround(dead_small, _B_TURNAROUND_SMALL, 10.0)
    for c in range(2, n_communities):
        lane((c, 0, 0), float(rng.choice([4.0, 5.0, 6.0])))
    # a car parked inside a car park: an obstruction on no lane
    lx = lots[0]
    oid = bld.next_id("OB", 2)
    bld.add("obstructions", id=oid, name="停车场内车辆", kind="car", width_m=1.8, length_m=4.8,
            height_m=None, observed="2022-05-18",
            geometry=bld.poly((lx[0] + 30.0, lx[1] + 10.0, lx[0] + 34.8, lx[1] + 11.8)))
    obstr_off.append(oid)

    # --- facilities (on grid nodes) --------------------------------------------------
    labels = category_labels()
    fac_nodes: dict[str, list[tuple[str, int, int]]] = {}
    park_entries = sorted(int(q) for q in rng.choice(
        n_communities, size=min(n_communities, int(rng.integers(1, 4))), replace=False))
    for c in park_entries:  # "park" facilities sit where a green block's footpath starts
        x0, y0 = block_origin(c, 1, 1)
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
    for bid, h in homes.items():
        gi, gj = h["grid_node"] % (nx + 1), h["grid_node"] // (nx + 1)
        dist, nearest = {}, {}
        for cat, places in fac_nodes.items():
            steps = [abs(i - gi) + abs(j - gj) for _, i, j in places]
            best = min(steps)
            dist[cat] = h["access_m"] + best * B
            nearest[cat] = [fid for (fid, _, _), s in zip(places, steps) if s == best]
        h["dist_m"] = dist
        h["nearest"] = nearest

    # --- garbage points ---------------------------------------------------------------
    for c in range(n_communities):
        truth_com[com_ids[c]]["garbage_points"] = 0
    for blk in res_blocks:
        if rng.random() < 0.8:
            x0, y0 = block_origin(*blk)
            bld.add("garbage_points", id=bld.next_id("GP"), name="垃圾分类投放点",
                    kind=str(rng.choice(["sorting", "sorting", "recycling", "kitchen"])),
                    geometry=bld.point(x0 + _GARBAGE_AT[0], y0 + _GARBAGE_AT[1]))
            truth_com[com_ids[blk[0]]]["garbage_points"] += 1

    # --- heritage -----------------------------------------------------------------------
    x0, y0 = block_origin(*_B_TREE)
    tree_xy = (x0 + _TREE_AT[0], y0 + _TREE_AT[1])
    radius = float(rng.choice([12.0, 15.0, 18.0]))
    hid = bld.next_id("H", 2)
    bld.add("heritage", id=hid, name="古槐", kind="old_tree", grade="一级",
            protection_radius_m=radius, geometry=bld.point(*tree_xy))
    intruding = sorted(b for b, r in building_rects.items()
                       if _rect_point_distance(r, tree_xy) < radius)

    layers = {kind: _frame(bld.rows[kind], crs, _DTYPES[kind]) for kind in _LAYER_ORDER}
    truth: dict[str, Any] = {
        "crs": f"EPSG:{epsg}",
        "block_m": B,
        "origin": origin,
        "grid": {"nx": nx, "ny": ny, "n_nodes": n_nodes},
        "communities": truth_com,
        "green": truth_green,
        "homes": homes,
        "fire_lanes": lanes,
        "obstructed_lane": obstructed,
        "narrow_lane": narrow_lane,
        "dead_end_lanes": [dead_ok, dead_none, dead_small],
        "obstructions_off_lane": obstr_off,
        "chargers": chargers,
        "parking": {"capacity": cap_total, "ev_ready": ev_total},
        "manholes": n_mh,
        "manholes_without_manager": mh_without,
        "ramps_steeper_than_1_12": steep,
        "ramps_full_width_steeper_than_1_20": fw_steep,
        "ramps_lip_over_10mm": lip_high,
        "ramps_narrower_than_1_2m": narrow,
        "heritage": {hid: {"kind": "old_tree", "radius_m": radius,
                           "intruding_buildings": intruding}},
        "facilities": {cat: len(v) for cat, v in fac_nodes.items()},
        "garbage_points": len(bld.rows["garbage_points"]),
    }
    log.debug("synthetic county seed=%s at %s: %s", seed, origin,
              {k: len(v) for k, v in layers.items()})
    return SyntheticCounty(seed=seed, layers=layers, crs=crs, boundary=boundary,
                           origin=(ox, oy), truth=truth)


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


_DTYPES: dict[str, dict[str, str]] = {
    "communities": {"id": "str", "name": "str", "street_office": "str", "population": "int64",
                    "households": "int64", "old_estate": "bool", "property_managed": "bool",
                    "source": "str"},
    "buildings": {"id": "str", "name": "str", "use": "str", "residential": "bool",
                  "floors": "int64", "height_m": "float64", "population": "float64"},
    "green_space": {"id": "str", "name": "str", "kind": "str", "public": "bool"},
    "parking": {"id": "str", "name": "str", "kind": "str", "capacity": "int64",
                "ev_ready": "int64"},
    "chargers": {"id": "str", "name": "str", "kind": "str", "sockets": "int64",
                 "power_kw": "float64", "operator": "str"},
    "manholes": {"id": "str", "kind": "str", "manager": "object", "contact": "object",
                 "condition": "str", "last_inspection": "str"},
    "ramps": {"id": "str", "kind": "str", "slope": "float64", "width_m": "float64",
              "lip_mm": "float64", "wheelchair": "str"},
    "streets": {"id": "str", "name": "object", "kind": "str", "walkable": "bool",
                "u": "int64", "v": "int64"},
    "fire_lanes": {"id": "str", "name": "str", "kind": "str", "width_m": "float64",
                   "clear_height_m": "Float64", "dead_end": "boolean"},
    "obstructions": {"id": "str", "name": "str", "kind": "str", "width_m": "float64",
                     "length_m": "float64", "height_m": "Float64", "observed": "str"},
    "facilities": {"id": "str", "name": "str", "category": "str"},
    "garbage_points": {"id": "str", "name": "str", "kind": "str"},
    "heritage": {"id": "str", "name": "str", "kind": "str", "grade": "str",
                 "protection_radius_m": "float64"},
}
