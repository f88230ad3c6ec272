"""Heritage protection (criterion 16): zones and intrusions by construction, bad input, the
synthetic county's planted intrusions, the command and the report."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gcgeo import analysis
from gcgeo._errors import AnalysisError
from gcgeo.analysis import heritage as her
from gcgeo.cli import main
from gcgeo.testing import synthetic_county

CRS = "EPSG:4547"


def _gdf(rows, **cols):
    geoms = [r for r in rows]
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=CRS)


def _disk_rect_area(cx, cy, r, rect, n=200_001):
    """Area of rectangle ``rect`` inside the disk, integrated column by column (no shapely)."""
    x0, y0, x1, y1 = rect
    x = np.linspace(max(x0, cx - r), min(x1, cx + r), n)
    half = np.sqrt(np.clip(r * r - (x - cx) ** 2, 0, None))
    h = np.clip(np.minimum(y1, cy + half) - np.maximum(y0, cy - half), 0, None)
    return float(np.trapezoid(h, x)) if len(x) > 1 else 0.0


def test_an_old_trees_zone_is_its_crown_plus_the_margin():
    tree = _gdf([shapely.Point(0, 0)], id=["H1"], kind=["古树"], crown_diameter_m=["10米"])
    b = _gdf([shapely.box(6, -2, 20, 2), shapely.box(-3, -3, 3, 3) .difference(shapely.box(-1, -1, 1, 1)),
              shapely.box(30, 0, 40, 10)], id=["B1", "B2", "B3"])
    out = her.run({"heritage": tree, "buildings": b})
    zone = out["heritage_zones"].iloc[0]
    assert zone["radius_m"] == 10.0 and zone["zone_basis"] == "crown + margin"  # 10/2 + 5
    assert zone["geometry"].area == pytest.approx(math.pi * 100, rel=2e-3)
    f = out["heritage_findings"].set_index("feature_id")
    assert sorted(f.index) == ["B1", "B2"]
    # B1 reaches from x = 6 to the circle: ∫ (√(100 − y²) − 6) dy over |y| ≤ 2
    want = 2 * (math.sqrt(96) + 50 * math.asin(0.2)) - 24
    assert float(f.loc["B1", "measured"]) == pytest.approx(want, rel=3e-3)
    assert f.loc["B1", "unit"] == "m2" and float(f.loc["B1", "required"]) == 0
    assert f.loc["B1", "depth_m"] == pytest.approx(4.0) and f.loc["B1", "heritage_id"] == "H1"
    # a ring of a building around the trunk lies wholly in the zone: 36 − 4 m²
    assert float(f.loc["B2", "measured"]) == pytest.approx(32.0)
    assert set(f["kind"]) == {"building_in_zone"} and set(f["severity"]) == {"high"}
    assert "5.0m" in f.loc["B1", "clause"]
    t = out["heritage_communities"].iloc[0]
    assert (t["heritage_features"], t["old_trees"], t["protected_features"], t["intrusions"]) == (1, 1, 0, 2)
    assert t["intrusion_area_m2"] == pytest.approx(want + 32.0, rel=3e-3)
    assert t["protection_status"] == "fail" and "buildings 2" in t["protection_reason"]


def test_own_radius_wins_then_the_rule_by_kind_which_a_user_can_change():
    h = _gdf([shapely.Point(0, 0), shapely.Point(1000, 0), shapely.Point(2000, 0)],
             id=["T", "M", "A"], kind=["old_tree", "monument", "archaeological_site"],
             protection_radius_m=[7.0, None, None], crown_diameter_m=[30.0, None, None])
    z = her.zones(h).set_index("feature_id")
    assert z["radius_m"].tolist() == [7.0, 5.0, 10.0]
    assert z["zone_basis"].tolist() == ["own radius", "rule radius.monument", "rule radius.archaeological_site"]
    z = her.zones(h, rules={"radius": {"monument": 8}, "old_tree": {"margin": 3}})
    assert z["radius_m"].tolist() == [7.0, 8.0, 10.0]
    h2 = h.assign(protection_radius_m=[None, None, None])
    assert her.zones(h2, rules={"old_tree": {"margin": 3}})["radius_m"].iloc[0] == 18.0  # 30/2 + 3


def test_a_historic_building_is_not_its_own_intrusion_and_every_layer_intrudes():
    hall = _gdf([shapely.box(0, 0, 20, 20)], id=["H1"], kind=["历史建筑"], name=["魁星阁"])
    b = _gdf([shapely.box(0.5, 0.5, 19.5, 19.5),   # the hall itself in the buildings layer
              shapely.box(25, 5, 35, 15),         # 5 m away: the zone's straight side cuts it at x = 30
              shapely.box(40, 0, 50, 10)], id=["B-hall", "B-new", "B-far"])
    parking = _gdf([shapely.box(-8, 5, -2, 10), shapely.Point(10, -4)], id=["P1", "P2"], kind=["surface"] * 2)
    obstruction = _gdf([shapely.Point(10, 27)], id=["O1"], kind=["stall"])
    lanes = _gdf([shapely.LineString([(-50, 25), (70, 25)]), shapely.box(100, 100, 112, 112)],
                 id=["L1", "T1"], kind=["lane", "turnaround"])
    out = her.run({"heritage": hall, "buildings": b, "parking": parking, "obstructions": obstruction,
                   "fire_lanes": lanes})
    f = out["heritage_findings"].set_index("feature_id")
    assert sorted(f.index) == ["B-new", "L1", "O1", "P1", "P2"]
    assert f.loc["B-new", "kind"] == "building_in_zone" and float(f.loc["B-new", "measured"]) == pytest.approx(50.0)
    assert f.loc["P1", "kind"] == "parking_in_zone" and float(f.loc["P1", "measured"]) == pytest.approx(30.0)
    # a point: the distance from the footprint, against the radius
    assert f.loc["P2", "unit"] == "m" and float(f.loc["P2", "measured"]) == pytest.approx(4.0)
    assert float(f.loc["P2", "required"]) == pytest.approx(10.0) and f.loc["P2", "depth_m"] == pytest.approx(6.0)
    assert f.loc["O1", "kind"] == "obstruction_in_zone" and float(f.loc["O1", "measured"]) == pytest.approx(7.0)
    # the lane runs 5 m off the hall's north side: inside the zone from x = 0 − √75 to 20 + √75
    assert f.loc["L1", "kind"] == "fire_lane_in_zone" and f.loc["L1", "unit"] == "m"
    assert float(f.loc["L1", "measured"]) == pytest.approx(20 + 2 * math.sqrt(75), rel=2e-3)
    assert f.loc["L1", "layer"] == "fire_lanes"
    t = out["heritage_communities"].iloc[0]
    assert t["historic_buildings"] == 1 and t["intrusions"] == 5
    assert t["intrusion_area_m2"] == pytest.approx(80.0)
    assert t["intrusion_length_m"] == pytest.approx(20 + 2 * math.sqrt(75), rel=2e-3)
    assert out["heritage_zones"]["protected"].tolist() == [False]


def test_a_memorial_on_a_wall_belongs_to_its_building_but_a_tree_never_does():
    h = _gdf([shapely.Point(10.3, 5), shapely.Point(30, 5)], id=["M1", "T1"], kind=["monument", "old_tree"])
    b = _gdf([shapely.box(0, 0, 10, 10), shapely.box(25, 0, 35, 10)], id=["B1", "B2"])
    f = her.run({"heritage": h, "buildings": b})["heritage_findings"]
    assert f["feature_id"].tolist() == ["B2"]
    f = her.run({"heritage": h, "buildings": b}, rules={"point_on_building": 0.1})["heritage_findings"]
    assert sorted(f["feature_id"]) == ["B1", "B2"]


def _three_communities():
    return gpd.GeoDataFrame({"id": ["C1", "C2", "C3"], "name": ["东关", "西关", "南关"]},
                            geometry=[shapely.box(i * 1000, 0, i * 1000 + 500, 500) for i in range(3)],
                            crs=CRS)


def test_status_per_community_pass_fail_and_unknown_with_reasons():
    comm = _three_communities()
    h = _gdf([shapely.Point(100, 100), shapely.Point(1100, 100), shapely.Point(1300, 300)],
             id=["H1", "H2", "H3"], kind=["old_tree", "old_tree", "古井"])
    b = _gdf([shapely.box(105, 95, 115, 105), shapely.box(1400, 400, 1450, 450)], id=["B1", "B2"])
    out = her.run({"heritage": h, "buildings": b, "communities": comm})
    t = out["heritage_communities"].set_index("community_id")
    assert t["protection_status"].tolist() == ["fail", "unknown", "pass"]
    assert "H3" in t.loc["C2", "protection_reason"]            # its zone cannot be drawn
    assert t.loc["C3", "protection_reason"] == "no heritage feature recorded in the community"
    assert t.loc["C2", "heritage_features"] == 2 and t.loc["C2", "protected_features"] == 1
    f = out["heritage_findings"].set_index("feature_id")
    assert f.loc["H3", "kind"] == "zone_unknown" and "古井" in f.loc["H3", "message"]
    assert f.loc["B1", "community"] == "C1"
    # without buildings nothing could be checked: unknown, never passed
    t = her.run({"heritage": h.iloc[:2], "communities": comm})["heritage_communities"]
    assert t["protection_status"].tolist() == ["unknown", "unknown", "pass"]
    assert "no buildings layer" in t["protection_reason"].iloc[0]
    # with buildings but no parking layer: passed, saying what was not checked
    t = her.run({"heritage": h.iloc[1:2], "buildings": b, "communities": comm})["heritage_communities"]
    assert t["protection_status"].tolist() == ["pass", "pass", "pass"]
    assert "parking" in t["protection_reason"].iloc[1]
    assert t["status"].tolist() == ["pass", "pass", "pass"]


def test_values_as_planners_write_them_and_unreadable_ones_reported_by_row():
    h = _gdf([shapely.Point(0, 0), shapely.Point(100, 0), shapely.Point(200, 0)], id=["H1", "H2", "H3"],
             kind=["old_tree"] * 3, protection_radius_m=["15米", "约十米", "-3"])
    z = her.zones(h)
    assert z["radius_m"].tolist() == [15.0, 10.0, 10.0]  # unreadable: the rule for old trees
    f = her.run({"heritage": h})["heritage_findings"]
    bad = f[f["kind"] == "unreadable_radius"].set_index("feature_id")
    assert sorted(bad.index) == ["H2", "H3"] and "约十米" in bad.loc["H2", "message"]
    # the workspace keeps text it could not read in <column>_raw
    ws_like = h.assign(protection_radius_m=[15.0, None, None], protection_radius_m_raw=[None, "约十米", None])
    f = her.run({"heritage": ws_like})["heritage_findings"]
    assert f.loc[f["kind"] == "unreadable_radius", "feature_id"].tolist() == ["H2"]


def test_a_missing_layer_or_column():
    with pytest.raises(AnalysisError, match="gcgeo add WS heritage"):
        her.run({"buildings": _gdf([shapely.box(0, 0, 1, 1)], id=["B"])})
    comm = _three_communities()
    h = _gdf([shapely.Point(100, 100), shapely.Point(1100, 100)], id=["H1", "H2"])  # no kind
    out = her.run({"heritage": h, "communities": comm, "buildings": _gdf([shapely.box(0, 0, 1, 1)], id=["B"])})
    t = out["heritage_communities"]
    assert t["protection_status"].tolist() == ["unknown", "unknown", "pass"]
    assert (out["heritage_findings"]["kind"] == "zone_unknown").sum() == 2
    # an empty heritage layer: nothing to protect anywhere
    t = her.run({"heritage": h.iloc[:0], "communities": comm})["heritage_communities"]
    assert t["protection_status"].tolist() == ["pass"] * 3


def test_the_descriptor_declares_criterion_16():
    desc = analysis.get("heritage")
    assert [c.number for c in desc.criteria] == [16]
    c = desc.criteria[0]
    assert c.layer == "heritage_communities" and c.column == "protection_status"
    assert {o.name for o in desc.outputs} == {"heritage_findings", "heritage_communities", "heritage_zones"}


@pytest.fixture(scope="module")
def counties():
    return [synthetic_county(seed=s) for s in (0, 1, 2)]


def test_the_synthetic_county_finds_exactly_the_planted_intrusions(counties):
    for c in counties:
        out = her.run(c.layers)
        f = out["heritage_findings"]
        (hid, truth), = c.truth["heritage"].items()
        assert sorted(f["feature_id"]) == truth["intruding_buildings"]
        assert set(f["kind"]) == {"building_in_zone"} and set(f["heritage_id"]) == {hid}
        tree = c.layers["heritage"].set_index("id").loc[hid]
        b = c.layers["buildings"].set_index("id")
        for _, row in f.iterrows():
            want = _disk_rect_area(tree.geometry.x, tree.geometry.y, truth["radius_m"],
                                   b.loc[row["feature_id"]].geometry.bounds)
            assert float(row["measured"]) == pytest.approx(want, rel=3e-3)
        t = out["heritage_communities"].set_index("community_id")
        home = c.layers["communities"].loc[c.layers["communities"].contains(tree.geometry), "id"].item()
        assert t.loc[home, "protection_status"] == "fail"
        assert (t.drop(index=home)["protection_status"] == "pass").all()
        # the same tree recorded by its crown instead of its radius: the same zone, the same finding
        h = c.layers["heritage"].drop(columns="protection_radius_m").assign(
            crown_diameter_m=2 * (truth["radius_m"] - 5))
        again = her.run({**c.layers, "heritage": h})["heritage_findings"]
        assert sorted(again["feature_id"]) == truth["intruding_buildings"]


def test_the_command_writes_its_layers_and_the_report_shows_them(tmp_path):
    from gcgeo import workspace as ws

    county = synthetic_county(seed=0)
    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县")
    for kind in ("communities", "buildings", "heritage", "parking", "obstructions", "fire_lanes"):
        frame = county.layers[kind]
        if kind == "heritage":  # a second feature whose radius a planner wrote in words
            extra = gpd.GeoDataFrame({"id": ["H99"], "name": ["石碑"], "kind": ["文物"],
                                      "protection_radius_m": ["约十米"]},
                                     geometry=[shapely.Point(frame.geometry.x.iloc[0] + 300,
                                                             frame.geometry.y.iloc[0])], crs=frame.crs)
            frame = pd.concat([frame.astype({"protection_radius_m": object}), extra], ignore_index=True)
        ws.add_layer(path, kind, frame)
    res = CliRunner().invoke(main, ["analyze", str(path), "heritage"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "第16项" in res.output
    names = set(ws.list_layers(path)["layer"])
    assert {"heritage_findings", "heritage_zones", "heritage_communities"} <= names
    f = ws.read_layer(path, "heritage_findings")
    assert sorted(f.loc[f["kind"] == "building_in_zone", "feature_id"]) == \
        county.truth["heritage"]["H01"]["intruding_buildings"]
    assert f.loc[f["kind"] == "unreadable_radius", "feature_id"].tolist() == ["H99"]
    report = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", str(path), "-o", str(report)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    html = report.read_text(encoding="utf-8")
    assert "历史文化保护" in html and "建筑侵入保护范围" in html
