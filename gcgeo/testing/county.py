"""The synthetic county: what it holds, and :func:`synthetic_county` building it step by step.

Each step places one concern's features (see the modules of this package) and
returns what an analysis should find there; the steps share one random
generator, in a fixed order, so a seed gives the same county every time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from .._errors import InputError
from . import handover
from .buildings import add_buildings, add_communities
from .facilities import add_facilities
from .features import Builder
from .fire_lanes import add_fire_lanes
from .green import add_green_space
from .inventory import (
    add_garbage_points,
    add_heritage,
    add_manholes,
    add_parking_and_chargers,
    add_ramps,
)
from .layout import (
    BLOCK_M,
    BLOCKS_PER_SIDE,
    COMMUNITY_NAMES,
    county_boundary,
    plan_town,
)
from .streets import add_street_grid
from .walks import walks_to_nearest

log = logging.getLogger(__name__)


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
        of green polygons at least 8 m wide, clipped), ``garbage_points``,
        ``parking_capacity`` and ``ev_ready`` (sums over its car parks).

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
        lane), ``community``, ``gradient_pct`` (from its ``slope``; None
        where it has none).  ``obstructed_lane`` names the lane with a
        car parked 1.5 m into its 4.5 m (clear width 3.0); ``narrow_lane``
        the one built 3.5 m wide; ``dead_end_lanes`` all dead ends;
        ``steep_lanes`` those steeper than 8%.

        ``obstructions_off_lane`` — ids of obstructions not on any lane.
        ``chargers`` — counts by kind (``car``, ``e-bike``) and ``sockets``.
        ``parking`` — total ``capacity`` and ``ev_ready``.
        ``manholes_without_manager`` — ids; ``manholes`` — count;
        ``manholes_without_contact``, ``manholes_without_owner``,
        ``manholes_without_code``, ``manholes_without_fall_net`` (drainage
        covers, sewer and drain) — ids; ``manholes_duplicate_codes`` — code →
        the ids carrying it; ``manholes_faults`` — id → condition of every
        cover not ``good``; ``manholes_inspected`` — id → its inspection date
        (``YYYY-MM-DD``, however the layer spells it; None where not recorded).
        ``ramps_steeper_than_1_12``, ``ramps_full_width_steeper_than_1_20``,
        ``ramps_lip_over_10mm``, ``ramps_narrower_than_1_2m``,
        ``ramps_narrower_than_required`` (three-sided under 1.20 m, others
        under 1.50 m) — ids of the ramps placed one per grid node;
        ``ramps_flush`` — the flush kerb added beside a crossing;
        ``ramps_crossings_served``, ``ramps_crossings_one_end``,
        ``ramps_crossings_without_ramp`` — ids of the crossings (ramps of
        kind ``crossing``) with a ramp within 10 m on both sides, one side,
        no side of the street they cross.
        ``heritage`` — per item id: ``kind``, ``radius_m``,
        ``intruding_buildings`` (ids of buildings closer than the radius).
        ``facilities`` — category → number placed.
        ``garbage_points`` — count.
        ``garbage`` — ``walk_m`` (residential building id → its walk to the
        nearest sorting point: to the nearest street, along the grid, to the
        point; see :mod:`gcgeo.testing.walks`), ``bare_block`` (the block
        without sorting points) and ``residual_only`` (the id of the
        residual-waste point there, no sorting point).
        ``ebike`` — ``walk_m`` (the same to the nearest e-bike charger outside
        buildings) and ``indoors`` (ids of the e-bike chargers inside
        residential buildings).
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


def synthetic_county(seed: int = 0, *, n_communities: int = 6,
                     n_homes: int = 3) -> SyntheticCounty:
    """Build a seeded synthetic town inside Gaotang county.

    ``seed`` fixes every random choice (town position, names, storeys,
    facilities' nodes, which features sit in which block…): the same seed gives
    identical layers and truth.  ``n_communities`` (2–16) communities of
    600 × 600 m are laid on a grid of ``ceil(sqrt(n))`` columns; ``n_homes``
    residential buildings (1 to the number of residential blocks) get a
    footpath to their centroid and exact network distances in the truth.

    See :class:`SyntheticCounty` for what ``truth`` holds and the
    :mod:`gcgeo.testing` docstring for the layout.
    """
    _check_sizes(n_communities, n_homes)
    rng = np.random.default_rng(seed)
    epsg, boundary = county_boundary()
    crs = CRS.from_epsg(epsg)
    # The steps draw from rng in this order; reordering them changes every county.
    town = plan_town(rng, boundary, n_communities)
    bld = Builder(town.origin)
    add_street_grid(rng, bld, town)
    built = add_buildings(rng, bld, town, n_homes)
    add_communities(bld, town, built.communities)
    green = add_green_space(rng, bld, town, built.communities)
    parking = add_parking_and_chargers(rng, bld, town, built.communities)
    manholes = add_manholes(rng, bld, town)
    ramps = add_ramps(rng, bld, town)
    lanes = add_fire_lanes(rng, bld, town, parking.lots[0])
    facilities = add_facilities(rng, bld, town, green.park_names, built.homes)
    garbage = add_garbage_points(rng, bld, town, built.communities)
    heritage = add_heritage(rng, bld, town, built.rects)

    layers = bld.layers(crs)
    truth: dict[str, Any] = {
        "crs": f"EPSG:{epsg}",
        "block_m": BLOCK_M,
        "origin": town.origin,
        "grid": {"nx": town.nx, "ny": town.ny, "n_nodes": town.n_nodes},
        "communities": built.communities,
        "green": green.truth,
        "homes": built.homes,
        **lanes,
        "chargers": parking.chargers,
        "parking": {"capacity": parking.capacity, "ev_ready": parking.ev_ready},
        "manholes": manholes.count,
        "manholes_without_manager": manholes.without_manager,
        **manholes.truth,
        **ramps,
        "heritage": heritage,
        "facilities": facilities,
        "garbage_points": garbage.n,
        "garbage": {"walk_m": walks_to_nearest(bld, town, built.homes, garbage.sorting),
                    "bare_block": garbage.bare_block, "residual_only": garbage.residual_only},
        "ebike": {"walk_m": walks_to_nearest(bld, town, built.homes, parking.ebike_outdoors),
                  "indoors": parking.ebike_indoors},
    }
    log.debug("synthetic county seed=%s at %s: %s", seed, town.origin,
              {k: len(v) for k, v in layers.items()})
    return SyntheticCounty(seed=seed, layers=layers, crs=crs, boundary=boundary,
                           origin=town.origin, truth=truth)


def _check_sizes(n_communities: Any, n_homes: Any) -> None:
    """Refuse a number of communities or named homes the layout cannot hold."""
    if not isinstance(n_communities, (int, np.integer)) or not 2 <= n_communities <= len(
            COMMUNITY_NAMES):
        raise InputError(
            f"n_communities must be an integer from 2 to {len(COMMUNITY_NAMES)}, got "
            f"{n_communities!r}.")
    n_res_blocks = n_communities * (BLOCKS_PER_SIDE * BLOCKS_PER_SIDE - 1)
    if not isinstance(n_homes, (int, np.integer)) or not 1 <= n_homes <= n_res_blocks:
        raise InputError(f"n_homes must be an integer from 1 to {n_res_blocks}, got {n_homes!r}.")
