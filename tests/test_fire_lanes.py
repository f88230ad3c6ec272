"""Fire-lane analysis: clear width, clear height and turnarounds.

Every expected value is known by construction (distances set when the test
geometry is built) or computed independently of the module (brute-force
interval arithmetic for random boxes on a straight lane).
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gcgeo import AnalysisError, CRSError
from gcgeo.analysis import fire_lanes as fl

CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E (metres)
X0, Y0 = 500000.0, 4000000.0  # work near a realistic false origin


def at(x: float, y: float) -> tuple[float, float]:
    return (X0 + x, Y0 + y)


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def lane(width=4.5, length=50.0, **cols):
    data = {"id": ["L1"], "width_m": [width], **{k: [v] for k, v in cols.items()}}
    return gpd.GeoDataFrame(data, geometry=[shapely.LineString([at(0, 0), at(length, 0)])],
                            crs=CRS)


def obstructions(rows):
    """rows: (id, kind, geometry, extra columns dict)."""
    recs = [{"id": i, "kind": k, **extra} for i, k, _g, extra in rows]
    return gpd.GeoDataFrame(pd.DataFrame(recs), geometry=[g for _i, _k, g, _e in rows], crs=CRS)


def street_at_start():
    return gpd.GeoDataFrame({"kind": ["residential"]},
                            geometry=[shapely.LineString([at(0, -60), at(0, 60)])], crs=CRS)


# --- clear width by construction ---------------------------------------------


def test_car_parked_1_5_m_into_a_4_5_m_lane_leaves_3_0_m():
    # car 1.8 m wide: its outer side 0.3 m beyond the lane edge (y = 2.25),
    # its inner side 1.5 m inside it (y = 0.75): centre y = 1.65.
    obs = obstructions([("car-1", "car", shapely.Point(at(25, 1.65)), {})])
    out = fl.run({"fire_lanes": lane(), "obstructions": obs})
    f = out["fire_findings"]
    assert list(f["kind"]) == ["obstructed"]
    row = f.iloc[0]
    assert row["measured"] == pytest.approx(3.0, abs=1e-6)
    assert row["required"] == 4.0
    assert row["obstruction_ids"] == "car-1"
    assert "7.1.8" in row["clause"]
    assert row["severity"] == "medium"  # 3.0 ≤ w < 3.5
    # the car spans x 22.6–27.4; stations at 0.5, 1.5, … → 23.5 … 26.5 blocked
    assert (row["from_m"], row["to_m"]) == (pytest.approx(23.0), pytest.approx(27.0))
    # the finding lies on the lane
    assert row.geometry.distance(lane().geometry.iloc[0]) < 1e-6
    s = out["fire_lanes_summary"].iloc[0]
    assert s["clear_width_min_m"] == pytest.approx(3.0, abs=1e-6)
    assert s["share_below_req"] == pytest.approx(4 / 50)
    assert s["n_obstructed"] == 1 and s["n_findings"] == 1
    assert s["width_source"] == "given"


def test_two_cars_on_opposite_sides():
    # each car intrudes 1.0 m: north car y 1.25–3.05, south car y −3.05…−1.25;
    # they overlap in x 22–24.8 (north 20–24.8, south 22–26.8)
    north = box(20, 1.25, 24.8, 3.05)
    south = box(22, -3.05, 26.8, -1.25)
    obs = obstructions([("n", "car", north, {}), ("s", "car", south, {})])
    st = fl.clear_width(lane(), obs.set_index("id"), spacing=1.0)
    by_x = st.set_index("chainage_m")["clear_width_m"]
    assert by_x[23.5] == pytest.approx(2.5)  # both: 4.5 − 1.0 − 1.0
    assert by_x[20.5] == pytest.approx(3.5)  # north only
    assert by_x[26.5] == pytest.approx(3.5)  # south only
    assert by_x[10.5] == pytest.approx(4.5)  # free
    # rows without an id are named "#<row>"
    assert set(st.loc[st["chainage_m"] == 23.5, "obstacles"].iloc[0].split(";")) == {"#n", "#s"}
    out = fl.run({"fire_lanes": lane(), "obstructions": obs})
    f = out["fire_findings"]
    assert len(f) == 1  # one contiguous run x 20–27
    assert f["measured"].iloc[0] == pytest.approx(2.5)
    assert set(f["obstruction_ids"].iloc[0].split(";")) == {"n", "s"}
    assert f["severity"].iloc[0] == "high"


def test_obstruction_touching_but_not_intruding_leaves_the_width():
    touching = box(20, 2.25, 25, 4.0)  # shares the lane's north edge
    corner = shapely.Polygon([at(30, 2.25), at(32, 4), at(28, 4)])  # one vertex on the edge
    obs = obstructions([("t", "stall", touching, {}), ("c", "stall", corner, {})])
    st = fl.clear_width(lane(), obs, spacing=0.5)
    assert st["clear_width_m"].min() == pytest.approx(4.5)
    out = fl.run({"fire_lanes": lane(), "obstructions": obs})
    assert len(out["fire_findings"]) == 0
    assert out["fire_lanes_summary"]["clear_width_min_m"].iloc[0] == pytest.approx(4.5)


def test_curved_lane_with_a_known_intrusion():
    # quarter circle of radius 30 m, 4.5 m wide: inner edge at r = 27.75.
    # An annular sector r ≥ 29.0 between 30° and 50° leaves 29.0 − 27.75 = 1.25 m
    # measured radially (the cross-sections are radial on an arc).
    r0, rin = 30.0, 29.0
    a = np.radians(np.linspace(0, 90, 451))
    arc = shapely.LineString(np.column_stack([X0 + r0 * np.cos(a), Y0 + r0 * np.sin(a)]))
    b = np.radians(np.linspace(30, 50, 2001))
    sector = shapely.Polygon(np.r_[np.column_stack([X0 + rin * np.cos(b), Y0 + rin * np.sin(b)]),
                                   np.column_stack([X0 + 40 * np.cos(b[::-1]),
                                                    Y0 + 40 * np.sin(b[::-1])])])
    lanes = gpd.GeoDataFrame({"width_m": [4.5]}, geometry=[arc], crs=CRS)
    st = fl.clear_width(lanes, gpd.GeoSeries([sector], crs=CRS), spacing=1.0)
    ang = np.degrees(np.arctan2(st.geometry.y - Y0, st.geometry.x - X0))
    inside = (ang > 30.5) & (ang < 49.5)
    outside = (ang < 29.5) | (ang > 50.5)
    assert np.allclose(st.loc[inside, "clear_width_m"], 1.25, atol=0.01)
    assert np.allclose(st.loc[outside, "clear_width_m"], 4.5, atol=1e-6)
    # the blocked length is 20° of arc ≈ 10.5 m
    blocked = (st["clear_width_m"] < 4.0).sum() * arc.length / len(st)
    assert blocked == pytest.approx(math.radians(20) * r0, abs=1.5)


def test_random_boxes_match_brute_force_intervals():
    rng = np.random.default_rng(7)
    w = 5.0
    boxes = []
    for _ in range(60):
        x0 = rng.uniform(0, 95)
        y0 = rng.uniform(-4.5, 3.5)
        boxes.append((x0, y0, x0 + rng.uniform(0.3, 5), y0 + rng.uniform(0.2, 1.5)))
    obs = gpd.GeoSeries([box(*b) for b in boxes], crs=CRS)
    st = fl.clear_width(lane(width=w, length=100), obs, spacing=0.7)
    tol = fl.load_rules()["lane"]["width_tolerance"]["value"]  # slivers below it are ignored
    for x, got in zip(st["chainage_m"], st["clear_width_m"], strict=True):
        iv = sorted((max(b[1], -w / 2), min(b[3], w / 2)) for b in boxes
                    if b[0] <= x <= b[2] and min(b[3], w / 2) - max(b[1], -w / 2) > tol)
        best, end = 0.0, -w / 2
        for lo, hi in iv:
            best = max(best, lo - end)
            end = max(end, hi)
        best = max(best, w / 2 - end)
        assert got == pytest.approx(best, abs=1e-9), x


def test_polygon_lane_is_measured_across_the_polygon():
    lanes = gpd.GeoDataFrame({"id": ["P"]}, geometry=[box(0, -2.25, 60, 2.25)], crs=CRS)
    obs = obstructions([("car-9", "car", shapely.Point(at(30, 1.65)), {})])
    out = fl.run({"fire_lanes": lanes, "obstructions": obs})
    f = out["fire_findings"]
    assert list(f["kind"]) == ["obstructed"]
    assert f["measured"].iloc[0] == pytest.approx(3.0, abs=1e-6)
    s = out["fire_lanes_summary"].iloc[0]
    assert s["width_source"] == "polygon"
    assert s["width_m"] == pytest.approx(4.5)
    assert s["length_m"] == pytest.approx(60.0, abs=0.01)


def test_lane_narrower_than_4_m_by_design():
    out = fl.run({"fire_lanes": lane(width=3.5)})
    f = out["fire_findings"]
    assert list(f["kind"]) == ["too_narrow"]
    assert f["measured"].iloc[0] == pytest.approx(3.5)
    assert (f["from_m"].iloc[0], f["to_m"].iloc[0]) == (pytest.approx(0), pytest.approx(50))
    assert out["fire_lanes_summary"]["share_below_req"].iloc[0] == pytest.approx(1.0)


def test_parking_spaces_and_buildings_narrow_the_lane():
    parking = gpd.GeoDataFrame({"id": ["p1", "p2"], "kind": ["space", "underground"]},
                               geometry=[box(10, 1.0, 15, 3.5), box(30, -2, 40, 2)], crs=CRS)
    buildings = gpd.GeoDataFrame({"id": ["b1"], "height_m": [9.0]},
                                 geometry=[box(40, -8, 44, -1.25)], crs=CRS)
    out = fl.run({"fire_lanes": lane(), "parking": parking, "buildings": buildings})
    f = out["fire_findings"].sort_values("from_m")
    assert list(f["obstruction_ids"]) == ["parking:p1", "building:b1"]  # underground ignored
    assert f["measured"].iloc[0] == pytest.approx(3.25)  # 1.0 − (−2.25)
    assert f["measured"].iloc[1] == pytest.approx(3.5)  # 2.25 − (−1.25)
    assert list(f["obstruction_kinds"]) == ["parking", "building"]
    s = out["fire_lanes_summary"].iloc[0]
    assert s["wall_dist_m"] == pytest.approx(0.0)
    assert bool(s["near_wall"])


# --- dead ends and turnarounds -----------------------------------------------


def turnaround(side, cx=50 + 0.0, cy=0.0, ident="T"):
    # square of `side` whose west edge is at the lane end x = 50
    return gpd.GeoDataFrame({"id": [ident]},
                            geometry=[box(cx, cy - side / 2, cx + side, cy + side / 2)], crs=CRS)


def test_dead_end_detection_ignores_entrances_and_junctions():
    lanes = gpd.GeoDataFrame(
        {"id": ["A", "B"], "width_m": [4.5, 4.0]},
        geometry=[shapely.LineString([at(0, 0), at(50, 0)]),
                  shapely.LineString([at(25, 2.25), at(25, 30)])],  # drawn to A's edge
        crs=CRS,
    )
    # the street layer also holds a copy of lane A: it must not hide A's dead end
    streets = pd.concat([street_at_start(), gpd.GeoDataFrame(
        {"kind": ["service"]}, geometry=[shapely.LineString([at(0, 0), at(50, 0)])], crs=CRS)])
    de = fl.dead_ends(lanes, streets)
    got = sorted((r.lane_id, r.end, round(r.geometry.x - X0), round(r.geometry.y - Y0))
                 for r in de.itertuples())
    assert got == [("A", "end", 50, 0), ("B", "end", 25, 30)]
    # a footway beyond the end is no way out for a fire engine
    foot = gpd.GeoDataFrame({"kind": ["footway"]},
                            geometry=[shapely.LineString([at(50, 0), at(80, 0)])], crs=CRS)
    assert len(fl.dead_ends(lanes.iloc[:1], pd.concat([street_at_start(), foot]))) == 1
    road = foot.assign(kind="residential")
    assert len(fl.dead_ends(lanes.iloc[:1], pd.concat([street_at_start(), road]))) == 0


@pytest.mark.parametrize("side, high_rise, ok", [
    (10.0, False, False),
    (12.0, False, True),
    (12.0, True, False),
    (15.0, True, True),
])
def test_turnaround_sizes(side, high_rise, ok):
    layers = {"fire_lanes": lane(), "streets": street_at_start(), "turnarounds": turnaround(side)}
    out = fl.run(layers, high_rise=high_rise)
    f = out["fire_findings"]
    if ok:
        assert len(f) == 0
    else:
        assert list(f["kind"]) == ["no_turnaround"]
        row = f.iloc[0]
        assert row["required"] == (15.0 if high_rise else 12.0)
        assert row["measured"] == pytest.approx(side, abs=0.02)
        assert "7.1.9" in row["clause"]
        assert row.geometry.equals_exact(shapely.Point(at(50, 0)), 1e-6)
    assert out["fire_lanes_summary"]["dead_ends"].iloc[0] == 1


def test_inputs_are_layer_kinds_and_turnarounds_come_with_the_lanes():
    from gcgeo.layers import KINDS

    # the workspace hands the analysis only the layer kinds in INPUTS
    assert set(fl.INPUTS) <= set(KINDS) and "fire_lanes" in fl.INPUTS
    # so a turnaround drawn in fire_lanes (kind 回车场) counts, and is no lane
    for side, ok in ((10.0, False), (12.0, True)):
        lanes = pd.concat([lane(kind="lane"), turnaround(side).assign(kind="回车场")],
                          ignore_index=True)
        out = fl.run({"fire_lanes": lanes, "streets": street_at_start()})
        f = out["fire_findings"]
        assert list(f["kind"]) == ([] if ok else ["no_turnaround"])
        if not ok:
            assert f["measured"].iloc[0] == pytest.approx(side, abs=0.02)
        assert list(out["fire_lanes_summary"]["lane_id"]) == ["L1"]


def test_high_rise_building_near_the_dead_end_asks_for_15_m():
    tall = gpd.GeoDataFrame({"id": ["tower"], "use": ["residential"], "height_m": [30.0]},
                            geometry=[box(20, 8, 35, 20)], crs=CRS)
    low = tall.assign(id="low", height_m=26.0)  # ≤ 27 m residential: not high-rise
    office = tall.assign(id="office", use="commercial", height_m=26.0)  # > 24 m: high-rise
    layers = {"fire_lanes": lane(), "streets": street_at_start(), "turnarounds": turnaround(12)}
    assert len(fl.run({**layers, "buildings": low})["fire_findings"]) == 0
    for b in (tall, office):
        f = fl.run({**layers, "buildings": b})["fire_findings"]
        assert list(f["kind"]) == ["no_turnaround"] and f["required"].iloc[0] == 15.0


def test_dead_end_without_turnaround_and_an_occupied_one():
    layers = {"fire_lanes": lane(), "streets": street_at_start()}
    f = fl.run(layers)["fire_findings"]
    assert list(f["kind"]) == ["no_turnaround"]
    assert f["measured"].iloc[0] == pytest.approx(4.5, abs=0.02)  # only the lane itself
    # a car in the middle of a 12 × 12 turnaround: no 12 m square is left
    car = obstructions([("car-t", "car", shapely.Point(at(56, 0)), {})])
    f = fl.run({**layers, "turnarounds": turnaround(12), "obstructions": car})["fire_findings"]
    assert list(f["kind"]) == ["no_turnaround"]
    assert f["obstruction_ids"].iloc[0] == "car-t"
    assert f["measured"].iloc[0] < 12.0


def test_lane_polygon_with_its_own_turnaround_head():
    # 4.5 m wide lane polygon ending in a 12 × 12 head at x 50–62
    shape = shapely.union_all([box(0, -2.25, 50.5, 2.25), box(50, -6, 62, 6)])
    lanes = gpd.GeoDataFrame({"id": ["P"]}, geometry=[shape], crs=CRS)
    out = fl.run({"fire_lanes": lanes, "streets": street_at_start()})
    assert out["fire_lanes_summary"]["dead_ends"].iloc[0] == 1
    assert not (out["fire_findings"]["kind"] == "no_turnaround").any()
    small = gpd.GeoDataFrame({"id": ["P"]}, geometry=[shapely.union_all(
        [box(0, -2.25, 50.5, 2.25), box(50, -5, 60, 5)])], crs=CRS)
    f = fl.run({"fire_lanes": small, "streets": street_at_start()})["fire_findings"]
    assert list(f.loc[f["kind"] == "no_turnaround", "measured"]) == [pytest.approx(10, abs=0.02)]


def test_inscribed_square_of_rotated_and_odd_shapes():
    sq = shapely.box(0, 0, 12, 12)
    rot = shapely.affinity.rotate(sq, 33, origin="centroid")
    assert fl.turnaround_ok(rot, 12.0)
    assert not fl.turnaround_ok(rot, 12.5)
    assert fl.largest_inscribed_square(rot) == pytest.approx(12.0, abs=0.02)
    # a disc of radius r holds a square of side r·√2
    disc = shapely.Point(0, 0).buffer(10, quad_segs=64)
    assert fl.largest_inscribed_square(disc) == pytest.approx(10 * math.sqrt(2), abs=0.05)
    # an L of two 8 × 20 arms holds no 12 m square, only 8 m
    ell = shapely.union_all([shapely.box(0, 0, 20, 8), shapely.box(0, 0, 8, 20)])
    assert fl.largest_inscribed_square(ell) == pytest.approx(8.0, abs=0.02)
    assert not fl.turnaround_ok(ell, 12.0)


# --- clear height --------------------------------------------------------------


def test_low_clearance_from_a_gate_and_from_the_lane():
    gate = obstructions([("gate-1", "gate", shapely.Point(at(30, 0)), {"height_m": 3.2}),
                         ("gate-2", "gate", shapely.Point(at(40, 0)), {"height_m": 4.5})])
    out = fl.run({"fire_lanes": lane(), "obstructions": gate})
    f = out["fire_findings"]
    assert list(f["kind"]) == ["low_clearance"]  # a gate does not narrow the lane
    row = f.iloc[0]
    assert (row["measured"], row["required"]) == (3.2, 4.0)
    assert row["obstruction_ids"] == "gate-1"
    assert row["severity"] == "high"
    assert row.geometry.distance(shapely.Point(at(30, 0))) < 1e-6
    f2 = fl.run({"fire_lanes": lane(clear_height_m=3.8)})["fire_findings"]
    assert list(f2["kind"]) == ["low_clearance"] and f2["measured"].iloc[0] == 3.8
    assert f2["severity"].iloc[0] == "medium"


def test_arcade_with_height_does_not_narrow_but_checks_height():
    arcade = obstructions([("arc", "structure", box(10, -5, 20, 5), {"height_m": 3.0})])
    f = fl.run({"fire_lanes": lane(), "obstructions": arcade})["fire_findings"]
    assert list(f["kind"]) == ["low_clearance"]
    shed = obstructions([("shed", "structure", box(10, 0, 20, 5), {})])
    f = fl.run({"fire_lanes": lane(), "obstructions": shed})["fire_findings"]
    assert list(f["kind"]) == ["obstructed"] and f["measured"].iloc[0] == pytest.approx(2.25)


# --- rules, communities, bad input ------------------------------------------------


def test_rules_are_overridable():
    obs = obstructions([("car-1", "car", shapely.Point(at(25, 1.65)), {})])
    layers = {"fire_lanes": lane(), "obstructions": obs}
    assert len(fl.run(layers, rules={"clear_width": {"value": 3.0}})["fire_findings"]) == 0
    # a wider default car footprint intrudes further: 1.65 − 1.1 = 0.55 → 2.8 m
    f = fl.run(layers, rules={"footprints": {"car": {"width_m": 2.2}}})["fire_findings"]
    assert f["measured"].iloc[0] == pytest.approx(0.55 + 2.25)
    # the row's own width wins over the default
    obs2 = obs.assign(width_m=1.0)  # y 1.15–2.15 → clear 3.4
    f = fl.run({**layers, "obstructions": obs2})["fire_findings"]
    assert f["measured"].iloc[0] == pytest.approx(3.4)


def test_communities_and_criterion_8():
    # both lanes declared through lanes (no turnaround needed), clear height given
    lanes = gpd.GeoDataFrame(
        {"id": ["L1", "L2"], "width_m": [4.5, 4.5], "clear_height_m": [4.5, 4.5],
         "dead_end": ["否", "否"]},
        geometry=[shapely.LineString([at(0, 0), at(50, 0)]),
                  shapely.LineString([at(200, 0), at(250, 0)])], crs=CRS)
    comm = gpd.GeoDataFrame({"id": ["c1", "c2", "c3"], "name": ["东区", "西区", "空区"]},
                            geometry=[box(-10, -50, 100, 50), box(150, -50, 300, 50),
                                      box(400, 0, 500, 100)], crs=CRS)
    obs = obstructions([("car-1", "car", shapely.Point(at(25, 1.65)), {})])
    out = fl.run({"fire_lanes": lanes, "obstructions": obs, "communities": comm})
    assert list(out["fire_findings"]["community"]) == ["东区"]
    c = out["fire_communities"].set_index("community_id")
    assert list(c["criterion8"]) == ["fail", "pass", "no_lanes"]
    assert list(c["n_obstructed"]) == [1, 0, 0]
    assert c.loc["c1", "lanes_km"] == pytest.approx(0.05)
    assert c.loc["c1", "share_below_req"] == pytest.approx(4 / 50)
    assert isinstance(out["fire_communities"], gpd.GeoDataFrame)
    table = fl.summary(out)
    assert list(table["criterion8"]) == ["fail", "pass", "no_lanes"]
    # without communities: one row for all lanes
    out2 = fl.run({"fire_lanes": lanes, "obstructions": obs})
    assert list(out2["fire_communities"]["criterion8"]) == ["fail"]
    # without clear heights the clean community is incomplete, not passed
    out3 = fl.run({"fire_lanes": lanes.drop(columns="clear_height_m"), "obstructions": obs,
                   "communities": comm})
    assert list(out3["fire_communities"]["criterion8"]) == ["fail", "incomplete", "no_lanes"]


def test_lanes_without_width_use_the_default_and_say_so(caplog):
    lanes = lane().assign(width_m=np.nan)
    with caplog.at_level(logging.WARNING, logger="gcgeo.analysis.fire_lanes"):
        out = fl.run({"fire_lanes": lanes})
    s = out["fire_lanes_summary"].iloc[0]
    assert s["width_source"] == "default" and s["width_m"] == 4.0
    assert "L1" in caplog.text and "default" in caplog.text


def test_invalid_obstruction_geometry_is_repaired_and_named(caplog):
    bowtie = shapely.Polygon([at(20, 0), at(24, 3), at(24, 0), at(20, 3)])  # self-crossing
    obs = obstructions([("bad-7", "stall", bowtie, {})])
    with caplog.at_level(logging.WARNING, logger="gcgeo.analysis.fire_lanes"):
        out = fl.run({"fire_lanes": lane(), "obstructions": obs})
    assert "bad-7" in caplog.text and "make_valid" in caplog.text
    f = out["fire_findings"]
    assert list(f["kind"]) == ["obstructed"]
    assert f["obstruction_ids"].iloc[0] == "bad-7"


def test_lanes_in_degrees_are_measured_in_metres_and_missing_layers_refused():
    # the CRS gate of every analysis: degrees are reprojected to the CGCS2000 zone, not refused
    geo = lane().to_crs("EPSG:4490")
    a = fl.run({"fire_lanes": lane()})["fire_lanes_summary"]
    b = fl.run({"fire_lanes": geo})["fire_lanes_summary"]
    assert b.crs.is_projected
    np.testing.assert_allclose(b["length_m"], a["length_m"], rtol=1e-3)
    with pytest.raises(CRSError, match="no CRS"):
        fl.run({"fire_lanes": geo.set_crs(None, allow_override=True)})
    with pytest.raises(CRSError, match="to_metric"):  # the building blocks stay strict
        fl.clear_width(geo, gpd.GeoDataFrame(geometry=[], crs="EPSG:4490"))
    with pytest.raises(AnalysisError, match="fire_lanes"):
        fl.run({"buildings": gpd.GeoDataFrame(geometry=[], crs=CRS)})


def test_inputs_are_not_modified_and_outputs_are_plain():
    lanes = lane()
    obs = obstructions([("car-1", "car", shapely.Point(at(25, 1.65)), {})])
    before = (lanes.copy(), obs.copy())
    out = fl.run({"fire_lanes": lanes, "obstructions": obs, "streets": street_at_start()})
    pd.testing.assert_frame_equal(lanes, before[0])
    pd.testing.assert_frame_equal(obs, before[1])
    for name, frame in out.items():
        assert all(len(str(c)) <= 60 for c in frame.columns), name
        if isinstance(frame, gpd.GeoDataFrame) and len(frame):
            assert frame.geom_type.nunique() == 1, name
    assert out["fire_lanes_summary"].index.equals(lanes.index)


# --- the synthetic county and real OSM data --------------------------------------


def test_synthetic_county_matches_its_truth():
    from gcgeo.testing import synthetic_county

    county = synthetic_county(seed=3)
    truth = county.truth["fire_lanes"]
    out = fl.run(county.layers)
    s = out["fire_lanes_summary"].set_index("lane_id")
    assert sorted(s.index) == sorted(truth)  # turnaround polygons are not lanes
    f = out["fire_findings"]
    for lid, t in truth.items():
        assert s.loc[lid, "clear_width_min_m"] == pytest.approx(t["clear_width_m"], abs=1e-6), lid
        assert s.loc[lid, "width_m"] == pytest.approx(t["width_m"])
        assert bool(s.loc[lid, "dead_ends"]) == bool(t["dead_end"]), lid
        mine = f[f["lane_id"] == lid]
        low = mine[mine["kind"] == "low_clearance"]
        if t["clear_height_m"] < 4.0:
            assert low["measured"].min() == pytest.approx(t["clear_height_m"]), lid
        else:
            assert low.empty, lid
        no_turn = mine[mine["kind"] == "no_turnaround"]
        if t["dead_end"]:
            assert no_turn.empty == bool(t["turnaround_passes_12x12"]), lid
            if t["turnaround_m"] and not t["turnaround_passes_12x12"]:
                assert no_turn["measured"].iloc[0] == pytest.approx(t["turnaround_m"], abs=0.02)
        obstructed = mine[mine["kind"] == "obstructed"]
        blocked = t["clear_width_m"] < 4.0 and t["clear_width_m"] < t["width_m"]
        assert obstructed.empty != blocked, lid
        if not obstructed.empty:
            assert set(obstructed["obstruction_ids"].iloc[0].split(";")) <= set(t["obstructions"])
        assert (mine["community_id"] == t["community"]).all(), lid
        assert s.loc[lid, "community_id"] == t["community"]
    narrow = f[f["kind"] == "too_narrow"]
    assert list(narrow["lane_id"]) == [county.truth["narrow_lane"]]
    bad = {t["community"] for t in truth.values()
           if t["clear_width_m"] < 4.0 or t["width_m"] < 4.0 or t["clear_height_m"] < 4.0
           or t["turnaround_passes_12x12"] is False}
    c = out["fire_communities"].set_index("community_id")
    assert set(c.index[c["criterion8"] == "fail"]) == bad


def test_osm_emergency_access_ways_run_through():
    from gcgeo.crs import to_metric

    path = "tests/data/osm/helsinki_center.osm.pbf"
    from gcgeo.osm import read_osm

    layers = read_osm(path)
    lanes = layers["fire_lanes"]
    assert len(lanes) >= 1
    crs = to_metric(lanes).crs
    metric = {k: to_metric(v, crs) for k, v in layers.items()}
    out = fl.run(metric)
    s = out["fire_lanes_summary"]
    assert len(s) == len(lanes)
    assert (s["length_m"] > 0).all()
    assert s["clear_width_min_m"].between(0, 4.0).all()
    assert set(out["fire_findings"]["kind"]) <= set(fl.FINDING_KINDS)
    # every finding lies on its lane
    geoms = s.set_index("lane_id").geometry
    for row in out["fire_findings"].itertuples():
        assert row.geometry.distance(geoms[row.lane_id]) < 1e-6


# --- review fixes -------------------------------------------------------------


@pytest.mark.parametrize("geom", [None, shapely.Polygon(), "point"])
def test_lanes_without_a_usable_line_are_refused(geom):
    if geom == "point":
        geom = shapely.Point(at(0, 0))
    lanes = gpd.GeoDataFrame({"id": ["bad-1"], "width_m": [4.5]},
                             geometry=gpd.GeoSeries([geom], crs=CRS), crs=CRS)
    with pytest.raises(AnalysisError, match="fire_lanes") as err:
        fl.run({"fire_lanes": lanes})
    msg = str(err.value)
    assert "bad-1" in msg and "centre line" in msg


@pytest.mark.parametrize("kind", ["obstructions", "streets", "buildings"])
def test_a_layer_without_crs_is_refused_when_the_lanes_have_one(kind):
    # a car given in lon/lat without a CRS would silently miss every lane
    lonlat = gpd.GeoSeries([shapely.Point(116.23, 36.86)], crs="EPSG:4490")
    layer = gpd.GeoDataFrame({"id": ["x-1"], "kind": ["car"]},
                             geometry=lonlat.set_crs(None, allow_override=True))
    with pytest.raises(CRSError, match=kind) as err:
        fl.run({"fire_lanes": lane(), kind: layer})
    assert "--src-crs" in str(err.value)
    with pytest.raises(CRSError, match="--src-crs"):
        fl.clear_width(lane(), layer)


@pytest.mark.parametrize("cols, tall", [
    ({"residential": "是"}, False),  # 25 m home ≤ 27 m: not high-rise
    ({"residential": "否"}, True),  # 25 m non-residential > 24 m: high-rise
    ({"use": "mixed"}, False),  # mixed use counts as residential
    ({"use": "commercial", "residential": "Yes"}, False),
    ({}, True),  # nothing tells a home: the stricter 24 m limit
])
def test_residential_flag_decides_the_high_rise_height(cols, tall):
    b = gpd.GeoDataFrame({"id": ["b"], "height_m": [25.0], **{k: [v] for k, v in cols.items()}},
                         geometry=[box(20, 8, 35, 20)], crs=CRS)
    layers = {"fire_lanes": lane(), "streets": street_at_start(), "turnarounds": turnaround(12),
              "buildings": b}
    f = fl.run(layers)["fire_findings"]
    assert list(f["kind"]) == (["no_turnaround"] if tall else [])
    if tall:
        assert f["required"].iloc[0] == 15.0


@pytest.mark.parametrize("flag, dead", [(0.0, False), ("不是", False), ("无", False),
                                        (False, False), ("是", True), ("maybe", True)])
def test_dead_end_flag_is_read_like_other_booleans(flag, dead, caplog):
    lanes = lane()
    lanes["dead_end"] = pd.Series([flag], index=lanes.index)
    with caplog.at_level(logging.WARNING, logger="gcgeo.analysis.fire_lanes"):
        out = fl.run({"fire_lanes": lanes, "streets": street_at_start()})
    assert out["fire_lanes_summary"]["dead_ends"].iloc[0] == int(dead)
    if flag == "maybe":  # unreadable: checked as a dead end, and said so
        assert "dead_end" in caplog.text and "L1" in caplog.text and "maybe" in caplog.text


# --- criterion 8 on incomplete data ----------------------------------------------


def complete(**kw):
    """A 4.5 m lane, 4.5 m clear height, entered from a street, 12 m turnaround: passes."""
    lanes = lane(**{"clear_height_m": 4.5, **kw})
    return {"fire_lanes": lanes, "streets": street_at_start(), "turnarounds": turnaround(12)}


def test_complete_data_passes_criterion_8():
    out = fl.run(complete())
    c = out["fire_communities"].iloc[0]
    assert len(out["fire_findings"]) == 0
    assert c["criterion8"] == "pass"
    assert c["n_lanes_default_width"] == 0 and c["checks_skipped"] == ""
    assert out["fire_lanes_summary"]["checks_skipped"].iloc[0] == ""


@pytest.mark.parametrize("text", ["3.5米", "3.5m", " 3.5 M ", "3.5"])
def test_width_and_height_with_unit_suffixes_are_read(text):
    layers = complete(width=text, clear_height_m=text.replace("3.5", "3.8"))
    out = fl.run(layers)
    f = out["fire_findings"]
    assert sorted(f["kind"]) == ["low_clearance", "too_narrow"]
    assert f.set_index("kind").loc["too_narrow", "measured"] == pytest.approx(3.5)
    assert f.set_index("kind").loc["low_clearance", "measured"] == pytest.approx(3.8)
    s = out["fire_lanes_summary"].iloc[0]
    assert s["width_source"] == "given" and s["width_m"] == pytest.approx(3.5)
    assert s["clear_height_m"] == pytest.approx(3.8)
    assert out["fire_communities"]["criterion8"].iloc[0] == "fail"


def test_unreadable_and_missing_widths_are_told_apart(caplog):
    lanes = gpd.GeoDataFrame(
        {"id": ["W-ok", "W-text", "W-none"], "width_m": ["4.5", "四米", None],
         "clear_height_m": [4.5, 4.5, 4.5]},
        geometry=[shapely.LineString([at(0, y), at(50, y)]) for y in (0, 40, 80)], crs=CRS)
    with caplog.at_level(logging.WARNING, logger="gcgeo.analysis.fire_lanes"):
        out = fl.run({"fire_lanes": lanes})
    unreadable = [m for m in caplog.messages if "cannot be read" in m and "width_m" in m]
    missing = [m for m in caplog.messages if "no width_m" in m]
    assert len(unreadable) == 1 and len(missing) == 1
    assert "W-text" in unreadable[0] and "四米" in unreadable[0] and "W-none" not in unreadable[0]
    assert "W-none" in missing[0] and "W-text" not in missing[0]
    s = out["fire_lanes_summary"].set_index("lane_id")
    assert list(s["width_source"]) == ["given", "default", "default"]


def test_default_width_makes_criterion_8_incomplete_not_pass():
    layers = complete(width=np.nan)
    out = fl.run(layers)
    assert len(out["fire_findings"]) == 0  # 4.0 m default = the requirement
    c = out["fire_communities"].iloc[0]
    assert c["n_lanes_default_width"] == 1
    assert c["criterion8"] == "incomplete"
    assert fl.summary(out)["criterion8"].iloc[0] == "incomplete"
    # something failing still fails
    car = obstructions([("car-1", "car", shapely.Point(at(25, 1.65)), {})])
    out = fl.run({**layers, "obstructions": car})
    assert out["fire_communities"]["criterion8"].iloc[0] == "fail"


def test_skipped_checks_make_criterion_8_incomplete():
    layers = complete()
    no_streets = fl.run({k: v for k, v in layers.items() if k != "streets"})
    c = no_streets["fire_communities"].iloc[0]
    assert c["criterion8"] == "incomplete" and c["checks_skipped"] == "turnaround"
    assert no_streets["fire_lanes_summary"]["checks_skipped"].iloc[0] == "turnaround"
    # a lane declared not to be a dead end needs no turnaround
    through = fl.run({"fire_lanes": layers["fire_lanes"].assign(dead_end="否")})
    assert through["fire_communities"]["criterion8"].iloc[0] == "pass"
    no_height = fl.run({**layers, "fire_lanes": layers["fire_lanes"].drop(columns="clear_height_m")})
    c = no_height["fire_communities"].iloc[0]
    assert c["criterion8"] == "incomplete" and c["checks_skipped"] == "clear_height"
    # a gate over the lane without height_m leaves the clear height unchecked too
    gate = obstructions([("gate-9", "gate", shapely.Point(at(30, 0)), {})])
    out = fl.run({**layers, "obstructions": gate})
    assert out["fire_communities"]["checks_skipped"].iloc[0] == "clear_height"
    assert out["fire_communities"]["criterion8"].iloc[0] == "incomplete"


# --- gradient (GB 50016-2014 §7.1.8 (5), advisory) -----------------------------------


def _lanes_with_slopes(slopes):
    ids = [f"L{i + 1}" for i in range(len(slopes))]
    return gpd.GeoDataFrame({"id": ids, "width_m": 4.5, "slope": slopes},
                            geometry=[shapely.LineString([at(0, 40 * i), at(50, 40 * i)])
                                      for i in range(len(slopes))], crs=CRS)


def test_gradient_read_as_planners_write_slopes(caplog):
    lanes = _lanes_with_slopes(["8%", "1:12", "0.08", 8.3, "i=7%", "陡", None, "1/10"])
    with caplog.at_level(logging.WARNING, logger="gcgeo.analysis.fire_lanes"):
        s = fl.run({"fire_lanes": lanes})["fire_lanes_summary"].set_index("lane_id")
    np.testing.assert_allclose(s["gradient_pct"].to_numpy(float),
                               [8.0, 8.33, 8.0, 8.3, 7.0, np.nan, np.nan, 10.0])
    # ≤ 8% meets the advisory rule; 1:12 (8.33%) does not
    assert s["too_steep"].tolist()[:5] == [False, True, False, True, False]
    assert pd.isna(s.loc["L6", "too_steep"]) and pd.isna(s.loc["L7", "too_steep"])
    assert s["gradient_source"].tolist() == ["slope"] * 5 + ["", "", "slope"]
    assert "L6" in caplog.text and "'陡'" in caplog.text and "cannot be read" in caplog.text
    # advisory: no finding, criterion 8 untouched
    assert (s["n_findings"] == 0).all()


def test_gradient_text_kept_by_gcgeo_add_in_slope_raw_is_read():
    # gcgeo add keeps what it cannot read as a number in <column>_raw
    lanes = _lanes_with_slopes([None, 0.05])
    lanes["slope_raw"] = ["1:10", None]
    s = fl.run({"fire_lanes": lanes})["fire_lanes_summary"]
    assert s["gradient_pct"].tolist() == [10.0, 5.0]


def test_gradient_from_the_streets_the_lane_runs_along():
    lanes = _lanes_with_slopes([None, "3%"])
    streets = gpd.GeoDataFrame(
        {"kind": ["residential", "residential", "service"], "slope": ["10%", "20%", "1:50"]},
        geometry=[shapely.LineString([at(-10, 0.5), at(60, 0.5)]),    # along L1
                  shapely.LineString([at(25, -30), at(25, 30)]),      # across L1: not its slope
                  shapely.LineString([at(0, 40), at(50, 40)])],       # along L2, which has its own
        crs=CRS)
    s = fl.run({"fire_lanes": lanes, "streets": streets})["fire_lanes_summary"]
    assert s["gradient_pct"].tolist() == [10.0, 3.0]
    assert s["gradient_source"].tolist() == ["streets", "slope"]
    assert s["too_steep"].tolist() == [True, False]


def _plane_dem(path, gx, gy, *, cell=2.0):
    """A DEM of the plane z = 100 + gx·x + gy·y (x, y from the test origin)."""
    import rasterio
    from rasterio.transform import from_origin

    n = 100
    xs = (np.arange(n) + 0.5) * cell - 50.0
    ys = 150.0 - (np.arange(n) + 0.5) * cell
    z = 100.0 + gx * xs[None, :] + gy * ys[:, None]
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float64",
                       crs=CRS, transform=from_origin(X0 - 50.0, Y0 + 150.0, cell, cell)) as ds:
        ds.write(z[None])
    return path


def test_gradient_from_a_dem_is_the_plane_s_slope_along_the_lane(tmp_path):
    dem = _plane_dem(tmp_path / "dem.tif", 0.06, 0.02)
    lanes = gpd.GeoDataFrame(
        {"id": ["east", "north", "diagonal", "off", "given"], "width_m": 4.5,
         "slope": [None, None, None, None, "2%"]},
        geometry=[shapely.LineString([at(0, 0), at(40, 0)]),
                  shapely.LineString([at(-20, 10), at(-20, 60)]),
                  shapely.LineString([at(0, 80), at(30, 120)]),     # 3-4-5: 0.6·6% + 0.8·2%
                  shapely.LineString([at(0, 400), at(40, 400)]),    # off the raster
                  shapely.LineString([at(0, 20), at(40, 20)])],
        crs=CRS)
    s = fl.run({"fire_lanes": lanes}, dem=dem)["fire_lanes_summary"].set_index("lane_id")
    assert s.loc["east", "gradient_pct"] == pytest.approx(6.0, abs=1e-6)
    assert s.loc["north", "gradient_pct"] == pytest.approx(2.0, abs=1e-6)
    assert s.loc["diagonal", "gradient_pct"] == pytest.approx(0.6 * 6 + 0.8 * 2, abs=1e-6)
    assert np.isnan(s.loc["off", "gradient_pct"]) and pd.isna(s.loc["off", "too_steep"])
    assert s.loc["given", "gradient_pct"] == 2.0 and s.loc["given", "gradient_source"] == "slope"
    assert s["gradient_source"].tolist() == ["dem", "dem", "dem", "", "slope"]
    assert s["too_steep"].tolist()[:3] == [False, False, False]
    # a steeper plane: 10% along x is too steep
    steep = _plane_dem(tmp_path / "steep.tif", 0.10, 0.0)
    s = fl.run({"fire_lanes": lanes.iloc[:1]}, dem=steep)["fire_lanes_summary"]
    assert s["gradient_pct"].item() == pytest.approx(10.0) and s["too_steep"].item() == True  # noqa: E712


def test_gradient_the_rule_decides(tmp_path):
    lanes = _lanes_with_slopes(["9%"])
    s = fl.run({"fire_lanes": lanes}, rules={"fire_lanes": {"gradient": {"value": 10.0}}}
               )["fire_lanes_summary"]
    assert s["too_steep"].tolist() == [False]


def test_dem_from_the_workspace_is_used(tmp_path):
    from gcgeo import workspace as ws
    from gcgeo.pipeline import run_analysis

    path = tmp_path / "w.gpkg"
    ws.init(path, crs=CRS, name="t")
    ws.add_layer(path, "fire_lanes", _lanes_with_slopes([None, "1:12"]))
    dem = _plane_dem(tmp_path / "dem.tif", 0.05, 0.0)
    ws.add_raster(path, dem, name="dem")
    out, _ = run_analysis(path, "fire_lanes")
    s = out["fire_lanes_summary"]
    assert s["gradient_pct"].tolist() == pytest.approx([5.0, 8.33])
    assert s["gradient_source"].tolist() == ["dem", "slope"]


def test_synthetic_county_lane_gradients_are_the_planted_slopes():
    from gcgeo.testing import synthetic_county

    county = synthetic_county(2)
    s = fl.run(county.layers)["fire_lanes_summary"].set_index("lane_id")
    for lid, t in county.truth["fire_lanes"].items():
        if t["gradient_pct"] is None:
            assert np.isnan(s.loc[lid, "gradient_pct"]) and pd.isna(s.loc[lid, "too_steep"])
        else:
            assert s.loc[lid, "gradient_pct"] == pytest.approx(t["gradient_pct"])
            assert s.loc[lid, "too_steep"] == (lid in county.truth["steep_lanes"])
    assert set(s.index[s["too_steep"].fillna(False).to_numpy(bool)]) == \
        set(county.truth["steep_lanes"])
