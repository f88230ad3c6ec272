"""Layer specs, column mapping, validation (every problem in one pass) and --fix."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gcgeo import LayerError, layers

DESIGN_KINDS = {"communities", "buildings", "green_space", "parking", "chargers", "manholes",
                "ramps", "streets", "fire_lanes", "obstructions", "facilities",
                "garbage_points", "heritage"}


def test_every_design_kind_has_a_spec_with_bilingual_labels():
    assert set(layers.KINDS) == DESIGN_KINDS
    for kind in layers.KINDS:
        spec = layers.get_spec(kind)
        assert spec.label_zh and spec.label_en
        assert set(spec.geometry) <= {"Point", "LineString", "Polygon"}
        for col in spec.all_columns:
            assert col.label_zh and col.label_en, (kind, col.name)
            # Chinese labels hold CJK characters
            assert any("\u4e00" <= ch <= "\u9fff" for ch in col.label_zh) or col.name.startswith("osm")


def test_spec_details_the_issue_names():
    assert layers.get_spec("chargers").column("kind").allowed == ("car", "e-bike")
    manholes = layers.get_spec("manholes")
    assert manholes.column("manager").label_zh == "管理人"
    assert manholes.has_column("contact")
    ramps = layers.get_spec("ramps")
    assert {"slope", "width_m", "lip_mm"} <= {c.name for c in ramps.all_columns}
    assert "kindergarten" in layers.get_spec("facilities").column("category").allowed
    with pytest.raises(LayerError, match="use one of"):
        layers.get_spec("trees")


def test_map_columns_chinese_and_explicit():
    df = gpd.GeoDataFrame({"名称": ["甲"], "管理人": ["王"], "电话": ["123"], "其他": [1]},
                          geometry=[shapely.Point(0, 0)], crs=4548)
    out, renames = layers.map_columns(df, "manholes", {"电话": "contact"})
    assert renames == {"电话": "contact", "名称": "name", "管理人": "manager"}
    assert list(out.columns) == ["name", "manager", "contact", "其他", "geometry"]
    assert list(df.columns)[:2] == ["名称", "管理人"]  # input untouched
    with pytest.raises(LayerError, match="no such column"):
        layers.map_columns(df, "manholes", {"手机": "contact"})
    with pytest.raises(LayerError, match="not a column"):
        layers.map_columns(df, "manholes", {"电话": "phone"})


def test_map_columns_reads_a_name_with_the_columns_own_unit_in_brackets():
    df = pd.DataFrame({"高度(米)": ["18"], "常住人口（人）": ["2808"], "户数(万户)": ["1"]})
    out, renames = layers.map_columns(df, "communities")
    assert renames == {"常住人口（人）": "population"}  # 户数 has no unit to check: not guessed
    out, renames = layers.map_columns(df, "buildings")  # (常住人口 is no name of a building's)
    assert renames == {"高度(米)": "height_m"}
    assert out["height_m"].tolist() == ["18"]
    # another unit is not taken for the column's own (centimetres are not metres)
    out, renames = layers.map_columns(pd.DataFrame({"高度(厘米)": [1800]}), "buildings")
    assert renames == {} and layers.unused_columns(out, "buildings") == ["高度(厘米)"]
    # a name without brackets wins over one with them, which is then left unused
    out, renames = layers.map_columns(pd.DataFrame({"高度(米)": [18.0], "高度": [20.0]}), "buildings")
    assert renames == {"高度": "height_m"} and layers.unused_columns(out, "buildings") == ["高度(米)"]


def test_unused_and_missing_columns_are_named_with_guesses():
    df = pd.DataFrame({"ID": ["B1"], "FID": [0], "建筑性质": ["商业"], "高度(米)": [12.0], "楼层数": [3],
                       "居住人数": [0]})
    out, _ = layers.map_columns(df, "buildings")
    typed, _ = layers.coerce_columns(out, "buildings")
    unused = layers.unused_columns(typed, "buildings")
    assert unused == ["建筑性质", "楼层数", "居住人数"]  # FID: a source id, kept to trace rows
    missing = layers.missing_columns(typed, "buildings")
    assert [c.name for c in missing] == ["use", "residential", "floors", "population", "households",
                                         "property_managed"]
    assert layers.guess_columns(unused, missing) == {"建筑性质": "use", "楼层数": "floors"}


def test_coerce_reads_chinese_booleans_and_keeps_bad_text():
    df = pd.DataFrame({"old_estate": ["是", "否", "maybe", None], "population": ["12", "x", "3.5", ""]})
    out, bad = layers.coerce_columns(df, "communities")
    assert out["old_estate"].tolist()[:2] == [True, False]
    assert pd.isna(out["old_estate"].iloc[2])
    assert bad["old_estate"].tolist() == [False, False, True, False]
    assert bad["population"].tolist() == [False, True, True, False]  # 3.5 is no integer
    assert out["population_raw"].iloc[1] == "x"


def _bad_layer() -> gpd.GeoDataFrame:
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    square = shapely.box(0, 0, 10, 10)
    geoms = [square, bowtie, shapely.Point(1, 1), shapely.Polygon(), square.buffer(0).union(
        shapely.box(20, 20, 30, 30)), shapely.box(90_000, 0, 90_010, 10)]
    return gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d", "a", "f"],
         "kind": ["park", "park", "park", "lake", "grass", "park"]},
        geometry=geoms, crs=4548)


def test_validate_reports_every_problem_at_once():
    gdf = _bad_layer()
    rep = layers.validate(gdf, "green_space", study_area=shapely.box(0, 0, 100, 100))
    got = {(p.id, p.column, p.severity) for p in rep.problems}
    assert ("b", "geometry", "error") in got  # self-intersection
    assert ("c", "geometry", "error") in got  # point in a polygon layer
    assert ("d", "geometry", "error") in got  # empty
    assert ("d", "kind", "error") in got  # 'lake' not allowed
    assert ("a", "id", "error") in got  # duplicate id
    assert ("f", "geometry", "warning") in got  # 90 km away
    # rows are the frame's index (a workspace layer's fid), the id beside them
    rows = {(p.row, p.id) for p in rep.problems}
    assert {("1", "b"), ("2", "c"), ("3", "d"), ("5", "f"), ("0, 4", "a")} <= rows
    assert not rep.ok
    assert "Self-intersection" in str(rep)
    nocrs = layers.validate(gdf.set_crs(None, allow_override=True).drop(columns="kind"), "green_space")
    msgs = " ".join(p.problem for p in nocrs.problems)
    assert "no CRS" in msgs and "required column 'kind' is missing" in msgs


def test_fix_repairs_only_what_is_safe():
    gdf = _bad_layer()
    fixed, changes = layers.fix(gdf, "green_space", to_crs="EPSG:4326")
    assert any("made 1 invalid geometry valid" in c for c in changes)
    assert any("reprojected" in c for c in changes)
    assert fixed.crs.to_epsg() == 4326
    repaired = fixed.to_crs(4548).geometry.iloc[1]
    assert repaired.is_valid and repaired.area == pytest.approx(50.0)  # two triangles of 25 m²
    assert len(fixed) == len(gdf)  # nothing dropped: the empty row is still there
    assert gdf.geometry.iloc[1].is_valid is False  # input untouched


def test_fix_explodes_multiparts_where_singles_are_required():
    gdf = gpd.GeoDataFrame({"id": ["m", "s"], "kind": ["car", "e-bike"]},
                           geometry=[shapely.MultiPoint([(0, 0), (5, 5)]), shapely.Point(1, 1)],
                           crs=4548)
    assert any(p.fixable for p in layers.validate(gdf, "chargers").problems)
    fixed, changes = layers.fix(gdf, "chargers")
    assert fixed["id"].tolist() == ["m-1", "m-2", "s"]
    assert fixed.geom_type.tolist() == ["Point"] * 3
    assert layers.validate(fixed, "chargers").ok
    assert "2 → 3" in changes[0]


def test_range_checks():
    gdf = gpd.GeoDataFrame({"id": ["r1", "r2"], "slope": ["1:20", "12:1"], "width_m": [1.5, -1]},
                           geometry=[shapely.Point(0, 0), shapely.Point(1, 0)], crs=4548)
    rep = layers.validate(gdf, "ramps")
    # 12:1 is steeper than 1:1: taken for a mistake, never read
    assert {(p.id, p.column) for p in rep.errors} == {("r2", "slope"), ("r2", "width_m")}
    # slopes as planners write them all read as rise over run
    got, _ = layers.coerce_columns(gdf.assign(slope=["8%", "8.3"]), "ramps")
    assert got["slope"].tolist() == pytest.approx([0.08, 0.083])


def test_validation_report_frame():
    rep = layers.validate(_bad_layer(), "green_space")
    df = rep.to_frame()
    assert list(df.columns) == ["layer", "row", "id", "column", "problem", "severity", "fixable"]
    assert len(df) == len(rep.problems)
    assert np.all(df["layer"] == "green_space")


def test_value_spellings_are_unambiguous():
    for kind in layers.KINDS:
        for col in layers.get_spec(kind).all_columns:
            seen: dict[str, str] = {}
            for value, spellings in col.value_aliases.items():
                for s in (value, *spellings):
                    key = s.strip().lower()
                    assert seen.get(key, value) == value, (kind, col.name, s)
                    seen[key] = value


def test_planners_value_spellings_read_as_spec_values():
    df = pd.DataFrame({"kind": ["电动车", "汽车", "Car", "e-bike", "tram"]})
    out, _ = layers.coerce_columns(df, "chargers")
    assert out["kind"].tolist() == ["e-bike", "car", "car", "e-bike", "tram"]
    fac, _ = layers.coerce_columns(pd.DataFrame({"category": ["幼儿园", "农贸市场", "社区卫生服务站"]}),
                                   "facilities")
    assert fac["category"].tolist() == ["kindergarten", "market", "health"]
    # the rule keeping attached green out of concentrated green names 宅旁绿地 as attached green
    green, _ = layers.coerce_columns(pd.DataFrame({"kind": ["宅旁绿地", "附属绿地", "公园"]}), "green_space")
    assert green["kind"].tolist() == ["attached", "attached", "park"]
    rep = layers.validate(gpd.GeoDataFrame(df, geometry=[shapely.Point(i, 0) for i in range(5)],
                                           crs=4548), "chargers")
    assert [(p.row, p.id) for p in rep.errors] == [("4", None)]  # only 'tram' is unknown


def test_homes_pick_residents_and_count_them():
    """Hand-made: community A (population 300) holds a given home of 60, two homes
    without figures of floor area 100 m² × 2 floors and 100 m² × 1 (floors
    unknown), a mixed-use building and a shop; a home outside every community."""
    from gcgeo.layers.buildings import homes

    comm = gpd.GeoDataFrame({"id": ["A"], "name": ["甲社区"], "population": [300]},
                            geometry=[shapely.box(0, 0, 100, 100)], crs=4548)
    b = gpd.GeoDataFrame(
        {"id": ["h1", "h2", "h3", "m", "shop", "far"],
         "use": ["residential", "residential", None, "mixed", "commercial", "residential"],
         "residential": [None, None, "是", None, None, None],
         "floors": [3, 2, None, 1, 1, 1],
         "population": [60, None, None, None, 5, None]},
        geometry=[shapely.box(1, 1, 11, 11), shapely.box(20, 20, 30, 30),
                  shapely.box(40, 40, 50, 50), shapely.box(60, 60, 70, 70),
                  shapely.box(80, 80, 90, 90), shapely.box(500, 500, 510, 510)],
        crs=4548)
    h = homes(b, comm).set_index("building_id")
    assert list(h.index) == ["h1", "h2", "h3", "m", "far"]  # the shop is not a home
    # 300 − 60 given = 240 spread by floor area 200 : 100 : 100
    assert h["population"].to_dict() == pytest.approx(
        {"h1": 60, "h2": 120, "h3": 60, "m": 60, "far": 1})
    assert h.loc["h2", "pop_source"] == "community by floor area"
    assert h.loc["far", "pop_source"] == "one per building"
    assert h.loc["h1", "community_name"] == "甲社区" and h.loc["far", "community_pos"] == -1
    assert all(shapely.contains(b.set_index("id").loc[h.index].geometry.values,
                                h.geometry.values))  # a point inside each home


def test_homes_in_overlapping_communities_are_counted_once_and_reported(caplog):
    import logging

    from gcgeo.layers.buildings import homes

    comm = gpd.GeoDataFrame({"id": ["A", "B"], "population": [10, 10]},
                            geometry=[shapely.box(0, 0, 100, 100), shapely.box(50, 50, 150, 150)],
                            crs=4548)
    b = gpd.GeoDataFrame({"use": ["residential"] * 2},
                         geometry=[shapely.box(60, 60, 70, 70), shapely.box(120, 120, 130, 130)],
                         crs=4548)
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        h = homes(b, comm)
    assert h["community_id"].tolist() == ["A", "B"]
    assert "more than one community" in caplog.text and "A, B" in caplog.text


def test_points_are_located_as_a_spatial_join_places_them(caplog):
    """The points' own path (each community testing the points in its bounds) gives what
    geopandas' spatial join gives: the first community holding a point's interior, with
    overlaps, holes, multipolygons, points on edges and points outside all; the same
    warning for the points in two."""
    import logging

    from gcgeo.layers.buildings import locate

    rng = np.random.default_rng(7)
    ring = shapely.Point(500, 500).buffer(300).difference(shapely.Point(500, 500).buffer(120))
    polys = [shapely.box(0, 0, 400, 400), shapely.box(300, 300, 700, 700), ring,
             shapely.MultiPolygon([shapely.box(800, 0, 900, 100), shapely.box(800, 800, 950, 950)]),
             shapely.Polygon(), shapely.box(0, 0, 400, 400)]
    comm = gpd.GeoDataFrame({"id": [f"C{i}" for i in range(len(polys))], "name": list("abcdef")},
                            geometry=polys, crs=4548)
    xy = np.r_[rng.uniform(-50, 1000, (3000, 2)),
               [[400.0, 200.0], [300.0, 300.0], [800.0, 50.0], [500.0, 620.0]]]  # (on edges)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4548)
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        got = locate(pts, comm)
    fast_log = caplog.text
    caplog.clear()
    j = gpd.sjoin(pts.assign(_o=np.arange(len(pts))), comm.assign(_c=np.arange(len(comm))),
                  predicate="within").sort_values(["_o", "_c"]).drop_duplicates("_o")
    want = np.full(len(pts), -1)
    want[j["_o"].to_numpy()] = j["_c"].to_numpy()
    assert (want >= 0).sum() > 1000 and (want == -1).sum() > 100 and (want == 3).sum() > 0
    np.testing.assert_array_equal(got["community_pos"].to_numpy(int), want)
    assert got["community_id"].tolist() == [f"C{w}" if w >= 0 else None for w in want]
    assert got["community_name"].tolist() == ["abcdef"[w] if w >= 0 else None for w in want]
    # the same as the join's own path (a layer holding a polygon takes it)
    mixed = pd.concat([pts, gpd.GeoDataFrame(geometry=[shapely.box(-40, -40, -30, -30)], crs=4548)],
                      ignore_index=True)
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        slow = locate(mixed, comm)
    np.testing.assert_array_equal(slow["community_pos"].to_numpy(int)[:-1], want)
    assert fast_log.split("lie in")[0] == caplog.text.split("lie in")[0] != ""
    assert "C0, C1, C2, C5" in fast_log


def test_duplicate_ids_are_refused_where_results_are_keyed_by_them():
    from gcgeo import LayerError

    frame = pd.DataFrame({"id": ["C1", "C1", "C2"]})
    with pytest.raises(LayerError, match="'communities' uses the id\\(s\\) C1"):
        layers.require_unique_ids(frame, "communities")
    layers.require_unique_ids(frame.iloc[1:], "communities")


def test_validate_reports_street_ends_just_short_of_another_street():
    from shapely.geometry import LineString

    lines = [
        [(0, 0), (100, 0)],  # s1
        [(50, 2.5), (50, 80)],  # s2: stops 2.5 m short of s1, beyond the 1 m tolerance
        [(20, 0.5), (20, 60)],  # s3: 0.5 m short: joined by the network, not reported
        [(80, 0), (80, -40)],  # s4: meets s1 exactly (a T)
        [(0, 0), (0, -30)],  # s5: meets s1's end exactly
        [(150, 0), (150, 30)],  # s6: 50 m away: a dead end, not a gap
    ]
    streets = gpd.GeoDataFrame({"id": [f"s{i}" for i in range(1, 7)]},
                               geometry=[LineString(c) for c in lines], crs=3857)
    rep = layers.validate(streets, "streets")
    gaps = [p for p in rep.problems if "joining tolerance" in p.problem]
    assert [(p.id, p.severity) for p in gaps] == [("s2", "warning")]
    assert "stops 2.5 m from street s1" in gaps[0].problem and rep.ok
    # an OSM import is joined by its node ids: nothing to report
    osm = streets.assign(u=range(6), v=range(10, 16))
    assert not [p for p in layers.validate(osm, "streets").problems
                if "joining tolerance" in p.problem]
    # the end is named: s2 reversed stops short with its end
    rev = streets.copy()
    rev.loc[1, "geometry"] = LineString(lines[1][::-1])
    gaps = [p for p in layers.validate(rev, "streets").problems if "joining tolerance" in p.problem]
    assert "its end stops 2.5 m" in gaps[0].problem


def test_validate_reports_streets_that_cross_without_a_junction():
    from shapely.geometry import LineString

    lines = [
        [(0, 0), (300, 0)],  # r1: crossed by r2 and r3
        [(100, -50), (100, 50)],  # r2
        [(200, -50), (200, 50), (250, 80)],  # r3: also crosses r4
        [(150, 60), (300, 60)],  # r4
        [(0, 0), (0, 40)],  # r5: meets r1 at its end
        [(50, 0), (50, 30)],  # r6: a T onto r1
    ]
    streets = gpd.GeoDataFrame({"id": [f"r{i}" for i in range(1, 7)]},
                               geometry=[LineString(c) for c in lines], crs=3857)
    rep = layers.validate(streets, "streets")
    found = {p.id: p.problem for p in rep.problems if "without a junction" in p.problem}
    assert set(found) == {"r1", "r2", "r3", "r4"} and rep.ok
    assert "crosses street(s) r2, r3 without" in found["r1"]
    assert "crosses street(s) r1, r4 without" in found["r3"]
    assert all(p.severity == "warning" for p in rep.problems if p.id in found)
    # an OSM import is joined by its node ids: nothing to report
    osm = streets.assign(u=range(6), v=range(10, 16))
    assert not [p for p in layers.validate(osm, "streets").problems
                if "without a junction" in p.problem]
