"""An inventory layer without rows keeps its kind's geometry type, in the workspace and in
every export, as GDAL sees it.

A planner adds an empty kerb-ramps file, or one whose rows were all removed: untyped
("Geometry", GDAL's "Unknown"), QGIS would draw the layer with no style and a Shapefile
export would guess a type.  Each expectation is computed apart from the code under
test: the type ``ogrinfo`` reports for the same kind's layer with its rows, in a
workspace holding the synthetic county.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from _handoff import ogrinfo
from click.testing import CliRunner

from gcgeo import workspace as ws
from gcgeo.cli import main

#: The kinds whose spec gives one geometry (the others mix points, lines and polygons)
ONE_TYPE = ("communities", "buildings", "green_space", "chargers", "manholes", "ramps", "streets",
            "garbage_points")


def _cli(*args, code=0):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == code, res.output
    return res.output


def _geometry_line(info: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in info.splitlines()
                if line.startswith("Geometry:"))


def _gdal_name(geom_type: str) -> str:
    """ogrinfo's name of a geometry type: "MultiPolygon" → "Multi Polygon"."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", geom_type)


def _declared(path: Path, table: str) -> str:
    """The geometry type the GeoPackage declares for ``table``, read by sqlite3."""
    with closing(sqlite3.connect(path)) as con:
        return str(con.execute("SELECT geometry_type_name FROM gpkg_geometry_columns "
                               "WHERE table_name = ?", (table,)).fetchone()[0])


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """The synthetic county's layers, and the type ogrinfo gives each stored with its rows."""
    from gcgeo.testing import synthetic_county

    c = synthetic_county(0, n_communities=2, n_homes=1)
    tmp = tmp_path_factory.mktemp("empty_types")
    full = tmp / "full.gpkg"
    ws.init(full, name="县", crs=c.crs)
    ws.write_layers(full, c.layers, kind={k: k for k in c.layers}, source="synthetic")
    stored = {k: _geometry_line(ogrinfo(full, k)) for k in ONE_TYPE}
    return c, stored, tmp


@pytest.fixture(scope="module")
def emptied(county):
    """A workspace given each one-type kind by `gcgeo add` of a Shapefile without rows."""
    c, stored, tmp = county
    path = tmp / "emptied.gpkg"
    _cli("init", path, "--name", "县", "--crs", c.crs)
    for kind in ONE_TYPE:
        src = tmp / f"{kind}_none.shp"
        rows = c.layers[kind]
        rows[[col for col in rows.columns if len(col) <= 10]].iloc[:0].to_file(src)  # (.dbf names)
        assert pyogrio.read_info(src)["features"] == 0
        _cli("add", path, kind, src)
    return path


def test_an_empty_inventory_layer_added_has_its_kinds_type(county, emptied):
    _, stored, _ = county
    # with their rows the layers are stored as single parts of the spec's one geometry
    assert stored == {"communities": "Polygon", "buildings": "Polygon", "green_space": "Polygon",
                      "chargers": "Point", "manholes": "Point", "ramps": "Point",
                      "streets": "Line String", "garbage_points": "Point"}
    listed = dict(pyogrio.list_layers(emptied))
    for kind in ONE_TYPE:
        info = ogrinfo(emptied, kind)
        assert "Feature Count: 0" in info, kind
        assert _geometry_line(info) == stored[kind], kind
        assert _gdal_name(str(listed[kind])) == stored[kind], kind
        assert _declared(emptied, kind) == stored[kind].replace(" ", "").upper(), kind
    # and the table of layers says so
    table = ws.list_layers(emptied).set_index("layer")
    assert {k: _gdal_name(table.loc[k, "geometry"]) for k in ONE_TYPE} == stored


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".fgb"])
def test_an_empty_inventory_layer_exported_has_its_kinds_type(county, emptied, tmp_path, suffix):
    _, stored, _ = county
    out = tmp_path / f"x{suffix}"
    _cli("export", emptied, out, "--layers", ",".join(ONE_TYPE))
    for kind in ONE_TYPE:
        if suffix == ".gpkg":
            info = ogrinfo(out, kind)
        else:
            info = ogrinfo(out.with_name(f"x_{kind}{suffix}"))
        assert "Feature Count: 0" in info, (suffix, kind)
        assert _geometry_line(info) == stored[kind], (suffix, kind)


def test_an_empty_inventory_layer_written_with_others_has_its_kinds_type(county, tmp_path):
    # as `gcgeo import-osm`, a batch and the demo store layers: write_layers by kind
    c, stored, _ = county
    path = tmp_path / "w.gpkg"
    ws.init(path, name="县", crs=c.crs)
    frames = {"communities": c.layers["communities"], "green_space": c.layers["green_space"].iloc[:0],
              "manholes": c.layers["manholes"].iloc[:0]}
    ws.write_layers(path, frames, kind={k: k for k in frames}, source="import")
    assert _geometry_line(ogrinfo(path, "green_space")) == stored["green_space"]
    assert _geometry_line(ogrinfo(path, "manholes")) == stored["manholes"]


def test_an_untyped_empty_layer_of_an_older_workspace_is_exported_with_its_kinds_type(
        county, tmp_path):
    c, stored, _ = county
    path = tmp_path / "old.gpkg"
    ws.init(path, name="县", crs=c.crs)
    ws.add_layer(path, "communities", c.layers["communities"])
    ws.add_layer(path, "green_space", c.layers["green_space"].iloc[:1])
    # the green space layer as an older gcgeo stored it without rows: untyped
    none = gpd.GeoDataFrame(c.layers["green_space"].iloc[:0], crs=c.crs)
    pyogrio.write_dataframe(none, path, layer="green_space", driver="GPKG",
                            geometry_type="Unknown")
    assert _geometry_line(ogrinfo(path, "green_space")) == "Unknown (any)"
    _cli("export", path, tmp_path / "r.shp", "--layers", "green_space")
    _cli("export", path, tmp_path / "r.fgb", "--layers", "green_space")
    assert _geometry_line(ogrinfo(tmp_path / "r.shp")) == stored["green_space"]
    assert _geometry_line(ogrinfo(tmp_path / "r.fgb")) == stored["green_space"]
