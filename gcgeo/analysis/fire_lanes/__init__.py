"""Fire and rescue lanes (消防车道 / 生命通道): clear width, clear height, turnarounds.

Criterion 8 of the green-community standard asks for orderly parking and no
occupied fire or rescue lanes.  GB 50016-2014 (2018 ed.) §7.1.8 wants a clear
width and a clear height of at least 4.0 m; §7.1.9 wants a turnaround of at
least 12 m × 12 m (15 m × 15 m for high-rise buildings) at a dead end.  All
figures come from ``gcgeo/rules/fire_lanes.toml`` and can be overridden.

How the clear width is measured
-------------------------------
Stations are placed every ``spacing`` metres along each lane (centred in
equal steps, so every station stands for the same length).  At each station
a cross-section perpendicular to the lane is drawn: the lane's design width
centred on the centre line, or, for a lane given as a polygon, the polygon's
own cross-section there.  Every obstruction footprint, parking space and
building intruding into the cross-section is cut out of it; the widest free
run left is the clear width at that station.  Point obstructions get a
footprint by kind (a car 1.8 m × 4.8 m, …) turned along the nearest lane.
Everything is vectorised with shapely 2 and an STRtree.

Dead ends of the lane network that do not join a drivable street need a
turnaround in which a square of the required side fits (largest inscribed
square, tested exactly for a set of orientations), taken from the
turnaround areas and the lane itself near the end, minus whatever stands on
it.  Turnaround areas (回车场) are polygon features of the ``fire_lanes``
layer whose ``kind`` is one of ``lane.turnaround_kinds`` (``turnaround``,
``回车场``, ``回车道``); a caller of :func:`run` may also pass polygons as an
extra ``turnarounds`` entry of ``layers`` (not a workspace layer kind).

The analysis is split by concern: :mod:`.inputs` (rules, the CRS gate, ids
and numbers of rows), :mod:`.centreline` (lanes as centre-line pieces),
:mod:`.stations` (stations, footprints, clear width), :mod:`.turnarounds`
(dead ends and turnarounds) and :mod:`.findings` (findings and summaries).

>>> import geopandas as gpd, shapely
>>> lanes = gpd.GeoDataFrame({"width_m": [4.5]},
...     geometry=[shapely.LineString([(0, 0), (20, 0)])], crs="EPSG:4547")
>>> car = gpd.GeoSeries([shapely.box(8, 0.75, 12.8, 2.55)], crs="EPSG:4547")
>>> st = clear_width(lanes, car, spacing=1.0)
>>> float(st["clear_width_m"].min())
3.0
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..._errors import AnalysisError
from ...crs import metric
from ..contract import Analysis, Criterion, Option, Output, RasterInput, ViewSpec
from .centreline import LanePieces, lane_centreline, prepare_lanes
from .findings import (
    FINDING_KINDS,
    clearance_findings,
    findings_frame,
    summarise_communities,
    summarise_lanes,
    width_findings,
)
from .gradient import lane_gradients
from .inputs import RULES_NAME, align_crs, load_rules, rule_value
from .stations import (
    clear_width,
    collect_obstacles,
    measure_clear_width,
    obstruction_footprints,
    stations,
)
from .turnarounds import (
    dead_ends,
    drivable_streets,
    find_dead_ends,
    largest_inscribed_square,
    marked_not_dead_end,
    turnaround_findings,
    turnaround_ok,
)

__all__ = [
    "FINDING_KINDS",
    "clear_width",
    "dead_ends",
    "lane_centreline",
    "largest_inscribed_square",
    "load_rules",
    "obstruction_footprints",
    "run",
    "summary",
    "turnaround_ok",
]

log = logging.getLogger(__name__)

#: Built-in rule sets the analysis reads (a change to one makes its results stale).
RULE_SETS = (RULES_NAME,)
#: workspace layer kinds the analysis reads (its results are stale once one changes);
#: turnaround areas are features of ``fire_lanes`` (see the module docstring)
INPUTS = ("fire_lanes", "obstructions", "parking", "buildings", "streets", "communities")


def run(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    rules: Mapping[str, Any] | str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    station_spacing: float | None = None,
    high_rise: bool | None = None,
    dem: str | Path | None = None,
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Fire-lane obstruction analysis (criterion 8; GB 50016-2014 §7.1.8–7.1.9).

    ``layers``: ``fire_lanes`` (required; centre lines with ``width_m`` or
    lane polygons, optional ``clear_height_m``, ``dead_end``; features whose
    ``kind`` is one of ``lane.turnaround_kinds`` are turnaround areas, not
    lanes), and optional ``obstructions``, ``parking``, ``buildings``,
    ``streets`` (to tell a dead end from a lane joining the street network)
    and ``communities`` (for the per-community summary).  An extra
    ``turnarounds`` entry (polygons; not a workspace layer kind) adds
    turnaround areas to those of ``fire_lanes``.
    ``station_spacing`` overrides ``lane.station_spacing``; ``high_rise``
    True/False forces the 15 m / 12 m turnaround, None decides from the
    buildings near each dead end.  ``dem`` (a raster of elevations) gives
    the gradient of lanes whose ``slope`` (nor that of the streets they run
    along) is not given (:mod:`.gradient`).

    ``width_m`` and ``clear_height_m`` may carry a unit (``4.5米``, ``4.5m``).

    Returns ``fire_findings`` (points on the lanes), ``fire_lanes_summary``
    (one row per lane, on the lanes' index; ``checks_skipped`` names the
    checks that could not be made for the lane) and ``fire_communities``
    (one row per community, polygons; a single-row table without
    communities), whose ``criterion8`` is fail / incomplete / pass /
    no_lanes as described in :func:`summary`.
    """
    say = progress or (lambda stage: None)
    r = load_rules(rules)
    lanes, turnarounds = _lanes_and_turnarounds(layers, r)
    spacing = _spacing(station_spacing, r)
    other = {k: align_crs(layers.get(k), lanes.crs, k) for k in INPUTS if k != "fire_lanes"}

    say("lanes")
    pk = prepare_lanes(lanes, r)
    say("footprints")
    obstacles = collect_obstacles(pk, other["obstructions"], other["parking"],
                                  other["buildings"], r)
    say("clear width")
    st = stations(pk, spacing, r)
    clear, s_hit, o_hit = measure_clear_width(st, obstacles.geometry,
                                              float(rule_value(r, "lane.width_tolerance")))
    batches = width_findings(pk, st, clear, s_hit, o_hit, obstacles, r)
    n_dead, found = _dead_end_findings(lanes, pk, other["streets"], other["buildings"],
                                       turnarounds, obstacles.geometry, obstacles.ids,
                                       high_rise, r, say)
    batches += found
    say("clearance")
    found, height_unchecked = clearance_findings(lanes, pk, obstacles.footprints, r)
    batches += found
    skipped = _checks_skipped(lanes, pk, other["streets"], height_unchecked)

    say("summary")
    findings = findings_frame(batches, lanes.crs, r, other["communities"])
    lane_summary = summarise_lanes(lanes, pk, st, clear, findings, n_dead, other["buildings"], r,
                                   other["communities"])
    lane_summary.insert(lane_summary.columns.get_loc("n_findings") + 1, "checks_skipped", skipped)
    say("gradient")
    grad = lane_gradients(lanes, pk, other["streets"], dem, r)
    at = lane_summary.columns.get_loc("near_wall") + 1
    for k, col in enumerate(grad.columns):
        lane_summary.insert(at + k, col, grad[col])
    comm = summarise_communities(lane_summary, findings, other["communities"], r)
    findings = findings.drop(columns="_lane")
    return {"fire_findings": findings, "fire_lanes_summary": lane_summary,
            "fire_communities": comm}


def _lanes_and_turnarounds(layers: Mapping[str, gpd.GeoDataFrame], r: Mapping[str, Any]
                           ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The lanes, checked, and the turnaround areas: those of ``fire_lanes`` and ``turnarounds``.

    Features of ``fire_lanes`` whose ``kind`` is one of ``lane.turnaround_kinds``
    are turnaround areas and leave the lanes.
    """
    lanes = layers.get("fire_lanes")
    if lanes is None:
        raise AnalysisError(
            "the fire-lane analysis needs a 'fire_lanes' layer (centre lines with width_m, or "
            "lane polygons); add it to the workspace, e.g. drawn by hand or imported from "
            "OpenStreetMap (service=emergency_access, emergency=designated)."
        )
    if len(lanes) == 0:
        raise AnalysisError("layer 'fire_lanes' has no features; add the fire lanes first.")
    lanes = metric(lanes, "layer 'fire_lanes'")  # the CRS gate every analysis passes
    turnarounds = align_crs(layers.get("turnarounds"), lanes.crs, "turnarounds")
    if "kind" not in lanes.columns:
        return lanes, turnarounds
    t_kinds = [str(k).lower() for k in r.get("lane", {}).get("turnaround_kinds", [])]
    is_turn = lanes["kind"].astype("string").str.strip().str.lower().isin(t_kinds)
    is_turn = is_turn.fillna(False).to_numpy(dtype=bool)
    if not is_turn.any():
        return lanes, turnarounds
    extra = lanes.loc[is_turn, [lanes.geometry.name]]
    turnarounds = extra if turnarounds is None else pd.concat(
        [turnarounds[[turnarounds.geometry.name]].rename_geometry(extra.geometry.name),
         extra], ignore_index=True)
    lanes = lanes.loc[~is_turn]
    if len(lanes) == 0:
        raise AnalysisError("layer 'fire_lanes' holds only turnarounds; add the lanes.")
    return lanes, turnarounds


def _spacing(station_spacing: float | None, r: Mapping[str, Any]) -> float:
    """Station spacing in metres: the option, else ``lane.station_spacing``; refused unless > 0."""
    spacing = float(station_spacing if station_spacing is not None
                    else rule_value(r, "lane.station_spacing"))
    if not spacing > 0:
        raise AnalysisError(f"station_spacing must be a positive number of metres, not {spacing}.")
    return spacing


def _dead_end_findings(lanes: gpd.GeoDataFrame, pk: LanePieces, streets: gpd.GeoDataFrame | None,
                       buildings: gpd.GeoDataFrame | None, turnarounds: gpd.GeoDataFrame | None,
                       obstacles: np.ndarray, obstacle_ids: np.ndarray, high_rise: bool | None,
                       r: Mapping[str, Any], say: Callable[[str], None]
                       ) -> tuple[np.ndarray, list[tuple[pd.DataFrame, np.ndarray]]]:
    """Dead ends per lane and the no_turnaround findings (none without streets, with a warning)."""
    say("dead ends")
    n_dead = np.zeros(len(lanes), int)
    drivable = drivable_streets(streets, r)
    if streets is None or len(streets) == 0:
        log.warning("no streets layer: dead ends cannot be told from lane entrances, so the "
                    "turnaround check (GB 50016-2014 §7.1.9) is skipped; add a streets layer.")
        return n_dead, []
    de = find_dead_ends(pk, drivable, r, marked_not_dead_end(lanes))
    np.add.at(n_dead, pk.lane_pos[de["piece"]], 1)
    say("turnarounds")
    return n_dead, turnaround_findings(de, pk, r, obstacles, obstacle_ids, turnarounds, buildings,
                                       high_rise)


def _checks_skipped(lanes: gpd.GeoDataFrame, pk: LanePieces, streets: gpd.GeoDataFrame | None,
                    height_unchecked: np.ndarray) -> np.ndarray:
    """Per lane, the checks that could not be made, ``;``-separated (``checks_skipped``)."""
    measured = pk.width_source != "skipped"
    skipped = np.full(len(lanes), "", dtype=object)
    if streets is None or len(streets) == 0:
        needs_turn = measured & ~marked_not_dead_end(lanes)
        skipped[needs_turn] = "turnaround"
    no_h = measured & height_unchecked
    skipped[no_h] = [";".join(filter(None, (t, "clear_height"))) for t in skipped[no_h]]
    return skipped


def summary(outputs: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> pd.DataFrame:
    """One row per community: lanes, findings by kind, criterion 8 (for the terminal).

    ``criterion8`` is ``"fail"`` when a finding of a failing kind
    (``criterion8.failing_kinds``) lies in the community; otherwise
    ``"incomplete"`` when any of its lanes was measured with the default
    width (``n_lanes_default_width`` > 0: ``width_m`` missing or unreadable)
    or a check could not be made (``checks_skipped``: ``turnaround`` without
    a streets layer, ``clear_height`` for lanes without a readable
    ``clear_height_m`` or under an obstruction without ``height_m``);
    ``"pass"`` only when every check was made on given data and nothing
    failed; ``"no_lanes"`` when the community has no fire lane.
    """
    comm = outputs["fire_communities"]
    cols = ["community", "n_lanes", "lanes_km", "share_below_req", "n_findings",
            *(f"n_{k}" for k in FINDING_KINDS), "worst_severity", "n_lanes_default_width",
            "checks_skipped", "criterion8"]
    return pd.DataFrame(comm[cols]).reset_index(drop=True)


# --------------------------------------------------------------------------
# the descriptor

_COLUMNS = {
        "lane_id": ("消防车道编号", "Fire lane id", "text"),
        "min_clear_width_m": ("最小净宽", "Minimum clear width (m)", "float"),
        "clear_width_m": ("净宽", "Clear width (m)", "float"),
        "min_clear_height_m": ("最小净高", "Minimum clear height (m)", "float"),
        "blocked_length_m": ("不达标长度", "Length below the required width (m)", "m"),
        "clear_width_min_m": ("最小净宽", "Minimum clear width (m)", "float"),
        "share_below_req": ("净宽不足长度比例", "Share of length below the required width", "pct"),
        "lanes_km": ("消防车道长度（公里）", "Fire lanes (km)", "float"),
        "worst_severity": ("最严重程度", "Worst severity", "text"),
        "severity_rank": ("严重程度等级", "Severity rank", "int"),
        "criterion8": ("第8项（消防通道）", "Criterion 8 (fire lanes)", "text"),
        "n_lanes_default_width": ("按默认宽度计的车道数", "Lanes measured at the default width", "int"),
        "checks_skipped": ("未能进行的检查", "Checks not made", "text"),
        "dead_ends": ("尽头数", "Dead ends", "int"),
        "width_source": ("宽度来源", "Width source", "text"),
        "width_m": ("设计宽度", "Design width (m)", "float"),
        "clear_height_m": ("净空高度", "Clear height (m)", "float"),
        "wall_dist_m": ("距外墙距离", "Distance to wall (m)", "float"),
        "near_wall": ("距外墙过近", "Too near the wall", "bool"),
        "gradient_pct": ("坡度（%）", "Gradient (%)", "float"),
        "gradient_source": ("坡度来源", "Gradient source", "text"),
        "too_steep": ("坡度过大", "Too steep", "bool"),
        "obstruction_ids": ("占用物编号", "Obstructions", "text"),
        "obstruction_kinds": ("占用物类型", "Obstruction kinds", "text"),
        "from_m": ("起点里程", "From (m)", "m"),
        "to_m": ("终点里程", "To (m)", "m"),
        "n_lanes": ("消防车道数", "Fire lanes", "int"),
        "lane_length_m": ("消防车道长度", "Fire lane length (m)", "m"),
        "share_lane_ok": ("达标车道比例", "Share of lane length passing", "pct"),
}

ANALYSIS = Analysis(
    name="fire_lanes",
    label_zh="消防车道",
    label_en="Fire lanes",
    description_en="clear width after parked cars, stalls and other obstructions, clear height, "
                   "and turnarounds at dead ends (GB 50016-2014 §7.1.8-7.1.9)",
    description_zh="扣除停车、摊位等占用后的净宽、净高及尽头式车道回车场（GB 50016-2014 第7.1.8–7.1.9条）",
    run=run,
    summary=summary,
    requires=INPUTS[:1],
    optional=INPUTS[1:],
    rule_sets=RULE_SETS,
    outputs=(
        Output("fire_findings", "消防车道问题", "Fire-lane findings",
               style="gcgeo.maps._layers:style_fire_findings", columns=_COLUMNS, geometry_type="Point"),
        Output("fire_lanes_summary", "消防车道净宽", "Fire lanes by clear width",
               style="gcgeo.maps._layers:style_fire_lanes_summary"),
        Output("fire_communities", "社区消防车道", "Fire lanes by community",
               style="gcgeo.maps._layers:style_fire_communities"),
    ),
    options=(
        Option("station_spacing", "float", "metres between measuring stations along a lane",
               "沿车道的量测间距（米）", rule="fire_lanes.lane.station_spacing", min=0,
               min_exclusive=True),
        Option("high_rise", "bool", "turnarounds for high-rise buildings (default: decided from "
               "building heights)", "按高层建筑要求回车场（默认：按建筑高度判断）"),
        Option("dem", "file", "elevation raster for the lanes' gradient where no slope is given "
               "(default: the workspace's raster 'dem')",
               "用于计算车道坡度的高程栅格（未给出坡度时；默认：工作空间所附栅格 dem）"),
    ),
    criteria=(
        Criterion(8, "fire_communities", "criterion8",
                  "fire lanes clear of parked cars and other obstructions, wide and high enough, "
                  "with turnarounds", "消防车道无停车及其他占用，净宽净高达标，尽头设回车场",
                  part_en="fire lanes", part_zh="消防车道",
                  unmeasured_en="parking order beyond the fire lanes",
                  unmeasured_zh="消防车道以外的停车秩序"),
    ),
    rasters=(RasterInput("dem", "dem"),),
    headlines="gcgeo.headlines:fire_lanes",
    views=(ViewSpec("gcgeo.maps._views:fire_lanes",
                    "lanes by clear width, obstructions, findings with their clause"),),
)
