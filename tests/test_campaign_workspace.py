"""A campaign of careless-user cases against the workspace, tried as a planner would.

Each case runs the command line through click's runner (and the library where
a script would call it) and asserts either success with the right result, or
exit status 2 with one message naming the file, layer, row or option at fault
and the fix -- and, when refused, a workspace left byte for byte as it was,
with no file left beside it.  The families:

* layer names GeoPackage, SQLite or gcgeo reserve, or cannot hold;
* column clashes in ``--columns`` (two sources onto one target, a target the
  file already has, names differing only in case);
* absurd numbers in whole-number columns (``sockets = 1e30``);
* ``validate`` rows are the GeoPackage feature ids QGIS shows, and it exits 1
  on errors, 0 otherwise;
* ``validate --fix`` never turns a polygon into a line;
* data of another region are refused, or move a workspace whose every layer
  they replace (Helsinki in the 117°E Gauss–Krüger zone: areas +33 %);
* the OSM import's "no data" messages;
* the living circle's homes without geometry, point or line communities and
  bow-tie communities.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod
from shapely.geometry import LineString, Point, box

from gcgeo import AnalysisError, CRSError, InputError, LayerError, layers, osm
from gcgeo import workspace as ws
from gcgeo.analysis import living_circle as lc
from gcgeo.cli import main

DATA = Path(__file__).parent / "data"
GAOTANG = DATA / "vector" / "gaotang_county.geojson"
KOTKA = DATA / "osm" / "kotka_karhula.osm.pbf"
LEEDS = DATA / "osm" / "leeds_parks.osm"

#: a point inside Gaotang county (lon, lat)
LON, LAT = 116.23, 36.86


# ------------------------------------------------------------------ helpers
def _run(*args, code: int = 0) -> str:
    res = CliRunner().invoke(main, [str(a) for a in args])
    text = res.output
    assert res.exit_code == code, f"exit {res.exit_code} (wanted {code}):\n{text}\n{res.exception!r}"
    assert "unexpected error" not in text and "Traceback" not in text
    if code == 2:
        assert "error:" in text
    return " ".join(text.split())  # rich wraps log lines; compare words, not line breaks


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


class _Intact:
    """Every file in ``folder`` byte for byte as it was, and no file added."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.before = _digest(folder)

    def check(self) -> None:
        assert _digest(self.folder) == self.before


def _integrity(path: Path) -> None:
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """高唐县: the county boundary as its community, and one kindergarten (``poi``)."""
    folder = tmp_path_factory.mktemp("template")
    w = folder / "g.gpkg"
    _run("init", w, "--name", "高唐县")
    _run("add", w, "communities", GAOTANG)
    csv = folder / "poi.csv"
    pd.DataFrame({"名称": ["幼儿园"], "类别": ["kindergarten"], "lng": [LON], "lat": [LAT]}
                 ).to_csv(csv, index=False)
    _run("add", w, "facilities", csv, "--src-crs", "wgs84", "--name", "poi")
    assert ws.info(w)["crs"].to_epsg() == 4548
    return w


@pytest.fixture
def g(template, tmp_path) -> Path:
    """A copy of the 高唐县 workspace in a folder of its own."""
    folder = tmp_path / "ws"
    folder.mkdir()
    return Path(shutil.copy(template, folder / "g.gpkg"))


def _points_csv(path: Path, n: int = 2, **columns) -> Path:
    df = pd.DataFrame({"lng": LON + 0.001 * np.arange(n), "lat": np.full(n, LAT), **columns})
    df.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ layer names
BAD_NAMES = [
    ("gpkg_parks", "reserved"),
    ("GPKG_contents", "reserved"),
    ("gpkgdata", "reserved"),
    ("gpkg_", "reserved"),
    ("rtree_poi_geom", "reserved"),
    ("RTREE_x", "reserved"),
    ("sqlite_master", "reserved"),
    ("sqlite_sequence", "reserved"),
    ("SQLite_stat1", "reserved"),
    ("gcgeo_metadata", "reserved"),
    ("gcgeo_layers", "reserved"),
    ("gcgeo_extra", "reserved"),
    ("", "is empty"),
    ("   ", "is empty"),
    (" poi", "space"),
    ("poi ", "space"),
    ("a\nb", "control character"),
    ("a\tb", "control character"),
    ("x" * 64, "64 characters"),
    ("长" * 64, "64 characters"),
    ("x" * 300, "300 characters"),
]
GOOD_NAMES = ["公园", "poi 2024", "x" * 63, "长" * 63, "my_gpkg", "rtree", "sqlite", "gcgeo",
              "a-b.c", "设施_v2", "Poi_2"]


@pytest.mark.parametrize("name,rule", BAD_NAMES, ids=[repr(n)[:20] for n, _ in BAD_NAMES])
def test_add_refuses_a_layer_name_with_its_rule(g, tmp_path, name, rule):
    csv = _points_csv(tmp_path / "p.csv", 类别=["park", "school"])
    intact = _Intact(g.parent)
    out = _run("add", g, "facilities", csv, "--src-crs", "wgs84", "--name", name, code=2)
    assert "layer name" in out and rule in out
    assert "--name" in out  # the fix: another name
    intact.check()


@pytest.mark.parametrize("name,rule", BAD_NAMES, ids=[repr(n)[:20] for n, _ in BAD_NAMES])
def test_library_writes_refuse_a_layer_name(g, name, rule):
    frame = gpd.GeoDataFrame({"category": ["park"]}, geometry=[Point(LON, LAT)], crs=4326)
    intact = _Intact(g.parent)
    with pytest.raises(InputError, match=rule):
        ws.write_layers(g, {name: frame})
    with pytest.raises(InputError, match=rule):
        ws.add_layer(g, "facilities", frame, name=name)
    intact.check()


@pytest.mark.parametrize("name", GOOD_NAMES, ids=[n[:12] for n in GOOD_NAMES])
def test_add_takes_a_valid_layer_name(g, tmp_path, name):
    csv = _points_csv(tmp_path / "p.csv", 类别=["park", "school"])
    out = _run("add", g, "facilities", csv, "--src-crs", "wgs84", "--name", name)
    assert "added" in out and "2 features" in out
    assert ws.read_layer(g, name)["category"].tolist() == ["park", "school"]
    assert {"communities", "poi", name} <= set(ws.list_layers(g)["layer"])
    _integrity(g)


@pytest.mark.parametrize("name", ["COMMUNITIES", "Communities", "POI", "Poi"])
def test_a_name_differing_only_in_case_is_the_same_layer(g, tmp_path, name):
    csv = _points_csv(tmp_path / "p.csv", 类别=["park", "school"])
    intact = _Intact(g.parent)
    for extra in ([], ["--overwrite"]):
        out = _run("add", g, "facilities", csv, "--src-crs", "wgs84", "--name", name, *extra,
                   code=2)
        assert "ignore case" in out and f"--name {name.lower()}" in out
    intact.check()


# ------------------------------------------------------------------ column clashes
CLASHES = [
    # (file columns, --columns, words every message must hold)
    ({"名称": ["a", "b"], "小区名称": ["c", "d"]}, "名称=name,小区名称=name",
     ["'名称'", "'小区名称'", "both", "'name'"]),
    ({"name": ["a", "b"], "名称": ["c", "d"]}, "名称=name", ["'名称'", "'name'", "already has"]),
    ({"NAME": ["a", "b"], "名称": ["c", "d"]}, "名称=name", ["'名称'", "'NAME'", "ignore case"]),
    ({"Name": ["a", "b"], "title": ["c", "d"]}, "title=name", ["'title'", "'Name'"]),
    ({"名称": ["a", "b"], "Name": ["c", "d"]}, None, ["'名称'", "'Name'", "--columns Name=name"]),
    ({"name": ["a", "b"], "Name": ["c", "d"]}, None, ["'name'", "'Name'", "rename one"]),
    ({"name": ["a", "b"], "街道": ["x", "y"], "所属街道": ["x", "y"]},
     "街道=street_office,所属街道=street_office", ["'街道'", "'所属街道'", "'street_office'"]),
    ({"name": ["a", "b"], "population": [1, 2], "人口": [3, 4]}, "人口=population",
     ["'人口'", "'population'"]),
]


def _polygons_file(path: Path, columns: dict) -> Path:
    n = len(next(iter(columns.values())))
    geoms = [box(LON + 0.01 * i, LAT, LON + 0.01 * i + 0.005, LAT + 0.005) for i in range(n)]
    gpd.GeoDataFrame(columns, geometry=geoms, crs=4326).to_file(path)
    return path


@pytest.mark.parametrize("columns,mapping,words", CLASHES)
def test_a_column_clash_names_both_columns(g, tmp_path, columns, mapping, words):
    src = _polygons_file(tmp_path / "c.geojson", columns)
    intact = _Intact(g.parent)
    extra = ["--columns", mapping] if mapping else []
    out = _run("add", g, "communities", src, "--name", "more", *extra, code=2)
    for w in words:
        assert w in out, w
    intact.check()
    frame = gpd.read_file(src)
    with pytest.raises(LayerError):
        layers.map_columns(frame, "communities", dict(p.split("=") for p in mapping.split(","))
                           if mapping else None)


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_clash_in_a_mapping_file_names_both_columns(g, tmp_path, suffix):
    src = _polygons_file(tmp_path / "c.geojson", {"名称": ["a", "b"], "小区": ["c", "d"]})
    mapping = tmp_path / f"map{suffix}"
    mapping.write_text('"名称" = "name"\n"小区" = "name"\n' if suffix == ".toml"
                       else '{"名称": "name", "小区": "name"}', encoding="utf-8")
    intact = _Intact(g.parent)
    out = _run("add", g, "communities", src, "--name", "more", "--columns", mapping, code=2)
    assert "'名称'" in out and "'小区'" in out and "both" in out
    intact.check()


@pytest.mark.parametrize("columns,mapping,want", [
    # the file's own 'name' moved aside, 名称 taken as the name
    ({"name": ["a", "b"], "名称": ["c", "d"]}, "名称=name,name=street_office",
     {"name": ["c", "d"], "street_office": ["a", "b"]}),
    ({"Name": ["a", "b"], "名称": ["c", "d"]}, "Name=name", {"name": ["a", "b"], "名称": ["c", "d"]}),
    ({"名称": ["a", "b"], "人口": [10, 20]}, None, {"name": ["a", "b"], "population": [10, 20]}),
])
def test_a_mapping_without_clash_is_taken(g, tmp_path, columns, mapping, want):
    src = _polygons_file(tmp_path / "c.geojson", columns)
    extra = ["--columns", mapping] if mapping else []
    _run("add", g, "communities", src, "--name", "more", *extra)
    got = ws.read_layer(g, "more")
    for col, values in want.items():
        assert got[col].tolist() == values


# ------------------------------------------------------------------ absurd numbers
@pytest.mark.parametrize("value", ["1e30", "-1e30", "1e19", "9.3e18", "9223372036854775808",
                                   "inf", "-inf", "Infinity", "1e400", "2.5", "lots"])
def test_absurd_counts_are_reported_by_row_never_a_traceback(g, tmp_path, value):
    csv = tmp_path / "ch.csv"
    pd.DataFrame({"kind": ["car", "car", "car"], "sockets": ["2", value, "4"],
                  "lng": [LON, LON + 0.001, LON + 0.002], "lat": [LAT] * 3}
                 ).to_csv(csv, index=False)
    out = _run("add", g, "chargers", csv, "--src-crs", "wgs84")
    assert "could not be read" in out and "sockets" in out
    stored = ws.read_layer(g, "chargers")
    assert stored["sockets"].tolist()[0] == 2 and pd.isna(stored["sockets"].iloc[1])
    report = tmp_path / "r.csv"
    out = _run("validate", g, "--layer", "chargers", "--report", report, code=1)
    problems = pd.read_csv(report, dtype=str)
    row = problems[problems["column"] == "sockets"]
    assert row["row"].tolist() == ["2"]  # the second feature: fid 2 in QGIS
    assert "sockets" in out and "source file" in row["problem"].iloc[0]
    lib = gpd.GeoDataFrame({"sockets": [2, value]}, geometry=[Point(0, 0)] * 2, crs=4548)
    typed, bad = layers.coerce_columns(lib, "chargers")
    assert bad["sockets"].tolist() == [False, True] and pd.isna(typed["sockets"].iloc[1])


@pytest.mark.parametrize("value,want", [("12", 12), ("３", 3), ("1,200", 1200), (" 7 ", 7),
                                        ("9007199254740992", 2**53)])
def test_counts_planners_write_are_read(g, tmp_path, value, want):
    csv = tmp_path / "ch.csv"
    pd.DataFrame({"kind": ["car"], "sockets": [value], "lng": [LON], "lat": [LAT]}
                 ).to_csv(csv, index=False)
    out = _run("add", g, "chargers", csv, "--src-crs", "wgs84")
    assert "could not be read" not in out
    assert ws.read_layer(g, "chargers")["sockets"].tolist() == [want]
    _run("validate", g, "--layer", "chargers")


@pytest.mark.parametrize("households", [1e30, -1e30, 1e300])
def test_absurd_households_in_a_polygon_file(g, tmp_path, households):
    src = _polygons_file(tmp_path / "c.gpkg", {"name": ["a", "b"], "households": [10.0, households]})
    _run("add", g, "communities", src, "--name", "blocks")
    report = tmp_path / "r.csv"
    _run("validate", g, "--layer", "blocks", "--report", report, code=1)
    problems = pd.read_csv(report, dtype=str)
    assert problems[["row", "column"]].values.tolist() == [["2", "households"]]
    assert "whole numbers up to" in problems["problem"].iloc[0]


# ------------------------------------------------------------------ validate rows are fids
@pytest.mark.parametrize("bad", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("deleted", [(), (1,)])
def test_validate_rows_are_the_feature_ids_qgis_shows(g, tmp_path, bad, deleted):
    kinds = ["car"] * 5
    kinds[bad - 1] = "tram"
    csv = _points_csv(tmp_path / "ch.csv", n=5, kind=kinds)
    _run("add", g, "chargers", csv, "--src-crs", "wgs84")
    deleted = tuple(d for d in deleted if d != bad)
    with sqlite3.connect(g) as con:  # as QGIS deletes features: the others keep their fid
        for fid in deleted:
            con.execute("DELETE FROM chargers WHERE fid = ?", (fid,))
    with sqlite3.connect(g) as con:
        want = con.execute("SELECT fid FROM chargers WHERE kind = 'tram'").fetchone()[0]
    assert want == bad
    report = tmp_path / "r.csv"
    _run("validate", g, "--layer", "chargers", "--report", report, code=1)
    problems = pd.read_csv(report, dtype=str, keep_default_na=False)
    assert problems[["row", "column"]].values.tolist() == [[str(want), "kind"]]
    [p] = ws.validate(g, layers=["chargers"])[0].errors
    assert str(p).startswith(f"error: chargers row {want} column 'kind'")


def test_validate_names_float_ids_as_whole_numbers(g, tmp_path):
    src = tmp_path / "ch.gpkg"  # an id field of real numbers, as ArcGIS and Excel exports give
    gpd.GeoDataFrame({"id": [29139.0, np.nan, 7.0], "kind": ["car", "car", "tram"]},
                     geometry=gpd.points_from_xy([LON, LON + 0.001, LON + 0.002], [LAT] * 3),
                     crs=4326).to_file(src)
    _run("add", g, "chargers", src)
    ids = ws.read_layer(g, "chargers")["id"]
    assert [None if pd.isna(v) else v for v in ids] == ["29139", None, "7"]
    report, _ = ws.validate(g, layers=["chargers"])
    assert [(p.row, p.id, p.column) for p in report.errors] == [("3", "7", "kind")]
    assert ".0" not in str(report)


@pytest.mark.parametrize("kinds,code", [(["car", "e-bike"], 0), (["car", "tram"], 1),
                                        (["car", None], 1)])
def test_validate_exits_non_zero_only_on_errors(g, tmp_path, kinds, code):
    csv = _points_csv(tmp_path / "ch.csv", n=2, kind=kinds)
    _run("add", g, "chargers", csv, "--src-crs", "wgs84")
    out = _run("validate", g, code=code)
    assert ("0 error(s)" in out) == (code == 0)


def test_validate_exits_0_with_warnings_only(g, tmp_path):
    csv = tmp_path / "far.csv"  # ~90 km east of the county: a warning, not an error
    pd.DataFrame({"kind": ["car"], "lng": [117.3], "lat": [LAT]}).to_csv(csv, index=False)
    _run("add", g, "chargers", csv, "--src-crs", "wgs84")
    out = _run("validate", g)
    assert "0 error(s), 1 warning(s)" in out
    [p] = ws.validate(g)[0].warnings
    assert (p.layer, p.row, p.column) == ("chargers", "1", "geometry")
    assert "outside the study area" in p.problem


# ------------------------------------------------------------------ validate --fix keeps types
X0, Y0 = 500_000.0, 4_080_000.0  # in EPSG:4548, inside the county's zone

INVALID = {
    # name: (wkt relative to X0, Y0, area once repaired (m²) or None: cannot be repaired)
    "bow-tie": ("POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))", 50.0),  # two triangles of 25
    "spike": ("POLYGON((0 0, 10 0, 10 10, 5 10, 5 20, 5 10, 0 10, 0 0))", 100.0),  # spike dropped
    # make_valid keeps the square, the hole's outline becomes a line, which is dropped
    "hole touching": ("POLYGON((0 0,10 0,10 10,0 10,0 0),(0 0, 5 5, 0 10, 0 0))", 100.0),
    "hole outside": ("POLYGON((0 0,10 0,10 10,0 10,0 0),(20 20, 25 20, 25 25, 20 20))", 112.5),
    "collinear": ("POLYGON((0 0, 10 0, 20 0, 0 0))", None),
    "back and forth": ("POLYGON((0 0, 10 0, 10 0, 0 0))", None),
}


def _shift(wkt: str):
    return shapely.affinity.translate(shapely.from_wkt(wkt), X0, Y0)


@pytest.mark.parametrize("kind", ["buildings", "green_space"])
@pytest.mark.parametrize("case", list(INVALID))
def test_fix_never_turns_a_polygon_into_a_line(g, tmp_path, kind, case):
    wkt, area = INVALID[case]
    repairable = area is not None
    geoms = [_shift(wkt), box(X0 + 100, Y0, X0 + 120, Y0 + 20)]
    src = tmp_path / "poly.gpkg"
    extra = {"kind": ["park", "park"]} if kind == "green_space" else {}
    gpd.GeoDataFrame({"id": ["bad", "ok"], **extra}, geometry=geoms, crs=4548).to_file(src)
    _run("add", g, kind, src)
    before, _ = ws.validate(g, layers=[kind])
    [p] = [p for p in before.errors if p.column == "geometry"]
    assert (p.row, p.id, p.fixable) == ("1", "bad", repairable)
    out = _run("validate", g, "--layer", kind, "--fix", code=0 if repairable else 1)
    stored = ws.read_layer(g, kind)
    assert set(stored.geom_type) <= {"Polygon", "MultiPolygon"}  # never a line
    assert stored.is_valid.all() == repairable
    bad = stored.loc[stored["id"] == "bad"].geometry.iloc[0]
    if repairable:
        assert bad.area == pytest.approx(area)
        assert "made 1 invalid geometry valid (rows 1)" in out
    else:
        assert bad.equals(_shift(wkt))  # left as drawn
        assert "made" not in out
        [p] = [p for p in ws.validate(g, layers=[kind])[0].errors if p.column == "geometry"]
        assert "cannot repair" in p.problem and "redraw it" in p.problem and not p.fixable
    _integrity(g)


def test_repair_geometry_keeps_each_geometry_its_type():
    geoms = np.array([_shift(w) for w, _ in INVALID.values()] + [None, Point(0, 0)], dtype=object)
    fixed, ok = layers.repair_geometry(geoms)
    assert ok.tolist() == [a is not None for _, a in INVALID.values()] + [True, True]
    assert fixed[-2] is None and fixed[-1] is geoms[-1]
    for before, after, good in zip(geoms[:-2], fixed[:-2], ok[:-2]):
        assert shapely.get_dimensions(after) == 2
        assert after.is_valid if good else after is before


# ------------------------------------------------------------------ another region
@pytest.fixture(scope="module")
def kotka_frames() -> dict[str, gpd.GeoDataFrame]:
    return osm.read_osm(KOTKA)


def test_import_of_another_region_is_refused_naming_both(g):
    intact = _Intact(g.parent)
    out = _run("import-osm", g, LEEDS, code=2)
    assert "EPSG:4548" in out and "117E" in out  # the workspace's CRS and what it was made for
    assert "1.5" in out and "W" in out  # where the new data lie (Leeds, 1.5°W)
    assert "116.2" in out  # where the workspace's layers lie
    assert "new workspace" in out and "Nothing was written" in out
    intact.check()


def test_overwrite_cannot_move_a_workspace_whose_layers_would_stay(g):
    intact = _Intact(g.parent)
    out = _run("import-osm", g, LEEDS, "--overwrite", code=2)
    assert "communities, poi" in out and "new workspace" in out
    intact.check()


def test_an_empty_workspace_with_another_zone_is_refused_then_moved_with_overwrite(tmp_path):
    w = tmp_path / "leeds.gpkg"
    _run("init", w, "--name", "Leeds", "--crs", "EPSG:4548")
    intact = _Intact(tmp_path)
    out = _run("import-osm", w, LEEDS, code=2)
    assert "--overwrite" in out and "EPSG:32630" in out  # the CRS it would move to
    intact.check()
    out = _run("import-osm", w, LEEDS, "--overwrite")
    assert "moved from working CRS EPSG:4548" in out and "EPSG:32630" in out
    assert ws.info(w)["crs"].to_epsg() == 32630
    parks = ws.read_layer(w, "green_space")
    assert parks.crs.to_epsg() == 32630
    geodesic = np.array([abs(Geod(ellps="WGS84").geometry_area_perimeter(p)[0])
                         for p in parks.to_crs(4326).geometry])
    np.testing.assert_allclose(parks.area, geodesic, rtol=2e-3)  # not +33 %
    _integrity(w)


def test_kotka_into_a_workspace_made_for_helsinki_keeps_its_crs(tmp_path, kotka_frames):
    """Both lie in UTM zone 35N: the working CRS suits both, nothing moves."""
    w = tmp_path / "hel.gpkg"
    ws.init(w, name="Helsinki", crs="EPSG:32635")
    ws.write_layers(w, kotka_frames, kind={k: k for k in kotka_frames})
    assert ws.info(w)["crs"].to_epsg() == 32635
    b = ws.read_layer(w, "buildings")
    geodesic = np.array([abs(Geod(ellps="WGS84").geometry_area_perimeter(p)[0])
                         for p in b.to_crs(4326).geometry[:200]])
    np.testing.assert_allclose(b.area[:200], geodesic, rtol=2e-3)


def test_a_library_write_of_another_region_is_refused(g, kotka_frames):
    intact = _Intact(g.parent)
    with pytest.raises(CRSError, match="new workspace") as err:
        ws.write_layers(g, {"buildings": kotka_frames["buildings"]}, kind="buildings")
    w, s, e, n = kotka_frames["buildings"].total_bounds
    assert f"{(w + e) / 2:.2f}°E {(s + n) / 2:.2f}°N" in str(err.value)
    with pytest.raises(CRSError, match="EPSG:4548"):
        ws.add_layer(g, "buildings", kotka_frames["buildings"], overwrite=True)
    intact.check()


@pytest.mark.parametrize("lon,lat,code", [
    (24.94, 60.17, 2),   # Helsinki: lengths +15 %, areas +33 % in the 117°E zone
    (87.6, 43.8, 2),     # Ürümqi, 30° west of the zone: lengths +7 %
    (-1.55, 53.8, 2),    # Leeds
    (118.6, 36.8, 0),    # the neighbouring zone: 0.03 %, kept in the workspace's zone
    (116.0, 37.5, 0),    # the next county
])
def test_add_of_a_file_elsewhere(g, tmp_path, lon, lat, code):
    csv = tmp_path / "far.csv"
    pd.DataFrame({"类别": ["park"], "lng": [lon], "lat": [lat]}).to_csv(csv, index=False)
    intact = _Intact(g.parent)
    out = _run("add", g, "facilities", csv, "--src-crs", "wgs84", "--name", "far", code=code)
    if code:
        assert "far.csv" in out and "EPSG:4548" in out and "new workspace" in out
        intact.check()
    else:
        assert ws.info(g)["crs"].to_epsg() == 4548
        assert len(ws.read_layer(g, "far")) == 1


def test_empty_geometries_alone_move_nothing(g):
    frame = gpd.GeoDataFrame({"category": ["park"]}, geometry=[None], crs=4326)
    ws.write_layers(g, {"nowhere": frame}, kind="facilities")
    assert ws.info(g)["crs"].to_epsg() == 4548


# ------------------------------------------------------------------ OSM "no data" messages
def _osm_xml(path: Path, tags: str = "") -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        f'<node id="1" lat="60.1" lon="24.9" version="1">{tags}</node>\n'
        '<node id="2" lat="60.2" lon="25.0" version="1"/>\n</osm>\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("tags", ["", '<tag k="foo" v="bar"/>', '<tag k="name" v="x"/>'])
def test_a_file_without_features_says_so_without_a_bbox(tmp_path, tags):
    src = _osm_xml(tmp_path / "empty.osm", tags)
    with pytest.raises(InputError) as err:
        osm.read_osm(src)
    text = str(err.value)
    assert "holds no features gcgeo can import" in text and "empty.osm" in text
    assert "None" not in text and "bbox" not in text
    w = tmp_path / "new.gpkg"
    out = _run("import-osm", w, src, code=2)
    assert "holds no features" in out and "None" not in out
    assert not w.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["empty.osm"]


@pytest.mark.parametrize("how,words", [
    ("bbox", "the bbox 10,10,10.1,10.1 contains no OSM data"),
    ("boundary", "the boundary contains no OSM data"),
])
def test_an_area_without_data_is_named_as_given(how, words):
    area = {"bbox": (10, 10, 10.1, 10.1)} if how == "bbox" else {
        "boundary": box(10, 10, 10.1, 10.1)}
    with pytest.raises(InputError, match=words) as err:
        osm.read_osm(LEEDS, **area)
    assert "None" not in str(err.value)


# ------------------------------------------------------------------ the living circle
CRS = "EPSG:4548"


def _lc_layers():
    s = lambda x, y: box(X0 + x - 5, Y0 + y - 5, X0 + x + 5, Y0 + y + 5)  # noqa: E731
    return {
        "streets": gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 1000, Y0)]),
                                              LineString([(X0 + 500, Y0), (X0 + 500, Y0 + 400)])],
                                    crs=CRS),
        "buildings": gpd.GeoDataFrame(
            {"id": ["H1", "H2", "H3"], "use": ["residential"] * 3,
             "population": [100.0, 50.0, 10.0]},
            geometry=[s(100, 10), s(510, 300), s(950, 20)], crs=CRS),
        "facilities": gpd.GeoDataFrame({"category": ["supermarket"]},
                                       geometry=[Point(X0 + 200, Y0 - 5)], crs=CRS),
        "communities": gpd.GeoDataFrame({"id": ["C1"], "name": ["East"]},
                                        geometry=[box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 500)],
                                        crs=CRS),
    }


def _lc_rules():
    from gcgeo import rules

    r = rules.load("living_circle")
    r["categories"] = {"supermarket": {"tiers": ["5min"], "clause": "test", "status": "local"}}
    return r


@pytest.mark.parametrize("missing", [[1], [0, 2], [0, 1, 2]])
@pytest.mark.parametrize("blank", ["none", "empty"])
def test_homes_without_geometry_are_reported(caplog, missing, blank):
    L = _lc_layers()
    for i in missing:
        L["buildings"].loc[i, "geometry"] = None if blank == "none" else shapely.Polygon()
    if len(missing) == 3:
        with pytest.raises(AnalysisError, match="no residential building"):
            lc.run(L, rules=_lc_rules(), isochrones="none")
        return
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        out = lc.run(L, rules=_lc_rules(), isochrones="none")
    ids = [["H1", "H2", "H3"][i] for i in missing]
    msg = [r.getMessage() for r in caplog.records if "without geometry" in r.getMessage()]
    assert len(msg) == 1 and f"{len(missing)} residential building(s)" in msg[0]
    assert all(i in msg[0] for i in ids)
    assert sorted(out["lc_origins"]["building_id"]) == sorted(set(["H1", "H2", "H3"]) - set(ids))


@pytest.mark.parametrize("geoms,wrong", [
    ([Point(X0 + 500, Y0 + 10)], "Point"),
    ([LineString([(X0, Y0 + 10), (X0 + 900, Y0 + 10)])], "LineString"),
    ([box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 500), Point(X0, Y0)], "Point"),
    ([shapely.MultiPoint([(X0, Y0), (X0 + 1, Y0)])], "MultiPoint"),
])
def test_point_or_line_communities_are_refused(geoms, wrong):
    L = _lc_layers()
    L["communities"] = gpd.GeoDataFrame({"id": [f"C{i}" for i in range(1, len(geoms) + 1)],
                                         "name": ["x"] * len(geoms)}, geometry=geoms, crs=CRS)
    with pytest.raises(AnalysisError) as err:
        lc.run(L, rules=_lc_rules(), isochrones="none")
    text = str(err.value)
    assert "layer 'communities'" in text and wrong in text and "polygons" in text
    assert "gcgeo add WS communities" in text
    assert f"C{len(geoms)}" in text


def _bow_tie_layers() -> tuple[dict, shapely.Polygon]:
    """The living circle's layers with one community, C1, drawn as a bow-tie (its outline
    crossing itself), and that outline."""
    L = _lc_layers()
    bowtie = shapely.Polygon([(X0 - 100, Y0 - 100), (X0 + 1100, Y0 + 500),
                              (X0 + 1100, Y0 - 100), (X0 - 100, Y0 + 500)])
    L["communities"] = gpd.GeoDataFrame({"id": ["C1"], "name": ["East"]}, geometry=[bowtie],
                                        crs=CRS)
    return L, bowtie


@pytest.mark.parametrize("isochrones", ["community", "facility", "none"])
def test_a_bow_tie_community_is_repaired_with_a_warning(caplog, isochrones):
    L, bowtie = _bow_tie_layers()
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        out = lc.run(L, rules=_lc_rules(), isochrones=isochrones)
    assert any("C1" in r.getMessage() and "repaired" in r.getMessage() for r in caplog.records)
    # independently: which homes lie in the two triangles of the bow-tie
    homes = shapely.point_on_surface(L["buildings"].geometry.to_numpy())
    inside = shapely.within(homes, shapely.make_valid(bowtie))
    comm = out["lc_communities"]
    assert comm["homes"].tolist() == [int(inside.sum())]
    assert comm.geometry.is_valid.all() and comm.geom_type.iloc[0] == "MultiPolygon"


def _homes_per_community(reader: str, L: dict) -> dict:
    """Homes per community as the supply analysis or the what-if / siting state counts them."""
    from gcgeo.analysis import supply
    from gcgeo.planning.state import load_state

    if reader == "supply":
        c = supply.run(L)["supply_communities"]
        return dict(zip(c["community_id"], c["homes"]))
    return load_state(L).homes["community_id"].value_counts().to_dict()


@pytest.mark.parametrize("reader", ["supply", "state"])
def test_the_analyses_built_on_the_living_circle_read_communities_as_it_does(caplog, reader):
    """The supply analysis and the what-if / siting state repair a bow-tie community with
    the living circle's warning and count the homes in the repaired outline; they refuse
    a point community with its words (the supply analysis used to take the bow-tie as
    drawn and the point as a community of no homes, without a word; the state repaired
    the bow-tie silently)."""
    L, bowtie = _bow_tie_layers()
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        got = _homes_per_community(reader, L)
    assert any("C1" in r.getMessage() and "repaired" in r.getMessage() for r in caplog.records)
    # independently: which homes lie in the two triangles of the bow-tie
    homes = shapely.point_on_surface(L["buildings"].geometry.to_numpy())
    inside = int(shapely.within(homes, shapely.make_valid(bowtie)).sum())
    assert 0 < inside < 3 and got.get("C1", 0) == inside
    assert got.get("C1", 0) == lc.run(L, rules=_lc_rules(), isochrones="none")["lc_communities"][
        "homes"].iloc[0]
    L["communities"] = gpd.GeoDataFrame({"id": ["C1", "C2"], "name": ["x", "y"]},
                                        geometry=[box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 500),
                                                  Point(X0, Y0)], crs=CRS)
    with pytest.raises(AnalysisError) as err:
        _homes_per_community(reader, L)
    assert all(w in str(err.value) for w in ("layer 'communities'", "Point", "polygons", "C2"))


def test_a_category_of_an_earlier_version_is_read_as_its_successor_by_every_reader(caplog):
    """A workspace from before 'culture' became 'culture_station': the living circle, the
    supply analysis and the what-if / siting state all count its facility as a culture
    station, and say so (the supply analysis refused it as no category; the state left it
    out as unknown)."""
    from gcgeo.analysis import supply
    from gcgeo.planning.state import load_state

    L = _lc_layers()
    L["facilities"] = pd.concat([L["facilities"], gpd.GeoDataFrame(
        {"category": ["culture"]}, geometry=[Point(X0 + 600, Y0 - 5)], crs=CRS)], ignore_index=True)
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        cats = lc.run(L, isochrones="none")["lc_categories"].set_index("category")
        assert cats.loc["culture_station", "facilities"] == 1
        assert "culture" not in cats.index
        assert sorted(supply.run(L)["supply_facilities"]["category"]) == ["culture_station",
                                                                           "supermarket"]
        assert sorted(load_state(L).facilities["category"]) == ["culture_station", "supermarket"]
    said = [r.getMessage() for r in caplog.records if "was renamed" in r.getMessage()]
    assert len(said) == 3 and all("'culture'" in m and "culture_station" in m for m in said)


def test_a_community_that_cannot_be_repaired_is_refused():
    L = _lc_layers()
    flat = shapely.Polygon([(X0, Y0), (X0 + 10, Y0), (X0 + 20, Y0)])
    L["communities"] = gpd.GeoDataFrame({"id": ["C1", "C2"], "name": ["a", "b"]},
                                        geometry=[box(X0, Y0, X0 + 10, Y0 + 10), flat], crs=CRS)
    with pytest.raises(AnalysisError, match="C2") as err:
        lc.run(L, rules=_lc_rules(), isochrones="none")
    assert "redraw" in str(err.value) and "C1" not in str(err.value)


@pytest.fixture
def lc_ws(tmp_path) -> Path:
    w = tmp_path / "lc.gpkg"
    _run("init", w, "--name", "lc", "--crs", CRS)
    for kind, frame in _lc_layers().items():
        if kind != "communities":
            frame.to_file(tmp_path / f"{kind}.gpkg")
            _run("add", w, kind, tmp_path / f"{kind}.gpkg")
    return w


@pytest.mark.parametrize("geom,code,words", [
    (Point(X0 + 500, Y0 + 10), 2, ["layer 'communities'", "Point", "polygons"]),
    (LineString([(X0, Y0 + 10), (X0 + 900, Y0 + 10)]), 2, ["LineString", "polygons"]),
    (shapely.Polygon([(X0 - 100, Y0 - 100), (X0 + 1100, Y0 + 500), (X0 + 1100, Y0 - 100),
                      (X0 - 100, Y0 + 500)]), 0, ["repaired", "validate --fix"]),
    (shapely.Polygon([(X0, Y0), (X0 + 10, Y0), (X0 + 20, Y0)]), 2, ["C1", "redraw"]),
])
def test_analyze_living_circle_on_bad_communities(lc_ws, tmp_path, geom, code, words):
    src = tmp_path / "comm.gpkg"
    gpd.GeoDataFrame({"id": ["C1"], "name": ["East"]}, geometry=[geom], crs=CRS).to_file(src)
    _run("add", lc_ws, "communities", src)
    intact = _Intact(lc_ws.parent)
    out = _run("analyze", lc_ws, "living_circle", "--isochrones", "none", code=code)
    for w in words:
        assert w in out, w
    if code:
        intact.check()
    else:
        assert ws.read_layer(lc_ws, "lc_communities")["homes"].tolist() == [2]


def test_another_region_is_told_before_a_layer_name_clash(g, kotka_frames):
    """Kotka has communities, as the workspace has: the region is the problem to tell."""
    intact = _Intact(g.parent)
    with pytest.raises(CRSError, match="new workspace"):
        ws.write_layers(g, {"communities": kotka_frames["communities"]}, kind="communities",
                        overwrite=False)
    intact.check()
