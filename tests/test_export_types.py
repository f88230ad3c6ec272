"""What `gcgeo export` hands on, as GDAL sees it: geometry types of layers without
features, boolean fields with NULLs, the styles table, a scorecard that no longer
holds, GeoJSON's coordinate precision.

Each expectation is computed apart from the code under test: a geometry type from the
rows the same analysis gives when it finds something, coordinates by pyproj, a
scorecard's stale rows from which analysis reads the layer replaced.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from _handoff import ogrinfo
from _postgres import postgres_server
from click.testing import CliRunner
from pyproj import Geod, Transformer

from gcgeo import analysis, export
from gcgeo import workspace as ws
from gcgeo.cli import main
from gcgeo.pipeline import run_analysis

AS_OF = "2022-06-30"
#: The suffixes whose files record a layer's geometry type and field types
TYPED = (".gpkg", ".shp", ".fgb", ".parquet")


def _cli(*args, code=0):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == code, res.output
    return res.output


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """The synthetic county (2 communities) with green, ramps and chargers run and scored,
    and the rows each analysis found."""
    from gcgeo.testing import synthetic_county

    c = synthetic_county(0, n_communities=2, n_homes=1)
    path = tmp_path_factory.mktemp("types") / "county.gpkg"
    ws.init(path, name="县", crs=c.crs)
    ws.write_layers(path, c.layers, kind={k: k for k in c.layers}, source="synthetic")
    found = {}
    for name in ("green", "ramps", "chargers"):
        found.update(run_analysis(path, name)[0])
    _cli("score", path, "--as-of", AS_OF)
    return path, found


def _geometry_line(info: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in info.splitlines()
                if line.startswith("Geometry:"))


def _gdal_name(geom_type: str) -> str:
    """ogrinfo's name of a geometry type: "MultiPolygon" → "Multi Polygon"."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", geom_type)


def _emptied(names):
    """A runner giving an analysis's own outputs with the layers ``names`` left without rows."""
    def run(inputs, *, rules, progress=None, desc, **options):
        out = desc.run(inputs, rules=rules, progress=progress, **options)
        return {k: (v.iloc[:0] if k in names else v) for k, v in out.items()}
    return run


# --- a layer without features keeps the geometry type its features have -------------


@pytest.mark.parametrize("name, layer", [("ramps", "ramps_findings"), ("green", "green_concentrated")])
def test_a_result_left_empty_has_the_geometry_type_of_its_rows(county, tmp_path, name, layer):
    path, found = county
    # what the layer holds when the analysis finds something (the type the county gives it)
    types = set(found[layer].geom_type)
    assert len(found[layer]) and len(types) == 1, types
    want = types.pop()
    copy = tmp_path / "empty.gpkg"
    shutil.copy(path, copy)
    desc = analysis.get(name)
    run_analysis(copy, name, runner=lambda inputs, **kw: _emptied({layer})(inputs, desc=desc, **kw))
    info = ogrinfo(copy, layer)
    assert "Feature Count: 0" in info
    assert _geometry_line(info) == _gdal_name(want), info[:300]
    out = tmp_path / "out"
    for suffix in TYPED:
        _cli("export", copy, out / f"{layer}{suffix}", "--layers", layer)
    # a Shapefile's polygon holds several parts: a MultiPolygon layer is a polygon Shapefile
    shp = _gdal_name(want.replace("MultiPolygon", "Polygon"))
    assert _geometry_line(ogrinfo(out / f"{layer}.shp")) == shp
    for suffix in (".gpkg", ".fgb"):
        assert _geometry_line(ogrinfo(out / f"{layer}{suffix}", layer)) == _gdal_name(want), suffix
    import pyarrow.parquet as pq

    geo = json.loads(pq.read_schema(out / f"{layer}.parquet").metadata[b"geo"])
    assert geo["columns"][geo["primary_column"]]["geometry_types"] == [want]


def test_an_empty_layer_of_no_one_type_is_a_point_shapefile_and_says_so(county, tmp_path):
    path, found = county
    # the chargers' findings lie on the features found: chargers (points), car parks (polygons here)
    assert set(ws.read_layer(path, "chargers").geom_type) == {"Point"}
    assert set(ws.read_layer(path, "parking").geom_type) == {"Polygon"}
    copy = tmp_path / "empty.gpkg"
    shutil.copy(path, copy)
    desc = analysis.get("chargers")
    run_analysis(copy, "chargers",
                 runner=lambda inputs, **kw: _emptied({"chargers_findings"})(inputs, desc=desc, **kw))
    assert pyogrio.read_info(copy, layer="chargers_findings")["geometry_type"] == "Unknown"
    out = _cli("export", copy, tmp_path / "f.shp", "--layers", "chargers_findings")
    assert _geometry_line(ogrinfo(tmp_path / "f.shp")) == "Point"
    assert "no one geometry type" in " ".join(out.split()) and "point Shapefile" in out


# --- booleans, with NULLs and all NULL, stay booleans -------------------------------


@pytest.fixture()
def with_booleans(tmp_path):
    """A workspace layer with a boolean column without NULLs, one with a NULL, one all NULL."""
    path = tmp_path / "b.gpkg"
    ws.init(path, name="b", crs="EPSG:4547")
    frame = gpd.GeoDataFrame({
        "full": [True, False, True],
        "part": pd.array([True, None, False], dtype="boolean"),
        "none": pd.array([None, None, None], dtype="boolean"),
    }, geometry=shapely.points([(500000, 4000000), (500100, 4000000), (500200, 4000000)]),
        crs="EPSG:4547")
    ws.write_layers(path, {"checks": frame}, kind="result", source="test")
    return path


def _field_types(path: Path, layer: str | None = None) -> dict[str, tuple[str, str]]:
    info = pyogrio.read_info(path, layer=layer)
    return {f: (t, s) for f, t, s in zip(info["fields"], info["ogr_types"], info["ogr_subtypes"])}


def test_the_workspace_stores_every_boolean_column_as_boolean(with_booleans):
    boolean = ("OFTInteger", "OFSTBoolean")
    types = _field_types(with_booleans, "checks")
    assert [types[c] for c in ("full", "part", "none")] == [boolean] * 3
    # read (the NULLs make pandas objects of two of them) and stored again: still booleans
    ws.write_layers(with_booleans, {"again": ws.read_layer(with_booleans, "checks")}, kind="result")
    types = _field_types(with_booleans, "again")
    assert [types[c] for c in ("full", "part", "none")] == [boolean] * 3


def test_an_all_null_boolean_exports_as_the_other_booleans_of_its_layer(with_booleans, tmp_path):
    for suffix in TYPED:
        _cli("export", with_booleans, tmp_path / f"out{suffix}", "--layers", "checks")
    boolean = ("OFTInteger", "OFSTBoolean")
    for suffix in (".gpkg", ".fgb"):
        types = _field_types(tmp_path / f"out{suffix}", "checks")
        assert [types[c] for c in ("full", "part", "none")] == [boolean] * 3, suffix
    # a Shapefile: 1/0 in integer fields, all three alike
    types = _field_types(tmp_path / "out.shp")
    assert types["full"] == types["part"] == types["none"] == ("OFTInteger", "OFSTNone")
    back = pyogrio.read_dataframe(tmp_path / "out.shp")
    assert back["full"].tolist() == [1, 0, 1]
    assert [None if pd.isna(v) else v for v in back["part"]] == [1, None, 0]
    assert back["none"].isna().all()
    import pyarrow.parquet as pq

    schema = pq.read_schema(tmp_path / "out.parquet")
    assert [str(schema.field(c).type) for c in ("full", "part", "none")] == ["bool"] * 3


server = pytest.fixture(scope="module")(postgres_server)


def test_an_all_null_boolean_is_a_boolean_column_in_postgis(with_booleans, server):
    psycopg = pytest.importorskip("psycopg")
    schema = "export_types"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop schema if exists "{schema}" cascade')
    _cli("export", with_booleans, f"{server}?schema={schema}", "--layers", "checks")
    with psycopg.connect(server) as conn:
        types = dict(conn.execute("select column_name, data_type from information_schema.columns "
                                  "where table_schema = %s and table_name = 'checks'", (schema,)).fetchall())
    assert [types[c] for c in ("full", "part", "none")] == ["boolean"] * 3


# --- the styles table is not a layer ------------------------------------------------


def test_exporting_the_styles_table_is_refused_with_what_to_do(county, tmp_path):
    path, _ = county
    assert pyogrio.read_info(path, layer="layer_styles")["features"] > 0  # the workspace's styles
    for suffix in (".gpkg", ".csv"):
        out = _cli("export", path, tmp_path / f"s{suffix}", "--layers", "lc_origins,layer_styles", code=2)
        text = " ".join(out.split())
        assert "--layers layer_styles" in text and ".gpkg" in text and "style" in text
        assert not list(tmp_path.iterdir())


# --- a scorecard that no longer holds -------------------------------------------------


def test_a_scorecard_that_no_longer_holds_is_exported_as_it_stands_marked_stale(county, tmp_path):
    path, _ = county
    copy = tmp_path / "stale.gpkg"
    shutil.copy(path, copy)
    # green space is read by the green analysis alone, which measures criterion 7
    readers = [n for n, d in analysis.descriptors().items() if "green_space" in d.inputs]
    assert readers == ["green"]
    measured = {c.number for c in analysis.get("green").criteria}
    stored = ws.read_layer(copy, "scorecard")
    assert not stored["stale"].astype(bool).any()
    green = ws.read_layer(copy, "green_space")
    green.iloc[1:].to_file(tmp_path / "green2.gpkg", layer="green_space")  # one green space gone
    _cli("add", copy, "green_space", tmp_path / "green2.gpkg", "--overwrite")
    out = _cli("export", copy, tmp_path / "card.gpkg", "--layers", "scorecard,score_communities")
    text = " ".join(out.split())
    assert "no longer holds" in text and f"gcgeo score {copy} --as-of {AS_OF}" in text
    card = pyogrio.read_dataframe(tmp_path / "card.gpkg", layer="scorecard")
    mine = card["criterion"].isin(measured)
    assert mine.any() and card.loc[mine, "stale"].astype(bool).all()
    assert (card.loc[mine, "status"] == "unknown").all()
    assert not card.loc[~mine, "stale"].astype(bool).any()
    # the others as stored
    keep = ["community_id", "criterion", "status"]
    assert (card.loc[~mine, keep].reset_index(drop=True)
            .equals(stored.loc[~stored["criterion"].isin(measured), keep].reset_index(drop=True)))
    per = pyogrio.read_dataframe(tmp_path / "card.gpkg", layer="score_communities")
    for cell in per["stale"]:
        assert {int(n) for n in re.findall(r"\d+", str(cell))} == measured
    # the stored scorecard is as it was: exporting stores nothing
    assert not ws.read_layer(copy, "scorecard")["stale"].astype(bool).any()


# --- GeoJSON's coordinates: 7 decimals, the other formats every digit ------------------


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(7)
    x, y = 500000 + rng.random(200) * 2000, 4000000 + rng.random(200) * 2000
    return gpd.GeoDataFrame({"i": np.arange(200)}, geometry=shapely.points(x, y), crs="EPSG:4547")


def test_geojson_rounds_to_7_decimals_moving_a_point_by_less_than_8_mm(points, tmp_path):
    export.export({"p": points}, tmp_path / "p.geojson")
    text = (tmp_path / "p.geojson").read_text(encoding="utf-8")
    decimals = [len(d) for d in re.findall(r"-?\d+\.(\d+)", text.split('"features"', 1)[1])]
    assert max(decimals) == 7
    lon, lat = Transformer.from_crs(4547, 4326, always_xy=True).transform(
        shapely.get_x(points.geometry.values), shapely.get_y(points.geometry.values))
    back = pyogrio.read_dataframe(tmp_path / "p.geojson").sort_values("i")
    dx = np.abs(shapely.get_x(back.geometry.values) - lon)
    dy = np.abs(shapely.get_y(back.geometry.values) - lat)
    half = 0.5e-7  # half a unit of the 7th decimal
    assert dx.max() <= half + 1e-12 and dy.max() <= half + 1e-12
    assert max(dx.max(), dy.max()) > 0.8 * half  # rounded to 7 decimals, not fewer
    geod = Geod(ellps="WGS84")
    moved = geod.inv(lon, lat, shapely.get_x(back.geometry.values), shapely.get_y(back.geometry.values))[2]
    corner = geod.inv(lon, lat, lon + half, lat + half)[2]  # the farthest a point can move
    assert (moved <= corner * (1 + 1e-9)).all()
    assert geod.inv(0, 0, half, half)[2] < 0.008  # (at the equator, where a degree is longest)


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".fgb", ".parquet", ".csv"])
def test_the_other_formats_keep_projected_coordinates_exactly(points, tmp_path, suffix):
    path = tmp_path / f"p{suffix}"
    export.export({"p": points}, path, crs="EPSG:4547")
    if suffix == ".csv":
        back = pd.read_csv(path).sort_values("i")
        x, y = back["x"].to_numpy(), back["y"].to_numpy()
    else:
        frame = gpd.read_parquet(path) if suffix == ".parquet" else \
            pyogrio.read_dataframe(path, layer="p" if suffix in (".gpkg", ".fgb") else None)
        frame = frame.sort_values("i")
        x, y = shapely.get_x(frame.geometry.values), shapely.get_y(frame.geometry.values)
    assert (x == shapely.get_x(points.geometry.values)).all()
    assert (y == shapely.get_y(points.geometry.values)).all()


def test_the_rounding_is_told_in_the_help_and_the_readme():
    help_text = " ".join(_cli("export", "--help").split())
    assert "7 decimals" in help_text and "8 mm" in help_text
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Handing data on"):]
    assert "7 decimal" in section and "8 mm" in section
