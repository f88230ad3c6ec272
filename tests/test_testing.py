"""The synthetic county: valid layers, inside Gaotang, and truth re-derived independently."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Transformer

from gcgeo import InputError, OutputExistsError, crs, layers
from gcgeo.testing import BLOCK_M, SyntheticCounty, synthetic_county

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def county() -> SyntheticCounty:
    return synthetic_county(seed=7)


@pytest.fixture(scope="module")
def counties() -> list[SyntheticCounty]:
    return [synthetic_county(seed=s, n_communities=n) for s, n in ((0, 6), (3, 2), (11, 5))]


def _xy(geom: shapely.Geometry) -> tuple[float, float]:
    return (round(geom.x, 6), round(geom.y, 6))


# --- layers ------------------------------------------------------------------


def test_every_layer_validates_against_its_spec(counties):
    for c in counties:
        assert set(c.layers) == set(layers.KINDS)
        for kind, frame in c.layers.items():
            assert len(frame) > 0, kind
            rep = layers.validate(frame, kind, study_area=c.boundary)
            assert rep.ok, str(rep)
            assert not rep.warnings, str(rep)
            assert frame.crs.equals(c.crs)
            for col in layers.get_spec(kind).required:
                assert frame[col].notna().all(), (kind, col)


def test_ids_are_unique_across_all_layers(counties):
    for c in counties:
        ids = pd.concat([f["id"] for f in c.layers.values()], ignore_index=True)
        assert ids.notna().all()
        assert not ids.duplicated().any(), ids[ids.duplicated()].tolist()


def test_working_crs_is_the_cgcs2000_zone_of_gaotang(county):
    assert county.crs.to_epsg() == 4548
    assert county.truth["crs"] == "EPSG:4548"


def test_boundary_is_the_real_gaotang_county(county):
    # an independent read of the test-data copy, projected by geopandas
    ref = gpd.read_file(DATA / "vector" / "gaotang_county.geojson").to_crs(4548)
    ref_geom = ref.geometry.union_all()
    assert county.boundary.area == pytest.approx(ref_geom.area, rel=1e-9)
    assert county.boundary.symmetric_difference(ref_geom).area < 1.0
    assert 900e6 < county.boundary.area < 1000e6  # Gaotang: about 950 km²


def test_every_feature_lies_inside_the_county(counties):
    for c in counties:
        for kind, frame in c.layers.items():
            inside = frame.geometry.within(c.boundary)
            assert inside.all(), (kind, frame.loc[~inside, "id"].tolist())


def test_layers_write_to_a_geopackage(county, tmp_path):
    path = tmp_path / "ws.gpkg"
    for kind, frame in county.layers.items():
        pyogrio.write_dataframe(frame, path, layer=kind, driver="GPKG")
    for kind, frame in county.layers.items():
        back = pyogrio.read_dataframe(path, layer=kind)
        assert len(back) == len(frame)
        assert back["id"].tolist() == frame["id"].tolist()


# --- seeding and speed ---------------------------------------------------------


def test_same_seed_gives_identical_output():
    a, b = synthetic_county(seed=5), synthetic_county(seed=5)
    for kind in a.layers:
        assert_geodataframe_equal(a.layers[kind], b.layers[kind])
        assert a.layers[kind].geometry.to_wkb().tolist() == b.layers[kind].geometry.to_wkb().tolist()
    assert a.truth == b.truth
    assert a.origin == b.origin


def test_different_seeds_differ():
    a, b = synthetic_county(seed=1), synthetic_county(seed=2)
    differing = [k for k in a.layers if not a.layers[k].equals(b.layers[k])]
    assert len(differing) >= 10
    assert a.truth != b.truth


@pytest.mark.parametrize("kwargs", [{"n_communities": 1}, {"n_communities": 17},
                                    {"n_communities": 2.5}, {"n_homes": 0},
                                    {"n_communities": 2, "n_homes": 17}])
def test_bad_arguments_raise_input_error(kwargs):
    with pytest.raises(InputError):
        synthetic_county(**kwargs)


# --- communities, buildings, green ------------------------------------------------


def test_community_population_is_the_sum_of_its_buildings(counties):
    for c in counties:
        com = c.layers["communities"].set_index("id")
        b = c.layers["buildings"]
        cent = b.set_geometry(b.geometry.centroid)
        inside = {cid: cent.geometry.within(poly) for cid, poly in com.geometry.items()}
        assert (sum(m.astype(int) for m in inside.values()) == 1).all()  # one community each
        pop = {cid: b.loc[m, "population"].sum() for cid, m in inside.items()}
        for cid, t in c.truth["communities"].items():
            assert com.loc[cid, "population"] == t["population"] == pytest.approx(pop[cid])
            assert com.loc[cid, "households"] == t["households"]
            assert com.loc[cid, "geometry"].area == pytest.approx(t["area_m2"])
            assert com.loc[cid, "name"].endswith("社区")
        res = b[b["residential"]]
        assert (res["population"] > 0).all()
        assert (b.loc[~b["residential"], "population"] == 0).all()


def test_green_area_clipped_and_deoverlapped_matches_shapely(counties):
    for c in counties:
        g = c.layers["green_space"]
        com = c.layers["communities"].set_index("id")
        union_all = shapely.union_all(g.geometry.values)
        union_pub = shapely.union_all(g.loc[g["public"], "geometry"].values)
        short = g.geometry.apply(_short_side)
        union_wide = shapely.union_all(g.loc[short >= 8.0, "geometry"].values)
        for cid, t in c.truth["communities"].items():
            poly = com.loc[cid, "geometry"]
            assert t["green_area_m2"] == pytest.approx(union_all.intersection(poly).area, abs=1e-6)
            assert t["public_green_area_m2"] == pytest.approx(
                union_pub.intersection(poly).area, abs=1e-6)
            assert t["green_area_ge_8m_m2"] == pytest.approx(
                union_wide.intersection(poly).area, abs=1e-6)
            assert t["green_ratio"] == pytest.approx(t["green_area_m2"] / poly.area)
        # clipping and de-overlapping both matter: the naive sum differs
        naive = sum(g.geometry.area)
        assert naive > sum(t["green_area_m2"] for t in c.truth["communities"].values())


def _short_side(geom: shapely.Geometry) -> float:
    rect = shapely.oriented_envelope(geom)
    xy = np.asarray(rect.exterior.coords)
    sides = np.hypot(*np.diff(xy, axis=0).T)
    return float(sides.min())


def test_green_special_cases(counties):
    for c in counties:
        g = c.layers["green_space"].set_index("id")
        tg = c.truth["green"]
        a, b = tg["overlapping_pair"]
        assert g.loc[a, "geometry"].intersection(g.loc[b, "geometry"]).area == pytest.approx(
            tg["overlap_area_m2"])
        assert tg["overlap_area_m2"] > 0
        # no other pair overlaps
        geoms = g.geometry
        overlaps = {(i, j) for i in g.index for j in g.index
                    if i < j and geoms[i].intersection(geoms[j]).area > 0}
        assert overlaps == {tuple(sorted((a, b)))}
        # the crossing polygon is split between two communities
        com = c.layers["communities"].set_index("id")
        parts = {cid: g.loc[tg["crossing_id"], "geometry"].intersection(p).area
                 for cid, p in com.geometry.items()}
        parts = {k: v for k, v in parts.items() if v > 0}
        assert parts == pytest.approx(tg["crossing_parts_m2"])
        assert len(parts) == 2
        # thin strips are exactly those under 8 m wide
        short = g.geometry.apply(_short_side)
        assert sorted(short[short < 8.0].index) == sorted(tg["thin_ids"])
        assert short[tg["thin_ids"][0]] == pytest.approx(tg["thin_width_m"])
        assert tg["thin_width_m"] < 8.0
        assert {"park", "pocket_park"} <= set(g["kind"])


# --- streets and living circle --------------------------------------------------------


def _walk_graph(streets: gpd.GeoDataFrame) -> tuple[nx.Graph, dict[tuple[float, float], int]]:
    G = nx.Graph()
    where: dict[int, tuple[float, float]] = {}
    for row in streets.itertuples():
        a, b = row.geometry.coords[0], row.geometry.coords[-1]
        for n, p in ((row.u, a), (row.v, b)):
            p = (round(p[0], 6), round(p[1], 6))
            assert where.setdefault(int(n), p) == p, f"node {n} has two positions"
        if row.walkable:
            G.add_edge(int(row.u), int(row.v), length=row.geometry.length)
    return G, {p: n for n, p in where.items()}


def test_street_grid_is_regular(county):
    s = county.layers["streets"]
    grid = s[s["kind"].isin(["secondary", "residential"])]
    assert np.allclose(grid.length, BLOCK_M)
    t = county.truth["grid"]
    assert len(grid) == t["nx"] * (t["ny"] + 1) + t["ny"] * (t["nx"] + 1)
    assert set(s["kind"]) >= {"footway", "motorway"}
    assert not s.loc[s["kind"] == "motorway", "walkable"].any()


def test_home_distances_match_networkx_on_the_street_grid(counties):
    for c in counties:
        G, node_at = _walk_graph(c.layers["streets"])
        fac = c.layers["facilities"]
        b = c.layers["buildings"].set_index("id")
        assert c.truth["homes"]
        for bid, h in c.truth["homes"].items():
            # the home's graph node is its centroid
            assert node_at[_xy(b.loc[bid, "geometry"].centroid)] == h["node"]
            dist = nx.single_source_dijkstra_path_length(G, h["node"], weight="length")
            for cat, group in fac.groupby("category"):
                nodes = [node_at[_xy(p)] for p in group.geometry]  # facilities sit on nodes
                d = [dist[n] for n in nodes]
                assert h["dist_m"][cat] == pytest.approx(min(d), abs=1e-6), (bid, cat)
                near = sorted(group["id"].iloc[k] for k in range(len(d))
                              if abs(d[k] - min(d)) < 1e-6)
                assert sorted(h["nearest"][cat]) == near
                # distances are the access path plus whole blocks
                blocks = (h["dist_m"][cat] - h["access_m"]) / BLOCK_M
                assert blocks == pytest.approx(round(blocks))
            assert set(h["dist_m"]) == set(fac["category"])


def test_the_expressway_would_shorten_paths_if_walked(county):
    """Guards the point of the non-walkable expressway: it is a real shortcut."""
    s = county.layers["streets"]
    t = county.truth["grid"]
    G, _ = _walk_graph(s)
    G_all, _ = _walk_graph(s.assign(walkable=True))
    far = t["ny"] * (t["nx"] + 1) + t["nx"]
    assert nx.shortest_path_length(G, 0, far, weight="length") == pytest.approx(
        (t["nx"] + t["ny"]) * BLOCK_M)
    assert nx.shortest_path_length(G_all, 0, far, weight="length") < (
        t["nx"] + t["ny"]) * BLOCK_M


# --- fire lanes ------------------------------------------------------------------------


def test_fire_lane_clear_width_height_and_dead_ends(counties):
    for c in counties:
        fl = c.layers["fire_lanes"]
        lanes = fl[fl.geometry.geom_type == "LineString"].set_index("id")
        turns = fl[fl.geometry.geom_type == "Polygon"].set_index("id")
        obs = c.layers["obstructions"].set_index("id")
        streets = shapely.union_all(c.layers["streets"].geometry.values)
        truth = c.truth["fire_lanes"]
        assert set(truth) == set(lanes.index)
        on_lane: set[str] = set()
        for lid, lane in lanes.iterrows():
            line = lane.geometry
            body = line.buffer(lane["width_m"] / 2, cap_style="flat")
            (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
            ux, uy = (x1 - x0) / line.length, (y1 - y0) / line.length
            # encroachment: how far each obstruction reaches across the lane
            taken = 0.0
            height = lane["clear_height_m"]
            for oid, o in obs.iterrows():
                part = o.geometry.intersection(body)
                if part.is_empty or part.area == 0:
                    continue
                on_lane.add(oid)
                if o["kind"] == "overhead":
                    height = min(height, o["height_m"])
                    continue
                across = [(px - x0) * -uy + (py - y0) * ux for px, py in part.exterior.coords]
                taken += max(across) - min(across)
            t = truth[lid]
            assert t["clear_width_m"] == pytest.approx(lane["width_m"] - taken)
            assert t["clear_height_m"] == pytest.approx(height)
            # a dead end: an end point touching no street
            ends = [shapely.Point(line.coords[0]), shapely.Point(line.coords[-1])]
            dead = any(e.distance(streets) > 1.0 for e in ends)
            assert dead == bool(lane["dead_end"]) == t["dead_end"]
            if dead:
                end = next(e for e in ends if e.distance(streets) > 1.0)
                hit = turns[turns.geometry.contains(end)]
                if t["turnaround_id"] is None:
                    assert hit.empty
                else:
                    assert hit.index.tolist() == [t["turnaround_id"]]
                    side = _short_side(hit.geometry.iloc[0])
                    assert side == pytest.approx(t["turnaround_m"])
                    assert t["turnaround_passes_12x12"] == (side >= 12.0)
        assert sorted(on_lane) == sorted(o for t in truth.values() for o in t["obstructions"])
        assert sorted(set(obs.index) - on_lane) == sorted(c.truth["obstructions_off_lane"])
        # the cases the analyses must meet
        ob = truth[c.truth["obstructed_lane"]]
        assert (ob["width_m"], ob["clear_width_m"]) == (4.5, pytest.approx(3.0))
        assert truth[c.truth["narrow_lane"]]["width_m"] < 4.0
        dead = {lid: truth[lid] for lid in c.truth["dead_end_lanes"]}
        assert sorted(t["turnaround_passes_12x12"] for t in dead.values()) == [False, False, True]
        assert sum(t["turnaround_id"] is None for t in dead.values()) == 1
        assert any(t["clear_height_m"] < 4.0 for t in truth.values())


# --- points --------------------------------------------------------------------------


def test_counts_of_chargers_parking_manholes_ramps(counties):
    for c in counties:
        ch = c.layers["chargers"]
        counts = ch["kind"].value_counts()
        assert counts["car"] == c.truth["chargers"]["car"] > 0
        assert counts["e-bike"] == c.truth["chargers"]["e-bike"] > 0
        assert ch["sockets"].sum() == c.truth["chargers"]["sockets"]
        p = c.layers["parking"]
        assert p["capacity"].sum() == c.truth["parking"]["capacity"]
        assert p["ev_ready"].sum() == c.truth["parking"]["ev_ready"]
        # car chargers stand inside car parks
        car = ch[ch["kind"] == "car"]
        assert car.geometry.within(p.geometry.union_all()).all()
        mh = c.layers["manholes"]
        assert len(mh) == c.truth["manholes"]
        missing = mh.loc[mh["manager"].isna(), "id"].tolist()
        assert missing == c.truth["manholes_without_manager"]
        assert 0 < len(missing) < len(mh)
        assert mh.loc[mh["manager"].isna(), "contact"].isna().all()
        r = c.layers["ramps"]
        assert r.loc[r["slope"] > 1 / 12, "id"].tolist() == c.truth["ramps_steeper_than_1_12"]
        assert r.loc[(r["kind"] == "full_width") & (r["slope"] > 1 / 20), "id"].tolist() == \
            c.truth["ramps_full_width_steeper_than_1_20"]
        assert r.loc[r["lip_mm"] > 10, "id"].tolist() == c.truth["ramps_lip_over_10mm"]
        assert r.loc[r["width_m"] < 1.2, "id"].tolist() == c.truth["ramps_narrower_than_1_2m"]
        assert c.truth["ramps_steeper_than_1_12"]
        assert (r["slope"] <= 1 / 12).any()
        assert len(c.layers["garbage_points"]) == c.truth["garbage_points"] == sum(
            t["garbage_points"] for t in c.truth["communities"].values())
        fac = c.layers["facilities"]
        assert fac["category"].value_counts().to_dict() == c.truth["facilities"]


def test_old_tree_protection_zone(counties):
    for c in counties:
        h = c.layers["heritage"]
        b = c.layers["buildings"]
        for _, item in h.iterrows():
            t = c.truth["heritage"][item["id"]]
            assert item["protection_radius_m"] == t["radius_m"]
            d = b.geometry.distance(item.geometry)
            assert sorted(b.loc[d < t["radius_m"], "id"]) == t["intruding_buildings"]
            assert t["intruding_buildings"]


# --- planner-style input files --------------------------------------------------------


@pytest.fixture(scope="module")
def written(county, tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    return county.write_inputs(folder)


def _to_zone(lon, lat):
    t = Transformer.from_crs(4326, 4548, always_xy=True)
    return t.transform(np.asarray(lon), np.asarray(lat))


def test_shapefile_is_gbk_with_chinese_columns(county, written):
    shp = written["communities_shp"]
    assert shp.with_suffix(".cpg").read_text().strip() == "GBK"
    assert not written["communities_nocpg_shp"].with_suffix(".cpg").exists()
    com = county.layers["communities"]
    back = pyogrio.read_dataframe(shp)
    assert list(back.columns[:7]) == ["编号", "名称", "街道", "人口", "户数", "老旧小区", "物业管理"]
    assert back["名称"].tolist() == com["name"].tolist()
    assert back["人口"].tolist() == com["population"].tolist()
    assert back["老旧小区"].tolist() == ["是" if v else "否" for v in com["old_estate"]]
    assert back.crs.to_epsg() == 4548
    assert back.geometry.geom_equals(com.geometry).all()
    # the bytes on disk are GBK
    dbf = shp.with_suffix(".dbf").read_bytes()
    assert com["name"].iloc[0].encode("gbk") in dbf
    # without .cpg the names come back only when the encoding is given
    nocpg = written["communities_nocpg_shp"]
    assert pyogrio.read_dataframe(nocpg, encoding="GBK")["名称"].tolist() == com["name"].tolist()
    assert "名称" not in pyogrio.read_dataframe(nocpg).columns


def test_gcj02_csv_round_trips_within_a_centimetre(county, written):
    df = pd.read_csv(written["facilities_csv"], encoding="utf-8-sig")
    assert list(df.columns) == ["编号", "名称", "类别", "lon", "lat"]
    fac = county.layers["facilities"].set_index("id").loc[df["编号"]]
    x, y = _to_zone(*crs.gcj02_to_wgs84(df["lon"], df["lat"]))
    err = np.hypot(x - fac.geometry.x.to_numpy(), y - fac.geometry.y.to_numpy())
    assert err.max() <= 0.01
    # the file really is shifted: read as WGS-84 it is off by more than 100 m
    rx, ry = _to_zone(df["lon"], df["lat"])
    assert np.hypot(rx - fac.geometry.x.to_numpy(), ry - fac.geometry.y.to_numpy()).min() > 100
    assert "幼儿园" in set(df["类别"])


def test_bd09_csv_round_trips_within_a_centimetre(county, written):
    df = pd.read_csv(written["chargers_csv"])
    ch = county.layers["chargers"].set_index("id").loc[df["编号"]]
    x, y = _to_zone(*crs.bd09_to_wgs84(df["lng"], df["lat"]))
    err = np.hypot(x - ch.geometry.x.to_numpy(), y - ch.geometry.y.to_numpy())
    assert err.max() <= 0.01
    rx, ry = _to_zone(df["lng"], df["lat"])
    assert np.hypot(rx - ch.geometry.x.to_numpy(), ry - ch.geometry.y.to_numpy()).min() > 500
    assert set(df["类型"]) == {"汽车", "电动自行车"}
    assert (df["插口数"].to_numpy() == ch["sockets"].to_numpy()).all()


def test_manholes_xlsx_in_the_cgcs2000_zone(county, written):
    df = pd.read_excel(written["manholes_xlsx"], sheet_name="窨井盖")
    assert {"编号", "管理人", "联系方式", "x", "y"} <= set(df.columns)
    mh = county.layers["manholes"].set_index("id").loc[df["编号"]]
    assert np.allclose(df["x"], mh.geometry.x) and np.allclose(df["y"], mh.geometry.y)
    assert df.loc[df["管理人"].isna(), "编号"].tolist() == county.truth["manholes_without_manager"]
    assert (df["x"] > 400_000).all() and (df["x"] < 600_000).all()  # plain, not zone-prefixed


def test_green_geojson_and_buildings_gpkg_round_trip(county, written):
    g = pyogrio.read_dataframe(written["green_geojson"])
    assert g.crs.to_epsg() == 4326
    ref = county.layers["green_space"].set_index("id").loc[g["id"]]
    back = g.to_crs(4548)
    err = [a.hausdorff_distance(b) for a, b in zip(back.geometry, ref.geometry)]
    assert max(err) <= 0.01
    b = pyogrio.read_dataframe(written["buildings_gpkg"], layer="buildings")
    assert b.crs.to_epsg() == 4490
    refb = county.layers["buildings"].set_index("id").loc[b["id"]]
    err = [x.hausdorff_distance(y) for x, y in zip(b.to_crs(4548).geometry, refb.geometry)]
    assert max(err) <= 0.01
    assert b["population"].sum() == pytest.approx(refb["population"].sum())


def test_write_inputs_keeps_existing_files(county, written):
    folder = written["facilities_csv"].parent
    with pytest.raises(OutputExistsError):
        county.write_inputs(folder)
    again = county.write_inputs(folder, overwrite=True, category_values="key")
    df = pd.read_csv(again["facilities_csv"], encoding="utf-8-sig")
    assert set(df["类别"]) <= set(layers.get_spec("facilities").column("category").allowed)
    with pytest.raises(InputError):
        county.write_inputs(folder, overwrite=True, category_values="en")
    county.write_inputs(folder, overwrite=True)  # leave the zh files for the other tests


def test_block_size_constant_is_used_by_the_layout(county):
    assert county.truth["block_m"] == BLOCK_M
    ox, oy = county.origin
    nodes = county.layers["facilities"].geometry
    assert all(math.isclose((p.x - ox) % BLOCK_M, 0, abs_tol=1e-6) for p in nodes)
    assert all(math.isclose((p.y - oy) % BLOCK_M, 0, abs_tol=1e-6) for p in nodes)
