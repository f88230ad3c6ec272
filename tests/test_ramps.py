"""Kerb ramps (GB 50763-2012 §3.1, §4.2.1; criterion 9): hand-computed cases, slopes as planners
write them, crossings, bad input, the synthetic county and the command."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gcgeo import AnalysisError
from gcgeo.analysis import ramps as rp
from gcgeo.cli import main
from gcgeo.testing import synthetic_county
from gcgeo.values import to_slope

CRS = "EPSG:4547"


def _ramps(rows, crs=CRS):
    """rows: (id, kind, slope, width_m, lip_mm, x, y)"""
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "kind": [r[1] for r in rows], "slope": [r[2] for r in rows],
         "width_m": [r[3] for r in rows], "lip_mm": [r[4] for r in rows]},
        geometry=shapely.points([(r[5], r[6]) for r in rows]), crs=crs)


def _by_kind(findings):
    return {k: sorted(g["feature_id"]) for k, g in findings.groupby("kind")}


# --------------------------------------------------------------------------
# slopes as planners write them


@pytest.mark.parametrize("given, ratio", [
    ("1:12", 1 / 12), ("1/12", 1 / 12), ("1：12", 1 / 12), (" 1 : 20 ", 0.05), ("1:12.5", 0.08),
    ("8%", 0.08), ("8.3 %", 0.083), ("８％", 0.08), ("50‰", 0.05), ("i=2%", 0.02),
    ("8.3", 0.083), ("0.083", 0.083), (0.083, 0.083), (8.3, 0.083), (5, 0.05), ("12", 0.12),
    ("1", 1.0), ("-5%", 0.05), ("0", 0.0), ("3°", math.tan(math.radians(3))), ("3度", math.tan(math.radians(3))),
])
def test_slopes_read_as_rise_over_run(given, ratio):
    v, bad = to_slope(pd.Series([given], dtype=object))
    assert v.iloc[0] == pytest.approx(ratio) and not bad.iloc[0]


@pytest.mark.parametrize("given", ["陡", "12:1", "150%", "1:0", "1:12~1:20", "90°", "abc%", 250.0])
def test_unreadable_slopes_are_reported_never_guessed(given):
    v, bad = to_slope(pd.Series([given], dtype=object))
    assert np.isnan(v.iloc[0]) and bad.iloc[0]


def test_blank_slopes_are_missing_not_unreadable():
    v, bad = to_slope(pd.Series([None, np.nan, "", "  "], dtype=object))
    assert v.isna().all() and not bad.any()


# --------------------------------------------------------------------------
# each ramp against the rules of its form


def test_each_form_at_and_beyond_its_limits():
    rows = [  # id, kind, slope, width, lip
        ("F1", "full_width", "1:20", 0.8, 10), ("F2", "全宽式", "1:19", 3.0, 0),     # 1:20 limit; width not checked
        ("T1", "three_sided", "1:12", 1.2, 0), ("T2", "三面坡", "8.4%", 1.19, 0),     # 1:12, 1.20 m
        ("O1", "other", "8.3", 1.5, 0), ("O2", "other", 0.09, 1.49, 10.5),           # 1:12, 1.50 m, 10 mm
        ("L1", "flush", None, None, None), ("L2", "平缘石", None, None, 12),           # flush: lip only
    ]
    out = rp.run({"ramps": _ramps([(*r, 100 * i, 0) for i, r in enumerate(rows)])})
    f = out["ramps_findings"]
    assert _by_kind(f) == {"ramp_too_steep": ["F2", "O2", "T2"], "ramp_too_narrow": ["O2", "T2"],
                           "ramp_lip_too_high": ["L2", "O2"]}
    got = f.set_index(["feature_id", "kind"])
    assert got.loc[("F2", "ramp_too_steep"), "required"] == "1:20"
    assert got.loc[("F2", "ramp_too_steep"), "measured"] == "1:19 (5.26%)"
    assert "§3.1.2 (1)" in got.loc[("F2", "ramp_too_steep"), "clause"]
    assert got.loc[("T2", "ramp_too_steep"), "required"] == "1:12"
    assert "§3.1.2 (2)" in got.loc[("T2", "ramp_too_steep"), "clause"]
    assert float(got.loc[("T2", "ramp_too_narrow"), "required"]) == 1.2
    assert float(got.loc[("O2", "ramp_too_narrow"), "required"]) == 1.5
    assert "§3.1.3 (3)" in got.loc[("O2", "ramp_too_narrow"), "clause"]
    assert float(got.loc[("O2", "ramp_lip_too_high"), "measured"]) == 10.5
    assert "§3.1.1 (2)" in got.loc[("O2", "ramp_lip_too_high"), "clause"]
    t = out["ramps_communities"].iloc[0]
    assert (t["ramps_checked"], t["ramps_passing"], t["ramps_failing"], t["ramps_unknown"]) == (8, 4, 4, 0)
    assert t["community_id"] == "(all)"
    assert (t["ramp_slope_status"], t["ramp_width_status"], t["ramp_lip_status"]) == ("fail",) * 3
    assert "F2" in t["ramp_slope_reason"] and "3 of 8" in t["ramp_slope_reason"]


def test_a_ramp_without_its_form_is_judged_on_what_every_form_allows():
    rows = [("A", None, "1:25", 1.6, 0),   # gentler than 1:20 and wider than 1.50 m: passes any form
            ("B", None, "1:10", 1.6, 0),   # steeper than 1:12: fails any form
            ("C", None, "1:15", 1.6, 0),   # fine unless full-width: unknown
            ("D", None, "1:25", 1.0, 0),   # narrow, but a full-width ramp has no fixed minimum: unknown
            ("E", "扇形", "1:25", 2.0, 0)]  # a form gcgeo does not know: unknown form, reported
    out = rp.run({"ramps": _ramps([(*r, 50 * i, 0) for i, r in enumerate(rows)])})
    f = out["ramps_findings"]
    kinds = _by_kind(f)
    assert kinds["ramp_too_steep"] == ["B"]
    assert kinds["ramp_data_missing"] == ["C", "D"]
    assert kinds["ramp_value_unreadable"] == ["E"]
    e = f[f["feature_id"] == "E"].iloc[0]
    assert e["measured"] == "扇形" and e["attribute"] == "kind" and "three_sided" in e["message"]
    assert "kind" in f.loc[f["feature_id"] == "C", "attribute"].iloc[0]
    t = out["ramps_communities"].iloc[0]
    # A and E pass (E's slope and width pass every form), B fails, C and D unknown
    assert (t["ramps_passing"], t["ramps_failing"], t["ramps_unknown"]) == (2, 1, 2)


def test_missing_values_are_unknown_with_the_attribute_never_passed():
    rows = [("M1", "three_sided", None, 1.5, 0), ("M2", "other", "1:14", None, None),
            ("OK", "three_sided", "1:14", 1.5, 0)]
    out = rp.run({"ramps": _ramps([(*r, 50 * i, 0) for i, r in enumerate(rows)])})
    f = out["ramps_findings"].set_index("feature_id")
    assert set(f["kind"]) == {"ramp_data_missing"} and sorted(f.index) == ["M1", "M2"]
    assert f.loc["M1", "attribute"] == "slope" and f.loc["M2", "attribute"] == "lip_mm, width_m"
    t = out["ramps_communities"].iloc[0]
    assert (t["ramps_passing"], t["ramps_unknown"]) == (1, 2)
    assert t["ramp_slope_status"] == "unknown" and "M1" in t["ramp_slope_reason"]
    assert "slope not recorded" in t["ramp_slope_reason"]
    assert t["ramp_width_status"] == "unknown" and t["ramp_lip_status"] == "unknown"
    assert t["status"] == "unknown"


def test_missing_columns_make_every_rule_unknown_with_a_reason():
    layer = gpd.GeoDataFrame({"id": ["A", "B"]}, geometry=shapely.points([(0, 0), (50, 0)]), crs=CRS)
    out = rp.run({"ramps": layer})
    t = out["ramps_communities"].iloc[0]
    for name in ("ramp_slope", "ramp_width", "ramp_lip", "crossing_ramps"):
        assert t[f"{name}_status"] == "unknown" and t[f"{name}_reason"], name
    assert t["status"] == "unknown" and t["ramps_unknown"] == 2
    f = out["ramps_findings"]
    assert (f["kind"] == "ramp_data_missing").all() and sorted(f["feature_id"]) == ["A", "B"]
    assert set(f["attribute"]) == {"kind, lip_mm, slope, width_m"}


def test_text_in_numeric_columns_is_read_or_reported_with_the_row():
    rows = [("A", "other", "1:12", "1.5米", "5mm"), ("B", "other", "8%", "120cm", "一厘米"),
            ("C", "other", "陡", 2.0, 0)]
    out = rp.run({"ramps": _ramps([(*r, 50 * i, 0) for i, r in enumerate(rows)])})
    f = out["ramps_findings"]
    bad = f[f["kind"] == "ramp_value_unreadable"].set_index(["feature_id", "attribute"])
    assert sorted(bad.index) == [("B", "lip_mm"), ("B", "width_m"), ("C", "slope")]
    assert bad.loc[("B", "width_m"), "measured"] == "120cm" and "metres" in bad.loc[("B", "width_m"), "message"]
    assert bad.loc[("C", "slope"), "measured"] == "陡" and "1:12" in bad.loc[("C", "slope"), "message"]
    assert "A" not in set(f["feature_id"])  # 1:12, 1.5米 and 5mm all read, and pass
    t = out["ramps_communities"].iloc[0]
    assert (t["ramps_passing"], t["ramps_unknown"]) == (1, 2)


def test_the_rules_can_be_changed():
    layer = _ramps([("A", "other", "1:14", 1.5, 8, 0, 0)])
    assert rp.run({"ramps": layer})["ramps_communities"]["ramp_slope_status"].tolist() == ["pass"]
    strict = rp.run({"ramps": layer}, rules={"slope": {"other": 16}, "lip": 5})
    t = strict["ramps_communities"].iloc[0]
    assert (t["ramp_slope_status"], t["ramp_lip_status"]) == ("fail", "fail")
    f = strict["ramps_findings"].set_index("kind")
    assert f.loc["ramp_too_steep", "required"] == "1:16" and float(f.loc["ramp_lip_too_high", "required"]) == 5


def test_a_missing_ramps_layer_names_the_command_that_adds_it():
    with pytest.raises(AnalysisError, match="gcgeo add WS ramps"):
        rp.run({})
    with pytest.raises(AnalysisError, match="gcgeo add WS ramps"):
        rp.run({"ramps": None, "streets": None})


# --------------------------------------------------------------------------
# crossings


def _street(coords, kind="residential", **cols):
    return gpd.GeoDataFrame({"id": [f"S{i}" for i in range(len(coords))], "kind": [kind] * len(coords),
                             **cols}, geometry=[shapely.LineString(c) for c in coords], crs=CRS)


def test_a_crossing_line_needs_a_ramp_near_each_end():
    # three crossings 12 m long, running north over a road along y = 0, 100 m apart
    cross = _street([[(x, -6), (x, 6)] for x in (0, 100, 200)], kind="人行横道")
    road = _street([[(-50, 0), (250, 0)]], kind="secondary").assign(id="ROAD")
    streets = pd.concat([cross, road], ignore_index=True)
    rows = [("a", "other", "1:12", 1.5, 0, 0, -5), ("b", "other", "1:12", 1.5, 0, 0, 5.5),   # both ends
            ("c", "other", "1:12", 1.5, 0, 100, -6.5)]                                       # south end only
    out = rp.run({"ramps": _ramps(rows), "streets": streets})
    f = out["ramps_findings"]
    f = f[f["kind"].str.startswith("crossing")].set_index("feature_id")
    assert f.loc["S1", "kind"] == "crossing_ramp_one_end"
    assert f.loc["S1"].geometry.equals(shapely.Point(100, 6))  # found where the ramp is missing
    assert f.loc["S2", "kind"] == "crossing_without_ramp"
    assert float(f.loc["S2", "measured"]) == pytest.approx(math.hypot(100, 0.5), abs=0.01)  # (200,-6)→c
    assert float(f.loc["S2", "required"]) == 10 and "§4.2.1" in f.loc["S2", "clause"]
    assert "S0" not in f.index
    t = out["ramps_communities"].iloc[0]
    assert (t["crossings"], t["crossings_served"], t["crossings_unserved"]) == (3, 1, 2)
    assert t["crossing_ramps_status"] == "fail" and "S1, S2" in t["crossing_ramps_reason"]


def test_one_ramp_serves_only_the_end_it_is_nearer():
    # a short crossing: a ramp 1 m from its south end is 5 m from the north end, but serves the south
    streets = _street([[(0, -3), (0, 3)]], footway=["crossing"], kind="footway")
    out = rp.run({"ramps": _ramps([("a", "other", "1:12", 1.5, 0, 0, -2)]), "streets": streets})
    f = out["ramps_findings"]
    assert f["kind"].tolist() == ["crossing_ramp_one_end"]  # footway=crossing (OSM) is a crossing too
    assert f.geometry.iloc[0].equals(shapely.Point(0, 3))


def test_the_distance_is_a_rule_and_an_option():
    streets = _street([[(0, -6), (0, 6)]], kind="crossing")
    layer = _ramps([("a", "other", "1:12", 1.5, 0, 0, -17), ("b", "other", "1:12", 1.5, 0, 0, 17)])  # 11 m
    run = rp.run({"ramps": layer, "streets": streets})
    assert run["ramps_findings"]["kind"].tolist() == ["crossing_without_ramp"]
    assert float(run["ramps_findings"]["measured"].iloc[0]) == pytest.approx(11)
    for out in (rp.run({"ramps": layer, "streets": streets}, crossing_distance=12),
                rp.run({"ramps": layer, "streets": streets}, rules={"crossing": {"max_distance": 11}})):
        assert len(out["ramps_findings"]) == 0
        assert out["ramps_communities"]["crossing_ramps_status"].tolist() == ["pass"]
    with pytest.raises(AnalysisError, match="crossing_distance"):
        rp.run({"ramps": layer}, crossing_distance=0)


def test_a_crossing_split_where_it_meets_the_road_is_one_crossing():
    # as OSM's footway=crossing ways come in: split at the road's centre line
    streets = _street([[(0, -6), (0, 0)], [(0, 0), (0, 6)], [(-50, 0), (50, 0)]])
    streets["footway"] = ["crossing", "crossing", None]
    layer = _ramps([("a", "other", "1:12", 1.5, 0, 0.5, -5.5), ("b", "other", "1:12", 1.5, 0, 0.5, 5.5)])
    out = rp.run({"ramps": layer, "streets": streets})
    t = out["ramps_communities"].iloc[0]
    assert (t["crossings"], t["crossings_served"]) == (1, 1)  # no ramp wanted mid-road
    out = rp.run({"ramps": layer.iloc[:1], "streets": streets})
    assert out["ramps_findings"]["feature_id"].tolist() == ["S0+S1"]


def test_a_crossing_point_needs_a_ramp_on_each_side_of_the_street_it_crosses():
    streets = _street([[(-100, 0), (300, 0)], [(0, 0), (0, 50)]])
    streets.loc[1, "kind"] = "footway"  # a path meeting the road at the crossing: never the one crossed
    pts = gpd.GeoDataFrame({"id": ["X0", "X1", "X2"], "kind": ["crossing", "人行横道", "crossing"]},
                           geometry=shapely.points([(0, 0), (100, 0), (200, 0)]), crs=CRS)
    ramps = _ramps([("n0", "other", "1:12", 1.5, 0, 4, 4), ("s0", "flush", None, None, None, 4, -4),
                    ("n1", "other", "1:12", 1.5, 0, 104, 6)])
    out = rp.run({"ramps": pd.concat([pts, ramps], ignore_index=True), "streets": streets})
    f = out["ramps_findings"].set_index("feature_id")
    assert f.loc["X1", "kind"] == "crossing_ramp_one_end" and np.isnan(float(f.loc["X1", "measured"]))
    assert f.loc["X2", "kind"] == "crossing_without_ramp"
    assert float(f.loc["X2", "measured"]) == pytest.approx(math.hypot(96, 6), abs=0.01)
    assert "X0" not in f.index
    t = out["ramps_communities"].iloc[0]
    assert (t["ramps_checked"], t["crossings"], t["crossings_served"], t["crossings_unserved"]) == (3, 3, 1, 2)


def test_a_crossing_point_with_no_street_nearby_cannot_be_told_apart():
    pts = gpd.GeoDataFrame({"id": ["X0", "X1"], "kind": ["crossing", "crossing"]},
                           geometry=shapely.points([(0, 0), (500, 0)]), crs=CRS)
    ramps = _ramps([("n0", "other", "1:12", 1.5, 0, 4, 4)])
    out = rp.run({"ramps": pd.concat([pts, ramps], ignore_index=True)})
    f = out["ramps_findings"].set_index("feature_id")
    assert f.loc["X0", "kind"] == "crossing_unchecked" and f.loc["X1", "kind"] == "crossing_without_ramp"
    t = out["ramps_communities"].iloc[0]
    assert (t["crossings_unknown"], t["crossings_unserved"], t["crossing_ramps_status"]) == (1, 1, "fail")


def test_a_crossing_point_on_a_crossing_line_is_that_crossing():
    streets = _street([[(0, -6), (0, 6)]], kind="crossing")
    pts = gpd.GeoDataFrame({"id": ["N1"], "kind": ["crossing"]}, geometry=[shapely.Point(0, 0.5)], crs=CRS)
    out = rp.run({"ramps": pts, "streets": streets})
    t = out["ramps_communities"].iloc[0]
    assert t["crossings"] == 1


def test_without_any_ramp_in_the_layer_crossings_are_unknown_not_failed():
    # OSM extracts often map crossings and no kerbs: that says nothing about the kerbs
    pts = gpd.GeoDataFrame({"id": ["X0", "X1"], "kind": ["crossing", "crossing"]},
                           geometry=shapely.points([(0, 0), (500, 0)]), crs=CRS)
    out = rp.run({"ramps": pts, "streets": _street([[(-10, 0), (600, 0)]])})
    assert len(out["ramps_findings"]) == 0
    t = out["ramps_communities"].iloc[0]
    assert (t["crossings"], t["crossings_unknown"], t["crossing_ramps_status"]) == (2, 2, "unknown")
    assert "no kerb ramps recorded" in t["crossing_ramps_reason"]


# --------------------------------------------------------------------------
# per community


def test_per_community_counts_and_statuses():
    comm = gpd.GeoDataFrame({"id": ["C1", "C2", "C3"], "name": ["东关", "西关", "北关"]},
                            geometry=[shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100),
                                      shapely.box(400, 0, 500, 100)], crs=CRS)
    rows = [("A", "other", "1:12", 1.5, 0, 10, 10), ("B", "other", "1:10", 1.5, 0, 20, 10),
            ("C", "three_sided", "1:14", 1.2, 5, 210, 10), ("D", "three_sided", None, 1.2, 5, 220, 10),
            ("E", "other", "1:10", 1.0, 30, 900, 900)]  # outside every community
    out = rp.run({"ramps": _ramps(rows), "communities": comm})
    t = out["ramps_communities"].set_index("community_id")
    assert t["ramps_checked"].tolist() == [2, 2, 0]
    assert t["ramps_failing"].tolist() == [1, 0, 0] and t["ramps_unknown"].tolist() == [0, 1, 0]
    assert t["ramp_slope_status"].tolist() == ["fail", "unknown", "unknown"]
    assert t.loc["C3", "ramp_slope_reason"] == "no kerb ramps recorded in the community"
    assert t["ramp_lip_status"].tolist() == ["pass", "pass", "unknown"]
    assert t["status"].tolist() == ["fail", "unknown", "unknown"]  # no crossings recorded: unknown
    f = out["ramps_findings"].set_index("feature_id")
    assert f.loc["B", "community_name"] == "东关" and pd.isna(f.loc["E"].iloc[0]["community"])


def test_criterion_9_is_declared_on_the_overall_status():
    crit = rp.ANALYSIS.criteria
    assert [(c.number, c.layer, c.column) for c in crit] == [(9, "ramps_communities", "status")]


# --------------------------------------------------------------------------
# the synthetic county


@pytest.fixture(scope="module")
def county():
    return synthetic_county(seed=0)


@pytest.mark.parametrize("seed, n", [(0, 6), (7, 2), (3, 9)])
def test_the_synthetic_county_finds_exactly_the_planted_problems(county, seed, n):
    if seed == 0:  # the county the issue was written about
        assert len(county.truth["ramps_steeper_than_1_12"]) == 5
        assert len(county.truth["ramps_lip_over_10mm"]) == 9
    else:
        county = synthetic_county(seed=seed, n_communities=n)
    truth = county.truth
    out = rp.run(county.layers)
    f = out["ramps_findings"]
    steep = f[f["kind"] == "ramp_too_steep"]
    assert sorted(steep.loc[steep["required"] == "1:12", "feature_id"]) == sorted(truth["ramps_steeper_than_1_12"])
    assert sorted(steep.loc[steep["required"] == "1:20", "feature_id"]) == \
        sorted(truth["ramps_full_width_steeper_than_1_20"])
    assert sorted(f.loc[f["kind"] == "ramp_lip_too_high", "feature_id"]) == sorted(truth["ramps_lip_over_10mm"])
    assert sorted(f.loc[f["kind"] == "ramp_too_narrow", "feature_id"]) == \
        sorted(truth["ramps_narrower_than_required"])
    assert f.loc[f["kind"] == "crossing_ramp_one_end", "feature_id"].tolist() == truth["ramps_crossings_one_end"]
    assert f.loc[f["kind"] == "crossing_without_ramp", "feature_id"].tolist() == \
        truth["ramps_crossings_without_ramp"]
    planted = {"ramp_too_steep": truth["ramps_steeper_than_1_12"] + truth["ramps_full_width_steeper_than_1_20"],
               "ramp_lip_too_high": truth["ramps_lip_over_10mm"],
               "ramp_too_narrow": truth["ramps_narrower_than_required"],
               "crossing_ramp_one_end": truth["ramps_crossings_one_end"],
               "crossing_without_ramp": truth["ramps_crossings_without_ramp"]}
    assert set(f["kind"]) == {k for k, ids in planted.items() if ids}  # nothing else: all recorded and read


def test_the_synthetic_county_per_community_by_construction(county):
    truth, layer = county.truth, county.layers["ramps"]
    comm = county.layers["communities"]
    bad = set(truth["ramps_steeper_than_1_12"]) | set(truth["ramps_full_width_steeper_than_1_20"]) | \
        set(truth["ramps_lip_over_10mm"]) | set(truth["ramps_narrower_than_required"])
    ramps = layer[layer["kind"] != "crossing"]
    where = {rid: comm.loc[comm.contains(g), "id"].iloc[0] for rid, g in zip(ramps["id"], ramps.geometry)}
    t = rp.run(county.layers)["ramps_communities"].set_index("community_id")
    for cid in comm["id"]:
        mine = [r for r, c in where.items() if c == cid]
        assert t.loc[cid, "ramps_checked"] == len(mine)
        assert t.loc[cid, "ramps_failing"] == len([r for r in mine if r in bad])
        assert t.loc[cid, "ramps_passing"] == len([r for r in mine if r not in bad])
        assert t.loc[cid, "ramps_unknown"] == 0
    served = truth["ramps_crossings_served"]
    assert t["crossings_served"].sum() == len(served) == 1
    assert t["crossings_unserved"].sum() == 2
    assert set(t["status"]) <= {"fail", "unknown"}  # every community has a defect or no crossings


def test_the_county_plants_three_crossings_beside_the_ramps(county):
    layer = county.layers["ramps"]
    crossings = layer.loc[layer["kind"] == "crossing", "id"].tolist()
    truth = county.truth
    assert crossings == sorted(truth["ramps_crossings_one_end"] + truth["ramps_crossings_served"]
                               + truth["ramps_crossings_without_ramp"])
    assert layer["id"].is_unique
    flush = layer[layer["id"].isin(truth["ramps_flush"])]
    assert flush["kind"].tolist() == ["flush"]


# --------------------------------------------------------------------------
# OSM and the command


def test_osm_kerbs_and_crossing_ways_are_read(tmp_path):
    from gcgeo import osm

    lat0, lon0 = 36.87, 116.23
    dlat, dlon = 1 / 111_000.0, 1 / (111_000.0 * math.cos(math.radians(lat0)))

    def node(i, x, y, **tags):
        t = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        return f'<node id="{i}" lat="{lat0 + y * dlat}" lon="{lon0 + x * dlon}" version="1">{t}</node>'

    nodes = [node(1, -50, 0), node(2, 50, 0), node(3, 0, 0, highway="crossing"),
             node(4, 0, -8), node(5, 0, -7, kerb="lowered", incline="1:10", **{"kerb:height": "0.005"}),
             node(6, 0, 8)]
    ways = ['<way id="10" version="1"><nd ref="1"/><nd ref="3"/><nd ref="2"/>'
            '<tag k="highway" v="residential"/></way>',
            '<way id="11" version="1"><nd ref="4"/><nd ref="5"/><nd ref="3"/><nd ref="6"/>'
            '<tag k="highway" v="footway"/><tag k="footway" v="crossing"/></way>']
    f = tmp_path / "x.osm"
    f.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">' + "".join(nodes + ways)
                 + "</osm>", encoding="utf-8")
    layers = osm.read_osm(f)
    assert set(layers["streets"].loc[layers["streets"]["osm_id"] == 11, "footway"]) == {"crossing"}
    out = rp.run(layers)
    found = out["ramps_findings"]
    # the kerb: incline=1:10 too steep, kerb:height=0.005 (5 mm) fine, no width tagged
    assert sorted(found["kind"]) == ["crossing_ramp_one_end", "ramp_data_missing", "ramp_too_steep"]
    assert found.loc[found["kind"] == "ramp_data_missing", "attribute"].tolist() == ["width_m"]
    cross = found[found["kind"] == "crossing_ramp_one_end"].iloc[0]
    assert cross["feature_id"] == "w11-1+w11-2"  # the way split at the road, one crossing
    assert cross["layer"] == "streets"
    t = out["ramps_communities"].iloc[0]
    assert (t["crossings"], t["ramps_checked"]) == (1, 1)  # the crossing node is that crossing


def _workspace(tmp_path, county, kinds=("communities", "ramps", "streets")):
    from gcgeo import workspace as ws

    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县")
    for kind in kinds:
        ws.add_layer(path, kind, county.layers[kind])
    return path


def test_the_command_writes_both_layers_and_the_report_shows_them(tmp_path, county):
    from gcgeo import workspace as ws

    path = _workspace(tmp_path, county)
    res = CliRunner().invoke(main, ["analyze", str(path), "ramps"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "坡度" in res.output  # the column labels of its descriptor, in Chinese
    names = set(ws.list_layers(path)["layer"])
    assert {"ramps_findings", "ramps_communities"} <= names
    stored = ws.read_layer(path, "ramps_findings")
    assert sorted(stored.loc[stored["kind"] == "ramp_lip_too_high", "feature_id"]) == \
        sorted(county.truth["ramps_lip_over_10mm"])
    report = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", str(path), "-o", str(report)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    html = report.read_text(encoding="utf-8")
    assert "缘石坡道" in html and "缘石坡道坡度过陡" in html and "人行横道仅一端有缘石坡道" in html


def test_the_command_without_ramps_names_the_command_that_adds_them(tmp_path, county):
    path = _workspace(tmp_path, county, kinds=("communities",))
    res = CliRunner().invoke(main, ["analyze", str(path), "ramps"])
    assert res.exit_code != 0
    assert "gcgeo add" in res.output and "ramps" in res.output and "Traceback" not in res.output


def test_slopes_written_as_text_are_read_after_gcgeo_add(tmp_path):
    from gcgeo import pipeline
    from gcgeo import workspace as ws

    layer = _ramps([(*r, 50 * i, 0) for i, r in enumerate([
        ("A", "三面坡", "1:12", "1.2米", "10"), ("B", "其他", "8%", "1.5", "0"), ("C", "other", "8.4", "2", "0"),
        ("D", "other", "1：10", "2", "0"), ("E", "other", "很陡", "2", "0")])])
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    ws.add_layer(path, "ramps", layer)
    stored = ws.read_layer(path, "ramps")
    # add reads slopes as the check does; only the text it cannot read is kept, in slope_raw
    assert stored["slope"].round(4).tolist()[:4] == [0.0833, 0.08, 0.084, 0.1]
    assert stored["slope"].isna().tolist() == [False] * 4 + [True] and stored["slope_raw"].iloc[4] == "很陡"
    outputs, _ = pipeline.run_analysis(path, "ramps")
    f = outputs["ramps_findings"]
    assert _by_kind(f) == {"ramp_too_steep": ["C", "D"], "ramp_value_unreadable": ["E"]}
    assert f.loc[f["feature_id"] == "D", "measured"].iloc[0] == "1:10 (10%)"
    assert f.loc[f["feature_id"] == "E", "measured"].iloc[0] == "很陡"
