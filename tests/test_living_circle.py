"""15-minute living circle (gcgeo.analysis.living_circle)."""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from _reference import assert_nearest_equal_networkx
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box
from test_network import _random_street_graph, _reference_point_distances

from gcgeo import AnalysisError, rules
from gcgeo.analysis import _iso_grid
from gcgeo.analysis import living_circle as lc
from gcgeo.network import build_graph, compile_network

CRS = "EPSG:3857"


def _rules(cats: dict[str, list[str]]):
    r = rules.load("living_circle")
    r["categories"] = {c: {"tiers": t, "clause": "test", "status": "local"} for c, t in cats.items()}
    return r


def _square(x, y, s=10):
    return box(x - s / 2, y - s / 2, x + s / 2, y + s / 2)


@pytest.fixture
def small():
    streets = gpd.GeoDataFrame(
        geometry=[LineString([(0, 0), (1000, 0)]), LineString([(500, 0), (500, 400)])], crs=CRS)
    buildings = gpd.GeoDataFrame(
        {"id": ["H1", "H2", "H3", "SHOP"], "use": ["residential"] * 3 + ["commercial"],
         "population": [100.0, 50.0, 10.0, np.nan], "floors": [2, 1, np.nan, 1]},
        geometry=[_square(100, 10), _square(510, 300), _square(950, 20), _square(300, 30)], crs=CRS)
    facilities = gpd.GeoDataFrame(
        {"id": ["s", "p"], "category": ["supermarket", "park"]},
        geometry=[Point(200, -5), Point(500, 405)], crs=CRS)
    communities = gpd.GeoDataFrame(
        {"id": ["C1"], "name": ["East"], "population": [300]},
        geometry=[box(-100, -100, 1100, 500)], crs=CRS)
    return {"streets": streets, "buildings": buildings, "facilities": facilities,
            "communities": communities}


def test_nearest_facility_distance_hand_computed():
    G = nx.MultiGraph()
    G.add_edge("a", "b", length=100.0)
    G.add_edge("a", "b", length=40.0)  # parallel: the shorter one counts
    G.add_edge("b", "c", length=50.0)
    G.add_edge("x", "y", length=1.0)  # disconnected component
    d = lc.nearest_facility_distance(G, {"k": ["a"], "none": [], "two": ["c", "y"]}, cutoff=80)
    assert list(d.index) == list(G.nodes)
    assert d.loc["b", "k"] == 40 and np.isnan(d.loc["c", "k"]) and np.isnan(d.loc["x", "k"])
    assert d["none"].isna().all()
    assert np.isnan(d.loc["a", "two"])  # 90 m > the 80 m cutoff
    assert d.loc["x", "two"] == 1 and d.loc["b", "two"] == 50


def test_nearest_facility_distance_empty_graph():
    d = lc.nearest_facility_distance(nx.Graph(), {"k": []}, cutoff=10)
    assert d.shape == (0, 1)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), cutoff=st.floats(0, 1500),
       directed=st.booleans(), k=st.integers(1, 5))
def test_nearest_facility_distance_equals_networkx(seed, cutoff, directed, k):
    rng = np.random.default_rng(seed)
    G = nx.gnm_random_graph(40, 70, seed=seed, directed=directed)
    G = nx.MultiDiGraph(G) if directed else nx.MultiGraph(G)
    for u, v, key in list(G.edges(keys=True)):
        G.edges[u, v, key]["length"] = float(rng.integers(0, 400))  # zero lengths included
        if rng.random() < 0.2:
            G.add_edge(u, v, length=float(rng.uniform(0, 400)))
    sources = {f"c{i}": list(rng.choice(40, size=int(rng.integers(1, 4)), replace=False))
               for i in range(k)}
    got = lc.nearest_facility_distance(G, sources, cutoff=cutoff)
    assert_nearest_equal_networkx(got, G, sources, cutoff)


def test_run_hand_computed(small):
    r = _rules({"supermarket": ["5min"], "park": ["10min"]})
    out = lc.run(small, rules=r)
    # isochrones on request: none by default, the per-community layer's columns, typed
    iso = out["lc_isochrones"]
    assert len(iso) == 0 and iso.attrs["geometry_type"] == "MultiPolygon"
    drawn = lc.run(small, rules=r, isochrones="community")["lc_isochrones"]
    assert len(drawn) and list(iso.columns) == list(drawn.columns)
    o = out["lc_origins"].set_index("building_id")
    assert list(o.index) == ["H1", "H2", "H3"]  # the shop is not a home
    # H1 (100,10): 10 + 100 + 5; H2 (510,300): 10 + 300 + 300 + 5; H3 (950,20): 20 + 750 + 5
    np.testing.assert_allclose(o["dist_supermarket_m"], [115, 615, 775])
    np.testing.assert_allclose(o["dist_park_m"], [815, 115, 875])
    assert o["all_within_5min"].tolist() == [True, False, False]
    assert o["all_within_10min"].tolist() == [False, False, False]
    assert o["all_within_15min"].tolist() == [True, True, True]
    assert (o["pop_source"] == "given").all() and (o["community_name"] == "East").all()
    c = out["lc_communities"].iloc[0]
    assert c["residents"] == 160 and c["homes"] == 3
    assert c["share_all_within_5min"] == pytest.approx(100 / 160)
    assert c["share_all_within_10min"] == 0 and c["share_all_within_15min"] == 1
    assert c["share_park_10min"] == pytest.approx(50 / 160)
    assert c["share_supermarket_10min"] == pytest.approx(100 / 160)
    g = out["lc_gaps"]
    assert _gap_rows(g, "building_id") == sorted([
        ("H2", "supermarket", "5min"), ("H3", "supermarket", "5min"),
        ("H2", "supermarket", "10min"), ("H3", "supermarket", "10min"),
        ("H1", "park", "10min"), ("H3", "park", "10min")])
    assert dict(zip(g["building_id"], g["n_missing"])) == {"H1": 1, "H2": 1, "H3": 2}
    s = lc.summary(out)
    assert s.loc[0, "share_all_within_5min"] == pytest.approx(0.625)
    # criterion 10 with its figure: H1 (100) lacks the 10-minute park, H2 (50) and H3 (10)
    # the 5-minute supermarket: nobody has a complete living circle
    assert s.loc[0, ["share_complete", "min_share_complete_status"]].tolist() == [0.0, "fail"]
    assert "supermarket" in s.loc[0, "min_share_complete_reason"]


def test_categories_table_tells_missing_data_from_gaps(small):
    """Per category: facilities in the data and on the network, and the share of
    residents served at its strictest tier (hand-computed on the small network)."""
    r = _rules({"supermarket": ["5min"], "park": ["10min"], "pharmacy": ["10min"],
                "kindergarten": ["5min"]})
    layers = dict(small)
    far = gpd.GeoDataFrame({"id": ["k"], "category": ["kindergarten"]},
                           geometry=[Point(3000, 3000)], crs=CRS)  # 3 km from any street
    layers["facilities"] = pd.concat([small["facilities"], far], ignore_index=True)
    t = lc.run(layers, rules=r, isochrones="none")["lc_categories"].set_index("category")
    assert t.loc["supermarket", ["tier", "facilities", "facilities_on_network", "status"]].tolist() \
        == ["5min", 1, 1, "ok"]
    assert t.loc["supermarket", "share_served"] == pytest.approx(100 / 160)  # H1 only, 115 m
    assert t.loc["park", "share_served"] == pytest.approx(50 / 160)  # H2 only, 115 m
    assert t.loc["pharmacy", ["facilities", "status", "share_served"]].tolist() \
        == [0, "no facility", 0.0]
    assert t.loc["kindergarten", ["facilities", "facilities_on_network", "status"]].tolist() \
        == [1, 0, "none on the network"]
    from gcgeo.report import headline_figures

    heads = dict(headline_figures({"lc_categories": t.reset_index()}, "living_circle", lang="en"))
    assert heads["Pharmacy"].startswith("No facility of this kind in the data")
    assert "off the walking network" in heads["Kindergarten"]


def test_strict_reading_beside_the_categories_in_the_data(small):
    """No pharmacy in the data: strictly nobody has every 10-minute category; counting
    only the categories found in the data, H1 (supermarket 115 m, park 815 m) and H2
    (615 m, 115 m) have them within 1000 m at 15 minutes (hand-computed in
    test_run_hand_computed)."""
    r = _rules({"supermarket": ["5min"], "park": ["10min"], "pharmacy": ["10min"]})
    out = lc.run(small, rules=r, isochrones="none")
    o = out["lc_origins"].set_index("building_id")
    assert o["all_within_15min"].tolist() == [False, False, False]
    assert o["in_data_within_15min"].tolist() == [True, True, True]
    assert o["in_data_within_5min"].tolist() == [True, False, False]
    assert o["in_data_within_10min"].tolist() == [False, False, False]
    c = out["lc_communities"].iloc[0]
    assert c["share_all_within_15min"] == 0 and c["share_in_data_within_15min"] == 1
    assert c["share_in_data_within_5min"] == pytest.approx(100 / 160)


def test_criterion_10_share_with_every_category_within_its_own_tier(small):
    """A park 15 m from H1 (beside the street at x = 100): H1 has the supermarket at 115 m
    (≤ 300) and the park at 15 m (≤ 500); H2 (supermarket 615 m) and H3 (775 m) lack the
    5-minute supermarket, though every category is within 1000 m of them."""
    r = _rules({"supermarket": ["5min"], "park": ["10min"]})
    layers = dict(small)
    layers["facilities"] = gpd.GeoDataFrame({"id": ["s", "p"], "category": ["supermarket", "park"]},
                                            geometry=[Point(200, -5), Point(100, -5)], crs=CRS)
    c = lc.run(layers, rules=r, isochrones="none")["lc_communities"].iloc[0]
    assert c["share_complete"] == pytest.approx(100 / 160)
    assert c["min_share_complete_status"] == "fail"  # every resident, by default
    assert c["min_share_complete_reason"] == ("62.5% of residents have every required category within "
                                              "its tier distance (100% required); fewest reached: "
                                              "supermarket 62.5%, park 62.5%")  # park: H2 715 m, H3 875 m
    r["min_share_complete"]["value"] = 0.6
    c = lc.run(layers, rules=r, isochrones="none")["lc_communities"].iloc[0]
    assert (c["min_share_complete_status"], c["min_share_complete_reason"]) == ("pass", "")
    # no pharmacy in the data: unknown, whatever the share
    r = _rules({"supermarket": ["5min"], "park": ["10min"], "pharmacy": ["10min"]})
    r["min_share_complete"]["value"] = 0.0
    c = lc.run(layers, rules=r, isochrones="none")["lc_communities"].iloc[0]
    assert c["share_complete"] == 0 and c["min_share_complete_status"] == "unknown"
    assert c["min_share_complete_reason"].startswith("no pharmacy facility in the data")
    # ...but where the categories in the data already fall short, it fails whatever the
    # missing pharmacy holds: only H1 has the supermarket (115 m) and the park (15 m)
    # within 500 m, the 10-minute tier counting them (H2 and H3 have neither)
    r["min_share_complete"]["value"] = 0.7
    c = lc.run(layers, rules=r, isochrones="none")["lc_communities"].iloc[0]
    assert c["share_in_data_within_10min"] == pytest.approx(100 / 160)
    assert c["min_share_complete_status"] == "fail"
    assert c["min_share_complete_reason"] == (
        "at most 62.5% of residents can have every required category within its tier distance "
        "(70% required): 62.5% have those the data hold within the 5min tier; no pharmacy facility "
        "in the data")
    r["min_share_complete"]["value"] = 0.6  # 62.5% could be enough: the pharmacies decide
    c = lc.run(layers, rules=r, isochrones="none")["lc_communities"].iloc[0]
    assert c["min_share_complete_status"] == "unknown"


def test_walking_speed_converts_minutes(small):
    r = _rules({"supermarket": ["5min"], "park": ["10min"]})
    # 4.2 km/h: 5 min = 350 m, 10 min = 700 m
    o = lc.run(small, rules=r, walking_speed=4.2, isochrones="none")["lc_origins"]
    assert o["all_within_5min"].tolist() == [True, False, False]
    assert o["all_within_10min"].tolist() == [False, True, False]


def test_population_estimated_from_community_by_floor_area(small, caplog):
    layers = dict(small)
    layers["buildings"] = small["buildings"].drop(columns="population")
    r = _rules({"supermarket": ["5min"]})
    with caplog.at_level(logging.INFO, logger="gcgeo"):
        o = lc.run(layers, rules=r, isochrones="none")["lc_origins"]
    # floor areas 100 x 2, 100 x 1, 100 x 1 (floors unknown -> 1) share 300 residents
    np.testing.assert_allclose(o["population"], [150, 75, 75])
    assert (o["pop_source"] == "community by floor area").all()
    assert "community by floor area" in caplog.text
    layers["communities"] = small["communities"].drop(columns="population")
    o = lc.run(layers, rules=r, isochrones="none")["lc_origins"]
    assert (o["population"] == 1).all() and (o["pop_source"] == "one per building").all()


def test_residential_fallback_all_buildings(small):
    layers = dict(small)
    layers["buildings"] = small["buildings"].drop(columns="use")
    o = lc.run(layers, rules=_rules({"park": ["5min"]}), isochrones="none")["lc_origins"]
    assert len(o) == 4


def test_off_network_homes_are_reported(small):
    layers = dict(small)
    b = small["buildings"].copy()
    b.loc[len(b)] = ["FAR", "residential", 5.0, 1, _square(100, 450)]
    layers["buildings"] = b
    out = lc.run(layers, rules=_rules({"supermarket": ["5min"]}), snap_tolerance=100,
                 isochrones="none")
    o = out["lc_origins"].set_index("building_id")
    assert o.loc["FAR", "off_network"] and np.isnan(o.loc["FAR", "dist_supermarket_m"])
    assert not o.loc["FAR", "all_within_15min"]
    c = out["lc_communities"].iloc[0]
    assert c["residents_off_network"] == 5


def test_bad_input(small):
    r = _rules({"supermarket": ["5min"], "kindergarten": ["5min"]})
    # category with no facility: nobody served, everyone has a gap
    out = lc.run(small, rules=r, isochrones="none")
    assert out["lc_origins"]["dist_kindergarten_m"].isna().all()
    assert not out["lc_origins"]["all_within_5min"].any()
    # facilities all off-network
    layers = dict(small)
    layers["facilities"] = small["facilities"].set_geometry(
        [Point(5000, 5000), Point(6000, 6000)], crs=CRS)
    out = lc.run(layers, rules=r, isochrones="community")
    assert out["lc_origins"]["dist_supermarket_m"].isna().all()
    # graph with no edges
    layers = dict(small)
    layers["streets"] = small["streets"].iloc[:0]
    out = lc.run(layers, rules=r)
    assert out["lc_origins"]["off_network"].all()
    # missing layers name the layer
    for kind in ("streets", "facilities", "buildings"):
        layers = {k: v for k, v in small.items() if k != kind}
        with pytest.raises(AnalysisError, match=f"'{kind}'"):
            lc.run(layers, rules=r)


def test_disconnected_graph(small):
    layers = dict(small)
    extra = gpd.GeoDataFrame(geometry=[LineString([(0, 2000), (500, 2000)])], crs=CRS)
    layers["streets"] = pd.concat([small["streets"], extra], ignore_index=True)
    b = small["buildings"].copy()
    b.loc[len(b)] = ["ISLAND", "residential", 5.0, 1, _square(250, 2010)]
    layers["buildings"] = b
    o = lc.run(layers, rules=_rules({"supermarket": ["5min"]}), isochrones="none")["lc_origins"]
    o = o.set_index("building_id")
    assert np.isnan(o.loc["ISLAND", "dist_supermarket_m"]) and not o.loc["ISLAND", "off_network"]


def test_isochrones_hand_computed(small):
    r = _rules({"supermarket": ["5min"]})
    iso = lc.run(small, rules=r, isochrones="community")["lc_isochrones"]
    a = iso[(iso["category"] == "supermarket") & (iso["tier"] == "5min")].geometry.iloc[0]
    # reach 300 - 5 = 295 m each way along y = 0 from x = 200: [0 (street end), 495],
    # buffered by 50 (drawn from cells: up to the grid's tolerance short of it) and
    # clipped to the community box [-100, 1100] x [-100, 500]
    tol = _iso_grid.tolerance(50.0)
    assert a.covers(Point(545 - tol, 0)) and not a.covers(Point(546, 0))
    assert a.covers(Point(-50 + tol, 0)) and not a.covers(Point(-51, 0))
    assert a.covers(Point(200, 50 - tol)) and not a.covers(Point(200, 51))
    # the vertical street is reached from (500, 0) for 295 - 300 < 0 m: not at all
    assert not a.covers(Point(500, 100))
    assert iso.geom_type.eq("MultiPolygon").all()
    fac = lc.run(small, rules=r, isochrones="facility")["lc_isochrones"]
    assert set(fac["facility_id"]) == {"s"} and set(fac["tier"]) == {"5min", "10min", "15min"}
    f5 = fac[fac["tier"] == "5min"].geometry.iloc[0]
    assert f5.covers(Point(540, 0)) and not f5.covers(Point(550, 0))
    f15 = fac[fac["tier"] == "15min"].geometry.iloc[0]  # 995 m reach: every street, whole
    assert f15.covers(Point(1045, 0)) and f15.covers(Point(500, 445))
    assert not f15.covers(Point(500, 455)) and not f15.covers(Point(1055, 0))


# ---- properties against networkx -----------------------------------------


def _random_case(seed):
    G, rng = _random_street_graph(seed, n=25, p=0.15)
    if G is None:
        return None
    net = compile_network(G)
    streets = gpd.GeoDataFrame(geometry=list(net.geometry), crs=CRS)
    homes_xy = rng.uniform(0, 1000, size=(40, 2))
    buildings = gpd.GeoDataFrame(
        {"use": "residential", "population": rng.integers(1, 50, 40).astype(float)},
        geometry=[_square(x, y, 4) for x, y in homes_xy], crs=CRS)
    cats = ["supermarket", "park", "pharmacy"]
    n_fac = 6
    facilities = gpd.GeoDataFrame(
        {"category": rng.choice(cats, n_fac)},
        geometry=[Point(p) for p in rng.uniform(0, 1000, size=(n_fac, 2))], crs=CRS)
    communities = gpd.GeoDataFrame({"name": ["W", "E"]},
                                   geometry=[box(-1, -1, 500, 1001), box(500, -1, 1001, 1001)], crs=CRS)
    layers = {"streets": streets, "buildings": buildings, "facilities": facilities,
              "communities": communities}
    return G, layers


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_served_and_isochrones_agree_with_networkx(seed):
    case = _random_case(seed)
    if case is None:
        return
    G, layers = case
    r = _rules({"supermarket": ["5min"], "park": ["10min"], "pharmacy": ["15min"]})
    tol = float(rules.value(r, "snapping.tolerance"))
    buf = float(rules.value(r, "isochrones.buffer"))
    # the reference walks G as build_graph joins it by default: ends that meet exactly
    out = lc.run(layers, rules={"living_circle": r, "network": {"join_tolerance": 0}},
                 isochrones="community")
    o = out["lc_origins"]
    homes = gpd.GeoSeries(o.geometry.to_numpy(), crs=CRS)
    fac = layers["facilities"]
    targets = {c: fac.geometry[fac["category"] == c].reset_index(drop=True)
               for c in ["supermarket", "park", "pharmacy"]}
    ref = _reference_point_distances(G, homes, targets, 1e9, tol)
    tiers = lc.tiers(r)
    req = lc.required_categories(r, tiers)
    for t, T in tiers.items():
        served = o[f"all_within_{t}"].to_numpy(bool)
        for c in req[t]:
            d = ref[c].to_numpy()
            assert not (served & ~(d <= T + 1e-6)).any(), (t, c)
            clear = np.abs(d - T) > 1e-6
            assert (served[clear] <= (d[clear] <= T)).all()
        want = np.logical_and.reduce([ref[c].to_numpy() <= T - 1e-6 for c in req[t]])
        assert (served >= want).all()
    iso = out["lc_isochrones"]
    assert len(iso) == 2 * (1 + 2 + 3 + 3)
    for row in iso.itertuples():
        cats = req[row.tier] if row.category == "all" else [row.category]
        covered = shapely.covers(row.geometry, homes.to_numpy())
        for c in cats:
            d = ref[c].to_numpy()
            assert not (covered & ~(d <= row.distance_m + buf + 1e-6)).any(), (row.tier, c)


# ---- central Helsinki -----------------------------------------------------


@pytest.fixture(scope="module")
def helsinki():
    pyrosm = pytest.importorskip("pyrosm")
    osm = pyrosm.OSM("tests/data/osm/helsinki_center.osm.pbf")
    nodes, edges = osm.get_network("walking", nodes=True)
    crs = 3067  # ETRS-TM35FIN
    edges = edges.to_crs(crs)
    pois = osm.get_pois(custom_filter={"amenity": ["pharmacy", "kindergarten", "school"],
                                       "shop": ["supermarket", "convenience"]})
    pois = pois.to_crs(crs)
    pois = pois.set_geometry(pois.geometry.representative_point())
    cat = np.select([pois["amenity"].eq("pharmacy").fillna(False).to_numpy(bool),
                     pois["amenity"].eq("kindergarten").fillna(False).to_numpy(bool),
                     pois["amenity"].eq("school").fillna(False).to_numpy(bool)],
                    ["pharmacy", "kindergarten", "primary_school"], "supermarket")
    facilities = gpd.GeoDataFrame({"category": cat}, geometry=pois.geometry.to_numpy(), crs=crs)
    return edges, facilities


def test_helsinki_lengths_and_distances_match_networkx(helsinki):
    edges, facilities = helsinki
    streets = edges[["u", "v", "length", "geometry"]].rename(columns={"length": "osm_length"})
    G = build_graph(streets)
    net = compile_network(G)
    assert net.n_nodes > 4000
    # projected lengths agree with pyrosm's haversine lengths: at 60° N the ellipsoid's radii of
    # curvature exceed the 6371 km sphere by 0.2-0.4 %, TM35's scale error is < 0.03 %
    w = streets["osm_length"].to_numpy()
    L = streets.geometry.length.to_numpy()
    rel = np.median((L - w) / np.maximum(w, 1))
    assert 0.001 < rel < 0.004
    rng = np.random.default_rng(1)
    xmin, ymin, xmax, ymax = streets.total_bounds
    homes = gpd.GeoDataFrame(
        {"use": ["residential"] * 300},
        geometry=[_square(x, y, 6) for x, y in
                  rng.uniform([xmin, ymin], [xmax, ymax], size=(300, 2))], crs=3067)
    r = _rules({"supermarket": ["5min"], "pharmacy": ["10min"], "kindergarten": ["5min"],
                "primary_school": ["10min"]})
    out = lc.run({"streets": streets, "buildings": homes, "facilities": facilities},
                 rules=r, isochrones="none")
    o = out["lc_origins"]
    assert o["off_network"].mean() < 0.2
    # an independent check on a sample: networkx on the edge-split graph
    sample = o.iloc[:40]
    targets = {c: facilities.geometry[facilities["category"] == c].reset_index(drop=True)
               for c in ["supermarket", "pharmacy"]}
    ref = _reference_point_distances(G, gpd.GeoSeries(sample.geometry.to_numpy(), crs=3067),
                                     targets, 1000.0, 100.0)
    for c in targets:
        np.testing.assert_allclose(sample[f"dist_{c}_m"].to_numpy(), ref[c].to_numpy(),
                                   rtol=1e-9, atol=1e-6)
    assert o["dist_supermarket_m"].notna().mean() > 0.5  # a dense city centre


# ---- the synthetic county (answers known by construction) -----------------


def test_synthetic_county_distances_by_construction():
    from gcgeo import testing

    sc = testing.synthetic_county(0)
    r = rules.load("living_circle")
    out = lc.run(sc.layers, rules=r, isochrones="none")
    o = out["lc_origins"].set_index("building_id")
    tiers = lc.tiers(r)
    req = lc.required_categories(r, tiers)
    checked = 0
    for hid, h in sc.truth["homes"].items():
        truth = {c: d for c, d in h["dist_m"].items() if f"dist_{c}_m" in o.columns}
        for c, d in truth.items():
            got = o.loc[hid, f"dist_{c}_m"]
            if d <= max(tiers.values()):
                assert got == pytest.approx(d, abs=1e-6), (hid, c)
            else:
                assert np.isnan(got), (hid, c)
            checked += 1
        for t, T in tiers.items():
            assert o.loc[hid, f"all_within_{t}"] == all(truth[c] <= T for c in req[t]), (hid, t)
        assert o.loc[hid, "community_id"] == h["community"]
    assert checked >= 13
    # the gaps, from the distances the county was built with (of the homes it knows them
    # for): each home lacking a category within a tier's distance lists it under that tier
    want = sorted((hid, c, t) for hid, h in sc.truth["homes"].items() for t, T in tiers.items()
                  for c in req[t] if not h["dist_m"].get(c, np.inf) <= T)
    got = [g for g in _gap_rows(out["lc_gaps"], "building_id") if g[0] in sc.truth["homes"]]
    assert want and got == want


def test_community_isochrone_keeps_reached_streets_near_a_home_just_beyond_reach():
    """A home 1020 m + 10 m from the only facility is past the 15-minute tier but
    within its 50 m buffer; one at 1160 m is beyond.  The community's isochrone
    must still cover the reached street (x = 300…1300) and the first home, and
    not the second: only the area nearest to that home, within one buffer of
    it, is cut away."""
    streets = gpd.GeoDataFrame(
        geometry=[LineString([(0, 0), (280, 0)]), LineString([(280, 0), (1300, 0)])], crs=CRS)
    homes = gpd.GeoDataFrame({"population": [10.0, 10.0]},
                             geometry=[Point(280, 10), Point(150, 10)], crs=CRS)
    layers = {"streets": streets,
              "facilities": gpd.GeoDataFrame({"category": ["supermarket"]},
                                             geometry=[Point(1300, 0)], crs=CRS),
              "communities": gpd.GeoDataFrame({"id": ["C"], "name": ["C"], "population": [20]},
                                              geometry=[box(-100, -100, 1400, 100)], crs=CRS)}
    r = _rules({"supermarket": ["15min"]})
    iso = lc.run(layers, rules=r, origins=homes, isochrones="community")["lc_isochrones"]
    f15 = iso[(iso["tier"] == "15min") & (iso["category"] == "supermarket")].geometry.iloc[0]
    assert f15.covers(Point(800, 0)) and f15.covers(Point(1300, 0))
    assert f15.covers(Point(280, 10))
    assert not f15.covers(Point(150, 10))
    # the street reached from x = 300 on is covered to one buffer either side (less
    # the grid's tolerance)
    tol = _iso_grid.tolerance(50.0)
    assert f15.covers(Point(700, 50 - tol)) and not f15.covers(Point(700, 51))


def test_categories_and_tiers_follow_gb50180_appendix_b():
    """The reading of GB 50180-2018 chosen in rules/living_circle.toml (issue 18)."""
    r = rules.load("living_circle")
    tier_of = {c: spec["tiers"] for c, spec in r["categories"].items()}
    five = {"kindergarten", "pharmacy", "supermarket", "elderly_care", "community_service",
            "culture_station", "small_sports_ground", "outdoor_fitness"}
    assert {c for c, t in tier_of.items() if t == ["5min"]} == five
    assert tier_of["culture_centre"] == tier_of["nursing_home"] == ["15min"]
    assert "culture" not in tier_of  # split into culture_station and culture_centre
    req = lc.required_categories(r, lc.tiers(r))
    assert five <= set(req["5min"]) and not {"nursing_home", "culture_centre"} & set(req["10min"])
    assert set(req["5min"]) < set(req["10min"]) < set(req["15min"])
    # terms §2.0.2–2.0.4 (§2.0.5 is 居住街坊); distances in Table 3.0.4
    for tier, term in (("15min", "§2.0.2"), ("10min", "§2.0.3"), ("5min", "§2.0.4")):
        assert r["tiers"][tier]["clause"].startswith(f"GB 50180-2018 {term} / Table 3.0.4")
    assert r["tiers"]["5min"]["value"] == 300 and r["tiers"]["5min"]["status"] != "unverified"


def _grid_streets(n=4, step=100.0):
    """Streets between the nodes of an (n+1) × (n+1) grid, one line per block side."""
    lines = []
    for i in range(n + 1):
        for j in range(n):
            lines.append(LineString([(i * step, j * step), (i * step, (j + 1) * step)]))
            lines.append(LineString([(j * step, i * step), ((j + 1) * step, i * step)]))
    return gpd.GeoDataFrame(geometry=lines, crs=CRS)


def test_area_facilities_are_reached_at_their_entrances_not_their_centre():
    """On a 100 m street grid (hand-computed):

    * a park (105..195 × 105..295) crossed by the street y = 200: its entrances are
      (105, 200) and (195, 200); home E (350, 210) walks 10 + 155 = 165 m to the
      east one, 210 m to the park's centre (150, 200), which lies on that street;
    * a fitness ground (110..190 × 130..170) no street touches: gates every 50 m
      along its outline from (110, 130) clockwise, (120, 170) the nearest to home W
      (90, 300): 10 + 130 + 20 = 160 m; its centre (150, 150) is 50 m from every
      side, 10 + 150 + 50 = 210 m either way.
    """
    park = box(105, 105, 195, 295)
    fitness = box(110, 130, 190, 170)
    layers = {
        "streets": _grid_streets(),
        "buildings": gpd.GeoDataFrame(
            {"id": ["E", "W"], "use": "residential", "population": [10.0, 20.0]},
            geometry=[_square(350, 210, 4), _square(90, 300, 4)], crs=CRS),
        "facilities": gpd.GeoDataFrame(
            {"id": ["P", "F"], "category": ["park", "outdoor_fitness"]},
            geometry=[park, fitness], crs=CRS),
    }
    r = _rules({"park": ["10min"], "outdoor_fitness": ["5min"]})
    o = lc.run(layers, rules=r, isochrones="none")["lc_origins"].set_index("building_id")
    assert o.loc["E", "dist_park_m"] == pytest.approx(165)
    assert o.loc["W", "dist_outdoor_fitness_m"] == pytest.approx(160)
    # the same facilities as one interior point each: farther, as the issue found
    as_points = dict(layers, facilities=layers["facilities"].set_geometry(
        [Point(150, 200), Point(150, 150)], crs=CRS))
    p = lc.run(as_points, rules=r, isochrones="none")["lc_origins"].set_index("building_id")
    assert p.loc["E", "dist_park_m"] == pytest.approx(210)
    assert p.loc["W", "dist_outdoor_fitness_m"] == pytest.approx(210)
    # the entrances the distances were measured to
    acc = lc.access_points(layers["facilities"], layers["streets"], spacing=50)
    got = sorted((i, a, round(g.x), round(g.y)) for i, a, g in zip(acc.index, acc["access"], acc.geometry))
    assert got == sorted([(0, "path", 105, 200), (0, "path", 195, 200),
                          (1, "virtual", 110, 130), (1, "virtual", 120, 170),
                          (1, "virtual", 170, 170), (1, "virtual", 190, 140),
                          (1, "virtual", 150, 130)])


def test_area_facility_isochrones_are_one_outline_per_facility_and_tier():
    layers = {
        "streets": _grid_streets(),
        "buildings": gpd.GeoDataFrame({"id": ["E"], "use": "residential", "population": [1.0]},
                                      geometry=[_square(350, 210, 4)], crs=CRS),
        "facilities": gpd.GeoDataFrame({"id": ["P"], "category": ["park"]},
                                       geometry=[box(105, 105, 195, 295)], crs=CRS),
    }
    iso = lc.run(layers, rules=_rules({"park": ["10min"]}), isochrones="facility")["lc_isochrones"]
    assert iso[["facility_id", "tier"]].values.tolist() == [["P", "10min"], ["P", "15min"]]
    # 500 m from (105, 200) and (195, 200) reaches the grid's west end (x = 0) and east end
    minx, _, maxx, _ = iso.geometry.iloc[0].bounds
    assert minx < 0 and maxx > 400
    assert iso["homes"].tolist() == [1, 1]  # home E, 165 m away, counted once per tier
    # split by nearest facility: still one area, whatever entrance is nearer
    split = lc.run(layers, rules=_rules({"park": ["10min"]}), isochrones="split")["lc_isochrones"]
    assert split[["facility_id", "tier"]].values.tolist() == [["P", "10min"], ["P", "15min"]]
    assert split["homes"].tolist() == [1, 1]
    dis = lc.run(layers, rules=_rules({"park": ["10min"]}), isochrones="dissolved")["lc_isochrones"]
    assert dis["facilities"].tolist() == [1, 1]  # one park, not its two entrances
    for a, b in zip(split.geometry, dis.geometry):
        assert a.symmetric_difference(b).area < 1e-6 * b.area


def test_facility_isochrones_of_some_facilities_only():
    """``isochrone_facilities`` draws those facilities' polygons, the same as when every
    facility is drawn (the others still split the streets): a partitioned run draws
    each partition's own facilities so."""
    layers = {
        "streets": _grid_streets(),
        "buildings": gpd.GeoDataFrame({"id": ["E"], "use": "residential", "population": [1.0]},
                                      geometry=[_square(350, 210, 4)], crs=CRS),
        "facilities": gpd.GeoDataFrame(
            {"id": ["P", "A", "B"], "category": ["park", "supermarket", "supermarket"]},
            geometry=[box(105, 105, 195, 295), Point(250, 95), Point(400, 330)], crs=CRS,
            index=[7, 8, 9]),
    }
    r = _rules({"park": ["10min"], "supermarket": ["5min"]})
    every = lc.run(layers, rules=r, isochrones="facility")["lc_isochrones"]
    some = lc.run(layers, rules=r, isochrones="facility", isochrone_facilities=[7, 9])["lc_isochrones"]
    assert sorted(set(every["facility_id"])) == ["A", "B", "P"]
    assert sorted(set(some["facility_id"])) == ["B", "P"]
    kept = every[every["facility_id"] != "A"].reset_index(drop=True)
    assert some[["facility_id", "tier", "homes"]].equals(kept[["facility_id", "tier", "homes"]])
    assert shapely.equals_exact(some.geometry.to_numpy(), kept.geometry.to_numpy(), 0).all()


def test_the_old_culture_category_is_read_and_shown_as_its_successor(small, caplog):
    """`culture` (文化活动室, before the standard's two cultural facilities were told
    apart) is read as culture_station, and labelled so in stored results."""
    from gcgeo import layers as gl
    from gcgeo.labels import format_value

    old = dict(small, facilities=small["facilities"].assign(category=["culture", "park"]))
    new = dict(small, facilities=small["facilities"].assign(category=["culture_station", "park"]))
    r = _rules({"culture_station": ["5min"], "park": ["10min"]})
    with caplog.at_level(logging.WARNING):
        got = lc.run(old, rules=r, isochrones="none")["lc_origins"]
    want = lc.run(new, rules=r, isochrones="none")["lc_origins"]
    np.testing.assert_allclose(got["dist_culture_station_m"], [115, 615, 775])  # as the shop's
    pd.testing.assert_series_equal(got["dist_culture_station_m"], want["dist_culture_station_m"])
    assert "renamed" in caplog.text
    assert format_value("culture", "category", "zh") == "文化活动站"
    fixed, _ = gl.coerce_columns(pd.DataFrame({"category": ["culture", "Culture"]}), "facilities")
    assert fixed["category"].tolist() == ["culture_station"] * 2  # as `gcgeo add` reads it


def _gap_rows(gaps: pd.DataFrame, key: str = "origin_id") -> list[tuple]:
    """The stored gaps (a row per home, ``missing_<tier>`` JSON lists) as (home, category, tier)."""
    import json

    tiers = [c for c in gaps.columns if c.startswith("missing_")]
    return sorted((h, c, t[len("missing_"):]) for t in tiers
                  for h, listed in zip(gaps[key], gaps[t]) if isinstance(listed, str)
                  for c in json.loads(listed))


def test_gaps_are_a_table_keyed_by_home(small):
    """lc_gaps holds no geometry: one row per home lacking a category at some tier, the home
    named by ``origin_id`` (its point is in lc_origins), the categories each tier lacks listed;
    they are those the distances in lc_origins give against each tier's distance, worked out
    here apart from the analysis."""
    r = _rules({"supermarket": ["5min"], "park": ["10min"]})
    out = lc.run(small, rules=r, isochrones="none")
    g, o = out["lc_gaps"], out["lc_origins"]
    assert not isinstance(g, gpd.GeoDataFrame) and "geometry" not in g.columns
    assert list(g.columns) == ["origin_id", "building_id", "community_id", "n_missing",
                               "missing_5min", "missing_10min", "missing_15min"]
    tier_m = {"5min": 300.0, "10min": 500.0, "15min": 1000.0}
    need = {"5min": ["supermarket"], "10min": ["supermarket", "park"],
            "15min": ["supermarket", "park"]}
    expected = sorted((int(h), c, t) for h, row in o.set_index("origin_id").iterrows()
                      for t, cats in need.items() for c in cats
                      if not row[f"dist_{c}_m"] <= tier_m[t])
    assert expected and _gap_rows(g) == expected
    # one row per home with a gap, each counting the categories it lacks at any tier
    lacking = {h: len({c for hh, c, _ in expected if hh == h}) for h, _, _ in expected}
    assert dict(zip(g["origin_id"].astype(int), g["n_missing"])) == lacking
    assert g["origin_id"].is_unique and g["origin_id"].is_monotonic_increasing
    # the key finds the home, one to one: the building each row names is the one lc_origins gives
    joined = g.merge(o[["origin_id", "building_id"]], on="origin_id", suffixes=("", "_home"),
                     validate="one_to_one")
    assert len(joined) == len(g) and (joined["building_id"] == joined["building_id_home"]).all()


def test_a_misspelt_category_is_refused_not_left_out(small, tmp_path):
    """A facility of no living-circle category (a misspelling, or a rules file's category
    without the file) would lower the shares served if left out: the living circle, the
    supply analysis and the what-if's state refuse it, naming the row, the value and the
    fix; the command exits 2 with that message and leaves the workspace as it was."""
    from click.testing import CliRunner

    from gcgeo import InputError, pipeline
    from gcgeo import workspace as ws
    from gcgeo.analysis import supply
    from gcgeo.cli import main
    from gcgeo.planning import state as st

    bad = small["facilities"].assign(id=["s", "typo"], category=["supermarket", "supermaket"])
    layers = {**small, "facilities": bad}
    msg = "row typo ('supermaket') is no living-circle category"
    with pytest.raises(InputError, match=re.escape(msg)):
        lc.run(layers)
    with pytest.raises(InputError, match=re.escape(msg)):
        supply.run(layers)
    with pytest.raises(InputError, match=re.escape(msg)):
        st.load_state(layers)
    # "other" (a POI without a living-circle type) is a category: kept out of the tiers, quietly;
    # so is one a rules file adds, given with it; and rules naming fewer categories leave the
    # facilities of gcgeo's others out of the tiers as before
    fine = lc.run({**small, "facilities": bad.assign(category=["supermarket", "other"])})
    assert len(fine["lc_origins"]) == 3
    library = bad.assign(category=["supermarket", "library"])
    with pytest.raises(InputError, match=re.escape("row typo ('library')")):
        lc.run({**small, "facilities": library})
    added = _rules({"supermarket": ["5min"], "library": ["15min"]})
    added["categories"]["library"].update(label_zh="图书室", label_en="Library")
    got = lc.run({**small, "facilities": library}, rules=added)["lc_categories"].set_index("category")
    assert got.loc["library", "facilities"] == 1
    assert lc.run(small, rules=_rules({"supermarket": ["5min"]}))["lc_categories"]["category"].tolist() \
        == ["supermarket"]  # (the park, a category of gcgeo's, not asked for)
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")  # (the working CRS chosen from the layers)
    ws.write_layers(path, layers, kind={k: k for k in layers})
    before = path.read_bytes()
    res = CliRunner().invoke(main, ["analyze", str(path), "living-circle"])
    assert res.exit_code == 2, res.output
    assert msg in " ".join(res.output.split()) and "Traceback" not in res.output
    assert "--rules" in res.output and path.read_bytes() == before
    assert pipeline.last_run(path, "living_circle") is None


def test_the_command_says_what_it_wrote_and_how_isochrones_are_had(small, tmp_path):
    from click.testing import CliRunner

    from gcgeo import workspace as ws
    from gcgeo.cli import main

    path = tmp_path / "w.gpkg"
    ws.init(path, name="w")
    ws.write_layers(path, small, kind={k: k for k in small})
    res = CliRunner().invoke(main, ["analyze", str(path), "living-circle"])
    text = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "lc_origins (3 rows)" in text and "lc_communities (1 row)" in text
    assert "lc_isochrones (none: drawn on request with --isochrones community (per community)" in text
    res = CliRunner().invoke(main, ["analyze", str(path), "living-circle", "--isochrones", "community"])
    n = len(ws.read_layer(path, "lc_isochrones"))
    assert res.exit_code == 0 and n > 0
    assert f"lc_isochrones ({n} rows)" in " ".join(res.output.split())
