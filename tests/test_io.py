"""Reading every input format and exporting to every output format (round trips)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gcgeo import CRSError, FileFormatError, InputError, OutputExistsError, io
from gcgeo import crs as C
from gcgeo._shapefile import cpg_encoding

DATA = Path(__file__).parent / "data"


@pytest.fixture
def frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["0001", "0002", "0010"],  # numeric-looking codes must stay text
            "name": ["鱼邱湖街道一号井", "金城路", "O'Brien, \"quoted\""],
            "manager_contact_phone": ["0635-1", None, "138"],
            "population": pd.array([120, None, 7], dtype="Int64"),
            "height_m": [3.5, np.nan, 12.25],
            "old_estate": pd.array([True, False, None], dtype="boolean"),
        },
        geometry=[shapely.Point(428650.25, 4080163.5), shapely.Point(429551.0, 4081265.75),
                  shapely.Point(430443.125, 4081258.0)],
        crs="EPSG:4548",
    )


def _plain(v):
    """A value as any format can hold it: missing → None, numbers and numeric text → float
    (yes/no → 1/0, as in a .dbf), other text as is."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_, int, np.integer, float, np.floating)):
        return float(v)
    text = str(v)
    if text in ("True", "False"):  # a CSV's text for yes/no
        return float(text == "True")
    if re.fullmatch(r"0\d+", text):  # a code such as 0001
        return text
    try:
        return float(text)
    except ValueError:
        return text


def _lonlat(gdf):
    g = gdf.to_crs(4326).geometry
    return np.column_stack([g.x, g.y])


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson", ".fgb", ".parquet", ".kml", ".csv"])
def test_round_trip_every_format(tmp_path, frame, suffix):
    out = tmp_path / f"manholes{suffix}"
    report = io.export(frame, out)
    assert out.exists() and report.files == [out]
    kwargs = {"src_crs": "wgs84"} if suffix == ".csv" else {}
    back = io.read_vector(out, **kwargs)
    assert len(back) == 3
    if "id" in back.columns:  # FlatGeobuf's spatial index reorders features
        back = back.set_index("id").loc[frame["id"]].reset_index()
    # coordinates: exact in the layer's CRS, ≤ 1 mm after the EPSG:4326 formats
    np.testing.assert_allclose(_lonlat(back), _lonlat(frame), atol=1e-8)
    names = back.get("name")
    assert list(names) == list(frame["name"])
    # every column comes back under its own name (a Shapefile's by its field map), with its values
    expected = frame.drop(columns="geometry")
    got = pd.DataFrame(back.drop(columns=back.geometry.name))
    if suffix == ".kml":  # each placemark's description, written for Google Earth's balloons
        assert got.pop("description").str.contains("<br>").all()
    assert set(got.columns) == set(expected.columns)
    assert got["id"].tolist() == ["0001", "0002", "0010"]
    for col in expected.columns:
        assert [_plain(v) for v in got[col]] == [_plain(v) for v in expected[col]], col
    if suffix in (".gpkg", ".fgb", ".parquet", ".geojson", ".csv"):
        # CSV columns come back as text (the layer specs type them); the value is the same
        assert float(back["height_m"].iloc[2]) == pytest.approx(12.25)
        assert pd.isna(back["height_m"].iloc[1])
        assert int(back["population"].iloc[0]) == 120
    if suffix == ".shp":
        assert (tmp_path / "manholes.cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
        assert report.renamed_fields["manholes"]["manager_contact_phone"] == "manager_co"
        assert "manager_co" in pyogrio.read_info(out)["fields"]  # the .dbf's own name
        assert back["manager_contact_phone"].iloc[0] == "0635-1"
        assert back["old_estate"].tolist()[:2] == [1, 0]


def test_geojson_is_rfc7946_wgs84(tmp_path, frame):
    out = tmp_path / "x.geojson"
    io.export(frame, out)
    text = out.read_text(encoding="utf-8")
    assert '"crs"' not in text  # RFC 7946: no crs member, WGS-84 implied
    assert "鱼邱湖" in text
    assert pyogrio.read_info(out)["crs"] == "EPSG:4326"


def test_csv_wkt_for_polygons(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["p"]}, geometry=[shapely.box(428000, 4080000, 428100, 4080100)],
                           crs=4548)
    report = io.export(gdf, tmp_path / "p.csv")
    table = pd.read_csv(tmp_path / "p.csv")
    poly = gpd.GeoSeries.from_wkt(table["wkt"], crs=4326).to_crs(4548).iloc[0]
    assert poly.area == pytest.approx(10_000, rel=1e-6)
    assert "wkt" in report.notes[0]
    with pytest.raises(InputError, match="not all points"):
        io.export(gdf, tmp_path / "q.csv", csv_geometry="lonlat")


def test_export_never_overwrites_without_permission(tmp_path, frame):
    out = tmp_path / "m.gpkg"
    io.export(frame, out)
    before = out.read_bytes()
    with pytest.raises(OutputExistsError, match="--overwrite"):
        io.export(frame.iloc[:1], out)
    assert out.read_bytes() == before
    io.export(frame.iloc[:1], out, overwrite=True)
    assert len(io.read_vector(out)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m.gpkg"]  # no temporary files left


def test_several_layers_one_gpkg_or_one_file_each(tmp_path, frame):
    lines = gpd.GeoDataFrame({"id": ["l"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])],
                             crs=4548)
    io.export({"manholes": frame, "streets": lines}, tmp_path / "all.gpkg")
    assert sorted(n for n, _ in pyogrio.list_layers(tmp_path / "all.gpkg")) == [
        "layer_styles", "manholes", "streets"]  # and their QGIS styles
    with pytest.raises(InputError, match="--layer"):
        io.read_vector(tmp_path / "all.gpkg")
    assert len(io.read_vector(tmp_path / "all.gpkg", layer="streets")) == 1
    with pytest.raises(InputError, match="no layer 'roads'"):
        io.read_vector(tmp_path / "all.gpkg", layer="roads")
    rep = io.export({"manholes": frame, "streets": lines}, tmp_path / "all.geojson")
    assert sorted(p.name for p in rep.files) == ["all_manholes.geojson", "all_streets.geojson"]


def test_mixed_geometry_shapefile_split_by_type(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["a", "b"]},
                           geometry=[shapely.Point(0, 0), shapely.box(0, 0, 1, 1)], crs=4548)
    rep = io.export(gdf, tmp_path / "parking.shp")
    assert sorted(p.name for p in rep.files) == ["parking_point.shp", "parking_polygon.shp"]


def test_shapefile_field_names_unique_and_short():
    m = io.shapefile_field_names(["population_2020", "population_2021", "名称名称名称", "id"])
    assert m["population_2020"] == "population"
    assert m["population_2021"] == "populati_1"
    assert len(m["名称名称名称"].encode("utf-8")) <= 10
    assert len(set(m.values())) == 4


def _gbk_shapefile(folder: Path, *, cpg: bool) -> Path:
    gdf = gpd.GeoDataFrame({"名称": ["鱼邱湖社区", "人和社区"], "人口": [3200, 4100]},
                           geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)],
                           crs=4548)
    path = folder / "社区.shp"
    pyogrio.write_dataframe(gdf, path, encoding="GBK")
    if not cpg:
        path.with_suffix(".cpg").unlink()
    return path


@pytest.mark.parametrize("cpg", [True, False])
def test_gbk_shapefile_with_and_without_cpg(tmp_path, cpg):
    path = _gbk_shapefile(tmp_path, cpg=cpg)
    raw = path.with_suffix(".dbf").read_bytes()
    assert "鱼邱湖社区".encode("gbk") in raw  # really GBK on disk
    back = io.read_vector(path)
    assert back["名称"].tolist() == ["鱼邱湖社区", "人和社区"]


def test_encoding_override(tmp_path):
    path = _gbk_shapefile(tmp_path, cpg=True)
    path.with_suffix(".cpg").write_text("UTF-8")  # a wrong .cpg, as happens
    assert io.read_vector(path, encoding="GBK")["名称"].iloc[0] == "鱼邱湖社区"


def test_csv_points_in_gcj02_come_back_to_truth(tmp_path):
    true = np.array([[116.2301, 36.8612], [116.2455, 36.8701]])
    glon, glat = C.wgs84_to_gcj02(true[:, 0], true[:, 1])
    path = tmp_path / "poi.csv"
    pd.DataFrame({"名称": ["幼儿园", "超市"], "经度": glon, "纬度": glat}).to_csv(
        path, index=False, encoding="utf-8")
    with pytest.raises(CRSError, match="--src-crs"):
        io.read_vector(path)
    gdf = io.read_vector(path, src_crs="gcj02")
    d = gdf.to_crs(4548).distance(
        gpd.GeoSeries(gpd.points_from_xy(true[:, 0], true[:, 1]), crs=4326).to_crs(4548))
    assert d.max() < 0.01
    assert gdf["名称"].tolist() == ["幼儿园", "超市"]


def test_gbk_csv_and_xlsx_with_named_columns(tmp_path):
    df = pd.DataFrame({"编号": ["J1", "J2"], "管理人": ["城管局", "自来水公司"],
                       "X坐标": [428650.0, 429551.0], "Y坐标": [4080163.0, 4081265.0]})
    csv = tmp_path / "井盖.csv"
    df.to_csv(csv, index=False, encoding="gbk")
    gdf = io.read_vector(csv, src_crs="EPSG:4548", x="X坐标", y="Y坐标")
    assert gdf["管理人"].tolist() == ["城管局", "自来水公司"]
    assert gdf.crs.to_epsg() == 4548 and gdf.geometry.x.iloc[1] == 429551.0
    xlsx = tmp_path / "井盖.xlsx"
    df.to_excel(xlsx, index=False)
    gx = io.read_vector(xlsx, src_crs="EPSG:4548")  # X坐标/Y坐标 are recognised
    assert gx.geometry.y.tolist() == [4080163.0, 4081265.0]
    with pytest.raises(InputError, match="no column 'east'"):
        io.read_vector(xlsx, src_crs="EPSG:4548", x="east")


def test_bad_rows_named_by_line(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("lon,lat\n116.2,36.8\n,36.9\nabc,37\n", encoding="utf-8")
    with pytest.raises(InputError, match="lines 3, 4"):
        io.read_vector(path, src_crs="wgs84")


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        io.read_vector(tmp_path / "nope.shp")
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"this is not a geopackage")
    with pytest.raises(FileFormatError, match="junk.gpkg"):
        io.read_vector(junk)
    with pytest.raises(InputError, match="unknown suffix"):
        io.export(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=4326), tmp_path / "x.dwg")


def test_real_shapefile_and_flatgeobuf_geoparquet_kml(tmp_path):
    tracts = io.read_vector(DATA / "vector" / "olinda_tracts" / "olinda1.shp")
    assert len(tracts) == 470 and "V014" in tracts.columns
    for suffix in (".fgb", ".parquet", ".kml"):
        out = tmp_path / f"t{suffix}"
        io.export(tracts, out)
        back = io.read_vector(out)
        assert len(back) == 470
        a = back.to_crs(31985).geometry.area.sum()
        assert a == pytest.approx(tracts.to_crs(31985).geometry.area.sum(), rel=1e-6)


def test_reading_never_modifies_input(tmp_path):
    path = _gbk_shapefile(tmp_path, cpg=False)
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    io.read_vector(path)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()} == digest


def test_table_ids_keep_leading_zeros(tmp_path):
    path = tmp_path / "井盖.csv"
    path.write_text("id,code,lon,lat\n0001,0101,116.2301,36.8612\n0002,0202,116.2455,36.8701\n",
                    encoding="utf-8")
    gdf = io.read_vector(path, src_crs="wgs84")
    assert gdf["id"].tolist() == ["0001", "0002"]
    assert gdf["code"].tolist() == ["0101", "0202"]
    assert gdf.geometry.x.tolist() == [116.2301, 116.2455]
    xlsx = tmp_path / "井盖.xlsx"
    pd.DataFrame({"id": ["0001", "0002"], "人口": [12, 30], "lon": [116.2301, 116.2455],
                  "lat": [36.8612, 36.8701]}).to_excel(xlsx, index=False)
    gx = io.read_vector(xlsx, src_crs="wgs84")
    assert gx["id"].tolist() == ["0001", "0002"]  # text cells stay text
    assert gx.geometry.y.tolist() == [36.8612, 36.8701]  # numbers exactly as stored
    assert [int(v) for v in gx["人口"]] == [12, 30]


def test_empty_rows_are_dropped_rows_without_coordinates_are_not(tmp_path, caplog):
    path = tmp_path / "p.csv"
    path.write_text("id,lon,lat\n0001,116.2,36.8\n,,\n\n0002,116.3,36.9\n , , \n",
                    encoding="utf-8")
    with caplog.at_level("INFO", logger="gcgeo.io"):
        gdf = io.read_vector(path, src_crs="wgs84")
    assert gdf["id"].tolist() == ["0001", "0002"]
    assert "3 empty row(s)" in caplog.text
    path.write_text("id,lon,lat\n0001,116.2,36.8\n,,\n0002,,\n", encoding="utf-8")
    with pytest.raises(InputError, match="1 row.*lines 4\\)"):
        io.read_vector(path, src_crs="wgs84")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in (["id", "lon", "lat"], ["0001", 116.2, 36.8], [None, None, None],
                ["0002", 116.3, 36.9], [], ["0003", None, None]):
        ws.append(row)
    xlsx = tmp_path / "p.xlsx"
    wb.save(xlsx)
    with pytest.raises(InputError, match="1 row.*lines 6\\)"):  # blank sheet rows 3 and 5 skipped
        io.read_vector(xlsx, src_crs="wgs84")
    ws.delete_rows(6)
    wb.save(xlsx)
    assert io.read_vector(xlsx, src_crs="wgs84")["id"].tolist() == ["0001", "0002"]


def test_swapped_lon_lat_columns_are_named(tmp_path):
    path = tmp_path / "poi.csv"
    # the column called lon holds latitudes and lat holds longitudes
    path.write_text("name,lon,lat\na,36.8612,116.2301\nb,36.8701,116.2455\n", encoding="utf-8")
    for crs in ("wgs84", "gcj02", "EPSG:4490"):
        with pytest.raises(InputError, match="swapped.*--x lat --y lon"):
            io.read_vector(path, src_crs=crs)
    gdf = io.read_vector(path, src_crs="wgs84", x="lat", y="lon")  # the suggested fix works
    assert gdf.geometry.x.tolist() == [116.2301, 116.2455]
    proj = tmp_path / "proj.csv"
    proj.write_text("x,y\n428650.0,4080163.0\n", encoding="utf-8")
    with pytest.raises(CRSError, match="not degrees"):  # projected values: not a swap
        io.read_vector(proj, src_crs="wgs84")


def test_mixed_shapefile_keeps_rows_without_geometry(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["a", "b", "c", "d", "e"]},
                           geometry=[shapely.box(0, 0, 1, 1), shapely.Point(0, 0), None,
                                     shapely.GeometryCollection(), shapely.Point(2, 2)],
                           crs=4548)
    rep = io.export(gdf, tmp_path / "parking.shp")
    parts = {p.name: io.read_vector(p) for p in rep.files}
    assert sorted(parts) == ["parking_point.shp", "parking_polygon.shp"]
    assert sorted(parts["parking_point.shp"]["id"]) == ["b", "c", "d", "e"]
    assert parts["parking_polygon.shp"]["id"].tolist() == ["a"]
    assert any("2 feature(s) without geometry" in n and "parking_point.shp" in n
               for n in rep.notes)


def test_exports_carry_layer_names_not_temporary_ones(tmp_path, frame):
    import json

    io.export(frame, tmp_path / "manholes.geojson")
    assert json.loads((tmp_path / "manholes.geojson").read_text(encoding="utf-8"))["name"] == \
        "manholes"
    io.export({"wells": frame}, tmp_path / "w.geojson")
    assert json.loads((tmp_path / "w.geojson").read_text(encoding="utf-8"))["name"] == "wells"
    io.export(frame, tmp_path / "manholes.fgb")
    assert [n for n, _ in pyogrio.list_layers(tmp_path / "manholes.fgb")] == ["manholes"]
    rep = io.export(frame, tmp_path / "manholes.csv")
    assert rep.notes[0].startswith("manholes.csv: ")
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_csv_export_keeps_users_lon_lat_wkt_columns_and_needs_a_crs(tmp_path):
    pts = gpd.GeoDataFrame({"lon": ["survey A"], "lat": ["survey B"], "lon_1": [7]},
                           geometry=[shapely.Point(116.25, 36.86)], crs=4326)
    rep = io.export(pts, tmp_path / "p.csv")
    table = pd.read_csv(tmp_path / "p.csv", dtype=str)
    assert list(table.columns) == ["lon", "lat", "lon_1", "lon_2", "lat_1"]
    assert table.loc[0, ["lon", "lat", "lon_1"]].tolist() == ["survey A", "survey B", "7"]
    assert float(table.loc[0, "lon_2"]) == 116.25 and float(table.loc[0, "lat_1"]) == 36.86
    assert "lon_2" in rep.notes[0] and "lat_1" in rep.notes[0]
    poly = gpd.GeoDataFrame({"wkt": ["mine"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    io.export(poly, tmp_path / "q.csv")
    table = pd.read_csv(tmp_path / "q.csv", dtype=str)
    assert table["wkt"].tolist() == ["mine"]
    assert shapely.from_wkt(table["wkt_1"].iloc[0]).equals(shapely.box(0, 0, 1, 1))
    with pytest.raises(InputError, match="no CRS.*declare"):
        io.export(pts.set_crs(None, allow_override=True), tmp_path / "r.csv")
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("cpg", ["ANSI 936", "936", "cp936", "GBK"])
def test_gbk_code_page_spellings_in_cpg(tmp_path, cpg):
    path = _gbk_shapefile(tmp_path, cpg=True)
    path.with_suffix(".cpg").write_text(cpg)
    assert io.read_vector(path)["名称"].tolist() == ["鱼邱湖社区", "人和社区"]


def test_code_page_numbers_in_cpg(tmp_path):
    gdf = gpd.GeoDataFrame({"名称": ["鱼邱湖社区"], "note": ["café"]},
                           geometry=[shapely.Point(0, 0)], crs=4548)
    path = tmp_path / "u.shp"
    pyogrio.write_dataframe(gdf, path, encoding="UTF-8")
    path.with_suffix(".cpg").write_text("65001")
    assert io.read_vector(path)["名称"].tolist() == ["鱼邱湖社区"]
    latin = tmp_path / "l.shp"
    pyogrio.write_dataframe(gdf[["note", "geometry"]], latin, encoding="cp1252")
    latin.with_suffix(".cpg").write_text("1252")
    assert io.read_vector(latin)["note"].tolist() == ["café"]
    assert cpg_encoding("ANSI 1252") == "cp1252"


def test_unknown_encoding_is_a_file_format_error(tmp_path):
    path = _gbk_shapefile(tmp_path, cpg=True)
    with pytest.raises(FileFormatError, match="社区.shp.*--encoding"):
        io.read_vector(path, encoding="GBKX")
    path.with_suffix(".cpg").write_text("NOSUCHCODEPAGE")
    with pytest.raises(FileFormatError, match="社区.shp.*--encoding"):
        io.read_vector(path)
    csv = tmp_path / "p.csv"
    csv.write_text("lon,lat\n116.2,36.8\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="p.csv.*--encoding"):
        io.read_vector(csv, src_crs="wgs84", encoding="foo")
    assert io.read_vector(csv, src_crs="wgs84", encoding="gbk").geometry.x.tolist() == [116.2]


def test_flatgeobuf_keeps_features_without_geometry(tmp_path):
    """GDAL's FlatGeobuf spatial index refuses a feature without geometry (as the living
    circle's isochrones of an origin off the network are): the file is written without
    the index, every feature and its geometry kept, and the report says so."""
    square = shapely.box(434800, 4078800, 434900, 4078900)
    geoms = [shapely.MultiPolygon([square]), shapely.MultiPolygon(), None,
             shapely.MultiPolygon([square.buffer(-10)])]
    layer = gpd.GeoDataFrame({"origin": ["a", "b", "c", "d"], "minutes": [5, 10, 15, 5]},
                             geometry=geoms, crs="EPSG:4548")
    out = tmp_path / "iso.fgb"
    report = io.export({"lc_isochrones": layer}, out)
    assert any("without geometry" in n and "spatial index" in n for n in report.notes), report.notes
    back = pyogrio.read_dataframe(out)
    assert back["origin"].tolist() == ["a", "b", "c", "d"]
    assert back["minutes"].tolist() == [5, 10, 15, 5]
    for got, want in zip(back.geometry, geoms):
        if want is None or want.is_empty:
            assert got is None or got.is_empty
        else:
            assert got.equals_exact(want, 1e-9)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
