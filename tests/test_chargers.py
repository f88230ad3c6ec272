"""Chargers: EV-ready parking, e-bike charging within a walk (worked out by hand on a street
grid), e-bike chargers indoors; the synthetic county, bad input, the command and the report."""

from __future__ import annotations

import numpy as np
import pytest
from _grid import boxes, grid_streets, points
from click.testing import CliRunner

from gcgeo import AnalysisError
from gcgeo.analysis import chargers
from gcgeo.cli import main
from gcgeo.testing import synthetic_county

# Streets every 100 m from 0 to 200; a home's point is its box's centre.
#   H1 (45, 15): 15 m to (45, 0), 15 m east, 5 m to E1: 35
#   H2 (155, 165): 35 m to (155, 200), 55 m west, 30 m down to (100, 170), 5 m to E3: 125
#   H3 (15, 145): 15 m to (0, 145), 55 m up, 100 m east, 30 m down, 5 m to E3: 205
#   H4 (1000, 1000): off the network.  H5 is a shop: E5 inside it is no finding, and serves.
#   E2 stands inside H2 (a stair hall): a finding, and no charging within reach.
HOMES = [
    {"id": "H1", "use": "residential", "population": 30, "box": (40, 10, 50, 20)},
    {"id": "H2", "use": "residential", "population": 20, "box": (150, 160, 160, 170)},
    {"id": "H3", "use": "residential", "population": 10, "box": (10, 140, 20, 150)},
    {"id": "H4", "use": "residential", "population": 40, "box": (995, 995, 1005, 1005)},
    {"id": "H5", "use": "commercial", "population": 0, "box": (120, 10, 140, 30)},
]
CHARGERS = [
    {"id": "E1", "kind": "电动车", "sockets": 10, "xy": (60, 5)},
    {"id": "E2", "kind": "e-bike", "sockets": 2, "xy": (152, 162)},
    {"id": "E3", "kind": "电动自行车", "sockets": 20, "xy": (105, 170)},
    {"id": "E4", "kind": "e-bike", "sockets": 10, "xy": (5000, 5000)},
    {"id": "E5", "kind": "e-bike", "sockets": 10, "xy": (130, 20)},
    {"id": "K1", "kind": "car", "sockets": 2, "xy": (20, 40)},
    {"id": "K2", "kind": "汽车", "sockets": 1, "xy": (70, 40)},
    {"id": "K3", "kind": "car", "sockets": "2个", "xy": (80, 40)},
    {"id": "K4", "kind": "bus", "sockets": 1, "xy": (250, 40)},
    {"id": "K5", "kind": "car", "sockets": None, "xy": (220, 40)},
]
PARKING = [
    {"id": "L1", "kind": "surface", "capacity": 10, "ev_ready": 4, "box": (10, 30, 40, 60)},
    {"id": "L2", "kind": "地面", "capacity": "20个", "ev_ready": None, "box": (60, 30, 90, 60)},
    {"id": "L3", "kind": "非机动车", "capacity": 50, "ev_ready": 0, "box": (10, 70, 40, 90)},
    {"id": "L4", "kind": "surface", "capacity": "五十", "ev_ready": 5, "box": (110, 60, 140, 90)},
    {"id": "L5", "kind": "surface", "capacity": 10, "ev_ready": 12, "box": (160, 60, 190, 90)},
    {"id": "L6", "kind": "surface", "capacity": 40, "ev_ready": 10, "box": (210, 30, 240, 60)},
]
COMMUNITIES = [{"id": "C1", "name": "东关", "box": (0, 0, 100, 200)},
               {"id": "C2", "name": "西关", "box": (100, 0, 200, 200)},
               {"id": "C3", "name": "北关", "box": (200, 0, 1200, 1200)}]


def _layers(**drop):
    out = {"chargers": points(CHARGERS), "parking": boxes(PARKING), "buildings": boxes(HOMES),
           "streets": grid_streets(), "communities": boxes(COMMUNITIES)}
    for k in drop:
        out.pop(k)
    return out


def _findings(out):
    return {(r.feature_id, r.kind): r for r in out["chargers_findings"].itertuples()}


def _table(out):
    return out["chargers_communities"].set_index("community_id")


def test_ev_ready_share_from_parking_and_the_chargers_standing_in_it():
    out = chargers.run(_layers())
    t, f = _table(out), _findings(out)
    # C1: L1 10 spaces (4 EV-ready) + L2 20 spaces ("20个"), EV-ready not recorded but two car
    # chargers stand in it: at least 6 of 30; the bicycle park L3 holds no car spaces
    assert t.loc["C1", ["parking_spaces", "ev_ready_spaces"]].tolist() == [30, 6]
    assert t.loc["C1", "ev_ready_share"] == pytest.approx(0.2)
    assert t.loc["C1", ["car_chargers", "car_sockets"]].tolist() == [3, 5]
    assert t.loc["C1", "ev_ready_status"] == "unknown" and "at least 20%" in t.loc["C1", "ev_ready_reason"]
    assert ("L2", "parking_ev_ready_unknown") in f
    # C2: L4's capacity "五十" cannot be read: unknown, and the car park is listed
    assert t.loc["C2", "ev_ready_status"] == "unknown" and "L4" in t.loc["C2", "ev_ready_reason"]
    assert "'五十' could not be read" in f["L4", "parking_capacity_unknown"].message
    assert float(f["L5", "ev_ready_over_capacity"].measured) == 12.0
    # C3: 10 of 40
    assert t.loc["C3", "ev_ready_share"] == pytest.approx(0.25)
    assert t.loc["C3", ["car_chargers", "car_sockets"]].tolist() == [1, 1]  # sockets unknown: one
    assert t.loc["C3", "ev_ready_status"] == "fail"
    below = f["C3", "ev_ready_below_share"]
    assert (float(below.measured), float(below.required)) == (0.25, 1.0)
    assert "100%" in below.clause and below.community == "C3"
    # the figure is local policy: a county sets its own
    t = _table(chargers.run(_layers(), rules={"ev_ready": {"min_share": 0.2}}))
    assert t["ev_ready_status"].tolist() == ["pass", "unknown", "pass"]  # C1 on its lower bound


def test_ebike_charging_within_a_walk_by_hand():
    out = chargers.run(_layers())
    t, f = _table(out), _findings(out)
    assert float(f["H3", "ebike_charging_too_far"].measured) == pytest.approx(205.0)
    assert float(f["H3", "ebike_charging_too_far"].required) == 200.0
    assert ("H4", "home_off_network") in f and ("E4", "ebike_charger_off_network") in f
    assert not {k for k in f if k[0] in ("H1", "H2", "H5", "E5")}
    assert t.loc["C1", ["n_homes", "n_homes_served"]].tolist() == [2, 1]
    assert t.loc["C1", "share_residents_served"] == pytest.approx(0.75)
    assert t["ebike_reach_status"].tolist() == ["fail", "pass", "fail"]
    assert t.loc["C3", "n_homes_off_network"] == 1
    # the walk is a rule and an option
    for how in ({"ebike_max_walk": 210.0}, {"rules": {"ebike": {"max_walk": 210.0}}}):
        t = _table(chargers.run(_layers(), **how))
        assert t["ebike_reach_status"].tolist() == ["pass", "pass", "fail"]


def test_ebike_chargers_inside_homes_are_flagged_and_serve_nobody():
    out = chargers.run(_layers())
    t, f = _table(out), _findings(out)
    indoors = [k for k in f if k[1] == "ebike_charger_indoors"]
    assert indoors == [("E2", "ebike_charger_indoors")]  # E5 is in a shop, no home
    hit = f["E2", "ebike_charger_indoors"]
    assert hit.severity == "high" and hit.measured == "H2" and "第三十七条" in hit.clause
    assert t["n_ebike_chargers"].tolist() == [1, 3, 0]
    assert t["n_ebike_indoors"].tolist() == [0, 1, 0]
    assert t["ebike_indoors_status"].tolist() == ["pass", "fail", "pass"]
    # without E3, H2's nearest charger would be E2 in its own stair hall: it does not count
    L = _layers()
    L["chargers"] = L["chargers"][L["chargers"]["id"] != "E3"]
    t = _table(chargers.run(L))
    assert t.loc["C2", "ebike_reach_status"] == "fail"


def test_kinds_as_planners_write_them_and_kinds_nobody_knows():
    f = _findings(chargers.run(_layers()))
    assert f["K4", "charger_kind_unknown"].severity == "low"
    assert not [k for k in f if k[1] == "charger_kind_unknown" and k[0] != "K4"]


def test_missing_layers_columns_and_evidence_are_unknown_with_a_reason():
    with pytest.raises(AnalysisError, match="gcgeo add WS chargers"):
        chargers.run(_layers(chargers=True))
    t = _table(chargers.run(_layers(parking=True)))
    assert set(t["ev_ready_status"]) == {"unknown"}
    assert all("no parking layer" in r for r in t["ev_ready_reason"])
    t = _table(chargers.run(_layers(buildings=True)))
    assert set(t["ebike_reach_status"]) == set(t["ebike_indoors_status"]) == {"unknown"}
    assert all("buildings" in r for r in t["ebike_indoors_reason"])
    t = _table(chargers.run(_layers(streets=True)))
    assert set(t["ebike_reach_status"]) == {"unknown"}
    assert all("streets" in r for r in t["ebike_reach_reason"])
    assert t["ebike_indoors_status"].tolist() == ["pass", "fail", "pass"]  # needs no streets
    L = _layers()
    L["chargers"] = L["chargers"].drop(columns="kind")
    out = chargers.run(L)
    t = _table(out)
    assert set(t["ebike_reach_status"]) == set(t["ebike_indoors_status"]) == {"unknown"}
    assert all("'kind'" in r for r in t["ebike_reach_reason"])
    assert t["car_chargers"].isna().all()
    L = _layers()
    L["chargers"] = L["chargers"][L["chargers"]["id"].str.startswith("K")]
    t = _table(chargers.run(L))
    assert set(t["ebike_reach_status"]) == {"unknown"}
    assert all("records no e-bike charger" in r for r in t["ebike_reach_reason"])
    # text where numbers belong: read when a unit follows, else reported with the row
    L = _layers()
    L["parking"] = L["parking"].assign(capacity=["10", "20个", "50", "约五十", "10", "40"])
    f = _findings(chargers.run(L))
    assert "'约五十' could not be read" in f["L4", "parking_capacity_unknown"].message


def test_without_communities_and_in_degrees():
    out = chargers.run(_layers(communities=True))
    t = out["chargers_communities"]
    assert t["community_id"].tolist() == ["(all)"]
    assert t[["n_homes", "n_homes_served", "n_ebike_indoors"]].iloc[0].tolist() == [4, 2, 1]
    assert "ev_ready_below_share" not in set(out["chargers_findings"]["kind"])  # L4 unreadable
    want = _findings(chargers.run(_layers()))
    L = _layers()
    L["buildings"], L["parking"] = L["buildings"].to_crs(4326), L["parking"].to_crs(4326)
    got = _findings(chargers.run(L))  # brought into the chargers' CRS
    assert set(got) == set(want)
    assert float(got["H3", "ebike_charging_too_far"].measured) == pytest.approx(205.0, abs=0.05)
    L = _layers()
    L["chargers"] = L["chargers"].to_crs(4326)  # the main layer in degrees: measured in the
    got = _findings(chargers.run(L))            # CGCS2000 zone of its own longitude
    assert set(got) == set(want)
    assert float(got["H3", "ebike_charging_too_far"].measured) == pytest.approx(205.0, rel=0.01)


# --------------------------------------------------------------------------
# the synthetic county


@pytest.fixture(scope="module")
def county():
    return synthetic_county(seed=0)


def test_the_synthetic_county_finds_exactly_the_planted_problems(county):
    walk = county.truth["ebike"]["walk_m"]
    out = chargers.run(county.layers)
    f = out["chargers_findings"]
    far = f[f["kind"] == "ebike_charging_too_far"].set_index("feature_id")["measured"].astype(float)
    assert sorted(far.index) == sorted(b for b, d in walk.items() if d > 200.0)
    for bid, d in far.items():  # by construction, measured up to 5 × 200 m
        assert d == pytest.approx(walk[bid], abs=0.05) if walk[bid] <= 1000.0 else np.isnan(d)
    inside = f[f["kind"] == "ebike_charger_indoors"]
    assert inside["feature_id"].tolist() == county.truth["ebike"]["indoors"]
    assert set(f["kind"]) == {"ebike_charging_too_far", "ebike_charger_indoors", "ev_ready_below_share"}
    t = _table(out)
    for cid, truth in county.truth["communities"].items():
        cap, ev = truth["parking_capacity"], truth["ev_ready"]
        if cap:
            assert (t.loc[cid, "parking_spaces"], t.loc[cid, "ev_ready_spaces"]) == (cap, ev)
            assert t.loc[cid, "ev_ready_status"] == ("pass" if ev >= cap else "fail")
        else:
            assert t.loc[cid, "ev_ready_status"] == "unknown"
        assert t.loc[cid, "ebike_indoors_status"] == ("fail" if cid == inside["community"].iloc[0]
                                                      else "pass")
    assert t["car_sockets"].sum() == sum(
        s for k, s in zip(county.layers["chargers"]["kind"], county.layers["chargers"]["sockets"])
        if k == "car")


def test_the_command_writes_both_layers_and_the_report_shows_them(tmp_path, county):
    from gcgeo import workspace as ws

    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县")
    for kind in ("communities", "buildings", "streets", "parking", "chargers"):
        ws.add_layer(path, kind, county.layers[kind])
    res = CliRunner().invoke(main, ["analyze", str(path), "chargers"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "第8项" in res.output
    assert {"chargers_findings", "chargers_communities"} <= set(ws.list_layers(path)["layer"])
    found = ws.read_layer(path, "chargers_findings")
    assert found.loc[found["kind"] == "ebike_charger_indoors", "feature_id"].tolist() == \
        county.truth["ebike"]["indoors"]
    report = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", str(path), "-o", str(report)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    html = report.read_text(encoding="utf-8")
    assert "充电设施" in html and "电动自行车充电设施在住宅楼内" in html
    res = CliRunner().invoke(main, ["analyze", str(path), "chargers", "--ebike-max-walk", "0"])
    assert res.exit_code == 2 and "--ebike-max-walk" in res.output
