"""Facility supply and choice: counts within reach and the two-step floating catchment,
checked against a hand-computed case and a brute force over networkx shortest paths."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from gcgeo import InputError, RulesError
from gcgeo import workspace as ws
from gcgeo.analysis import supply
from gcgeo.cli import main

CRS = "EPSG:4547"
#: the built-in reach of the two categories the tests use (living_circle.toml)
REACH = {"kindergarten": 300.0, "health": 1000.0}


def _points(xy, **cols):
    return gpd.GeoDataFrame(cols, geometry=shapely.points(xy), crs=CRS)


def _home(out, col, cat="kindergarten"):
    """Per home, column ``col`` ("choices" or "access_per_1000") of category ``cat``."""
    name = f"choices_{cat}" if col == "choices" else f"access_{cat}_per_1000"
    return out["supply_homes"][name].to_numpy()


# --------------------------------------------------------------------------
# a case computed by hand


def test_two_kindergartens_and_a_clinic_by_hand():
    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (600, 0)])], crs=CRS)
    fac = _points([(0, 0), (400, 10), (600, 0)], category=["kindergarten", "kindergarten", "health"],
                  places=[90, 30, None], doctors=[None, None, 4])
    homes = _points([(120, 20), (350, 0)], population=[1000.0, 2000.0])
    out = supply.run({"streets": streets, "facilities": fac}, origins=homes)
    # home 1: 120 + 20 m to the first kindergarten; 280 + 20 + 10 = 310 m > 300 to the second
    # home 2: 350 m > 300 to the first; 50 + 10 = 60 m to the second
    f = out["supply_facilities"]
    assert f["residents_in_reach"].tolist() == [1000.0, 2000.0, 3000.0]
    np.testing.assert_allclose(f["capacity_per_1000_reach"], [90.0, 15.0, 4 / 3])
    assert f["capacity_source"].tolist() == ["column:places", "column:places", "column:doctors"]
    assert _home(out, "choices").tolist() == [1, 1]
    np.testing.assert_allclose(_home(out, "access_per_1000"), [90.0, 15.0])
    np.testing.assert_allclose(_home(out, "access_per_1000", "health"), [4 / 3, 4 / 3])
    cat = out["supply_categories"].set_index("category")
    # the area's mean access: (1000 * 90 + 2000 * 15) / 3000 = 40 per 1000 >= the norm 15
    assert cat.loc["kindergarten", "access_per_1000"] == pytest.approx(40.0)
    assert cat.loc["kindergarten", "supply_per_1000"] == pytest.approx(120 / 3000 * 1000)
    assert cat.loc["kindergarten", "supply_norm_status"] == "pass"
    assert cat.loc["health", "supply_norm_status"] == "no norm"
    assert cat.loc["pharmacy", "capacity_source"] == "count"
    assert cat.loc["kindergarten", "share_one_choice"] == 1.0
    comm = out["supply_communities"]  # no communities: one row for the area
    assert comm["community_id"].tolist() == ["(all)"] and comm["status"].tolist() == ["pass"]


def test_a_park_is_reached_at_its_entrances_and_counted_once():
    # the street crosses the park (x 300..400) at two entrances; the park's tier is 500 m
    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1000, 0)])], crs=CRS)
    fac = gpd.GeoDataFrame({"category": ["park"]}, geometry=[shapely.box(300, -50, 400, 50)], crs=CRS)
    homes = _points([(0, 0), (880, 0), (950, 0)], population=[100.0, 200.0, 400.0])
    out = supply.run({"streets": streets, "facilities": fac}, origins=homes)
    # 300 m to the west entrance (and 400 m to the east one: still one park); 480 m to the
    # east entrance (530 m to the park's centre); 550 m: out of reach
    assert _home(out, "choices", "park").tolist() == [1, 1, 0]
    f = out["supply_facilities"]
    assert f["residents_in_reach"].tolist() == [300.0] and not f["off_network"].any()
    np.testing.assert_allclose(_home(out, "access_per_1000", "park"), [1000 / 300, 1000 / 300, 0.0])


def test_without_a_capacity_column_each_facility_counts_one_and_no_norm_is_compared():
    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (600, 0)])], crs=CRS)
    fac = _points([(0, 0), (100, 0)], category=["kindergarten"] * 2)
    out = supply.run({"streets": streets, "facilities": fac},
                     origins=_points([(50, 0)], population=[500.0]))
    assert _home(out, "choices").tolist() == [2]
    np.testing.assert_allclose(_home(out, "access_per_1000"), [4.0])  # 2 facilities / 500 residents
    cat = out["supply_categories"].set_index("category")
    assert cat.loc["kindergarten", "capacity_source"] == "count"
    assert cat.loc["kindergarten", "supply_norm_status"] == "unknown"
    assert out["supply_communities"]["status"].tolist() == ["unknown"]


# --------------------------------------------------------------------------
# brute force on random graphs


def _random_town(seed: int):
    """A jittered grid of streets (some removed), homes and facilities on its edges; the same
    town as a networkx graph with a node at every point, splitting its edge."""
    rng = np.random.default_rng(seed)
    n, step = 5, 150.0
    xy = {(i, j): (i * step + rng.uniform(-25, 25), j * step + rng.uniform(-25, 25))
          for i in range(n) for j in range(n)}
    edges = [((i, j), (i + di, j + dj)) for i in range(n) for j in range(n)
             for di, dj in ((1, 0), (0, 1)) if i + di < n and j + dj < n and rng.random() > 0.2]
    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([xy[a], xy[b]]) for a, b in edges], crs=CRS)
    on_edge: dict[int, list[tuple[float, tuple]]] = {k: [] for k in range(len(edges))}

    def place(kind, count):
        pts = []
        for k in range(count):
            e = int(rng.integers(len(edges)))
            t = 0.0 if (kind == "f" and k == 0) else float(rng.uniform(0.05, 0.95))
            (ax, ay), (bx, by) = xy[edges[e][0]], xy[edges[e][1]]
            on_edge[e].append((t, (kind, k)))
            pts.append((ax + t * (bx - ax), ay + t * (by - ay)))
        return pts

    hxy, fxy = place("h", 30), place("f", 10)
    G = nx.Graph()
    for e, (a, b) in enumerate(edges):
        length = float(np.hypot(xy[b][0] - xy[a][0], xy[b][1] - xy[a][1]))
        chain = [(0.0, a)] + sorted(on_edge[e]) + [(1.0, b)]
        for (t0, u), (t1, v) in zip(chain, chain[1:]):
            G.add_edge(u, v, length=(t1 - t0) * length)
    homes = _points(hxy, population=rng.integers(0, 100, len(hxy)).astype(float))
    cats = rng.choice(["kindergarten", "health"], len(fxy))
    fac = _points(fxy, category=cats, places=rng.integers(0, 200, len(fxy)).astype(float),
                  doctors=rng.integers(0, 6, len(fxy)).astype(float))
    return streets, homes, fac, G


def _brute_force(G, homes, fac):
    pop = homes["population"].to_numpy(float)
    out = {}
    for c, T in REACH.items():
        js = np.flatnonzero(fac["category"].to_numpy() == c)
        col = "places" if c == "kindergarten" else "doctors"
        within = {j: [i for i in range(len(homes))
                      if nx.has_path(G, ("f", j), ("h", i))
                      and nx.shortest_path_length(G, ("f", j), ("h", i), weight="length") <= T]
                  for j in js}
        ratio = {j: fac[col].iloc[j] / sum(pop[i] for i in within[j]) if sum(pop[i] for i in within[j]) > 0
                 else np.nan for j in js}
        choices = [sum(i in within[j] for j in js) for i in range(len(homes))]
        access = [sum(0.0 if np.isnan(ratio[j]) else ratio[j] for j in js if i in within[j])
                  for i in range(len(homes))]
        out[c] = (choices, access, {j: sum(pop[i] for i in within[j]) for j in js}, ratio)
    return out


@pytest.mark.parametrize("seed,forked", [(0, False), (1, False), (2, False), (3, False), (0, True),
                                         (3, True)])
def test_choices_and_catchment_equal_a_brute_force_over_networkx(seed, forked, monkeypatch):
    if forked:  # the categories shared with a forked child, as a city's are
        if not supply._procs.can_fork():
            pytest.skip("no forked child on this system")
        monkeypatch.setattr(supply, "PROCESS_MIN", 0)
    streets, homes, fac, G = _random_town(seed)
    out = supply.run({"streets": streets, "facilities": fac}, origins=homes, snap_tolerance=1.0)
    want = _brute_force(G, homes, fac)
    f = out["supply_facilities"]
    assert len(out["supply_homes"]) == len(homes)  # one row per home
    for c, (choices, access, demand, ratio) in want.items():
        assert _home(out, "choices", c).tolist() == choices, c
        np.testing.assert_allclose(_home(out, "access_per_1000", c), np.array(access) * 1000,
                                   rtol=1e-9, atol=1e-9)
        js = sorted(demand)
        np.testing.assert_allclose(f["residents_in_reach"].to_numpy()[js], [demand[j] for j in js])
        np.testing.assert_allclose(f["capacity_per_1000_reach"].to_numpy()[js],
                                   [ratio[j] * 1000 for j in js], rtol=1e-9)
        # residents x access gives back the capacity of the facilities with residents in reach
        pop = homes["population"].to_numpy(float)
        cap = fac["places" if c == "kindergarten" else "doctors"].to_numpy()
        served = [j for j in js if demand[j] > 0]
        assert (pop * _home(out, "access_per_1000", c)).sum() / 1000 == pytest.approx(cap[served].sum())


# --------------------------------------------------------------------------
# bad input


def _line_town(**fac_cols):
    streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (600, 0)])], crs=CRS)
    n = len(next(iter(fac_cols.values())))
    fac = _points([(50 * k, 0) for k in range(n)], **fac_cols)
    fac.index = [f"F{k + 1}" for k in range(n)]
    fac["id"] = fac.index
    return {"streets": streets, "facilities": fac}, _points([(10, 0)], population=[10.0])


def test_capacity_text_and_negative_numbers_name_the_column_and_rows():
    layers, homes = _line_town(category=["kindergarten"] * 3 + ["health"],
                               places=["120", "三十", "-5", None], doctors=[None, None, None, "2名"])
    with pytest.raises(InputError) as err:
        supply.run(layers, origins=homes)
    msg = str(err.value)
    assert "layer 'facilities'" in msg and "'places'" in msg and "'doctors'" in msg
    assert "row F2 ('三十')" in msg and "not a number" in msg
    assert "row F3 ('-5')" in msg and "negative" in msg
    assert "row F4 ('2名')" in msg  # every problem at once


def test_a_capacity_missing_for_some_facilities_of_a_category_is_named():
    layers, homes = _line_town(category=["kindergarten"] * 3, places=[120, None, 60])
    with pytest.raises(InputError, match=r"kindergarten: row F2 has no value"):
        supply.run(layers, origins=homes)


def test_an_unknown_category_names_the_row_and_the_fix():
    layers, homes = _line_town(category=["kindergarten", "kindergarden"])
    with pytest.raises(InputError, match=r"column 'category': row F2 \('kindergarden'\).*"
                                         r"living_circle.categories"):
        supply.run(layers, origins=homes)


def test_a_rule_for_an_unknown_category_is_a_rules_error():
    layers, homes = _line_town(category=["kindergarten"])
    with pytest.raises(RulesError, match="capacity.kindergarden"):
        supply.run(layers, origins=homes,
                   rules={"supply": {"capacity": {"kindergarden": {"column": "places"}}}})


# --------------------------------------------------------------------------
# through the command line


def test_gcgeo_analyze_supply_on_a_synthetic_county(tmp_path):
    from gcgeo.testing import synthetic_county

    county = synthetic_county(3, n_communities=4, n_homes=1)
    layers = dict(county.layers)
    fac = layers["facilities"].copy()
    kg = (fac["category"] == "kindergarten").to_numpy()
    fac["places"] = np.where(kg, 60.0 + 30 * np.arange(len(fac)), np.nan)
    layers["facilities"] = fac
    path = tmp_path / "w.gpkg"
    ws.init(path, name="w", crs=county.crs)
    ws.write_layers(path, layers, kind={k: k for k in layers}, source="synthetic")
    res = CliRunner().invoke(main, ["analyze", str(path), "supply", "--lang", "en"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    cat = ws.read_layer(path, "supply_categories").set_index("category")
    assert cat.loc["kindergarten", "capacity_source"] == "column:places"
    assert cat.loc["kindergarten", "capacity_total"] == pytest.approx(fac.loc[kg, "places"].sum())
    assert cat.loc["health", "capacity_source"] == "count"
    homes = ws.read_layer(path, "supply_homes")
    # one row per home (each residential building once), two columns per category
    assert homes["building_id"].is_unique and homes["origin_id"].tolist() == list(range(len(homes)))
    assert {c[len("choices_"):] for c in homes.columns if c.startswith("choices_")} == set(cat.index)
    assert {c[len("access_"):-len("_per_1000")] for c in homes.columns
            if c.startswith("access_")} == set(cat.index)
    cc = ws.read_layer(path, "supply_community_categories")
    comm = ws.read_layer(path, "supply_communities").set_index("community_id")
    # a community fails exactly where its kindergarten access falls below the norm 15 per 1000
    k = cc[cc["category"] == "kindergarten"].set_index("community_id")
    below = k["access_per_1000"] < 15
    assert (comm.loc[k.index, "supply_norm_status"] == np.where(below, "fail", "pass")).all()
    # the community mean is the residents-weighted mean of its homes
    mean = homes.groupby("community_id").apply(
        lambda g: (g["population"] * g["access_kindergarten_per_1000"]).sum() / g["population"].sum())
    np.testing.assert_allclose(k.loc[mean.index, "access_per_1000"], mean.to_numpy())


def test_the_report_table_and_the_map_view_exist():
    from gcgeo import maps

    desc = supply.ANALYSIS
    assert [o.name for o in desc.outputs if o.report_table] == ["supply_categories"]
    assert maps.VIEWS["supply"].requires == ("supply_communities", "supply_facilities")


def test_the_per_home_columns_are_labelled_by_category():
    from gcgeo.labels import column_format, column_label
    from gcgeo.names import category_label

    kg = category_label("kindergarten", "zh")
    assert column_label("choices_kindergarten", "zh") == f"步行可达{kg}数"
    assert column_label("access_kindergarten_per_1000", "zh").startswith(f"{kg}千人可及服务能力")
    assert column_label("choices_health", "en") == f"{category_label('health', 'en')} within reach (choices)"
    assert "_" not in column_label("access_bus_stop_per_1000", "en")
    assert column_format("choices_park") == "int" and column_format("access_park_per_1000") == "float"
