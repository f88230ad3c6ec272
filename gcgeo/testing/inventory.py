"""The synthetic town's surveyed inventory: parking, chargers, manholes, ramps, garbage, heritage.

Each ``add_*`` function places one survey's features on the town's blocks or
streets, drawing its choices from the shared generator, and returns the counts
and ids an analysis should find.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .features import Builder
from .layout import B_COMMERCIAL, B_TREE, BLOCK_M, BLOCKS_PER_SIDE, Rect, Town, rect_point_distance

# Block-local layout (metres from the block's south-west street node).
_PARKING_SLOT = (20.0, 60.0, 80.0, 84.0)
# Sorting points at the street in front of each building slot (B1, B2 face the south street,
# B3, B4 the side streets they are nearest to), 4 m from the street's centre line.
_GARBAGE_AT = {"B1": (60.0, 4.0), "B2": (140.0, 4.0), "B3": (4.0, 137.0), "B4": (196.0, 137.0)}
_EBIKE_AT = (100.0, 20.0)
# An e-bike charger in the stair hall of the B2 slot of the first residential block.
_EBIKE_INDOORS_AT = (120.0, 45.0)
_TREE_AT = (100.0, 45.0)
_RAMP_OFFSET = 4.0
_MANAGERS = {
    "sewer": "高唐县住房和城乡建设局",
    "drain": "高唐县住房和城乡建设局",
    "water": "高唐县自来水公司",
    "gas": "高唐县燃气公司",
    "heating": "高唐县热力公司",
    "power": "国网高唐县供电公司",
    "telecom": "中国联通高唐分公司",
}


@dataclass
class Parking:
    """What placing car parks and chargers established.

    ``lots`` — each car park's rectangle (town coordinates), in id order;
    ``capacity`` and ``ev_ready`` — totals over the car parks; ``chargers`` —
    counts by kind (``car``, ``e-bike``) and ``sockets``; ``ebike_outdoors``
    — where the e-bike stations stand (town coordinates); ``ebike_indoors``
    — ids of the e-bike chargers inside residential buildings.
    """

    lots: list[Rect]
    capacity: int
    ev_ready: int
    chargers: dict[str, int]
    ebike_outdoors: list[tuple[float, float]]
    ebike_indoors: list[str]


def add_parking_and_chargers(rng: np.random.Generator, bld: Builder, town: Town,
                             communities: dict[str, dict[str, Any]]) -> Parking:
    """Add surface car parks with car chargers in drawn blocks, then e-bike charging stations
    and one e-bike charger in a stair hall (the B2 slot of the first residential block).

    Sets ``parking_capacity`` and ``ev_ready`` (sums over its car parks) on each
    entry of ``communities`` (community id → truth).  Draws from ``rng``: how
    many and which blocks get a car park; per car park its number of chargers,
    their sockets, its capacity, each charger's power; then per residential
    block whether it gets an e-bike station and its size.
    """
    for c in range(town.n_communities):
        communities[town.ids[c]].update(parking_capacity=0, ev_ready=0)
    res_blocks = town.residential_blocks
    park_blocks_n = max(2, int(rng.integers(len(res_blocks) // 4, len(res_blocks) // 2 + 1)))
    lot_blocks = [res_blocks[k] for k in
                  sorted(rng.choice(len(res_blocks), size=park_blocks_n, replace=False))]
    cap_total = ev_total = 0
    chargers = {"car": 0, "e-bike": 0, "sockets": 0}
    lots: list[Rect] = []
    for blk in lot_blocks:
        x0, y0 = town.block_origin(*blk)
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
        communities[town.ids[blk[0]]]["parking_capacity"] += capacity
        communities[town.ids[blk[0]]]["ev_ready"] += ev
        for k, s in enumerate(sockets):
            bld.add("chargers", id=bld.next_id("EV"), name="汽车充电桩", kind="car", sockets=s,
                    power_kw=float(rng.choice([7.0, 60.0, 120.0])), operator="国家电网",
                    geometry=bld.point(rect[0] + 4.0 + 6.0 * k, rect[1] + 3.0))
            chargers["car"] += 1
            chargers["sockets"] += s
    outdoors = []
    for blk in res_blocks:
        if rng.random() < 0.5:
            x0, y0 = town.block_origin(*blk)
            s = int(rng.choice([10, 20]))
            bld.add("chargers", id=bld.next_id("EV"), name="电动自行车充电站", kind="e-bike",
                    sockets=s, power_kw=float(s) * 0.4, operator="街道办事处",
                    geometry=bld.point(x0 + _EBIKE_AT[0], y0 + _EBIKE_AT[1]))
            outdoors.append((x0 + _EBIKE_AT[0], y0 + _EBIKE_AT[1]))
            chargers["e-bike"] += 1
            chargers["sockets"] += s
    # the fire risk the county plan puts first: charging in a stair hall (no draw)
    x0, y0 = town.block_origin(*res_blocks[0])
    indoors = bld.next_id("EV")
    bld.add("chargers", id=indoors, name="楼道充电插座", kind="e-bike", sockets=2, power_kw=0.8,
            operator="居民自装", geometry=bld.point(x0 + _EBIKE_INDOORS_AT[0], y0 + _EBIKE_INDOORS_AT[1]))
    chargers["e-bike"] += 1
    chargers["sockets"] += 2
    return Parking(lots=lots, capacity=cap_total, ev_ready=ev_total, chargers=chargers,
                   ebike_outdoors=outdoors, ebike_indoors=[indoors])


@dataclass
class Manholes:
    """What placing the manholes established.

    ``count`` — how many; ``without_manager`` — their ids, in order; ``truth``
    — the other truth keys (see :class:`~.county.SyntheticCounty`).
    """

    count: int
    without_manager: list[str]
    truth: dict[str, Any]


_EXCEL_DAY0 = pd.Timestamp("1899-12-30")
#: How the register spells the k-th cover's inspection date (k modulo 4), as planners do.
_DATE_SPELLINGS = (
    lambda d: d.strftime("%Y-%m-%d"),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: str((d - _EXCEL_DAY0).days),  # an Excel serial, as an unformatted cell gives
)
_DRAINAGE = ("sewer", "drain")


def add_manholes(rng: np.random.Generator, bld: Builder, town: Town) -> Manholes:
    """Add four manholes per community on drawn street segments; their number, ids without a manager.

    The first manhole has no manager, the second has one; about a quarter of
    the rest have none.  Draws from ``rng``: the segments, which have no
    manager, then per manhole its kind, inspection date, contact and condition.

    Planted without drawing (so every other layer stays as it was): the
    second manhole's contact is left out; every cover without a manager at
    an even position has no owner either; the third has no code and the last
    carries the code of the one before it; the fourth is missing and the
    fifth rattles (异响), whatever was drawn; every third drainage cover
    (sewer, drain; the second, fifth…) has no fall-prevention net, the other
    kinds none recorded; the sixth has no inspection date, and the others'
    dates are spelled in turn 2021-03-05, 2021/3/5, 2021年3月5日 and as an
    Excel serial (44260).
    """
    B, nx, ny = BLOCK_M, town.nx, town.ny
    h_edges = [(i, j, "h") for j in range(ny + 1) for i in range(nx)]
    v_edges = [(i, j, "v") for i in range(nx + 1) for j in range(ny)]
    edges = h_edges + v_edges
    n_mh = 4 * town.n_communities
    chosen = sorted(rng.choice(len(edges), size=n_mh, replace=False))
    no_manager = rng.random(n_mh) < 0.25
    no_manager[0], no_manager[1] = True, False
    mh_kinds = tuple(_MANAGERS)
    mh_without = []
    truth: dict[str, Any] = {"manholes_without_contact": [], "manholes_without_owner": [],
                             "manholes_without_code": [], "manholes_duplicate_codes": {},
                             "manholes_faults": {}, "manholes_without_fall_net": [],
                             "manholes_inspected": {}}
    codes: list[str | None] = [f"GT-JG-{k + 1:04d}" for k in range(n_mh)]
    codes[2] = None
    codes[-1] = codes[-2]
    n_drainage = 0
    mids = []
    for k, e in enumerate(chosen):
        i, j, d = edges[e]
        x, y = (i * B + B / 2, j * B + 1.5) if d == "h" else (i * B + 1.5, j * B + B / 2)
        kind = str(rng.choice(mh_kinds))
        mid = bld.next_id("MH")
        mids.append(mid)
        date = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 1000)))
        manager = None if no_manager[k] else _MANAGERS[kind]
        contact = None if no_manager[k] else f"0635-{int(rng.integers(3900000, 3999999))}"
        condition = str(rng.choice(["good", "good", "good", "damaged", "sunken"]))
        # planted: no draws below this line
        if k == 1:
            contact = None
            truth["manholes_without_contact"].append(mid)
        owner = None if no_manager[k] and k % 2 == 0 else _MANAGERS[kind]
        condition = {3: "missing", 4: "noisy"}.get(k, condition)
        net = None
        if kind in _DRAINAGE:
            net = n_drainage % 3 != 1
            n_drainage += 1
        when = None if k == 5 else date
        bld.add("manholes", id=mid, kind=kind, code=codes[k], owner=owner, manager=manager,
                contact=contact, condition=condition, fall_net=net,
                last_inspection=None if when is None else _DATE_SPELLINGS[k % 4](when),
                geometry=bld.point(x, y))
        if manager is None:
            mh_without.append(mid)
        if owner is None:
            truth["manholes_without_owner"].append(mid)
        if codes[k] is None:
            truth["manholes_without_code"].append(mid)
        if condition != "good":
            truth["manholes_faults"][mid] = condition
        if net is False:
            truth["manholes_without_fall_net"].append(mid)
        truth["manholes_inspected"][mid] = None if when is None else when.strftime("%Y-%m-%d")
    truth["manholes_duplicate_codes"] = {codes[-1]: mids[-2:]}
    return Manholes(count=n_mh, without_manager=mh_without, truth=truth)


def add_ramps(rng: np.random.Generator, bld: Builder, town: Town) -> dict[str, list[str]]:
    """Add three kerb ramps per community at drawn street crossings, then crossings; ids by defect.

    Returns ``ramps_steeper_than_1_12``, ``ramps_full_width_steeper_than_1_20``,
    ``ramps_lip_over_10mm``, ``ramps_narrower_than_1_2m`` and
    ``ramps_narrower_than_required`` (three-sided under 1.20 m, other forms
    under 1.50 m: GB 50763-2012 §3.1.3), then the crossings of
    :func:`add_crossings` (the truth keys).  The first three ramps are fixed:
    a three-sided one at 1:10, a full-width one at 1:20 and a full-width one
    at 1:15.  Draws from ``rng``: the crossings, then per ramp its kind and
    slope (after the first three), width and lip.
    """
    B = BLOCK_M
    ramp_nodes = [(i, j) for j in range(town.ny) for i in range(town.nx)]
    n_ramps = 3 * town.n_communities
    picks = sorted(rng.choice(len(ramp_nodes), size=n_ramps, replace=False))
    steep, fw_steep, lip_high, narrow, too_narrow = [], [], [], [], []
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
        if width < {"three_sided": 1.2, "other": 1.5}.get(kind, 0.0):
            too_narrow.append(rid)
    return {"ramps_steeper_than_1_12": steep, "ramps_full_width_steeper_than_1_20": fw_steep,
            "ramps_lip_over_10mm": lip_high, "ramps_narrower_than_1_2m": narrow,
            "ramps_narrower_than_required": too_narrow,
            **add_crossings(bld, town, [ramp_nodes[p] for p in picks])}


def add_crossings(bld: Builder, town: Town, ramp_at: list[tuple[int, int]]) -> dict[str, list[str]]:
    """Add three crossings (ramps of kind ``crossing``), set without drawing from the generator.

    Each lies on a street inside a community (a grid line that is no
    community's edge), 4 m east of grid node (i, j), across the street
    running east: one beside the first such ramp (R at the node's north-east,
    4 m away: a ramp on one side only), one beside the next such ramp with a
    flush kerb added 4 m to its south (a ramp on both sides), one at the first
    such node without a ramp (none within 196 m).  ``ramp_at`` is the grid
    node of each ramp, in id order.  Returns ``ramps_crossings_one_end``,
    ``ramps_crossings_served``, ``ramps_crossings_without_ramp`` (ids) and
    ``ramps_flush`` (the flush kerb).
    """
    B = BLOCK_M
    inner = [ij for ij in ramp_at if ij[1] % BLOCKS_PER_SIDE]
    free = [(i, j) for j in range(town.ny) for i in range(town.nx)
            if j % BLOCKS_PER_SIDE and (i, j) not in ramp_at]
    out: dict[str, list[str]] = {"ramps_crossings_one_end": [], "ramps_crossings_served": [],
                                 "ramps_crossings_without_ramp": [], "ramps_flush": []}
    plan = [("ramps_crossings_one_end", inner[:1]), ("ramps_crossings_served", inner[1:2]),
            ("ramps_crossings_without_ramp", free[:1])]
    for key, nodes in plan:
        for i, j in nodes:
            cid = bld.next_id("X")
            bld.add("ramps", id=cid, name="人行横道", kind="crossing",
                    geometry=bld.point(i * B + _RAMP_OFFSET, j * B))
            out[key].append(cid)
            if key == "ramps_crossings_served":
                fid = bld.next_id("R")
                bld.add("ramps", id=fid, kind="flush", lip_mm=0.0, wheelchair="yes",
                        geometry=bld.point(i * B + _RAMP_OFFSET, j * B - _RAMP_OFFSET))
                out["ramps_flush"].append(fid)
    return out


@dataclass
class GarbagePoints:
    """What placing the garbage points established.

    ``n`` — how many were placed; ``sorting`` — where the sorting points stand
    (town coordinates); ``bare_block`` — the block left without a sorting point
    whatever the draw; ``residual_only`` — the id of the point there that takes
    residual waste only (no sorting point).
    """

    n: int
    sorting: list[tuple[float, float]]
    bare_block: tuple[int, int, int]
    residual_only: str


def add_garbage_points(rng: np.random.Generator, bld: Builder, town: Town,
                       communities: dict[str, dict[str, Any]]) -> GarbagePoints:
    """Add sorting points in front of every building of about four in five residential
    blocks; the first block of the second community gets a residual-waste point only.

    Sets ``garbage_points`` (the count in it) on each entry of ``communities``
    (community id → truth).  Draws from ``rng``: per block whether it gets
    sorting points and their kind.
    """
    for c in range(town.n_communities):
        communities[town.ids[c]]["garbage_points"] = 0
    bare = next(b for b in town.residential_blocks if b[0] == 1)
    sorting: list[tuple[float, float]] = []
    residual = ""
    for blk in town.residential_blocks:
        x0, y0 = town.block_origin(*blk)
        if rng.random() < 0.8:
            kind = str(rng.choice(["sorting", "sorting", "recycling", "kitchen"]))
            if blk != bare:
                for slot, (dx, dy) in _GARBAGE_AT.items():
                    if (blk[1], blk[2]) == B_COMMERCIAL and slot == "B4":
                        continue  # the shop building's front
                    bld.add("garbage_points", id=bld.next_id("GP"), name="垃圾分类投放点",
                            kind=kind, geometry=bld.point(x0 + dx, y0 + dy))
                    sorting.append((x0 + dx, y0 + dy))
                    communities[town.ids[blk[0]]]["garbage_points"] += 1
        if blk == bare:
            residual = bld.next_id("GP")
            dx, dy = _GARBAGE_AT["B1"]
            bld.add("garbage_points", id=residual, name="其他垃圾收集点", kind="residual",
                    geometry=bld.point(x0 + dx, y0 + dy))
            communities[town.ids[blk[0]]]["garbage_points"] += 1
    n = sum(t["garbage_points"] for t in communities.values())
    return GarbagePoints(n=n, sorting=sorting, bare_block=bare, residual_only=residual)


def add_heritage(rng: np.random.Generator, bld: Builder, town: Town,
                 building_rects: dict[str, Rect]) -> dict[str, dict[str, Any]]:
    """Add an old tree in block :data:`~.layout.B_TREE`; the ``heritage`` truth.

    ``building_rects`` (building id → rectangle) gives the buildings closer to
    the tree than its protection radius.  Draws the radius from ``rng``.
    """
    x0, y0 = town.block_origin(*B_TREE)
    tree_xy = (x0 + _TREE_AT[0], y0 + _TREE_AT[1])
    radius = float(rng.choice([12.0, 15.0, 18.0]))
    hid = bld.next_id("H", 2)
    bld.add("heritage", id=hid, name="古槐", kind="old_tree", grade="一级",
            protection_radius_m=radius, geometry=bld.point(*tree_xy))
    intruding = sorted(b for b, r in building_rects.items()
                       if rect_point_distance(r, tree_xy) < radius)
    return {hid: {"kind": "old_tree", "radius_m": radius, "intruding_buildings": intruding}}
