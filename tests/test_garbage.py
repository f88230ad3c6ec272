"""Garbage sorting (criterion 5): walks worked out by hand on a street grid, the synthetic
county's planted gaps, bad input, the command and the report."""

from __future__ import annotations

import numpy as np
import pytest
from _grid import boxes, grid_streets, points
from click.testing import CliRunner

from gcgeo import AnalysisError
from gcgeo.analysis import garbage
from gcgeo.analysis.reach import home_reach
from gcgeo.cli import main
from gcgeo.testing import synthetic_county

# Streets every 100 m from 0 to 200.  Homes (their point is the box's centre) and their walks:
#   H1 (45, 15): 15 m to the street at (45, 0), 15 m along it to P1's foot (60, 0), 5 m to P1: 35
#   H2 (155, 165): 35 m up to (155, 200), 45 m east, 50 m down to P2's foot (200, 150), 10 m: 140
#   H3 (15, 145): 15 m to (0, 145), 145 m down, 60 m east to (60, 0), 5 m to P1: 225
#                 (5 m along and 5 m to P3, but P3 takes residual waste only: no sorting point)
#   H4 (1000, 1000): 800 m from every street: off the network.  H5 is a shop, no home.
HOMES = [
    {"id": "H1", "use": "residential", "population": 30, "box": (40, 10, 50, 20)},
    {"id": "H2", "use": "residential", "population": 20, "box": (150, 160, 160, 170)},
    {"id": "H3", "use": "residential", "population": 10, "box": (10, 140, 20, 150)},
    {"id": "H4", "use": "residential", "population": 40, "box": (995, 995, 1005, 1005)},
    {"id": "H5", "use": "commercial", "population": 0, "box": (120, 10, 140, 30)},
]
POINTS = [
    {"id": "P1", "kind": "sorting", "xy": (60, 5)},
    {"id": "P2", "kind": "可回收物", "xy": (190, 150)},  # recycling, as planners write it
    {"id": "P3", "kind": "其他垃圾", "xy": (5, 150)},    # residual waste only
    {"id": "P4", "kind": "sorting", "xy": (3000, 3000)},  # far from every street
]
COMMUNITIES = [{"id": "C1", "name": "东关", "box": (0, 0, 100, 200)},
               {"id": "C2", "name": "西关", "box": (100, 0, 1100, 1100)}]


def _layers(**drop):
    out = {"buildings": boxes(HOMES), "garbage_points": points(POINTS), "streets": grid_streets(),
           "communities": boxes(COMMUNITIES)}
    for k in drop:
        out.pop(k)
    return out


def _findings(out):
    f = out["garbage_findings"]
    return {(r.feature_id, r.kind): r for r in f.itertuples()}


def test_walks_by_hand_and_the_shares_of_homes_and_residents():
    out = garbage.run(_layers())
    f = _findings(out)
    assert set(f) == {("H2", "sorting_point_too_far"), ("H3", "sorting_point_too_far"),
                      ("H4", "home_off_network"), ("P4", "sorting_point_off_network")}
    assert float(f["H2", "sorting_point_too_far"].measured) == pytest.approx(140.0)
    assert float(f["H3", "sorting_point_too_far"].measured) == pytest.approx(225.0)
    assert float(f["H2", "sorting_point_too_far"].required) == 70.0
    assert "CJJ 27-2012" in f["H2", "sorting_point_too_far"].clause
    assert f["H3", "sorting_point_too_far"].community == "C1"
    assert f["H4", "home_off_network"].community == "C2"
    t = out["garbage_communities"].set_index("community_id")
    assert t.loc["C1", ["n_homes", "n_homes_served", "n_sorting_points"]].tolist() == [2, 1, 1]
    assert t.loc["C1", "share_homes_served"] == pytest.approx(0.5)
    assert t.loc["C1", "share_residents_served"] == pytest.approx(30 / 40)
    assert t.loc["C2", ["n_homes", "n_homes_served", "n_homes_off_network"]].tolist() == [2, 0, 1]
    assert t["sorting_coverage_status"].tolist() == ["fail", "fail"]
    assert "1 of 2" in t.loc["C1", "sorting_coverage_reason"]


def test_the_walk_is_a_rule_and_an_option():
    for how in ({"max_walk": 150.0}, {"rules": {"max_walk": 150.0}}):
        t = garbage.run(_layers(), **how)["garbage_communities"].set_index("community_id")
        assert t.loc["C2", "n_homes_served"] == 1  # H2 at 140 m; H4 still off the network
        assert t.loc["C1", "n_homes_served"] == 1  # H3 at 225 m
    t = garbage.run(_layers(), max_walk=230.0)["garbage_communities"]
    assert t["sorting_coverage_status"].tolist() == ["pass", "fail"]


def test_a_residual_waste_point_is_no_sorting_point_unless_the_rule_says_so():
    kinds = ["sorting", "recycling", "kitchen", "hazardous", "residual"]
    out = garbage.run(_layers(), rules={"point_kinds": kinds})
    f = _findings(out)
    assert ("H3", "sorting_point_too_far") not in f  # 15 + 5 + 5 = 25 m to P3
    assert out["garbage_communities"]["sorting_coverage_status"].tolist() == ["pass", "fail"]
    # points without a kind, or a layer without the column, count
    pts = points(POINTS).drop(columns="kind")
    out = garbage.run({**_layers(), "garbage_points": pts})
    assert ("H3", "sorting_point_too_far") not in _findings(out)


def test_home_reach_measures_every_home_and_says_which_points_are_off():
    L = _layers()
    pts = points(POINTS).iloc[[0, 1, 3]]
    homes, shares, off = home_reach(L["buildings"], pts.geometry, L["streets"], L["communities"],
                                    max_walk=70.0, snap_tolerance=150.0)
    walk = dict(zip(homes["building_id"], homes["walk_m"]))
    assert walk["H1"] == pytest.approx(35.0) and walk["H2"] == pytest.approx(140.0)
    assert walk["H3"] == pytest.approx(225.0) and np.isnan(walk["H4"])
    assert "H5" not in walk  # a shop is no home
    assert homes["served"].tolist() == [True, False, False, False]
    assert off.tolist() == [False, False, True]
    assert shares.loc["C1", "share_residents_served"] == pytest.approx(0.75)
    # beyond five times the walk asked for, nothing is measured
    homes, _, _ = home_reach(L["buildings"], pts.geometry, L["streets"], L["communities"],
                             max_walk=40.0, snap_tolerance=150.0)
    assert np.isnan(homes.set_index("building_id").loc["H3", "walk_m"])  # 225 > 200
    # without streets nothing is measured: served unknown, shares missing
    homes, shares, _ = home_reach(L["buildings"], pts.geometry, None, L["communities"],
                                  max_walk=70.0, snap_tolerance=150.0)
    assert homes["served"].isna().all() and shares["share_homes_served"].isna().all()
    assert shares["n_homes"].tolist() == [2, 2]


def test_missing_layers_and_missing_evidence_are_unknown_with_a_reason():
    with pytest.raises(AnalysisError, match="gcgeo add WS garbage_points"):
        garbage.run(_layers(garbage_points=True))
    with pytest.raises(AnalysisError, match="gcgeo add WS buildings"):
        garbage.run(_layers(buildings=True))
    out = garbage.run(_layers(streets=True))
    t = out["garbage_communities"]
    assert t["sorting_coverage_status"].tolist() == ["unknown", "unknown"]
    assert all("streets" in r for r in t["sorting_coverage_reason"])
    assert not len(out["garbage_findings"])
    only_residual = points([POINTS[2]])
    t = garbage.run({**_layers(), "garbage_points": only_residual})["garbage_communities"]
    assert t["sorting_coverage_status"].tolist() == ["unknown", "unknown"]
    assert all("no sorting point" in r for r in t["sorting_coverage_reason"])
    # a community without homes is unknown, never passed
    comm = boxes([*COMMUNITIES, {"id": "C3", "name": "空", "box": (2000, 0, 2100, 100)}])
    t = garbage.run({**_layers(), "communities": comm})["garbage_communities"].set_index("community_id")
    assert t.loc["C3", "sorting_coverage_status"] == "unknown"
    assert "no residential buildings" in t.loc["C3", "sorting_coverage_reason"]


def test_without_communities_one_row_and_points_in_degrees():
    out = garbage.run(_layers(communities=True))
    t = out["garbage_communities"]
    assert t["community_id"].tolist() == ["(all)"]
    assert t[["n_homes", "n_homes_served", "n_sorting_points"]].iloc[0].tolist() == [4, 1, 3]
    L = _layers()
    L["garbage_points"] = L["garbage_points"].to_crs(4326)  # as an Amap export would come
    got = _findings(garbage.run(L))
    assert set(got) == set(_findings(garbage.run(_layers())))
    assert float(got["H2", "sorting_point_too_far"].measured) == pytest.approx(140.0, abs=0.01)


# --------------------------------------------------------------------------
# the synthetic county


@pytest.fixture(scope="module")
def county():
    return synthetic_county(seed=0)


def test_the_synthetic_county_finds_exactly_the_planted_gaps(county):
    walk = county.truth["garbage"]["walk_m"]
    out = garbage.run(county.layers)
    f = out["garbage_findings"]
    assert set(f["kind"]) == {"sorting_point_too_far"}  # every home on the network
    far = f.set_index("feature_id")["measured"].astype(float)
    assert sorted(far.index) == sorted(b for b, d in walk.items() if d > 70.0)
    for bid, d in far.items():  # the walks, by construction (measured up to 5 × 70 m)
        assert d == pytest.approx(walk[bid], abs=0.05) if walk[bid] <= 350.0 else np.isnan(d)
    # the block without sorting points, whose residual-waste point does not count
    bare = county.layers["garbage_points"].set_index("id").loc[county.truth["garbage"]["residual_only"]]
    b = county.layers["buildings"]
    near = b.loc[b.geometry.distance(bare.geometry) < 40.0, "id"].tolist()
    assert near and set(near) <= set(far.index)
    t = out["garbage_communities"].set_index("community_id")
    comm = county.layers["communities"].set_index("id")
    for cid in comm.index:
        homes = [bid for bid in walk if _inside(county, bid, comm.loc[cid, "geometry"])]
        served = sum(walk[h] <= 70.0 for h in homes)
        assert t.loc[cid, "n_homes"] == len(homes) == county.truth["communities"][cid]["n_residential"]
        assert t.loc[cid, "n_homes_served"] == served
        assert t.loc[cid, "sorting_coverage_status"] == ("pass" if served == len(homes) else "fail")
    # counting residual waste serves the buildings beside the point, and only those changed
    kinds = ["sorting", "recycling", "kitchen", "hazardous", "residual"]
    more = garbage.run(county.layers, rules={"point_kinds": kinds})["garbage_findings"]
    assert sorted(set(far.index) - set(more["feature_id"])) == sorted(
        bid for bid in near if bid in walk)


def _inside(county, bid, poly):
    b = county.layers["buildings"].set_index("id")
    return poly.contains(b.loc[bid, "geometry"].representative_point())


def test_the_command_writes_both_layers_and_the_report_shows_them(tmp_path, county):
    from gcgeo import workspace as ws

    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县")
    for kind in ("communities", "buildings", "streets", "garbage_points"):
        ws.add_layer(path, kind, county.layers[kind])
    res = CliRunner().invoke(main, ["analyze", str(path), "garbage"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "第5项" in res.output  # the column labels of its descriptor, in Chinese
    found = ws.read_layer(path, "garbage_findings")
    assert len(found) == sum(d > 70.0 for d in county.truth["garbage"]["walk_m"].values())
    assert {"garbage_findings", "garbage_communities"} <= set(ws.list_layers(path)["layer"])
    report = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", str(path), "-o", str(report)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    html = report.read_text(encoding="utf-8")
    assert "垃圾分类" in html and "步行范围内无垃圾分类投放点" in html
    # the walk as an option: everything within the longest walk of the county is served
    longest = max(county.truth["garbage"]["walk_m"].values())
    res = CliRunner().invoke(main, ["analyze", str(path), "garbage", "--max-walk",
                                    str(longest + 1)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    t = ws.read_layer(path, "garbage_communities")
    assert set(t["sorting_coverage_status"]) == {"pass"}
    assert not len(ws.read_layer(path, "garbage_findings"))
