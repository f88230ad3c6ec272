"""Hand-off without loss (issue 16): Shapefiles that come back intact, the output CRS,
KML placemarks, the walking network as GraphML and node/edge layers.

Every export is read back twice: by gcgeo (geopandas) and by GDAL's own
``ogrinfo`` / ``ogr2ogr`` (Debian's gdal-bin), and compared with the workspace.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from _handoff import (
    analysed_county,
    assert_same_frame,
    feature_count,
    kinds,
    need_gdal,
    ogr_rows,
    ogrinfo,
)
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gcgeo import InputError, analysis, io, labels, layers, shapefile
from gcgeo import crs as gcrs
from gcgeo import workspace as ws
from gcgeo.clauses import clause_text
from gcgeo.cli import main


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    return analysed_county(tmp_path_factory.mktemp("county"))


def _cli(*args, code=0):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == code, res.output
    return res


# --- GeoPackages older GDAL and QGIS open without a warning ------------------------


def test_geopackages_gcgeo_writes_are_version_1_3(county, tmp_path):
    """The workspace and a GeoPackage export are GeoPackage 1.3 (SQLite's user_version
    10300), which GDAL before 3.7, as QGIS 3.22 and 3.28 on Debian 12 use it, opens
    without "may only be partially supported"; the system's GDAL reads them so."""
    out = tmp_path / "export.gpkg"
    _cli("export", county, out)
    for path in (county, out):
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA user_version").fetchone() == (10300,), path
        need_gdal()
        r = subprocess.run(["ogrinfo", "-ro", "-so", str(path)], capture_output=True, text=True)
        assert r.returncode == 0 and "partially supported" not in r.stderr, r.stderr[-500:]
        assert "lc_origins" in r.stdout


# --- the table of short names ----------------------------------------------------


def _gcgeo_columns(county) -> set[str]:
    names = {c.name for s in layers.SPECS.values() for c in s.columns}
    names |= {c.name for c in layers.COMMON_COLUMNS} | set(labels.COLUMN_LABELS)
    for d in analysis.descriptors().values():
        for o in d.outputs:
            names |= set(o.columns)
    for f in ws.read_layers(county).values():  # and every column the analyses really write
        names |= {str(c) for c in f.columns if c != "geometry"}
    return names


def test_every_gcgeo_column_has_a_readable_unique_short_name(county):
    names = _gcgeo_columns(county)
    long = sorted(n for n in names if len(n.encode("utf-8")) > 10)
    missing = [n for n in long if shapefile.short_name(n) is None]
    assert not missing, f"add these to gcgeo/data/shapefile_fields.csv: {missing}"
    table = {n: shapefile.short_name(n) for n in long} | shapefile.known_fields()
    shorts = [s.lower() for s in table.values()]
    assert len(shorts) == len(set(shorts)), "two columns share a short name"
    assert all(len(s.encode("utf-8")) <= 10 and s.isascii() for s in table.values())
    # a short name is no other column's name, and reads back as its own column
    assert not {s for s in table.values()} & names
    assert all(shapefile.long_name(s) == n for n, s in table.items())
    assert all(shapefile.long_name(n) in (None, n) for n in names if len(n.encode()) <= 10)
    # readable: the example, and words, not cut-off syllables
    assert table["clear_height_m"] == "clr_height"
    assert table["dist_supermarket_m"] == "d_supmkt"


def test_field_names_per_layer_unique_and_the_same_every_time():
    cols = ["id", "clear_height_m", "clr_height_note", "管理单位联系电话", "population_2020",
            "population_2021", "share_served_15min", "served_400m_green"]
    a = shapefile.field_names(cols)
    assert a == shapefile.field_names(cols)
    assert a["clear_height_m"] == "clr_height" and a["id"] == "id"
    assert a["share_served_15min"] == "sh_srv_15" and a["served_400m_green"] == "sv400_grn"
    assert a["clr_height_note"] == "clr_heig_1"  # cut, and never taking gcgeo's name
    assert a["管理单位联系电话"] == "管理单"  # 3 characters of 3 bytes each in UTF-8
    assert len({v.lower() for v in a.values()}) == len(cols)
    # in GBK a Chinese character takes 2 bytes: five of them fit
    assert shapefile.field_names(["管理单位联系电话"], encoding="CP936") == {"管理单位联系电话": "管理单位联"}
    # a user's column already named like one of gcgeo's keeps it; gcgeo's own then gets a suffix
    b = shapefile.field_names(["clr_height", "clear_height_m"])
    assert b == {"clr_height": "clr_height", "clear_height_m": "clr_heig_1"}


# --- Shapefile round trips ----------------------------------------------------------


def _read_back(files) -> gpd.GeoDataFrame:
    frames = [io.read_vector(f) for f in files]
    return frames[0] if len(frames) == 1 else gpd.GeoDataFrame(pd.concat(frames, ignore_index=True),
                                                                crs=frames[0].crs)


def test_shapefile_round_trip_of_every_layer_and_result(county, tmp_path):
    frames = ws.read_layers(county)
    report = io.export(frames, tmp_path / "gt.shp", kinds=kinds(county))
    text = str(report)
    assert f"{len(frames)} layers → {len(report.files)} files" in text
    for layer, files in report.layout.items():
        frame = frames[layer]
        shp = [f for f in files if f.suffix == ".shp"]
        if not isinstance(frame, gpd.GeoDataFrame):
            assert [f.suffix for f in files] == [".csv"]
            continue
        for f in shp:  # each with its encoding, CRS and field map
            assert f.with_suffix(".cpg").read_text() == "UTF-8"
            assert f.with_suffix(".prj").exists()
            fmap = shapefile.field_map_path(f)
            rows = list(csv.DictReader(fmap.open(encoding="utf-8-sig")))
            # each column once (long text continued over several fields names its column in each)
            assert list(dict.fromkeys(r["long"] for r in rows)) == [c for c in frame.columns if c != "geometry"]
            assert all(len(r["short"].encode()) <= 10 for r in rows)
            assert set(r["short"] for r in rows) == set(pyogrio.read_info(f)["fields"])
        back = _read_back(shp)
        assert_same_frame(back, frame, layer, order="id" if "id" in frame.columns else None)
        # GDAL reads the same: features, Chinese text, the CRS from the .prj
        gdal = pd.concat([ogr_rows(f) for f in shp], ignore_index=True)
        assert len(gdal) == len(frame)
        info = ogrinfo(shp[0])
        assert "CGCS2000" in info and "Gauss-Kruger" in info
        if "name" in frame.columns:
            short = shapefile.field_names([c for c in frame.columns if c != "geometry"])["name"]
            assert sorted(gdal[short].replace("", None).dropna()) == sorted(frame["name"].dropna())
    # the clearance the issue lost: written under a readable name, read back under its own
    lanes = report.layout["fire_lanes"]
    assert any("clr_height" in pyogrio.read_info(f)["fields"] for f in lanes if f.suffix == ".shp")
    assert "fire_lanes: mixes" in text and "gcgeo add WS fire_lanes" in text


def test_export_add_analyze_gives_the_same_results(county, tmp_path):
    """The issue's case, on every layer kind: export to Shapefiles, add them back with the CLI,
    analyse again: every result equals the original workspace's."""
    inventory = {k: v for k, v in kinds(county).items() if k in layers.SPECS}
    report = io.export(ws.read_layers(county, list(inventory)), tmp_path / "shp" / "gt.shp",
                       kinds=inventory)
    new = tmp_path / "new.gpkg"
    _cli("init", new, "--name", "高唐县", "--crs", ws.info(county)["crs"].to_string())
    for layer, kind in inventory.items():
        files = [f for f in report.layout[layer] if f.suffix == ".shp"]
        _cli("add", new, kind, *files)
        assert_same_frame(ws.read_layer(new, layer), ws.read_layer(county, layer), layer,
                          order="id" if "id" in ws.read_layer(county, layer).columns else None)
    results = [n for n, k in kinds(county).items() if n not in inventory]
    # inspections counted back from the day the county was analysed (a run past midnight
    # would count a day more)
    analysed_on = str(ws.info(county)["analysis:manholes"])[:10]
    for name in analysis.names():  # (as the county was analysed: its isochrones asked for)
        _cli("analyze", new, name.replace("_", "-"),
             *(("--isochrones", "community") if name == "living_circle" else ()),
             *(("--as-of", analysed_on) if name == "manholes" else ()))
    assert sorted(n for n in kinds(new) if n not in inventory) == sorted(results)
    for out in results:
        assert_same_frame(ws.read_layer(new, out), ws.read_layer(county, out), out)
    # criterion 8 per community, as the issue names it
    c8 = ws.read_layer(county, "fire_communities").set_index("community_id")["criterion8"]
    assert (ws.read_layer(new, "fire_communities").set_index("community_id")["criterion8"] == c8).all()
    assert set(c8) & {"pass", "fail"}


def test_gcgeo_short_names_are_recognised_without_the_field_map(county, tmp_path):
    lanes = ws.read_layer(county, "fire_lanes")
    lines = lanes[lanes.geometry.geom_type == "LineString"]
    io.export({"fire_lanes": lines}, tmp_path / "lanes.shp")
    shapefile.field_map_path(tmp_path / "lanes.shp").unlink()
    assert "clr_height" in pyogrio.read_info(tmp_path / "lanes.shp")["fields"]
    back = io.read_vector(tmp_path / "lanes.shp")
    assert back["clear_height_m"].tolist() == pytest.approx(lines["clear_height_m"].tolist(), nan_ok=True)


def test_gbk_shapefile_for_older_arcgis(county, tmp_path):
    communities = ws.read_layer(county, "communities")
    out = tmp_path / "社区.shp"
    report = _cli("export", county, out, "--layers", "communities", "--encoding", "gbk")
    assert out.with_suffix(".cpg").read_text() == "936"  # Windows code page 936: GBK
    raw = out.with_suffix(".dbf").read_bytes()
    assert raw[29] == 0x4D  # the .dbf's own code-page mark, for readers ignoring the .cpg
    assert communities["name"].iloc[0].encode("gbk") in raw
    assert communities["name"].iloc[0].encode("utf-8") not in raw
    assert_same_frame(io.read_vector(out), communities, "communities")
    gdal = ogr_rows(out)
    assert sorted(gdal["name"]) == sorted(communities["name"])
    assert "wrote" in report.output
    # text GBK cannot hold: refused, naming the row and column, nothing written
    odd = communities.copy()
    odd.loc[odd.index[1], "name"] = "𠮷野社区"  # a character outside GBK
    with pytest.raises(InputError, match=r"column 'name', feature 2: '𠮷'.*--encoding utf-8"):
        io.export({"communities": odd}, tmp_path / "odd" / "c.shp", encoding="gbk")
    assert not (tmp_path / "odd").exists() or list((tmp_path / "odd").iterdir()) == []


# Text longer than a .dbf field: continued in further fields, every space kept. A .dbf pads
# a field with spaces and readers strip them at both ends, so no piece may end on a space.
_LONG_TEXTS = [
    "a" * 253 + " " + "b" * 10,  # a piece of 254 bytes would end on the space
    "井" * 84 + "  " + "盖",  # 252 bytes of UTF-8, then two spaces
    "甲 " * 199 + "乙",  # no two non-spaces side by side: a piece must begin with a space
    "a" * 250 + " " * 20 + "b" * 300,  # a run of spaces across the cut
    "x" * 600,
    "短",
    None,
]


def _long_text_layer(values):
    return gpd.GeoDataFrame({"note": values},
                            geometry=[shapely.Point(434800 + i, 4078801) for i in range(len(values))],
                            crs="EPSG:4548")


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_long_text_in_a_shapefile_reads_back_exactly(tmp_path, encoding):
    out = tmp_path / "mh.shp"
    report = io.export({"mh": _long_text_layer(_LONG_TEXTS)}, out, encoding=encoding)
    assert io.read_vector(out)["note"].tolist() == _LONG_TEXTS
    # each field as GDAL reads it: at most 254 bytes, and the pieces add up to the text
    # but for the spaces a piece begins with, which GDAL strips and gcgeo reads from the .dbf
    codec = "gbk" if encoding == "gbk" else "utf-8"
    gdal = pyogrio.read_dataframe(out, encoding=codec)
    pieces = [c for c in gdal.columns if c.startswith("note")]
    assert len(pieces) >= 3
    for k, v in enumerate(_LONG_TEXTS):
        got = [gdal[c].iloc[k] for c in pieces]
        assert all(len(g.encode(codec)) <= 254 for g in got if isinstance(g, str))
        if v is not None:
            assert "".join(g for g in got if isinstance(g, str)).replace(" ", "") == v.replace(" ", "")
    assert not any("lost" in n for n in report.notes)


def test_spaces_a_dbf_cannot_keep_are_said(tmp_path):
    values = ["  前后有空格 ", "x" * 300 + "  ", "中间 空格"]
    out = tmp_path / "sp.shp"
    report = io.export({"sp": _long_text_layer(values)}, out)
    assert io.read_vector(out)["note"].tolist() == [v.strip(" ") for v in values]
    said = [n for n in report.notes if "'note'" in n and "lost" in n]
    assert len(said) == 1 and "2 value(s) begin or end with spaces" in said[0], report.notes


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(st.sampled_from("a 井盖 ·"), min_size=250, max_size=700), min_size=1, max_size=3))
def test_any_long_text_reads_back_but_for_its_own_edge_spaces(values):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "h.shp"
        io.export({"h": _long_text_layer(values)}, out)
        back = io.read_vector(out)["note"].tolist()
    expected = [v.strip(" ") or None for v in values]
    fits = [" " * 251 not in v for v in values]  # a longer run of spaces cannot be cut around
    assert [b for b, ok in zip(back, fits) if ok] == [e for e, ok in zip(expected, fits) if ok]


# --- the output CRS ------------------------------------------------------------------


@pytest.mark.parametrize("spec, epsg", [("wgs84", 4326), ("cgcs2000", 4490), ("EPSG:4547", 4547),
                                        ("gcj02", 4326), ("bd09", 4326)])
def test_output_crs(county, tmp_path, spec, epsg):
    chargers = ws.read_layer(county, "chargers")
    out = tmp_path / "c.gpkg"
    report = io.export({"chargers": chargers}, out, crs=spec)
    back = io.read_vector(out)
    assert back.crs.to_epsg() == epsg
    lon = chargers.to_crs(4326)
    if spec in ("gcj02", "bd09"):
        fwd = gcrs.wgs84_to_gcj02 if spec == "gcj02" else gcrs.wgs84_to_bd09
        x, y = fwd(lon.geometry.x.to_numpy(), lon.geometry.y.to_numpy())
        # hundreds of metres off true WGS-84, exactly gcgeo's conversion
        assert np.abs(back.geometry.x.to_numpy() - lon.geometry.x.to_numpy()).max() > 1e-4
        np.testing.assert_allclose(back.geometry.x, x, atol=1e-9)
        np.testing.assert_allclose(back.geometry.y, y, atol=1e-9)
        word = "GCJ-02" if spec == "gcj02" else "BD-09"
        assert word in str(report)
        with sqlite3.connect(out) as db:
            (desc,) = db.execute("select description from gpkg_contents where table_name='chargers'").fetchone()
        assert word in desc and "EPSG:4326" in desc
        assert word in ogrinfo(out, "chargers")  # GDAL shows the description too
    else:
        want = chargers.to_crs(epsg)
        np.testing.assert_allclose(back.geometry.x, want.geometry.x, atol=1e-7)
        info = ogrinfo(out, "chargers")
        assert f'ID["EPSG",{epsg}]' in info
        assert feature_count(info) == len(chargers)


def test_geojson_and_kml_are_always_wgs84(county, tmp_path):
    for suffix in (".geojson", ".kml"):
        res = _cli("export", county, tmp_path / f"c{suffix}", "--layers", "chargers", "--crs", "cgcs2000",
                   code=2)
        assert "always WGS-84" in res.output and not (tmp_path / f"c{suffix}").exists()
    _cli("export", county, tmp_path / "c.geojson", "--layers", "chargers", "--crs", "wgs84")
    data = json.loads((tmp_path / "c.geojson").read_text(encoding="utf-8"))
    assert "crs" not in data  # RFC 7946: WGS-84 without a crs member
    res = _cli("export", county, tmp_path / "x.geojson", "--layers", "chargers", "--encoding", "gbk", code=2)
    assert "--encoding is for Shapefiles" in res.output


def test_csv_in_gcj02_for_amap(county, tmp_path):
    chargers = ws.read_layer(county, "chargers")
    io.export({"chargers": chargers}, tmp_path / "c.csv", crs="gcj02")
    table = pd.read_csv(tmp_path / "c.csv", encoding="utf-8-sig")
    back = io.read_vector(tmp_path / "c.csv", src_crs="gcj02")  # read as Amap coordinates
    np.testing.assert_allclose(back.to_crs(chargers.crs).geometry.x, chargers.geometry.x, atol=1e-3)
    assert {"lon", "lat"} <= set(table.columns)


# --- KML placemarks ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_kml_placemarks_have_names_and_descriptions(county, tmp_path, lang):
    findings = ws.read_layer(county, "fire_findings")
    out = tmp_path / "f.kml"
    _cli("export", county, out, "--layers", "fire_findings", "--lang", lang)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = ET.parse(out).getroot().findall(".//k:Placemark", ns)
    assert len(marks) == len(findings)
    rules = {k: v for k, v in __import__("gcgeo.rules", fromlist=["load"]).load("fire_lanes")["labels"].items()}
    for mark, (_, row) in zip(marks, findings.iterrows()):
        name = mark.find("k:name", ns).text
        desc = mark.find("k:description", ns).text
        label = rules[row["kind"]]["label_zh" if lang == "zh" else "label_en"]
        assert name == f"{label} · {row['lane_id']}"
        assert clause_text(row["clause"], lang)[:20] in desc
        measured = "实测" if lang == "zh" else "measured"
        assert f"{measured} {row['measured']:.1f} m" in desc or f"{measured} {row['measured']:.2f} m" in desc
    info = ogrinfo(out)
    assert feature_count(info) == len(findings)
    # inventory features are named by their name or id
    _cli("export", county, tmp_path / "m.kml", "--layers", "manholes")
    names = [m.find("k:name", ns).text for m in ET.parse(tmp_path / "m.kml").getroot().findall(".//k:Placemark", ns)]
    manholes = ws.read_layer(county, "manholes")
    assert sorted(names) == sorted(manholes["name"] if "name" in manholes else manholes["id"])


# --- the walking network ---------------------------------------------------------------


def test_graphml_loads_in_osmnx_with_the_same_distances(county, tmp_path):
    ox = pytest.importorskip("osmnx", reason="osmnx is in the [test] extra")
    out = tmp_path / "network.graphml"
    res = _cli("export", county, out)
    assert "osmnx.load_graphml" in res.output
    G = ox.load_graphml(out)
    streets = ws.read_layer(county, "streets")
    walk = streets[streets["walkable"].fillna(True).astype(bool)] if "walkable" in streets else streets
    assert G.graph["crs"] == f"epsg:{streets.crs.to_epsg()}"
    nodes, edges = ox.graph_to_gdfs(G)
    # every walkable street, both ways, its length kept
    assert edges["length"].sum() == pytest.approx(2 * walk.length.sum(), rel=1e-9)
    assert not edges["oneway"].any() and edges["reversed"].sum() == len(edges) // 2
    assert (nodes.geometry.within(walk.union_all().buffer(1e-6))).all()
    # walking distances between nodes are the networkx distances over the streets' geometry
    U = nx.Graph()
    for line in walk.geometry:
        c = shapely.get_coordinates(line)
        U.add_edge(tuple(c[0]), tuple(c[-1]), length=line.length)
    pos = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    ids = list(G.nodes)[:: max(1, len(G) // 6)]
    for a in ids:
        for b in ids:
            route = ox.routing.shortest_path(G, a, b, weight="length")
            got = sum(G.edges[u, v, 0]["length"] for u, v in zip(route[:-1], route[1:])) if route else None
            if pos[a] in U and pos[b] in U:
                assert got == pytest.approx(nx.shortest_path_length(U, pos[a], pos[b], weight="length"))
    # in WGS-84 for tools that expect lon/lat; lengths stay metres
    out84 = tmp_path / "network84.graphml"
    _cli("export", county, out84, "--crs", "wgs84")
    G84 = ox.load_graphml(out84)
    lonlat = gpd.GeoSeries(gpd.points_from_xy(nodes.x, nodes.y), crs=streets.crs).to_crs(4326)
    n84, e84 = ox.graph_to_gdfs(G84)
    np.testing.assert_allclose(n84.loc[nodes.index, "x"], lonlat.x, atol=1e-9)
    assert e84["length"].sum() == pytest.approx(edges["length"].sum())
    res = _cli("export", county, tmp_path / "n2.graphml", "--layers", "streets", code=2)
    assert "GraphML holds the walking network only" in res.output


def test_network_nodes_and_edges_in_a_geopackage(county, tmp_path):
    out = tmp_path / "network.gpkg"
    _cli("export", county, out, "--layers", "network,streets")
    # the map layers, and the QGIS styles every exported GeoPackage carries
    assert {n for n, _ in pyogrio.list_layers(out)} == {"nodes", "edges", "streets", "layer_styles"}
    nodes, edges = io.read_vector(out, layer="nodes"), io.read_vector(out, layer="edges")
    streets = ws.read_layer(county, "streets")
    walk = streets[streets["walkable"].fillna(True).astype(bool)] if "walkable" in streets else streets
    assert edges.length.sum() == pytest.approx(walk.length.sum(), rel=1e-9)  # each piece once
    assert edges["length"].sum() == pytest.approx(walk.length.sum(), rel=1e-9)
    assert {"u", "v", "key", "length"} <= set(edges.columns)
    assert {"osmid", "x", "y", "street_count"} <= set(nodes.columns)
    assert set(edges["u"]) | set(edges["v"]) == set(nodes["osmid"])
    np.testing.assert_allclose(nodes.geometry.x, nodes["x"])
    assert feature_count(ogrinfo(out, "edges")) == len(edges)
    names = ogr_rows(out, "edges")["name"]
    assert set(names.replace("", None).dropna()) <= set(streets["name"].dropna())


@pytest.mark.parametrize("suffix", [".gpkg", ".graphml"])
def test_each_network_edge_names_its_street_by_id(county, tmp_path, suffix):
    """An edge's ``street`` is the workspace id of the street it is a piece of (as a planner
    finds it in QGIS), not the street's row: that street's line holds the edge."""
    out = tmp_path / f"network{suffix}"
    _cli("export", county, out, *(("--layers", "network") if suffix == ".gpkg" else ()))
    if suffix == ".gpkg":
        edges = pyogrio.read_dataframe(out, layer="edges")
        pairs = list(zip(edges["street"], edges.geometry))
    else:
        G = nx.read_graphml(out)
        pairs = [(d["street"], shapely.from_wkt(d["geometry"])) for _, _, d in G.edges(data=True)]
    streets = ws.read_layer(county, "streets").set_index("id")
    assert streets.index.is_unique and len({s for s, _ in pairs}) > 10
    assert {s for s, _ in pairs} <= set(streets.index), {s for s, _ in pairs} - set(streets.index)
    for street, edge in pairs:
        assert streets.geometry[street].buffer(1e-6).contains(edge), (street, edge.wkt)
