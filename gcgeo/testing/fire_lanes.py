"""The synthetic town's fire lanes, turnarounds and obstructions, with their clear widths.

Lanes are LineStrings (``kind`` ``lane``) running east–west along block-local
y 92 (across the block, or from its east edge to the middle for a dead end);
turnarounds are square Polygon features of the same layer (``kind``
``turnaround``) centred on a dead end.  Obstructions reach a known
depth into a lane from its north edge, so the clear width is the design width
less that depth; an overhead gantry limits the clear height.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .features import Builder
from .layout import (
    B_DEAD_END,
    B_NARROW_LANE,
    B_OBSTRUCTED_LANE,
    B_TURNAROUND_OK,
    B_TURNAROUND_SMALL,
    B_WIDE_LANE,
    BLOCK_M,
    Rect,
    Town,
)

_LANE_Y = 92.0
_OBSERVED = "2022-05-18"

_Block = tuple[int, int, int]


class _Lanes:
    """Places lanes, turnarounds and obstructions, and keeps each lane's truth."""

    def __init__(self, bld: Builder, town: Town) -> None:
        self.bld, self.town = bld, town
        self.truth: dict[str, dict[str, Any]] = {}

    def lane(self, blk: _Block, width_m: float, *, x_from: float = 0.0, x_to: float = BLOCK_M,
             dead_end: bool = False, clear_height: float = 5.0, slope: float | None = None) -> str:
        bld = self.bld
        x0, y0 = self.town.block_origin(*blk)
        lid = bld.next_id("FL", 2)
        bld.add("fire_lanes", id=lid, name="消防车道", kind="lane", width_m=width_m,
                clear_height_m=clear_height, dead_end=dead_end, slope=slope,
                geometry=bld.line((x0 + x_from, y0 + _LANE_Y), (x0 + x_to, y0 + _LANE_Y)))
        self.truth[lid] = {"width_m": width_m, "clear_width_m": width_m,
                           "gradient_pct": None if slope is None else slope * 100.0,
                           "clear_height_m": clear_height, "dead_end": dead_end,
                           "turnaround_id": None, "turnaround_m": None,
                           "turnaround_passes_12x12": None if not dead_end else False,
                           "obstructions": [], "community": self.town.ids[blk[0]]}
        return lid

    def turnaround(self, lid: str, blk: _Block, side: float) -> None:
        bld = self.bld
        x0, y0 = self.town.block_origin(*blk)
        h = side / 2
        tid = bld.next_id("FL", 2)
        bld.add("fire_lanes", id=tid, name="回车场", kind="turnaround", width_m=side,
                clear_height_m=None, dead_end=None,
                geometry=bld.poly((x0 + 100 - h, y0 + _LANE_Y - h, x0 + 100 + h,
                                   y0 + _LANE_Y + h)))
        self.truth[lid].update(turnaround_id=tid, turnaround_m=side,
                               turnaround_passes_12x12=side >= 12.0)

    def encroach(self, lid: str, blk: _Block, kind: str, x_at: float, depth: float,
                 size: tuple[float, float], name: str) -> None:
        """An obstruction reaching ``depth`` metres into the lane from its north edge."""
        bld = self.bld
        x0, y0 = self.town.block_origin(*blk)
        edge = _LANE_Y + self.truth[lid]["width_m"] / 2
        length, wide = size
        oid = bld.next_id("OB", 2)
        bld.add("obstructions", id=oid, name=name, kind=kind, width_m=wide, length_m=length,
                height_m=None, observed=_OBSERVED,
                geometry=bld.poly((x0 + x_at, y0 + edge - depth, x0 + x_at + length,
                                   y0 + edge - depth + wide)))
        self.truth[lid]["clear_width_m"] = self.truth[lid]["width_m"] - depth
        self.truth[lid]["obstructions"].append(oid)

    def gantry(self, lid: str, blk: _Block, x_at: float, height: float) -> None:
        """A height-limit gantry, 8 m wide, over the lane at block-local ``x_at``."""
        bld = self.bld
        x0, y0 = self.town.block_origin(*blk)
        gate = bld.next_id("OB", 2)
        bld.add("obstructions", id=gate, name="限高门架", kind="overhead", width_m=8.0,
                length_m=0.5, height_m=height, observed=_OBSERVED,
                geometry=bld.poly((x0 + x_at, y0 + _LANE_Y - 4.0, x0 + (x_at + 0.5),
                                   y0 + _LANE_Y + 4.0)))
        self.truth[lid]["clear_height_m"] = min(self.truth[lid]["clear_height_m"], height)
        self.truth[lid]["obstructions"].append(gate)


def add_fire_lanes(rng: np.random.Generator, bld: Builder, town: Town,
                   car_park: Rect) -> dict[str, Any]:
    """Add the fire lanes of the special blocks, one lane per further community, and obstructions.

    ``car_park`` is a car park's rectangle: a car parked in it is an
    obstruction on no lane.  Returns the truth keys ``fire_lanes`` (each
    lane's ``gradient_pct`` from its ``slope``, None where it has none),
    ``obstructed_lane``, ``narrow_lane``, ``dead_end_lanes``,
    ``obstructions_off_lane`` and ``steep_lanes``.  Draws from ``rng`` the width of each further
    community's lane.
    """
    lanes = _Lanes(bld, town)
    B = BLOCK_M
    # slopes on three lanes (the others have none): 9% is steeper than the 8% of
    # GB 50016-2014 §7.1.8 (5), 8% is just allowed
    obstructed = lanes.lane(B_OBSTRUCTED_LANE, 4.5, slope=0.03)
    lanes.encroach(obstructed, B_OBSTRUCTED_LANE, "car", 80.0, 1.5, (4.8, 1.8), "占道停放车辆")
    narrow_lane = lanes.lane(B_NARROW_LANE, 3.5, slope=0.09)
    wide = lanes.lane(B_WIDE_LANE, 6.0, slope=0.08)
    lanes.encroach(wide, B_WIDE_LANE, "stall", 50.0, 0.4, (3.0, 2.0), "占道摊点")
    lanes.gantry(wide, B_WIDE_LANE, 150.0, 3.6)
    dead_ok = lanes.lane(B_TURNAROUND_OK, 4.0, x_from=B, x_to=100.0, dead_end=True)
    lanes.turnaround(dead_ok, B_TURNAROUND_OK, 15.0)
    dead_none = lanes.lane(B_DEAD_END, 4.0, x_from=B, x_to=100.0, dead_end=True)
    dead_small = lanes.lane(B_TURNAROUND_SMALL, 4.5, x_from=B, x_to=100.0, dead_end=True)
    lanes.turnaround(dead_small, B_TURNAROUND_SMALL, 10.0)
    for c in range(2, town.n_communities):
        lanes.lane((c, 0, 0), float(rng.choice([4.0, 5.0, 6.0])))
    # a car parked inside a car park: an obstruction on no lane
    lx = car_park
    oid = bld.next_id("OB", 2)
    bld.add("obstructions", id=oid, name="停车场内车辆", kind="car", width_m=1.8, length_m=4.8,
            height_m=None, observed=_OBSERVED,
            geometry=bld.poly((lx[0] + 30.0, lx[1] + 10.0, lx[0] + 34.8, lx[1] + 11.8)))
    return {"fire_lanes": lanes.truth, "obstructed_lane": obstructed, "narrow_lane": narrow_lane,
            "dead_end_lanes": [dead_ok, dead_none, dead_small], "obstructions_off_lane": [oid],
            "steep_lanes": [narrow_lane]}
