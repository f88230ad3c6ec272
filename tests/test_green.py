"""Green coverage per community (gcgeo.analysis.green) on hand-built layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from geopandas.testing import assert_geodataframe_equal
from rasterio.transform import from_origin
from shapely.geometry import LineString, Polygon, box

import gcgeo
from gcgeo import rules
from gcgeo.analysis import green

CRS = "EPSG:4547"  # CGCS2000 3° zone, 114°E (metres)
DATA = Path(__file__).parent / "data"


def gdf(rows: list[dict], geoms, crs=CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=list(geoms), crs=crs)


# --- green ratio, overlaps and clipping -------------------------------------------

def test_green_ratio_counts_overlaps_once_and_clips_to_the_community():
    comm = gdf([{"name": "A"}, {"name": "B"}], [box(0, 0, 100, 100), box(100, 0, 200, 100)])
    g = gdf(
        [{"kind": "grass"}] * 4,
        [
            box(-50, 0, 50, 50),     # half outside A (2500 inside)
            box(0, 0, 50, 50),       # wholly inside the first: adds nothing
            box(60, 60, 80, 80),     # 400 inside A
            box(90, 90, 110, 100),   # crosses A|B: 100 in each
        ],
    )
    out = green.green_ratio(comm, g)
    assert out.loc[0, "green_area_m2"] == pytest.approx(2500 + 400 + 100)
    assert out.loc[0, "green_ratio"] == pytest.approx(3000 / 10000)
    assert out.loc[1, "green_area_m2"] == pytest.approx(100)
    assert list(out.columns) == ["green_area_m2", "green_ratio"]


def test_green_ratio_without_green_is_zero_and_index_kept():
    comm = gdf([{"name": "A"}], [box(0, 0, 10, 10)])
    comm.index = ["c-7"]
    g = gdf([{"kind": "park"}], [box(50, 50, 60, 60)])
    out = green.green_ratio(comm, g)
    assert list(out.index) == ["c-7"]
    assert out.loc["c-7", "green_area_m2"] == 0.0 and out.loc["c-7", "green_ratio"] == 0.0


# --- width test --------------------------------------------------------------------

def test_wide_parts_negative_buffer():
    shapes = gpd.GeoSeries(
        [
            box(0, 0, 5, 80),                                   # 5 m strip: fails
            box(0, 0, 20, 30),                                  # 20 × 30: kept whole
            box(0, 0, 8, 50),                                   # exactly 8 m: passes
            box(0, 0, 20, 20).union(box(20, 8, 50, 12)),        # square with a 4 m tail
            Polygon([(0, 0), (40, 0), (40, 40), (20, 40), (20, 20), (0, 20)]),  # L, arms 20 m
        ],
        crs=CRS,
    )
    kept = green.wide_parts(shapes, min_width=8)
    assert kept.iloc[0] is None
    assert kept.iloc[1].area == pytest.approx(600, abs=1e-6)
    assert kept.iloc[2].area == pytest.approx(400, abs=1e-3)
    # the tail is cut off; only a sliver at its root (< 2 m into it) stays,
    # where an 8 m disc still fits against the square's reflex corners
    assert 400 <= kept.iloc[3].area < 405
    assert kept.iloc[3].intersection(box(22, 0, 50, 20)).area == 0.0
    assert kept.iloc[4].area == pytest.approx(40 * 20 + 20 * 20, abs=1e-6)


def test_concentrated_green_unions_adjacent_strips_and_excludes_attached():
    comm = gdf([{"name": "A"}], [box(0, 0, 200, 200)])
    g = gdf(
        [{"kind": "grass"}, {"kind": "grass"}, {"kind": "attached"}, {"kind": "garden"}],
        [
            box(10, 10, 15, 60), box(15, 10, 20, 60),  # two 5 m strips side by side = 10 m
            box(100, 100, 140, 140),                   # attached green: never concentrated
            box(195, 50, 215, 90),                     # 20 m wide but only 5 m inside
        ],
    )
    conc = green.concentrated_green(comm, g, min_width=8, exclude_kinds=["attached"])
    assert conc.iloc[0].area == pytest.approx(10 * 50, abs=1e-6)
    conc_all = green.concentrated_green(comm, g, min_width=8)
    assert conc_all.iloc[0].area == pytest.approx(500 + 1600, abs=1e-6)


# --- public green, per person, pass/fail -------------------------------------------

def test_is_public_uses_column_then_kind():
    g = gdf(
        [{"kind": "park", "public": False}, {"kind": "attached", "public": True},
         {"kind": "park", "public": None}, {"kind": "attached", "public": None}],
        [box(0, 0, 1, 1)] * 4,
    )
    assert green.is_public(g, public_kinds=["park"]).tolist() == [False, True, True, False]
    assert green.is_public(g.drop(columns="public"), public_kinds=["park"]).tolist() == \
        [True, False, True, False]


def test_per_person_reasons():
    area = pd.Series([100.0, 100.0, 100.0, 100.0])
    v, why = green.per_person(area, pd.Series([50, None, 0, 200]))
    assert v.iloc[0] == 2.0 and v.iloc[3] == 0.5
    assert np.isnan(v.iloc[1]) and np.isnan(v.iloc[2])
    assert why.tolist() == ["", "population missing", "population is 0", ""]
    v, why = green.per_person(area, None)
    assert v.isna().all() and (why == "no population column").all()


def _communities_for_run():
    return gdf(
        [
            {"name": "new", "population": 1000, "old_estate": False},
            {"name": "old", "population": 1000, "old_estate": True},
            {"name": "nopop", "population": None, "old_estate": False},
        ],
        [box(0, 0, 100, 100), box(200, 0, 300, 100), box(400, 0, 500, 100)],
    )


def _green_for_run():
    return gdf(
        [
            {"kind": "pocket_park", "public": True},   # new: 20 × 24 = 480 m² (0.48/person)
            {"kind": "grass", "public": False},        # new: private lawn 20 × 30
            {"kind": "garden", "public": True},        # old: 20 × 20 = 400 m² (0.40/person)
            {"kind": "attached", "public": True},      # old: 5 m strip, 5 × 50 = 250 m²
            {"kind": "park", "public": True},          # nopop
        ],
        [
            box(10, 10, 30, 34), box(50, 50, 70, 80),
            box(210, 10, 230, 30), box(250, 10, 255, 60),
            box(410, 10, 450, 50),
        ],
    )


def test_run_vector_metrics_and_pass_fail():
    comm = _communities_for_run()
    g = _green_for_run()
    before = (comm.copy(), g.copy())
    out = green.run({"communities": comm, "green_space": g})
    assert comm.equals(before[0]) and g.equals(before[1])
    gc = out["green_communities"]
    assert list(gc.index) == list(comm.index)
    assert gc["name"].tolist() == ["new", "old", "nopop"]
    np.testing.assert_allclose(gc["green_area_m2"], [480 + 600, 400 + 250, 1600])
    np.testing.assert_allclose(gc["green_ratio"], [0.108, 0.065, 0.16])
    assert gc["green_ratio_req"].tolist() == [0.30, 0.25, 0.30]
    assert gc["green_ratio_pass"].tolist() == [False, False, False]
    np.testing.assert_allclose(gc["public_green_m2"], [480, 650, 1600])
    assert gc.loc[0, "public_green_per_person_m2"] == pytest.approx(0.48)
    assert gc.loc[1, "public_green_per_person_m2"] == pytest.approx(0.65)
    assert np.isnan(gc.loc[2, "public_green_per_person_m2"])
    assert gc["population_reason"].tolist() == ["", "", "population missing"]
    # 10-minute tier 1.0 m²/person, old estates 70 % of it
    assert gc["public_green_req_10min"].tolist() == pytest.approx([1.0, 0.7, 1.0])
    assert gc["public_green_pass_10min"].tolist()[:2] == [False, False]
    assert pd.isna(gc["public_green_pass_10min"].iloc[2])
    # concentrated green: new 480 + 600 (lawn is not attached) → 1.08 ≥ 0.50;
    # old: 400 (the 5 m attached strip neither wide nor counted) → 0.40 ≥ 0.35
    np.testing.assert_allclose(gc["concentrated_green_m2"][:2], [1080, 400], atol=1e-6)
    assert gc["concentrated_req_m2pp"].tolist() == [0.50, 0.35, 0.50]
    assert gc["concentrated_pass"].tolist()[:2] == [True, True]
    assert pd.isna(gc["concentrated_pass"].iloc[2])
    # no streets / buildings: documented NaN with the reason
    share_cols = [c for c in gc.columns if c.startswith("share_within_")]
    assert share_cols == ["share_within_300m_green", "share_within_500m_park"]
    assert gc[share_cols].isna().all().all()
    assert gc["service_reason"].str.contains("no streets layer").all()
    assert "green_ndvi_sensitivity" not in out
    summ = green.summary(out)
    assert len(summ) == 3 and "share_within_500m_park" in summ.columns


def test_rules_override_changes_requirements():
    comm = _communities_for_run()
    g = _green_for_run()
    r = {"concentrated": {"per_person": 1.2}, "old_area_factor": 0.5}
    gc = green.run({"communities": comm, "green_space": g}, rules=r)["green_communities"]
    assert gc.loc[0, "concentrated_pass"] == False  # noqa: E712  (1.08 < 1.2)
    assert gc.loc[1, "public_green_req_15min"] == pytest.approx(1.0)


def test_rules_override_from_a_file(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text("[green.green_ratio.new]\nvalue = 0.10\n", encoding="utf-8")
    gc = green.run({"communities": _communities_for_run(), "green_space": _green_for_run()},
                   rules=f)["green_communities"]
    assert gc["green_ratio_pass"].tolist() == [True, False, True]


def test_missing_population_column_and_missing_layers():
    comm = _communities_for_run().drop(columns="population")
    gc = green.run({"communities": comm, "green_space": _green_for_run()})["green_communities"]
    assert gc["public_green_per_person_m2"].isna().all()
    assert (gc["population_reason"] == "no population column").all()
    with pytest.raises(gcgeo.AnalysisError, match="'green_space' layer.*gcgeo add"):
        green.run({"communities": comm})
    with pytest.raises(gcgeo.AnalysisError, match="'communities' layer"):
        green.run({"green_space": _green_for_run()})
    with pytest.raises(gcgeo.AnalysisError, match="neither a 'kind' nor a 'public'"):
        green.run({"communities": comm, "green_space": _green_for_run()[["geometry"]]})


# --- parks and entrances -------------------------------------------------------------

def test_green_sites_merge_and_park_test():
    g = gdf(
        [{"kind": "park"}, {"kind": "grass"}, {"kind": "park"}, {"kind": "park"},
         {"kind": "attached"}],
        [
            box(0, 0, 100, 80), box(100, 0, 130, 80),  # touch → one site 130 × 80, a park
            box(300, 0, 500, 40),                       # 8000 m² < 1 ha
            box(0, 300, 300, 340),                      # 12000 m² but 40 m wide < 50 m
            box(600, 0, 800, 100),                      # big but attached → not public
        ],
    )
    s = green.green_sites(g, public_kinds=["park", "grass"], park_kinds=["park"],
                          park_min_area=10_000, park_min_width=50)
    s = s.sort_values("area_m2").reset_index(drop=True)
    assert s["area_m2"].tolist() == pytest.approx([8000, 10400, 12000])
    assert s["is_park"].tolist() == [False, True, False]
    assert s["n_polygons"].tolist() == [1, 2, 1]
    assert s.loc[1, "kinds"] == "grass,park"
    assert s["members"].tolist() == ["2", "0,1", "3"]


def test_entrances_where_streets_cross_or_run_along():
    park = gdf([{"kind": "park"}], [box(0, 0, 100, 60)])
    park.index = [7]
    streets = gdf(
        [{"walkable": True}, {"walkable": True}, {"walkable": False}],
        [
            LineString([(50, -20), (50, 30)]),          # enters through the south side
            LineString([(-10, 60), (120, 60)]),         # runs along the north side
            LineString([(-20, 30), (20, 30)]),          # not walkable: no gate on the west
        ],
    )
    e = green.park_entrances(park, streets, spacing=40)
    assert set(e["entrance"]) == {"path"} and set(e["site"]) == {7}
    got = sorted((round(p.x, 6), round(p.y, 6)) for p in e.geometry)
    # crossing at (50, 0); the shared north side from x=100 to 0 (or 0 to 100)
    # every 40 m plus its far end
    north = {(100.0, 60.0), (60.0, 60.0), (20.0, 60.0), (0.0, 60.0)} | \
        {(0.0, 60.0), (40.0, 60.0), (80.0, 60.0), (100.0, 60.0)}
    assert (50.0, 0.0) in got
    assert set(got) - {(50.0, 0.0)} <= north
    assert len(got) == 5


def test_virtual_gates_every_spacing_along_the_boundary():
    park = gdf([{"kind": "park"}], [box(0, 0, 100, 50)])
    e = green.park_entrances(park, None, spacing=50)
    assert (e["entrance"] == "virtual").all()
    assert len(e) == 6  # perimeter 300 m / 50 m
    # consecutive gates 50 m apart along the ring, all on the boundary
    ring = park.geometry.iloc[0].exterior
    pos = sorted(ring.project(p) for p in e.geometry)
    np.testing.assert_allclose(np.diff(pos), 50.0)
    assert all(ring.distance(p) < 1e-9 for p in e.geometry)


# --- service radius on a street grid ----------------------------------------------------

def grid_streets(step=200, n=3, extra=()):
    """Square grid of lines every ``step`` m, 0 … n·step, split at every crossing."""
    lines = []
    for k in range(n + 1):
        for i in range(n):
            lines.append(LineString([(i * step, k * step), ((i + 1) * step, k * step)]))
            lines.append(LineString([(k * step, i * step), (k * step, (i + 1) * step)]))
    lines.extend(extra)
    return gdf([{"kind": "residential", "walkable": True}] * len(lines), lines)


def _service_layers():
    # The y = 400 street between x = 400 and 600 is split at x = 500, where a
    # path leads north into the park through its south side at (500, 420).
    base = grid_streets()
    keep = [not (g.equals(LineString([(400, 400), (600, 400)]))) for g in base.geometry]
    extra = [LineString([(400, 400), (500, 400)]), LineString([(500, 400), (600, 400)]),
             LineString([(500, 400), (500, 450)])]
    streets = pd.concat([base[keep], gdf([{"kind": "path", "walkable": True}] * 3, extra)],
                        ignore_index=True)
    green_space = gdf(
        [{"kind": "park", "public": True}, {"kind": "pocket_park", "public": True}],
        [box(420, 420, 580, 580),   # 2.56 ha park, entrance (500, 420)
         box(0, 40, 30, 80)],       # small green along the x = 0 street: (0,40), (0,80)
    )

    def house(x, y):
        return box(x - 2, y - 2, x + 2, y + 2)

    buildings = gdf(
        [{"use": "residential", "population": p, "floors": f}
         for p, f in ((100, 1), (200, 2), (300, 3), (400, 4))],
        [house(100, 10), house(500, 380), house(300, 210), house(590, 588)],
    )
    communities = gdf(
        [{"name": "A", "population": 400}, {"name": "B", "population": 600}],
        [box(0, 0, 350, 350), box(350, 0, 700, 700)],
    )
    return {"communities": communities, "green_space": green_space, "streets": streets,
            "buildings": buildings}


def test_service_shares_on_a_hand_computed_grid():
    """Hand-computed network distances (connector + along the streets):

    b1 (100,10) pop 100: green 10+100+40 = 150 ✓; park 10+800+20 = 830 ✗
    b2 (500,380) pop 200: park (and green: parks are public green) 20+20 = 40 ✓ ✓
    b3 (300,210) pop 300: park 10+100+200+100+20 = 430 ✓; green: the small one
    10+100+200+160 = 470, the park 430, both ✗
    b4 (590,588) pop 400: park 10+188+100+20 = 318 ✓; green 318 > 300 ✗
    A holds b1, b3; B holds b2, b4.
    """
    layers = _service_layers()
    out = green.run(layers)
    gc = out["green_communities"]
    assert gc.loc[0, "share_within_300m_green"] == pytest.approx(100 / 400)
    assert gc.loc[0, "share_within_500m_park"] == pytest.approx(300 / 400)
    assert gc.loc[1, "share_within_300m_green"] == pytest.approx(200 / 600)
    assert gc.loc[1, "share_within_500m_park"] == pytest.approx(1.0)
    assert gc["service_weight_basis"].tolist() == ["given"] * 2
    assert gc["n_origins"].tolist() == [2, 2]
    assert gc["service_reason"].tolist() == ["", ""]
    o = out["green_origins"].set_index("building")
    assert o["dist_green_m"].tolist()[:2] == pytest.approx([150, 40])
    assert o["dist_green_m"].tolist()[2:] == pytest.approx([430, 318])
    assert o["dist_park_m"].tolist()[1:] == pytest.approx([40, 430, 318])
    assert np.isnan(o["dist_park_m"].iloc[0])  # 830 m: beyond the 500 m cutoff
    assert o["community"].tolist() == ["#0", "#1", "#0", "#1"]  # no id column: the row, marked as one
    assert o["weight"].tolist() == [100, 200, 300, 400]
    assert o["served_300m_green"].tolist() == [True, True, False, False]
    e = out["green_entrances"]
    park_e = e[e["is_park"]]
    assert [(p.x, p.y) for p in park_e.geometry] == [(500.0, 420.0)]
    assert sorted((p.x, p.y) for p in e[~e["is_park"]].geometry) == [(0.0, 40.0), (0.0, 80.0)]
    assert (e["entrance"] == "path").all()
    s = out["green_sites"]
    assert s["is_park"].sum() == 1

    # 318 m reaches b4 once the green radius is 330 m; the column name follows
    gc = green.run(layers, rules={"service": {"green_radius": 330}})["green_communities"]
    assert gc.loc[1, "share_within_330m_green"] == pytest.approx(1.0)


def test_service_weights_without_building_population():
    layers = _service_layers()
    b = layers["buildings"].drop(columns="population")
    gc = green.run({**layers, "buildings": b})["green_communities"]
    # floor area = 16 m² × floors: A = b1 (1) + b3 (3); B = b2 (2) + b4 (4)
    assert gc.loc[0, "share_within_300m_green"] == pytest.approx(1 / 4)
    assert gc.loc[1, "share_within_300m_green"] == pytest.approx(2 / 6)
    assert gc["service_weight_basis"].tolist() == ["community by floor area"] * 2
    gc = green.run({**layers, "buildings": b.drop(columns="floors")})["green_communities"]
    assert gc.loc[0, "share_within_300m_green"] == pytest.approx(0.5)
    assert gc.loc[0, "service_weight_basis"] == "community by floor area"  # floors unknown: 1
    pts = b.copy()
    pts.geometry = pts.geometry.centroid
    gc = green.run({**layers, "buildings": pts})["green_communities"]
    assert gc.loc[0, "service_weight_basis"] == "community, equal shares"


def test_off_network_buildings_count_as_not_served_and_virtual_gates_used():
    """Without its path the park gets 13 virtual gates (perimeter 640 m, one every
    50 m clockwise from (420, 420)), each 20 m from a street.  Then b2 → gate
    (510, 420): 20 + 10 + 20 = 50 m; b4 → gate (580, 550): 10 + 38 + 20 = 68 m
    (now within 300 m too); b3 → gate (420, 420): 10 + 100 + 220 + 20 = 350 m;
    b1 → gate (420, 420): 10 + 300 + 420 + 20 = 750 m.  A building of community C,
    ~570 m from any street, is off the network and counts as not served; one
    outside every community is ignored."""
    layers = _service_layers()
    far = gdf([{"use": "residential", "population": 600, "floors": 1}],
              [box(1000, 1000, 1004, 1004)])
    stray = gdf([{"use": "residential", "population": 50, "floors": 1}],
                [box(-500, 100, -496, 104)])
    comm = pd.concat([layers["communities"],
                      gdf([{"name": "C", "population": 600}], [box(900, 900, 1100, 1100)])],
                     ignore_index=True)
    b = pd.concat([layers["buildings"], far, stray], ignore_index=True)
    path = LineString([(500, 400), (500, 450)])
    streets = layers["streets"][~layers["streets"].geometry.apply(lambda g: g.equals(path))]
    out = green.run({**layers, "communities": comm, "buildings": b, "streets": streets})
    gc = out["green_communities"]
    assert gc["n_origins"].tolist() == [2, 2, 1]
    assert gc["n_origins_off_network"].tolist() == [0, 0, 1]
    assert gc.loc[2, "share_within_500m_park"] == 0.0
    assert gc["share_within_500m_park"].tolist()[:2] == pytest.approx([0.75, 1.0])
    assert gc["share_within_300m_green"].tolist()[:2] == pytest.approx([0.25, 1.0])
    o = out["green_origins"]
    assert o["dist_park_m"].tolist()[1:4] == pytest.approx([50, 350, 68])
    assert np.isnan(o["dist_park_m"].iloc[0])  # 750 m
    assert o["off_network"].tolist() == [False] * 4 + [True]
    e = out["green_entrances"]
    park_e = e[e["is_park"]]
    assert (park_e["entrance"] == "virtual").all() and len(park_e) == 13
    got = {(round(p.x, 6), round(p.y, 6)) for p in park_e.geometry}
    assert {(420.0, 420.0), (420.0, 470.0), (510.0, 420.0), (560.0, 580.0),
            (580.0, 550.0)} <= got


def test_outputs_write_to_geopackage(tmp_path):
    out = green.run(_service_layers())
    path = tmp_path / "ws.gpkg"
    for name, frame in out.items():
        assert all(len(c) <= 60 for c in frame.columns)
        if isinstance(frame, gpd.GeoDataFrame):
            assert frame.geometry.geom_type.nunique() <= 1, name
            pyogrio.write_dataframe(frame, path, layer=name)
    back = pyogrio.read_dataframe(path, layer="green_communities")
    assert back["share_within_500m_park"].tolist() == pytest.approx([0.75, 1.0])
    assert back["public_green_pass_10min"].notna().all()


# --- with a raster ---------------------------------------------------------------------

def test_run_with_raster_gives_ndvi_columns_and_sensitivity(tmp_path):
    comm = gdf([{"name": "a", "population": 10}, {"name": "b", "population": 10}],
               [box(0, -20, 20, 0), box(20, -20, 40, 0)])
    g = gdf([{"kind": "park", "public": True}], [box(0, -20, 5, 0)])
    # 4 × 2 cells of 10 m: NDVI 0.1, 0.25, 0.45, 0.6 across each row
    red = np.array([[45, 30, 11, 20]] * 2, dtype="uint8")
    nir = np.array([[55, 50, 29, 80]] * 2, dtype="uint8")
    path = tmp_path / "img.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=2, count=2, dtype="uint8",
                       crs=CRS, transform=from_origin(0, 0, 10, 10)) as ds:
        ds.write(red, 1)
        ds.write(nir, 2)
    out = green.run({"communities": comm, "green_space": g}, raster=path, red=1, nir=2)
    gc = out["green_communities"]
    assert gc["ndvi_mean"].tolist() == pytest.approx([(0.1 + 0.25) / 2, (0.45 + 0.6) / 2])
    assert gc["veg_fraction"].tolist() == pytest.approx([0.0, 1.0])  # default 0.3
    assert (gc["ndvi_threshold"] == rules.value(rules.load("green"), "ndvi.threshold")).all()
    sens = out["green_ndvi_sensitivity"]
    assert not isinstance(sens, gpd.GeoDataFrame)
    assert sorted(sens["threshold"].unique()) == [0.2, 0.3, 0.4, 0.5]
    got = sens.set_index(["name", "threshold"])["veg_fraction"]
    assert got[("a", 0.2)] == pytest.approx(0.5) and got[("b", 0.5)] == pytest.approx(0.5)
    assert got[("b", 0.4)] == pytest.approx(1.0) and got[("a", 0.4)] == 0.0
    out = green.run({"communities": comm, "green_space": g}, raster=path, red=1, nir=2,
                    ndvi_threshold=0.5)
    gc = out["green_communities"]
    assert gc["veg_fraction"].tolist() == pytest.approx([0.0, 0.5])
    assert 0.5 in set(out["green_ndvi_sensitivity"]["threshold"])
    assert "veg_fraction" in green.summary(out).columns


def test_run_with_bad_raster_band(tmp_path):
    comm = gdf([{"name": "a", "population": 10}], [box(0, -20, 20, 0)])
    g = gdf([{"kind": "park"}], [box(0, -20, 5, 0)])
    path = tmp_path / "img.tif"
    with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=2, dtype="uint8",
                       crs=CRS, transform=from_origin(0, 0, 10, 10)) as ds:
        ds.write(np.ones((2, 2, 2), dtype="uint8"))
    with pytest.raises(gcgeo.InputError, match="NIR band 4 does not exist.*img.tif"):
        green.run({"communities": comm, "green_space": g}, raster=path, red=1, nir=4)


def test_olinda_tracts_run_with_landsat():
    """Real data end to end: 470 tracts, population V014, NDVI from Landsat 7."""
    tracts = gpd.read_file(DATA / "vector" / "olinda_tracts" / "olinda1.shp")
    tracts = tracts.rename(columns={"V014": "population"}).to_crs("EPSG:31985")
    no_green = gdf([{"kind": "park"}], [box(0, 0, 1, 1)], crs="EPSG:31985")
    out = green.run({"communities": tracts, "green_space": no_green},
                    raster=DATA / "raster" / "olinda_landsat7.tif", red=3, nir=4)
    gc = out["green_communities"]
    assert len(gc) == 470 and gc["veg_fraction"].notna().all()
    assert len(out["green_ndvi_sensitivity"]) == 470 * 4
    # fractions fall as the threshold rises
    wide = out["green_ndvi_sensitivity"].pivot(index="community", columns="threshold",
                                               values="veg_fraction")
    assert (wide.diff(axis=1).iloc[:, 1:] <= 1e-12).all().all()


# --- the synthetic county: answers known by construction ---------------------------

def test_synthetic_county_areas_match_the_truth():
    from gcgeo.testing import synthetic_county

    county = synthetic_county(seed=3)
    truth = pd.DataFrame(county.truth["communities"]).T
    out = green.run(county.layers)
    gc = out["green_communities"].set_index("id")
    assert len(gc) == len(truth)
    np.testing.assert_allclose(gc["green_area_m2"],
                               truth.loc[gc.index, "green_area_m2"].astype(float))
    np.testing.assert_allclose(gc["green_ratio"], truth.loc[gc.index, "green_ratio"].astype(float))
    np.testing.assert_allclose(gc["public_green_m2"],
                               truth.loc[gc.index, "public_green_area_m2"].astype(float))
    # the county's only narrow green is a 6 m attached strip: concentrated = the wide green
    np.testing.assert_allclose(gc["concentrated_green_m2"],
                               truth.loc[gc.index, "green_area_ge_8m_m2"].astype(float), atol=1e-6)
    pop = truth.loc[gc.index, "population"].astype(float)
    np.testing.assert_allclose(gc["public_green_per_person_m2"],
                               truth.loc[gc.index, "public_green_area_m2"].astype(float) / pop)
    t = county.truth["green"]
    assert (gc["service_reason"] == "").all()
    assert gc["n_origins"].tolist() == truth.loc[gc.index, "n_residential"].tolist()
    sites = out["green_sites"]
    members = ",".join(sites["members"]).split(",")
    private, public = t["overlapping_pair"]  # a private lawn overlapped by a public garden
    assert private not in members and public in members
    assert len(members) == len(set(members))


def test_geographic_communities_are_projected_first():
    # near the zone's central meridian (114°E), where the zone's scale error is tiny
    comm, g = _communities_for_run(), _green_for_run()
    comm.geometry = comm.geometry.translate(500_000, 4_000_000)
    g.geometry = g.geometry.translate(500_000, 4_000_000)
    a = green.run({"communities": comm, "green_space": g})["green_communities"]
    b = green.run({"communities": comm.to_crs("EPSG:4326"),
                   "green_space": g.to_crs("EPSG:4490")})["green_communities"]
    np.testing.assert_allclose(b["green_area_m2"], a["green_area_m2"], rtol=1e-4)
    assert b.crs.is_projected


# --- parks by tier and their sports grounds (GB 50180-2018 §4.0.4) -----------------

def test_park_tier_is_the_largest_tier_whose_size_and_width_the_park_meets():
    g = gdf([{"kind": "park"}, {"kind": "park"}, {"kind": "garden"}, {"kind": "park"},
             {"kind": "square"}, {"kind": "pocket_park"}],
            [box(0, 0, 250, 250),          # 6.25 hm², 250 m wide: 15-minute
             box(1000, 0, 1100, 100),      # 1.0 hm², 100 m wide: 10-minute
             box(2000, 0, 2070, 70),       # 0.49 hm², 70 m: 5-minute
             box(3000, 0, 3400, 40),       # 1.6 hm² but 40 m wide: 5-minute only
             box(4000, 0, 4300, 300),      # a square: no park kind
             box(5000, 0, 5200, 25)])      # 0.5 hm², 25 m wide: none
    out = green.run({"communities": gdf([{"name": "A"}], [box(-10, -10, 5300, 400)]),
                     "green_space": g.assign(public=True)})
    sites = out["green_sites"].sort_values("area_m2", ascending=False)
    by_area = dict(zip(sites["area_m2"].round(), sites["park_tier"]))
    assert by_area == {62500: "15min", 90000: "", 16000: "5min", 10000: "10min", 4900: "5min",
                       5000: ""}
    # is_park (500 m to a park) keeps to the 10-minute rule
    assert dict(zip(sites["area_m2"].round(), sites["is_park"])) == {
        62500: True, 90000: False, 16000: False, 10000: True, 4900: False, 5000: False}
    # the tiers follow their rules
    r = {"green": {"park": {"tier_15min": {"min_area": {"value": 70000.0}}}}}
    sites = green.run({"communities": gdf([{"name": "A"}], [box(-10, -10, 5300, 400)]),
                       "green_space": g.assign(public=True)}, rules=r)["green_sites"]
    assert sites.loc[sites["area_m2"].round() == 62500, "park_tier"].item() == "10min"


def test_sports_share_of_a_park_counts_its_sports_grounds_inside_it():
    park = box(0, 0, 100, 100)                            # 1 hm²
    g = gdf([{"kind": "park"}, {"kind": "sports"}, {"kind": "sports"}, {"kind": "park"},
             {"kind": "sports"}, {"kind": "garden"}],
            [park,
             box(10, 10, 40, 40),                         # 900 m² inside
             box(90, 50, 110, 60),                        # 100 of its 200 m² inside
             box(1000, 0, 1100, 100),                     # a park with no sports ground
             box(500, 500, 560, 560),                     # a pitch in no park
             box(2000, 0, 2100, 100)])                    # 1 hm² garden, 500 m² sports:
    g = pd.concat([g, gdf([{"kind": "sports"}], [box(2000, 0, 2050, 10)])], ignore_index=True)
    comm = gdf([{"name": "A"}], [box(-10, -10, 2200, 600)])
    out = green.run({"communities": comm, "green_space": g})
    sites = out["green_sites"].set_index(out["green_sites"]["geometry"].bounds["minx"].round())
    assert sites.loc[0, "sports_m2"] == pytest.approx(1000.0)
    assert sites.loc[0, "sports_share"] == pytest.approx(0.10)
    assert sites.loc[0, "sports_share_pass"] == True  # noqa: E712  (10–15%, ends included)
    assert sites.loc[1000, "sports_share"] == 0.0 and sites.loc[1000, "sports_share_pass"] == False  # noqa: E712
    assert sites.loc[2000, "sports_share"] == pytest.approx(0.05)
    assert sites.loc[2000, "sports_share_pass"] == False  # noqa: E712
    # sports grounds are not green of their own: the pitch in no park adds nothing
    gc = out["green_communities"].iloc[0]
    assert gc["green_area_m2"] == pytest.approx(3 * 10000)  # nor the half outside the park
    assert len(sites) == 3  # the pitch is no site either
    # 15% passes, 16% does not
    more = pd.concat([g, gdf([{"kind": "sports"}], [box(50, 60, 100, 70)])], ignore_index=True)
    s = green.run({"communities": comm, "green_space": more})["green_sites"]
    first = s[s.geometry.bounds["minx"].round() == 0].iloc[0]
    assert first["sports_share"] == pytest.approx(0.15) and first["sports_share_pass"] == True  # noqa: E712


def test_sports_share_is_unknown_where_no_sports_ground_is_mapped():
    g = gdf([{"kind": "park"}, {"kind": "pocket_park"}], [box(0, 0, 100, 100), box(200, 0, 210, 10)])
    out = green.run({"communities": gdf([{"name": "A"}], [box(-10, -10, 300, 200)]),
                     "green_space": g})["green_sites"]
    park = out[out["park_tier"] != ""].iloc[0]
    assert np.isnan(park["sports_share"]) and pd.isna(park["sports_share_pass"])
    assert park["sports_reason"].startswith("no sports grounds in the green_space layer")
    small = out[out["park_tier"] == ""].iloc[0]
    assert pd.isna(small["sports_share_pass"]) and small["sports_reason"] == ""


def test_synthetic_county_parks_are_of_the_tier_their_drawn_side_gives():
    from gcgeo.testing import synthetic_county

    county = synthetic_county(3)
    gs = county.layers["green_space"]
    out = green.run(county.layers)["green_sites"]
    tier_of = {}
    for gid in county.truth["green"]["park_ids"]:
        row = gs[gs["id"] == gid].iloc[0]
        side = np.sqrt(row.geometry.area)  # a square of side 120–180 m
        expected = "" if row["kind"] not in ("park", "community_park", "garden", "pocket_park") \
            else "15min" if side ** 2 >= 50000 and side >= 80 else \
            "10min" if side ** 2 >= 10000 and side >= 50 else "5min"
        tier_of[gid] = expected
    for _, site in out.iterrows():
        members = site["members"].split(",")
        parks = [m for m in members if m in tier_of]
        if len(parks) == 1 and len(members) == 1:
            assert site["park_tier"] == tier_of[parks[0]], site["members"]
    assert set(tier_of.values()) >= {"", "10min"}  # squares are no park kind


def test_service_homes_entrances_and_distances_are_the_runs_own():
    """The public steps of the service radius (which a partitioned run calls on
    parts of the layers) give what the run reports: homes in a community only,
    the counted sites' entrances, and the hand-computed distances above."""
    layers = _service_layers()
    stray = gdf([{"use": "residential", "population": 50, "floors": 1}],
                [box(-500, 100, -496, 104)])
    b = pd.concat([layers["buildings"], stray], ignore_index=True)
    home = green.service_homes(layers["communities"], b)
    assert home.index.tolist() == [0, 1, 2, 3]  # the stray building is in no community
    assert home["community_pos"].tolist() == [0, 1, 0, 1]
    out = green.run({**layers, "buildings": b})
    e = green.site_entrances(out["green_sites"], layers["streets"], spacing=50)
    assert_geodataframe_equal(e, out["green_entrances"])
    shares, origins = green.service_distances(
        layers["communities"], b, layers["streets"], out["green_sites"], e,
        green_radius=300, park_radius=500, snap_tolerance=150)
    assert origins["dist_green_m"].tolist() == pytest.approx([150, 40, 430, 318])
    assert shares["share_within_500m_park"].tolist() == pytest.approx([300 / 400, 1.0])
    assert_geodataframe_equal(origins, out["green_origins"])
