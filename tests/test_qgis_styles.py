"""GeoPackages carry QGIS styles, field aliases and value labels, and real QGIS applies them.

The workspace and ``gcgeo export … .gpkg`` write ``layer_styles`` (QML and
SLD), ``gpkg_data_columns`` and ``gpkg_data_column_constraints``. The tables
are read back with sqlite3 and GDAL (``ogrinfo``, and the checks of GDAL's
GeoPackage validator), and the files are opened in QGIS: Debian's
``python3-qgis`` binds the system Python, so tests/qgis_probe.py runs as a
subprocess of /usr/bin/python3 and reports, as JSON, the renderer QGIS
applied to each layer, the colour it draws each feature in, the aliases and
value maps, and PNG renderings. Colours are checked against the colours
gcgeo's folium map gives the same rows (``gcgeo.maps.style_layer``), and
labels against the Chinese words of the layer specs and rules.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from _qgis import QGIS_MISSING, SYSTEM_PYTHON, needs_qgis, probe
from click.testing import CliRunner

from gcgeo import analysis, io, pipeline
from gcgeo import workspace as ws
from gcgeo.cli import main
from gcgeo.gpkg_styles import write_styles
from gcgeo.maps import style_layer
from gcgeo.testing import synthetic_county

CJK = re.compile(r"[\u4e00-\u9fff]")
#: the Chinese label of share_all_within_15min, written here by hand
LCC_15 = "十五分钟生活圈（含以下层级）要求的各类设施均在十五分钟生活圈步行距离内的居民比例"


needs_ogrinfo = pytest.mark.skipif(shutil.which("ogrinfo") is None,
                                   reason="GDAL's ogrinfo is not installed: apt-get install -y gdal-bin")


# --- the data: the synthetic county with every analysis, and rows on the class breaks -------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    county = synthetic_county(0)
    path = tmp_path_factory.mktemp("qgis") / "gaotang.gpkg"
    ws.init(path, name="高唐县", crs=county.crs.to_string())
    for kind, frame in county.layers.items():
        ws.add_layer(path, kind, frame)
    for name in analysis.descriptors():
        pipeline.run_analysis(path, name)
    return path


@pytest.fixture(scope="module")
def exported(workspace) -> Path:
    out = workspace.parent / "export_zh.gpkg"
    res = CliRunner().invoke(main, ["export", str(workspace), str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def exported_en(workspace) -> Path:
    out = workspace.parent / "export_en.gpkg"
    res = CliRunner().invoke(main, ["export", str(workspace), str(out), "--lang", "en",
                                    "--layers", "buildings,fire_findings,lc_communities"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


def _boxes(n: int) -> list:
    return [shapely.box(i * 100.0, 0, i * 100.0 + 90, 90) for i in range(n)]


def _points(n: int) -> list:
    return [shapely.Point(i * 50.0, 0) for i in range(n)]


@pytest.fixture(scope="module")
def edges(tmp_path_factory) -> Path:
    """Layers whose rows sit on every class break, lack values, or are classified by
    categories derived from several columns: the cases where two renderers can differ."""
    crs = "EPSG:4548"
    shares = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, np.nan, 0.19999]
    served = pd.DataFrame({"all_within_5min": [True, False, False, False, None, False, None],
                           "all_within_10min": [True, True, False, False, None, True, True],
                           "all_within_15min": [True, True, True, False, None, False, None]}).astype("boolean")
    green = pd.DataFrame({"served_300m_green": [True, True, False, False, None],
                          "served_500m_park": [True, False, True, False, True]}).astype("boolean")
    frames = {
        "lc_communities": gpd.GeoDataFrame({"community_name": [f"社区{i}" for i in range(8)],
                                            "share_all_within_5min": shares, "share_all_within_15min": shares[::-1]},
                                           geometry=_boxes(8), crs=crs),
        "lc_origins": gpd.GeoDataFrame(served, geometry=_points(7), crs=crs),
        "green_origins": gpd.GeoDataFrame(green, geometry=_points(5), crs=crs),
        "green_communities": gpd.GeoDataFrame({"green_ratio": [0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, np.nan]},
                                              geometry=_boxes(8), crs=crs),
        "fire_communities": gpd.GeoDataFrame({"n_findings": pd.array([0, 1, 2, 5, None, 9], dtype="Int64")},
                                             geometry=_boxes(6), crs=crs),
        "buildings": gpd.GeoDataFrame({"use": ["residential", "mixed", "commercial", None]},
                                      geometry=_boxes(4), crs=crs),
        "streets": gpd.GeoDataFrame({"walkable": pd.array([True, False, None], dtype="boolean")},
                                    geometry=[shapely.LineString([(0, i * 10.0), (100, i * 10.0)]) for i in range(3)],
                                    crs=crs),
    }
    out = tmp_path_factory.mktemp("edges") / "edges.gpkg"
    io.export(frames, out)
    return out


@pytest.fixture(scope="module")
def qgis_export(exported, tmp_path_factory):
    if QGIS_MISSING:
        pytest.skip(QGIS_MISSING)
    folder = tmp_path_factory.mktemp("png")
    return probe(exported, folder / "report.json", folder), folder


# --- the tables, read with sqlite3 ---------------------------------------------------------------


def _info(con: sqlite3.Connection, table: str) -> list[tuple]:
    """(name, type, notnull) of each column, in order."""
    return [(r[1], r[2], r[3]) for r in con.execute(f"PRAGMA table_info({table})")]


def test_the_tables_have_the_schema_qgis_and_the_spec_give_them(exported):
    con = sqlite3.connect(exported)
    assert _info(con, "layer_styles") == [
        ("id", "INTEGER", 1), ("f_table_catalog", "TEXT(256)", 0), ("f_table_schema", "TEXT(256)", 0),
        ("f_table_name", "TEXT(256)", 0), ("f_geometry_column", "TEXT(256)", 0), ("styleName", "TEXT(30)", 0),
        ("styleQML", "TEXT", 0), ("styleSLD", "TEXT", 0), ("useAsDefault", "BOOLEAN", 0),
        ("description", "TEXT", 0), ("owner", "TEXT(30)", 0), ("ui", "TEXT(30)", 0),
        ("update_time", "DATETIME", 0)]
    assert con.execute("SELECT data_type, identifier FROM gpkg_contents WHERE table_name = 'layer_styles'"
                       ).fetchall() == [("attributes", "layer_styles")]
    assert _info(con, "gpkg_data_columns") == [
        ("table_name", "TEXT", 1), ("column_name", "TEXT", 1), ("name", "TEXT", 0), ("title", "TEXT", 0),
        ("description", "TEXT", 0), ("mime_type", "TEXT", 0), ("constraint_name", "TEXT", 0)]
    assert _info(con, "gpkg_data_column_constraints") == [
        ("constraint_name", "TEXT", 1), ("constraint_type", "TEXT", 1), ("value", "TEXT", 0),
        ("min", "NUMERIC", 0), ("min_is_inclusive", "BOOLEAN", 0), ("max", "NUMERIC", 0),
        ("max_is_inclusive", "BOOLEAN", 0), ("description", "TEXT", 0)]
    ext = con.execute("SELECT table_name, column_name, scope FROM gpkg_extensions "
                      "WHERE extension_name = 'gpkg_schema' ORDER BY table_name").fetchall()
    assert ext == [("gpkg_data_column_constraints", None, "read-write"), ("gpkg_data_columns", None, "read-write")]
    # every data-column row names a column its table has
    for table, column in con.execute("SELECT table_name, column_name FROM gpkg_data_columns"):
        assert column in {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}, (table, column)


def test_every_layer_has_one_default_style_and_the_map_variants(exported):
    con = sqlite3.connect(exported)
    layers = {n for n, g in pyogrio.list_layers(exported) if g and n != "layer_styles"}
    rows = con.execute("SELECT f_table_name, styleName, useAsDefault, f_geometry_column, owner "
                       "FROM layer_styles").fetchall()
    defaults = {t: [r for r in rows if r[0] == t and r[2] == 1] for t in layers}
    assert all(len(d) == 1 for d in defaults.values()), defaults
    assert {r[3] for r in rows if r[0] in layers} == {"geom"}
    assert {r[4] for r in rows} == {"gcgeo"}
    # the living-circle map offers the share per tier; the default is the largest tier, as on the map
    lcc = pyogrio.read_dataframe(exported, layer="lc_communities")
    tiers = [c for c in lcc.columns if c.startswith("share_all_within_")]
    assert len([r for r in rows if r[0] == "lc_communities"]) == len(tiers) == 3
    assert defaults["lc_communities"][0][1] == LCC_15
    assert defaults["green_communities"][0][1] == "绿地率"


def test_aliases_and_value_labels_in_chinese(exported):
    con = sqlite3.connect(exported)
    alias = {(t, c): n for t, c, n in con.execute("SELECT table_name, column_name, name FROM gpkg_data_columns")}
    # the words of the layer specs and rules, written here by hand
    assert alias[("buildings", "floors")] == "层数"
    assert alias[("buildings", "use")] == "用途"
    assert alias[("facilities", "category")] == "设施类别"
    assert alias[("fire_findings", "severity")] == "严重程度"
    assert alias[("lc_communities", "share_all_within_15min")] == LCC_15
    assert all(CJK.search(n) for n in alias.values() if n), [n for n in alias.values() if not CJK.search(n)]
    enum = {}
    for name, value, desc in con.execute("SELECT constraint_name, value, description FROM "
                                         "gpkg_data_column_constraints WHERE constraint_type = 'enum'"):
        enum.setdefault(name, {})[value] = desc
    refs = dict(con.execute("SELECT table_name || '.' || column_name, constraint_name FROM gpkg_data_columns "
                            "WHERE constraint_name IS NOT NULL"))
    use = enum[refs["buildings.use"]]
    assert use["residential"] == "住宅" and use["commercial"] == "商业" and use["mixed"] == "混合"
    assert enum[refs["fire_findings.severity"]]["medium"] == "中"
    assert enum[refs["facilities.category"]]["kindergarten"] == "幼儿园"
    # the enum lists every value the layer holds, so the data keeps to its constraint
    findings = pyogrio.read_dataframe(exported, layer="fire_findings")
    assert set(findings["severity"].dropna()) <= set(enum[refs["fire_findings.severity"]])


def test_english_export_has_english_labels(exported_en):
    con = sqlite3.connect(exported_en)
    alias = {(t, c): n for t, c, n in con.execute("SELECT table_name, column_name, name FROM gpkg_data_columns")}
    assert alias[("buildings", "floors")] == "Floors"
    assert not any(CJK.search(n) for n in alias.values() if n)
    qml = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'buildings'").fetchone()[0]
    labels = [c.get("label") for c in ET.fromstring(qml.split("\n", 1)[1]).iter("category")]
    assert labels[0] == "Residential" and not any(CJK.search(x) for x in labels)


def test_the_workspace_carries_the_styles_and_keeps_a_style_saved_in_qgis(workspace, tmp_path):
    path = tmp_path / "w.gpkg"
    shutil.copyfile(workspace, path)
    con = sqlite3.connect(path)
    before = con.execute("SELECT f_table_name, styleName FROM layer_styles ORDER BY 1, 2").fetchall()
    tables = {t for t, _ in before}
    assert {"buildings", "lc_communities", "fire_findings", "green_origins"} <= tables
    # a planner's own default style, saved from QGIS (owner '', as QGIS writes it)
    con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, useAsDefault, owner) VALUES ('', '', 'fire_findings', 'geom', 'mine', "
                "'<qgis/>', 1, '')")
    con.commit()
    con.close()
    pipeline.run_analysis(path, "fire_lanes")  # rewrites fire_findings and its styles
    con = sqlite3.connect(path)
    after = con.execute("SELECT f_table_name, styleName FROM layer_styles WHERE owner = 'gcgeo' "
                        "ORDER BY 1, 2").fetchall()
    assert after == before  # replaced, not added again
    assert con.execute("SELECT styleName FROM layer_styles WHERE f_table_name = 'fire_findings' "
                       "AND useAsDefault = 1").fetchall() == [("mine",)]


def test_a_layer_under_another_name_is_styled_by_its_kind_and_an_empty_one_by_its_type(tmp_path):
    path = tmp_path / "w.gpkg"
    ws.init(path, name="小", crs="EPSG:4548")
    homes = gpd.GeoDataFrame({"residential": [True, False]}, geometry=_boxes(2), crs=4548)
    ws.add_layer(path, "buildings", homes, name="buildings_2020")
    ws.write_layers(path, {"facilities": gpd.GeoDataFrame({"category": pd.Series([], dtype=str)},
                                                          geometry=[], crs=4548)}, kind="facilities")
    con = sqlite3.connect(path)
    qml = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault = 1"))
    rend = ET.fromstring(qml["buildings_2020"].split("\n", 1)[1]).find("renderer-v2")
    assert (rend.get("type"), rend.get("attr")) == ("categorizedSymbol", "residential")
    assert [c.get("label") for c in rend.iter("category")] == ["住宅", "其他"]
    assert dict(con.execute("SELECT column_name, name FROM gpkg_data_columns WHERE table_name = 'buildings_2020'"
                            ))["residential"] == "住宅"
    empty = ET.fromstring(qml["facilities"].split("\n", 1)[1])
    assert empty.find("renderer-v2").get("type") == "singleSymbol"
    assert empty.find("layerGeometryType").text == "0"  # points: no rows tell, the kind does
    # a layer with a list column (stored as JSON text) is styled and labelled like any other
    gaps = gpd.GeoDataFrame({"missing": [["幼儿园", "药店"], None], "tier": ["5min", "15min"]},
                            geometry=_points(2), crs=4548)
    ws.write_layers(path, {"gaps": gaps})
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM layer_styles WHERE f_table_name = 'gaps'").fetchone() == (1,)
    tiers = dict(con.execute("SELECT value, description FROM gpkg_data_column_constraints "
                             "WHERE constraint_name = 'gaps.tier'"))
    assert tiers == {"5min": "五分钟生活圈", "15min": "十五分钟生活圈"}


def test_a_blank_category_cell_still_gets_the_layer_its_style(tmp_path):
    """One facility of no category (a blank cell, read as pandas' NA) is drawn as "other";
    the layer keeps its categorised style and its labels."""
    path = tmp_path / "w.gpkg"
    ws.init(path, name="小", crs="EPSG:4548")
    fac = gpd.GeoDataFrame({"category": ["kindergarten", None]}, geometry=_points(2), crs=4548)
    ws.add_layer(path, "facilities", fac)
    con = sqlite3.connect(path)
    qml = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault = 1"))
    rend = ET.fromstring(qml["facilities"].split("\n", 1)[1]).find("renderer-v2")
    assert (rend.get("type"), rend.get("attr")) == ("categorizedSymbol", "category")
    assert "幼儿园" in [c.get("label") for c in rend.iter("category")]


def test_a_one_layer_export_reads_back_without_naming_its_layer(workspace, tmp_path):
    out = tmp_path / "one.gpkg"
    io.export({"buildings": ws.read_layer(workspace, "buildings")}, out)
    assert "layer_styles" in {n for n, _ in pyogrio.list_layers(out)}
    assert len(io.read_vector(out)) == len(ws.read_layer(workspace, "buildings"))


def test_styles_need_a_geopackage(tmp_path):
    from gcgeo import InputError

    with pytest.raises(InputError, match="does not exist"):
        write_styles(tmp_path / "none.gpkg", {})
    (tmp_path / "x.gpkg").write_text("not sqlite")
    with pytest.raises(InputError, match="not a GeoPackage"):
        write_styles(tmp_path / "x.gpkg", {})
    with pytest.raises(InputError, match="lang"):
        write_styles(tmp_path / "x.gpkg", {}, lang="fr")


# --- GDAL --------------------------------------------------------------------------------------


@needs_ogrinfo
def test_ogrinfo_lists_every_layer_and_reads_the_value_labels(exported):
    res = subprocess.run(["ogrinfo", "-ro", "-q", str(exported)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    listed = set(re.findall(r"^\d+: (\w+)", res.stdout, re.M))
    assert listed == {n for n, _ in pyogrio.list_layers(exported)}
    assert "layer_styles" in listed
    res = subprocess.run(["ogrinfo", "-ro", "-fielddomain", "fire_findings.severity", str(exported)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "Type: coded" in res.stdout and "medium: 中" in res.stdout


@pytest.mark.skipif(not Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py").exists(),
                    reason="GDAL's GeoPackage validator is not installed: apt-get install -y python3-gdal")
def test_gdal_validator_accepts_the_tables(exported, workspace):
    # the validator of Debian's GDAL, on the parts these tables touch (its other checks
    # expect the R-tree triggers of its own GDAL version, not those of pyogrio's)
    script = """
import sqlite3, sys
sys.path.insert(0, "/usr/lib/python3/dist-packages/osgeo_utils/samples")
from validate_gpkg import GPKGChecker
for path in sys.argv[1:]:
    chk = GPKGChecker(path, abort_at_first_error=False, warning_msg=False)
    chk.version, chk.extended_pragma_info = (1, 3, 0), True
    cur = sqlite3.connect(path).cursor()
    for check in ("_check_gpkg_contents", "_check_attributes", "_check_gpkg_extensions", "_check_schema"):
        getattr(chk, check)(cur)
    print(path, chk.errors)
    sys.exit(1 if chk.errors else 0)
"""
    for path in (exported, workspace):
        res = subprocess.run([SYSTEM_PYTHON, "-c", script, str(path)], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr


# --- QGIS --------------------------------------------------------------------------------------


def _stored(gpkg: Path, layer: str) -> ET.Element:
    con = sqlite3.connect(gpkg)
    qml = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = ? AND useAsDefault = 1",
                      (layer,)).fetchone()[0]
    return ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")


def _map_colors(gpkg: Path, layer: str) -> tuple[pd.Index, np.ndarray, object]:
    """fids, and the colour gcgeo's folium map gives each row, of ``layer`` as stored."""
    gdf = pyogrio.read_dataframe(gpkg, layer=layer, fid_as_index=True)
    styled = style_layer(layer, gdf, lang="zh")
    return gdf.index, np.asarray(styled.colors, dtype=object), styled


def _check_layer_in_qgis(gpkg: Path, layer: str, got: dict) -> None:
    assert got["valid"], layer
    stored = _stored(gpkg, layer)
    rend = got["renderer"]
    assert rend["type"] == stored.get("type"), layer
    if rend["type"] == "categorizedSymbol":
        assert rend["attr"] == stored.get("attr")
        assert [(c["value"], c["label"]) for c in rend["categories"]] == \
            [(c.get("value"), c.get("label")) for c in stored.iter("category")], layer
    elif rend["type"] == "graduatedSymbol":
        assert rend["attr"] == stored.get("attr")
        assert [(r["lower"], r["upper"], r["label"]) for r in rend["ranges"]] == \
            [(float(r.get("lower")), float(r.get("upper")), r.get("label")) for r in stored.iter("range")], layer
    fids, colors, styled = _map_colors(gpkg, layer)
    qgis = [got["features"][str(int(f))] for f in fids]
    assert all(q is not None for q in qgis), f"{layer}: QGIS draws no symbol for some features"
    assert [q["hex"] for q in qgis] == [str(c).lower() for c in colors], layer
    # the SLD, read by QGIS as another client would: one rule per feature, the same colour
    sld = got["sld"]
    assert sld["renderer"] in ("RuleRenderer", "singleSymbol"), (layer, sld)
    assert [[s["hex"] for s in sld["features"][str(int(f))]] for f in fids] == \
        [[str(c).lower()] for c in colors], layer


@needs_qgis
def test_qgis_applies_the_stored_style_of_every_layer(exported, qgis_export):
    report, _ = qgis_export
    layers = [n for n, g in pyogrio.list_layers(exported) if g]
    assert set(layers) <= set(report)
    for layer in layers:
        got = report[layer]
        if layer == "lc_gaps":  # the map counts gaps per home; the stored rows are per gap: one symbol
            assert got["renderer"]["type"] == "singleSymbol"
            continue
        _check_layer_in_qgis(exported, layer, got)
    kinds = {got["renderer"]["type"] for got in report.values() if got.get("spatial")}
    assert kinds == {"singleSymbol", "categorizedSymbol", "graduatedSymbol"}
    # symbols drawn as the map draws them: fill opacity, points 90 % opaque
    fids, _, styled = _map_colors(exported, "green_space")
    assert {v["alpha"] for v in report["green_space"]["features"].values()} == {round(styled.fill_opacity * 255)}
    assert {v["alpha"] for v in report["facilities"]["features"].values()} == {round(0.9 * 255)}


@needs_qgis
def test_qgis_opens_the_workspace_itself_styled(workspace, tmp_path):
    report = probe(workspace, tmp_path / "workspace.json")
    for layer in ("buildings", "facilities", "lc_communities", "lc_origins", "green_origins", "fire_findings",
                  "fire_lanes_summary", "property_communities"):
        _check_layer_in_qgis(workspace, layer, report[layer])
    assert report["buildings"]["aliases"]["floors"] == "层数"


@needs_qgis
def test_qgis_shows_chinese_aliases_value_maps_and_the_map_variants(exported, qgis_export):
    report, _ = qgis_export
    assert report["buildings"]["aliases"]["floors"] == "层数"
    assert report["fire_findings"]["aliases"]["severity"] == "严重程度"
    for layer, got in report.items():
        if layer == "layer_styles":
            continue
        named = [a for a in got["aliases"].values() if a]
        assert named and all(CJK.search(a) for a in named), (layer, named)
    widget = report["fire_findings"]["widgets"]["severity"]
    assert widget["type"] == "ValueMap"
    assert {k: v for m in widget["config"]["map"] for k, v in m.items()}["中"] == "medium"
    assert report["lc_communities"]["styles"][:3] == [
        f"{t}（含以下层级）要求的各类设施均在{t}步行距离内的居民比例"
        for t in ("五分钟生活圈", "十分钟生活圈", "十五分钟生活圈")]


@needs_qgis
def test_qgis_draws_rows_on_class_breaks_and_derived_categories_as_the_map(edges, tmp_path):
    report = probe(edges, tmp_path / "edges.json")
    for layer in ("lc_communities", "lc_origins", "green_origins", "green_communities", "fire_communities",
                  "buildings", "streets"):
        _check_layer_in_qgis(edges, layer, report[layer])
    assert report["lc_origins"]["renderer"]["attr"].startswith("CASE WHEN")
    assert report["lc_communities"]["renderer"]["attr"].startswith("coalesce(")  # no data drawn grey


def _blend(color: str, alpha: float) -> np.ndarray:
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return np.round(rgb * alpha + 255 * (1 - alpha))


@needs_qgis
def test_qgis_renders_the_layers_in_the_stored_colours(exported, qgis_export):
    from PIL import Image

    report, folder = qgis_export
    # polygons: every class colour shows; points: a point may hide one drawn at the same place
    for layer, alpha, found in (("green_space", None, 1.0), ("lc_communities", None, 1.0),
                                ("buildings", None, 1.0), ("facilities", 0.9, 0.8)):
        img = np.asarray(Image.open(folder / f"{layer}.png").convert("RGB")).astype(int)
        ink = (img != 255).any(axis=2)
        assert ink.mean() > 0.002, f"{layer}: the rendering is blank"
        _, colors, styled = _map_colors(exported, layer)
        a = styled.fill_opacity if alpha is None else alpha
        matched = np.zeros(ink.shape, dtype=bool)
        shown = 0
        for color in set(colors):
            near = (np.abs(img - _blend(str(color), a)) <= 3).all(axis=2)
            matched |= near
            shown += int(near.sum() >= 5)
        assert shown >= found * len(set(colors)), f"{layer}: {shown} of {len(set(colors))} colours drawn"
        # much of what is drawn is exactly the stored colours (the rest: outlines, anti-aliased
        # edges, which on buildings 5 pixels high are most of them)
        assert matched.sum() > 0.2 * ink.sum(), f"{layer}: {matched.sum()} of {ink.sum()} pixels"


def test_a_layers_geometry_kind_is_the_type_most_of_its_rows_have():
    """The kind QGIS draws a layer as: the type most rows have, Multi or not, a missing or
    empty geometry counted for none, a tie going to the type met first; checked against
    the rows' type names counted one by one."""
    from collections import Counter

    from gcgeo.maps.qgis_styles import geometry_kind

    pt, line = shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)])
    poly = shapely.box(0, 0, 1, 1)
    pool = [pt, shapely.MultiPoint([(0, 0), (1, 1)]), line, shapely.MultiLineString([[(0, 0), (1, 0)]]),
            poly, shapely.MultiPolygon([poly]), shapely.LinearRing([(0, 0), (1, 0), (1, 1)]),
            shapely.GeometryCollection([pt]), shapely.Point(), None]
    rng = np.random.default_rng(7)
    names = {"Point": "point", "LineString": "line"}
    for _ in range(200):
        rows = [pool[i] for i in rng.integers(0, len(pool), rng.integers(1, 9))]
        kept = [g.geom_type.replace("Multi", "") for g in rows if g is not None and not g.is_empty]
        expected = names.get(Counter(kept).most_common(1)[0][0], "polygon") if kept else "polygon"
        frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(rows))
        assert geometry_kind(frame) == expected, [g and g.wkt for g in rows]
    assert geometry_kind(gpd.GeoDataFrame(geometry=gpd.GeoSeries([], dtype="geometry")), kind="ramps") \
        == "point"


def test_no_code_is_both_a_findings_kind_and_a_living_circle_category_or_tier():
    """``code_label`` looks a code up among the living circle's categories and tiers before the
    findings' kinds: a code in both would take the other label."""
    from gcgeo import labels

    kinds = set(labels._kind_labels())
    lc = labels.living_circle_rules()
    assert kinds and not kinds & (set(lc["categories"]) | set(lc["tiers"]))
