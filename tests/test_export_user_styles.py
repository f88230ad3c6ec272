"""A style a planner saved in QGIS in the workspace goes with the layer into a .gpkg export.

QGIS's "Save as Default → Datasource Database" writes a row into the workspace's
``layer_styles`` (owner empty or the planner's, ``useAsDefault`` 1, the table's
other styles no longer default). The rows are written here with sqlite3 as QGIS
writes them, with a single-symbol QML of a colour no gcgeo style uses; the export
is read back with sqlite3 and opened in real QGIS (tests/qgis_probe.py, run by
Debian's /usr/bin/python3, as in tests/test_qgis_styles.py), which must draw the
exported layer in the planner's colour, as it draws the workspace's.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pyogrio
import pytest
from _qgis import QGIS_MISSING, probe
from click.testing import CliRunner

from gcgeo import io
from gcgeo import workspace as ws
from gcgeo.cli import main
from gcgeo.gpkg_styles import OWNER
from gcgeo.testing import synthetic_county

#: the planner's colours: in no gcgeo style
BUILDINGS, STREETS, ALT = "#123456", "#ab3f10", "#010203"
_COLUMNS = ("styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui",
            "update_time")


def qml(geometry: str, colour: str, fields: list[str]) -> str:
    """A single-symbol style as QGIS saves it (trimmed): one fill or line colour."""
    kind, cls, key = ("fill", "SimpleFill", "color") if geometry == "polygon" else \
        ("line", "SimpleLine", "line_color")
    rgba = ",".join(str(int(colour[i:i + 2], 16)) for i in (1, 3, 5)) + ",255"  # as QGIS writes it
    config = "".join(f'<field name="{f}" configurationFlags="None"><editWidget type=""><config><Option/>'
                     f"</config></editWidget></field>" for f in fields)
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.16-Białowieża" styleCategories="AllStyleCategories">\n'
        ' <renderer-v2 type="singleSymbol" forceraster="0" symbollevels="0" enableorderby="0">\n'
        f'  <symbols><symbol type="{kind}" name="0" alpha="1" clip_to_extent="1" force_rhr="0">\n'
        f'   <layer class="{cls}" enabled="1" locked="0" pass="0">\n'
        f'    <Option type="Map"><Option value="{rgba}" type="QString" name="{key}"/></Option>\n'
        f'    <prop k="{key}" v="{rgba}"/>\n'
        "   </layer>\n"
        "  </symbol></symbols>\n"
        " </renderer-v2>\n"
        f" <fieldConfiguration>{config}</fieldConfiguration>\n"
        "</qgis>\n")


def save_as_default(path: Path, table: str, name: str, style: str, *, default: bool = True,
                    owner: str = "planner", description: str = "", geometry: str = "geom") -> None:
    """Write a style row as QGIS's "Save as Default → Datasource Database" does."""
    with sqlite3.connect(path) as con:
        if default:  # QGIS: one default per layer
            con.execute("UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?", (table,))
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
            "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
            "VALUES ('', '', ?, ?, ?, ?, ?, ?, ?, ?, NULL, '2026-11-30T08:15:00.000Z')",
            (table, geometry, name, style, f"<StyledLayerDescriptor>{name}</StyledLayerDescriptor>",
             int(default), description, owner))
    con.close()


def rows(path: Path, table: str, *, theirs: bool) -> list[tuple]:
    with sqlite3.connect(path) as con:
        got = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM layer_styles WHERE f_table_name = ? AND "
                          f"owner IS {'NOT ' if theirs else ''}? ORDER BY id", (table, OWNER)).fetchall()
    con.close()
    return got


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """Buildings, streets and communities, a planner's default style on buildings (and a
    second one, not default) and on streets."""
    county = synthetic_county(0)
    path = tmp_path_factory.mktemp("styles") / "ws.gpkg"
    ws.init(path, name="高唐县", crs=county.crs.to_string())
    for kind in ("buildings", "streets", "communities"):
        ws.add_layer(path, kind, county.layers[kind])
    save_as_default(path, "buildings", "平面图", qml("polygon", ALT, ["fid", "name"]), default=False,
                    owner="")
    save_as_default(path, "buildings", "规划院配色", qml("polygon", BUILDINGS, ["fid", "name", "use"]),
                    description="王工的配色")
    save_as_default(path, "streets", "道路配色", qml("line", STREETS, ["fid", "name"]))
    return path


def _export(workspace: Path, out: Path, *args: str) -> str:
    res = CliRunner().invoke(main, ["export", str(workspace), str(out), *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_export_carries_the_planners_styles_of_the_exported_layers_only(workspace, tmp_path, lang):
    before = sha256(workspace)
    ws_rows = {t: rows(workspace, t, theirs=True) for t in ("buildings", "streets", "communities")}
    assert [r[0] for r in ws_rows["buildings"]] == ["平面图", "规划院配色"]  # (the fixture's)
    out = tmp_path / "handoff.gpkg"
    said = _export(workspace, out, "--layers", "buildings,communities", "--lang", lang)

    # every style the planner saved for buildings, as saved: name, QML, SLD, default, description…
    assert rows(out, "buildings", theirs=True) == ws_rows["buildings"]
    with sqlite3.connect(out) as con:
        geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        placed = con.execute("SELECT DISTINCT f_table_catalog, f_table_schema, f_geometry_column FROM "
                             "layer_styles WHERE f_table_name = 'buildings' AND owner IS NOT ?",
                             (OWNER,)).fetchall()
        defaults = con.execute("SELECT f_table_name, styleName, owner FROM layer_styles "
                               "WHERE useAsDefault = 1 ORDER BY 1").fetchall()
        tables = {t for (t,) in con.execute("SELECT DISTINCT f_table_name FROM layer_styles")}
    con.close()
    assert placed == [("", "", geom["buildings"])]
    # gcgeo's style of buildings is there, not default; communities keep gcgeo's default
    assert len(rows(out, "buildings", theirs=False)) >= 1
    assert [(t, n) for t, n, o in defaults if t == "buildings"] == [("buildings", "规划院配色")]
    assert [o for t, n, o in defaults if t == "communities"] == [OWNER]
    # streets were not exported: no style of theirs in the export
    assert tables == {"buildings", "communities"}
    assert "buildings: the style(s) saved in QGIS carried over: 平面图, 规划院配色" in said
    # the workspace is as it was
    assert sha256(workspace) == before
    assert {t: rows(workspace, t, theirs=True) for t in ws_rows} == ws_rows


def test_qgis_opens_the_export_with_the_planners_colour(workspace, tmp_path):
    out = tmp_path / "handoff.gpkg"
    _export(workspace, out, "--layers", "buildings,communities")
    in_ws, in_out = probe(workspace), probe(out)
    # as QGIS opens the layer in the workspace, so in the export
    assert in_ws["buildings"]["renderer"]["type"] == "singleSymbol"
    assert in_ws["buildings"]["renderer"]["color"]["hex"] == BUILDINGS
    assert in_out["buildings"]["renderer"]["type"] == "singleSymbol"
    assert in_out["buildings"]["renderer"]["color"]["hex"] == BUILDINGS
    assert {"规划院配色", "平面图"} <= set(in_out["buildings"]["styles"])
    assert in_ws["streets"]["renderer"]["color"]["hex"] == STREETS
    assert "streets" not in in_out
    assert in_out["communities"]["renderer"] == in_ws["communities"]["renderer"]  # gcgeo's own
    assert in_out["communities"]["renderer"].get("color", {}).get("hex") != BUILDINGS


def test_a_layer_exported_under_another_name_keeps_its_style(workspace, tmp_path):
    """From a file whose geometry column GDAL did not name ``geom``, under another layer name."""
    source = tmp_path / "planner.gpkg"
    frame = ws.read_layer(workspace, "buildings")
    pyogrio.write_dataframe(frame, source, layer="buildings", driver="GPKG",
                            layer_options={"GEOMETRY_NAME": "shape"})
    with sqlite3.connect(source) as con:
        con.execute("CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
                    "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
                    "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
                    "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
                    "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))")
    con.close()
    save_as_default(source, "buildings", "规划院配色", qml("polygon", BUILDINGS, ["fid", "name"]),
                    geometry="shape")
    out = tmp_path / "homes.gpkg"
    report = io.export({"homes": frame, "buildings": frame}, out, styles_from=source,
                       style_layers={"homes": "buildings"})
    with sqlite3.connect(out) as con:
        geom = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = 'homes'").fetchone()
        got = con.execute("SELECT f_table_name, f_geometry_column, styleName, useAsDefault FROM layer_styles "
                          "WHERE owner IS NOT ?", (OWNER,)).fetchall()
    con.close()
    assert geom == ("geom",)
    assert got == [("homes", "geom", "规划院配色", 1)]  # not on buildings: style_layers leaves it out
    assert report.warnings == []
    if not QGIS_MISSING:
        seen = probe(out)
        assert seen["homes"]["renderer"]["color"]["hex"] == BUILDINGS
        assert seen["buildings"]["renderer"].get("color", {}).get("hex") != BUILDINGS


def test_a_style_naming_columns_the_export_lacks_is_kept_with_a_warning(workspace, tmp_path):
    frame = ws.read_layer(workspace, "buildings").drop(columns=["use"])
    out = tmp_path / "no_use.gpkg"
    report = io.export({"buildings": frame}, out, styles_from=workspace)
    assert [r[0] for r in rows(out, "buildings", theirs=True)] == ["平面图", "规划院配色"]
    assert report.warnings == [
        "layer 'buildings': the style '规划院配色' saved in QGIS names column(s) use, which the exported "
        "layer does not have; it is copied as it is, and QGIS may draw or label those features "
        "otherwise: check it in QGIS (Layer Properties → Symbology)."]
