"""Intake at its edges: a CSV cut short, Shapefile field names cut inside a character, point
layers holding MultiPoints, and where an attestation file's rows are."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from gcgeo import FileFormatError, InputError, io, layers
from gcgeo import score as sc
from gcgeo import workspace as ws
from gcgeo.cli import main

HEADER = "id,name,lon,lat\n"
ROWS = ["1,鱼邱湖,116.201234,36.851234", "2,金城路,116.202345,36.852345",
        "3,人和街,116.203456,36.853456"]


def _csv(tmp_path: Path, text: str, name: str = "poi.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# --- a CSV cut short ----------------------------------------------------------------------


@pytest.mark.parametrize("last", ["3,116.203456,36.853456", "3,116.203456,36.85", "3,116.20"])
def test_a_csv_cut_inside_its_last_row_is_refused_by_line(tmp_path, last):
    # name last: a row cut before it keeps its coordinates, and was read without a word
    rows = ["1,116.201234,36.851234,鱼邱湖", "2,116.202345,36.852345,金城路", last]
    path = _csv(tmp_path, "id,lon,lat,name\n" + "\n".join(rows))  # no final line break
    fields = last.count(",") + 1  # the cut row's fields, fewer than the header's 4
    with pytest.raises(FileFormatError) as err:
        io.read_vector(path, src_crs="wgs84")
    text = str(err.value)
    assert text.startswith(f"{path}, line 4 ({fields} fields): fewer fields than the 4 its "
                           "header names; line 4 ends the file without a line break, so the "
                           "file was cut short")


def test_a_short_row_mid_file_is_refused_by_line(tmp_path):
    # the name left out of line 3: its coordinates are whole, so only the field count tells
    path = _csv(tmp_path, HEADER + f"{ROWS[0]}\n2,116.202345,36.852345\n{ROWS[2]}\n")
    with pytest.raises(FileFormatError) as err:
        io.read_vector(path, src_crs="wgs84")
    text = str(err.value)
    assert text.startswith(f"{path}, line 3 (3 fields): fewer fields than the 4 its header names")
    assert "Give every row all 4 fields" in text and "cut short" not in text


def test_a_last_value_with_fewer_decimals_is_read_with_a_warning(tmp_path, caplog):
    whole = _csv(tmp_path, HEADER + "\n".join(ROWS), "whole.csv")  # honest: no final line break
    cut = _csv(tmp_path, HEADER + "\n".join(ROWS[:2] + ["3,人和街,116.203456,36.8"]), "cut.csv")
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        got = io.read_vector(whole, src_crs="wgs84")
    assert _warnings(caplog) == []
    assert got.geometry.y.tolist() == [36.851234, 36.852345, 36.853456]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        got = io.read_vector(cut, src_crs="wgs84")
    assert got["name"].tolist() == ["鱼邱湖", "金城路", "人和街"]
    assert got.geometry.y.tolist() == [36.851234, 36.852345, 36.8]
    [warning] = _warnings(caplog)
    assert warning.startswith(f"{cut}, line 4, column 'lat': the file ends without a line break")
    assert "'36.8' has 1 decimal(s) where the column's other values have 6" in warning


def test_a_csv_ending_inside_a_character_is_refused(tmp_path):
    raw = "id,lon,lat,name\n1,116.201234,36.851234,鱼邱湖\n3,116.203456,36.853456,人和街".encode()
    path = tmp_path / "poi.csv"
    path.write_bytes(raw[:-1])  # 街 is three bytes: two are left
    with pytest.raises(FileFormatError) as err:
        io.read_vector(path, src_crs="wgs84")
    assert str(err.value).startswith(f"{path}, line 3: the file ends in the middle of a character")


def test_a_quote_never_closed_at_the_end_names_its_line(tmp_path):
    path = _csv(tmp_path, HEADER + "\n".join(ROWS[:2]) + '\n3,"人和街, 东,116.203456,36.853456')
    with pytest.raises(FileFormatError) as err:
        io.read_vector(path, src_crs="wgs84")
    text = str(err.value)
    assert text.startswith(f"{path}, line 4: a quote opened in that row is never closed")
    assert "cut short" in text


def test_gcgeo_add_refuses_a_cut_csv_naming_the_line(tmp_path):
    w = tmp_path / "w.gpkg"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(w), "--name", "高唐"]).exit_code == 0
    path = _csv(tmp_path, "id,kind,lon,lat\nc1,car,116.201234,36.851234\nc2,car,116.2023")
    res = runner.invoke(main, ["add", str(w), "chargers", str(path), "--src-crs", "wgs84"])
    assert res.exit_code != 0
    assert f"{path}, line 3 (3 fields)" in " ".join(res.output.split())
    assert "chargers" not in {str(n) for n in ws.list_layers(w)["layer"]}


# --- Shapefile field names cut inside a character -------------------------------------------


def _cut_names_shapefile(tmp_path: Path, names: list[str], values: list[list[object]], *,
                         cpg: str | None = "UTF-8") -> Path:
    """A Shapefile whose .dbf fields are named ``names`` cut to 10 bytes of UTF-8, as GDAL
    writes them (the cut may fall inside a character): written with ASCII names, then the
    names put into the .dbf's field descriptors by hand."""
    cols = {f"f{k}": v for k, v in enumerate(values)}
    gdf = gpd.GeoDataFrame(cols, geometry=[shapely.Point(428650 + 10 * i, 4080163) for i in
                                           range(len(values[0]))], crs="EPSG:4548")
    shp = tmp_path / "cut.shp"
    gdf.to_file(shp, engine="pyogrio", encoding="UTF-8")
    dbf = bytearray(shp.with_suffix(".dbf").read_bytes())
    for k, name in enumerate(names):
        raw = name.encode("utf-8")[:10]
        at = 32 + 32 * k
        dbf[at:at + 11] = raw + b"\x00" * (11 - len(raw))
    shp.with_suffix(".dbf").write_bytes(bytes(dbf))
    shp.with_suffix(".cpg").unlink()
    if cpg is not None:
        shp.with_suffix(".cpg").write_text(cpg)
    return shp


@pytest.mark.parametrize("cpg", ["UTF-8", None])
def test_field_names_cut_inside_a_character_are_read_without_it(tmp_path, caplog, cpg):
    # 15 and 18 bytes in UTF-8: cut to 10, the last byte the first of 度 / 区's three
    shp = _cut_names_shapefile(tmp_path, ["建筑高度米", "所属社区名称", "备注"],
                               [[12.5, 30.0], ["鱼邱湖社区", "金城社区"], ["一号", "二号"]], cpg=cpg)
    with caplog.at_level(logging.WARNING, logger="gcgeo"):
        got = io.read_vector(shp)
    assert list(got.columns) == ["建筑高", "所属社", "备注", "geometry"]
    assert got["建筑高"].tolist() == [12.5, 30.0]
    assert got["所属社"].tolist() == ["鱼邱湖社区", "金城社区"]
    assert got["备注"].tolist() == ["一号", "二号"]
    dbf = shp.with_suffix(".dbf")
    cut = [w for w in _warnings(caplog) if "was cut" in w]
    assert cut == [
        f"{dbf}: field name '建筑高\\xe5' was cut in the middle of a character by the .dbf's "
        "10-byte limit for names; read as '建筑高'",
        f"{dbf}: field name '所属社\\xe5' was cut in the middle of a character by the .dbf's "
        "10-byte limit for names; read as '所属社'"]
    assert not [w for w in _warnings(caplog) if "encoding" in w]  # UTF-8, said or found


def test_values_of_a_file_with_cut_names_are_still_decoded_strictly(tmp_path):
    shp = _cut_names_shapefile(tmp_path, ["所属社区名称"], [["鱼邱湖社区", "金城社区"]])
    dbf = shp.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    utf8, gbk = "金城社区".encode(), "金城社区".encode("gbk")
    at = bytes(raw).index(utf8)
    raw[at:at + len(utf8)] = gbk + b" " * (len(utf8) - len(gbk))  # row 2 in GBK
    dbf.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError) as err:
        io.read_vector(shp)
    text = str(err.value)
    assert text.startswith(f"{shp}: the text of row 2, 所属社 is not UTF-8")
    assert "give --encoding GB18030" in text


def test_two_names_cut_alike_are_refused(tmp_path):
    shp = _cut_names_shapefile(tmp_path, ["建筑高度米", "建筑高程"], [[12.5, 30.0], [3.0, 4.0]])
    with pytest.raises(FileFormatError) as err:
        io.read_vector(shp)
    text = str(err.value)
    assert text.startswith(f"{shp}: the field names '建筑高\\xe5' and '建筑高\\xe7' of cut.dbf "
                           "both read as '建筑高'")
    assert "GeoPackage" in text and "Nothing was read" in text


# --- point layers holding MultiPoints ----------------------------------------------------


def _chargers() -> gpd.GeoDataFrame:
    """A point, a MultiPoint of one point, a MultiPoint of two: as a GeoJSON may hold them."""
    return gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "kind": ["car", "car", "e-bike"]},
        geometry=[shapely.Point(116.205, 36.855), shapely.MultiPoint([(116.206, 36.855)]),
                  shapely.MultiPoint([(116.207, 36.855), (116.208, 36.855)])], crs=4326)


def test_add_and_validate_agree_on_multipoints(tmp_path):
    w = tmp_path / "w.gpkg"
    ws.init(w, name="w", crs="EPSG:4548")
    res = ws.add_layer(w, "chargers", _chargers())
    report, changes = ws.validate(w)
    geometry = [(p.row, p.id, p.problem, p.fixable) for p in report.problems
                if p.column == "geometry"]
    assert geometry == [("3", "c", "MultiPoint of 2 points where layer kind 'chargers' takes one "
                                    "per feature", True)]
    assert res["errors"] == len(report.errors) == 1 and changes == []
    # the MultiPoint of one point is read as the point it is
    stored = ws.read_layer(w, "chargers")
    assert stored.geom_type.tolist() == ["Point", "Point", "MultiPoint"]
    assert stored.to_crs(4326).geometry.iloc[1].equals_exact(shapely.Point(116.206, 36.855), 1e-9)
    report, changes = ws.validate(w, fix=True)
    assert changes == ["chargers: split 1 multi-part geometry into single parts (rows 3; 3 → 4 "
                       "features)"]
    fixed = ws.read_layer(w, "chargers")
    assert fixed["id"].tolist() == ["a", "b", "c-1", "c-2"]
    assert fixed.geom_type.tolist() == ["Point"] * 4 and report.ok


def test_the_cli_add_and_validate_count_the_same_problems(tmp_path):
    w, src = tmp_path / "w.gpkg", tmp_path / "chargers.geojson"
    _chargers().to_file(src)
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(w), "--name", "w", "--crs", "EPSG:4548"]).exit_code == 0
    added = runner.invoke(main, ["add", str(w), "chargers", str(src)])
    assert added.exit_code == 0 and "1 error(s), 0 warning(s)" in added.output
    checked = runner.invoke(main, ["validate", str(w)])
    assert checked.exit_code == 1
    assert "3 feature(s) checked: 1 error(s), 0 warning(s)" in checked.output


def test_single_parts_is_the_one_rule():
    g = _chargers().geometry.to_numpy()
    out, several = layers.single_parts(g, "chargers")
    assert [x.geom_type for x in out] == ["Point", "Point", "MultiPoint"]
    assert several.tolist() == [False, False, True]
    out, several = layers.single_parts(g, "facilities")  # a kind taking multi-part geometries
    assert [x.geom_type for x in out] == ["Point", "MultiPoint", "MultiPoint"]
    assert not several.any()
    assert layers.validate(_chargers().iloc[:2].to_crs(4548), "chargers").ok


# --- where an attestation was read ---------------------------------------------------------


TOML = """# attestations of 汇鑫街道, checked 2022-03

[[attestation]]
community = "K0"
criterion = 2
status = "met"
evidence = "居民议事会章程"
attested_by = "王某"
date = 2022-03-15

[[attestation]]
community = "K1"
criterion = 3
status = "met"
attested_by = "王某"
date = 2022-03-16

[[attestation]]   # the same criterion, said otherwise
community = "K0"
criterion = 2
status = "not_met"
attested_by = "李某"
date = 2022-03-17
"""


def test_a_toml_attestation_is_named_by_the_line_of_its_entry(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(TOML, encoding="utf-8")
    lines = [k for k, line in enumerate(TOML.splitlines(), start=1)
             if line.startswith("[[attestation]]")]
    assert lines == [3, 11, 18]
    with pytest.raises(InputError) as err:
        sc.read_attestations(path, communities=["K0", "K1"])
    text = str(err.value)
    assert "a.toml, the 2nd [[attestation]] entry, line 11: 'met' without evidence" in text
    assert ("the rows contradict each other (a.toml, the 1st [[attestation]] entry, line 3: met; "
            "a.toml, the 3rd [[attestation]] entry, line 18: not_met)") in text
    fixed = TOML.replace('status = "met"\nattested_by', 'status = "met"\ndocument = "k1.jpg"\n'
                         'attested_by').replace('status = "not_met"', 'status = "met"\nevidence = "x"')
    path.write_text(fixed, encoding="utf-8")
    got = sc.read_attestations(path, communities=["K0", "K1"])
    assert got[["community_id", "row"]].values.tolist() == [["K0", 3], ["K1", 11], ["K0", 19]]


def test_csv_and_xlsx_attestations_are_named_by_their_real_line_and_row(tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "a.csv"
    path.write_text('社区编号,项号,认定结果,佐证说明,认定人,认定日期\n'
                    'K0,2,符合,"议事会章程\n每月议事",王某,2022-03-15\n'
                    '\n'
                    'K9,3,符合,照片,王某,2022-03-16\n', encoding="utf-8")
    # the first row takes lines 2 and 3 (a line break inside its evidence); line 4 is blank
    with pytest.raises(InputError) as err:
        sc.read_attestations(path, communities=["K0", "K1"])
    assert "a.csv, line 5: community 'K9' is not in" in str(err.value)
    book = Workbook()
    sheet = book.active
    sheet.title = "汇鑫街道"
    sheet.append(["绿色社区创建标准认定表"])
    sheet.append([])
    sheet.append(["社区编号", "项号", "认定结果", "佐证说明", "认定人", "认定日期"])
    sheet.append(["K0", 2, "符合", "议事会", "王某", "2022-03-15"])
    sheet.append([])
    sheet.append(["K9", 3, "符合", "照片", "王某", "2022-03-16"])
    book.save(tmp_path / "a.xlsx")
    with pytest.raises(InputError) as err:
        sc.read_attestations(tmp_path / "a.xlsx", communities=["K0", "K1"])
    assert "a.xlsx, sheet '汇鑫街道', row 6: community 'K9' is not in" in str(err.value)
    np.testing.assert_array_equal(
        sc.read_attestations(tmp_path / "a.xlsx", communities=["K0", "K9"])["row"], [4, 6])
