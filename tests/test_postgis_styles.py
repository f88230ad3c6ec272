"""Tables exported to PostGIS open styled in QGIS, as the layers of a .gpkg export do.

QGIS keeps the styles of PostgreSQL layers in the database's ``layer_styles``
(``public``; created by QGIS the first time a style is saved there) and applies,
when it opens a table, the row of that database (``f_table_catalog``), schema,
table and geometry column (``IS NULL`` for a table without geometry) marked
``useAsDefault``. The export writes gcgeo's rows there; these tests read them
with SQL and open the tables in real QGIS (PyQGIS of Debian's /usr/bin/python3,
as tests/test_qgis_styles.py does), which must draw each as it draws the same
layer of a .gpkg export (tests/qgis_probe.py) and show the Chinese aliases.

Each test uses a database of its own on the server of tests/_postgres.py, so
what one leaves in ``public.layer_styles`` does not meet another.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import urllib.parse
from pathlib import Path

import pytest
from _handoff import analysed_county
from _postgres import postgres_server
from _qgis import QGIS_MISSING, needs_qgis, probe, run_qgis
from click.testing import CliRunner

from gcgeo import postgis
from gcgeo.cli import main
from gcgeo.postgis import STYLE_OWNER as OWNER

psycopg = pytest.importorskip("psycopg", reason="psycopg is a dependency of gcgeo (pip install -e .)")

HERE = Path(__file__).parent
#: spatial layers of every renderer kind (single symbol, categories, class breaks with several
#: styles) and a table without geometry
LAYERS = ("communities", "fire_findings", "lc_communities", "lc_gaps")
#: QGIS 3.22's definition (QgsPostgresProviderMetadata::saveStyle), column → type
QGIS_COLUMNS = {"id": "integer", "f_table_catalog": "character varying", "f_table_schema": "character varying",
                "f_table_name": "character varying", "f_geometry_column": "character varying",
                "stylename": "text", "styleqml": "xml", "stylesld": "xml", "useasdefault": "boolean",
                "description": "text", "owner": "character varying", "ui": "xml",
                "update_time": "timestamp without time zone", "type": "character varying"}
#: a planner's colour, in no gcgeo style
PLANNER = "#123456"

server = pytest.fixture(scope="module")(postgres_server)
_numbers = itertools.count()


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    return analysed_county(tmp_path_factory.mktemp("county"))


def _sql(url: str, query: str, params=()) -> list:
    parts = urllib.parse.urlsplit(url)
    with psycopg.connect(urllib.parse.urlunsplit(parts._replace(query="")), autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def database(server) -> str:
    """A database of this test's own, with PostGIS (its URL, as superuser gc)."""
    name = f"gcgeo_styles_{os.getpid()}_{next(_numbers)}"
    _sql(server, f"drop database if exists {name}")
    _sql(server, f"create database {name}")
    url = urllib.parse.urlunsplit(urllib.parse.urlsplit(server)._replace(path=f"/{name}", query=""))
    _sql(url, "create extension postgis")
    return url


def _with(url: str, **query) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(query=urllib.parse.urlencode(query)))


def _export(workspace: Path, output: str | Path, *args: str) -> str:
    res = CliRunner().invoke(main, ["export", str(workspace), str(output), *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def _styles(url: str, *, where: str = "true", params=()) -> list[tuple]:
    return _sql(url, "select f_table_catalog, f_table_schema, f_table_name, f_geometry_column, stylename, "
                     f"useasdefault, owner from public.layer_styles where {where} order by id", params)


# --- QGIS ---------------------------------------------------------------------------------------


# Open tables of a PostgreSQL database as a planner does (Layer → Add PostGIS Layers: QGIS looks
# for the default style in layer_styles) and report, as tests/qgis_probe.py does for a .gpkg, the
# renderer QGIS applied, the aliases, the edit widgets and the styles QGIS lists for the layer.
_PG_PROBE = r"""
import json, sys
from qgis.core import QgsApplication, QgsDataSourceUri, QgsVectorLayer
sys.path.insert(0, sys.argv[1])
import qgis_probe  # its layer_report, so that both reports say the same things the same way

app = QgsApplication([], False)
app.initQgis()
host, port, dbname, user, schema = json.loads(sys.argv[2])
report = {}
for table, geometry in json.loads(sys.argv[3]):
    uri = QgsDataSourceUri()
    uri.setConnection(host, str(port), dbname, user, "")
    uri.setDataSource(schema, table, geometry, "", "fid")
    layer = QgsVectorLayer(uri.uri(False), table, "postgres")
    report[table] = qgis_probe.layer_report(layer)
with open(sys.argv[4], "w", encoding="utf-8") as fh:
    json.dump(report, fh, ensure_ascii=False, default=str)
app.exitQgis()
"""


def qgis_tables(url: str, schema: str, tables: dict[str, str | None], out: Path) -> dict:
    """What QGIS makes of ``tables`` (name → geometry column) of ``schema``."""
    p = urllib.parse.urlsplit(url)
    where = [p.hostname, p.port or 5432, p.path.strip("/"), p.username, schema]
    return run_qgis(["-c", _PG_PROBE, str(HERE), json.dumps(where), json.dumps(list(tables.items())),
                      str(out)], out)


# --- the tests ----------------------------------------------------------------------------------


def test_every_table_gets_gcgeo_styles_where_qgis_looks_for_them(database, county, tmp_path):
    schema = "高唐 县"
    said = _export(county, _with(database, schema=schema), "--layers", ",".join(LAYERS))
    assert "warning" not in said
    # the table, as QGIS defines it, in public
    columns = dict(_sql(database, "select column_name, data_type from information_schema.columns where "
                                  "table_schema = 'public' and table_name = 'layer_styles'"))
    assert {c: columns.get(c) for c in QGIS_COLUMNS} == QGIS_COLUMNS
    # the catalogue says which tables have which geometry column
    geometry = dict(_sql(database, "select f_table_name, f_geometry_column from geometry_columns "
                                   "where f_table_schema = %s", (schema,)))
    assert set(geometry) == {"communities", "fire_findings", "lc_communities"}
    dbname = urllib.parse.urlsplit(database).path.strip("/")
    rows = _styles(database)
    assert {r[2] for r in rows} == set(LAYERS)
    for name in LAYERS:
        mine = [r for r in rows if r[2] == name]
        assert {r[:4] for r in mine} == {(dbname, schema, name, geometry.get(name))}, name
        assert sum(r[5] for r in mine) == 1, f"{name}: one default"
        assert {r[6] for r in mine} == {OWNER}
    assert [r[4] for r in rows if r[2] == "lc_communities" and r[5]] == \
        ["十五分钟生活圈（含以下层级）要求的各类设施均在十五分钟生活圈步行距离内的居民比例"]
    assert len([r for r in rows if r[2] == "lc_communities"]) == 3  # one per tier, as in the map

    # the same styles as the .gpkg export of the same layers gives them (QML as stored there)
    gpkg = tmp_path / "same.gpkg"
    _export(county, gpkg, "--layers", ",".join(LAYERS))
    with sqlite3.connect(gpkg) as con:
        in_file = con.execute("SELECT f_table_name, styleName, useAsDefault, styleQML, styleSLD "
                              "FROM layer_styles ORDER BY id").fetchall()
    con.close()
    in_db = _sql(database, "select f_table_name, stylename, useasdefault::int, styleqml::text, "
                           "stylesld::text from public.layer_styles order by id")
    assert [tuple(r) for r in in_db] == [tuple(r) for r in in_file]


def test_a_table_renamed_on_export_is_styled_as_its_layer(database, county):
    _export(county, _with(database, schema="s", table="消防问题"), "--layers", "fire_findings")
    rows = _styles(database)
    assert [(r[2], r[4], r[5]) for r in rows] == [("消防问题", "消防车道问题", True)]


@needs_qgis
def test_qgis_opens_each_table_styled_as_the_gpkg_layer(database, county, tmp_path):
    schema = "高唐"
    _export(county, _with(database, schema=schema), "--layers", ",".join(LAYERS))
    gpkg = tmp_path / "same.gpkg"
    _export(county, gpkg, "--layers", ",".join(LAYERS))
    tables = {"communities": "geom", "fire_findings": "geom", "lc_communities": "geom", "lc_gaps": None}
    in_db = qgis_tables(database, schema, tables, tmp_path / "db.json")
    in_file = probe(gpkg)
    for name in LAYERS:
        db, file = in_db[name], in_file[name]
        assert db["valid"], name
        assert db["spatial"] == (tables[name] is not None)
        # the renderer QGIS applied on opening: type, attribute, classes and their colours
        assert db.get("renderer") == file.get("renderer"), name
        assert db["aliases"] == file["aliases"], name  # (fid too: both have the key as a field)
        assert db["widgets"] == file["widgets"], name
        assert sorted(db["styles"]) == sorted(file["styles"]), name
    # (what the tests of the .gpkg export check in depth: here, that it is there at all)
    assert in_db["fire_findings"]["renderer"]["type"] == "categorizedSymbol"
    assert in_db["lc_communities"]["renderer"]["type"] == "graduatedSymbol"
    assert in_db["lc_communities"]["styles"][0].startswith("十五分钟生活圈")  # the default, listed first
    assert in_db["communities"]["aliases"]["name"] == "社区名称"
    assert in_db["lc_gaps"]["aliases"]["n_missing"] == "缺失设施类数"
    assert in_db["lc_gaps"]["widgets"]["missing_5min"]["type"] == "ValueMap"


def _qml(colour: str, fields: tuple[str, ...] = ()) -> str:
    """A single-symbol polygon style in ``colour`` as QGIS saves it (trimmed), its field
    configuration naming ``fields``."""
    rgba = ",".join(str(int(colour[i:i + 2], 16)) for i in (1, 3, 5)) + ",255"
    config = "".join(f'<field name="{f}" configurationFlags="None"><editWidget type=""><config><Option/>'
                     "</config></editWidget></field>" for f in fields)
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            '<qgis version="3.22.16-Białowieża" styleCategories="AllStyleCategories">'
            '<renderer-v2 type="singleSymbol" forceraster="0" symbollevels="0" enableorderby="0"><symbols>'
            '<symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            '<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
            f'<Option type="Map"><Option value="{rgba}" type="QString" name="color"/></Option>'
            f'<prop k="color" v="{rgba}"/></layer></symbol></symbols></renderer-v2>'
            + (f"<fieldConfiguration>{config}</fieldConfiguration>" if fields else "") + "</qgis>")


def _planner_saves(url: str, schema: str, table: str, colour: str) -> None:
    """Save a single-symbol style as default, as QGIS's "Save as Default → Datasource
    Database" does (QgsPostgresProviderMetadata::saveStyle: the layer's other styles no
    longer default, owner the user, XMLPARSE(DOCUMENT …), and as type the geometry type
    of the layer's source, which for the source :func:`qgis_tables` opens QGIS 3.22 writes
    as 'Unknown geometry')."""
    qml = _qml(colour)
    where = (urllib.parse.urlsplit(url).path.strip("/"), schema, table, "geom")
    _sql(url, "update layer_styles set useasdefault = false where f_table_catalog = %s and "
              "f_table_schema = %s and f_table_name = %s and f_geometry_column = %s "
              "and (type = 'Unknown geometry' or type is null)", where)
    _sql(url, "insert into layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
              "stylename, styleqml, stylesld, useasdefault, description, owner, type) values "
              "(%s, %s, %s, %s, '规划院配色', XMLPARSE(DOCUMENT %s), XMLPARSE(DOCUMENT %s), true, "
              "'王工的配色', current_user, 'Unknown geometry')",
         (*where, qml, "<StyledLayerDescriptor/>"))


def test_exporting_again_replaces_gcgeo_rows_and_keeps_a_planners_default(database, county, tmp_path):
    url = _with(database, schema="高唐")
    _export(county, url, "--layers", ",".join(LAYERS))
    first = _styles(database)
    _planner_saves(database, "高唐", "communities", PLANNER)
    # a style saved from QGIS by a login named gcgeo (QGIS writes the login as its owner)
    catalog = urllib.parse.urlsplit(url).path.strip("/")
    _sql(database, "insert into layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                   "stylename, styleqml, useasdefault, owner) values (%s, '高唐', 'communities', 'geom', "
                   "'gcgeo账号保存的配色', XMLPARSE(DOCUMENT '<qgis/>'), false, 'gcgeo')", (catalog,))
    _export(county, url, "--layers", ",".join(LAYERS), "--overwrite")
    assert _styles(database, where="owner = 'gcgeo'") == [
        (catalog, "高唐", "communities", "geom", "gcgeo账号保存的配色", False, "gcgeo")]
    _sql(database, "delete from layer_styles where owner = 'gcgeo'")
    again = _styles(database)
    # gcgeo's rows once each (replaced, not added), the planner's row untouched and still default
    gcgeo = [r for r in again if r[6] == OWNER]
    assert sorted(r[:5] for r in gcgeo) == sorted(r[:5] for r in first)
    theirs = [r for r in again if r[6] != OWNER]
    assert [(r[2], r[4], r[5], r[6]) for r in theirs] == [("communities", "规划院配色", True, "gc")]
    defaults = [(r[2], r[4]) for r in again if r[5]]
    assert sorted(defaults) == sorted([("communities", "规划院配色")] +
                                      [(r[2], r[4]) for r in first if r[5] and r[2] != "communities"])
    # and QGIS opens communities in the planner's colour, fire findings in gcgeo's style
    if QGIS_MISSING is None:
        seen = qgis_tables(database, "高唐", {"communities": "geom", "fire_findings": "geom"},
                           tmp_path / "db.json")
        assert seen["communities"]["renderer"]["color"]["hex"] == PLANNER
        assert seen["communities"]["styles"][0] == "规划院配色"
        assert seen["fire_findings"]["renderer"]["type"] == "categorizedSymbol"


def test_a_failed_export_leaves_no_styles(database, county, monkeypatch):
    from gcgeo import workspace as ws

    real = postgis._put_styles
    calls = []

    def fail_second(*args, **kw):
        calls.append(kw["name"])
        if len(calls) == 2:
            raise RuntimeError("injected failure")
        return real(*args, **kw)

    monkeypatch.setattr(postgis, "_put_styles", fail_second)
    frames = ws.read_layers(county, ["communities", "fire_findings"])
    with pytest.raises(RuntimeError, match="injected"):
        postgis.export_layers(frames, _with(database, schema="半途"))
    assert len(calls) == 2  # the first table's styles were written, then undone with the tables
    assert _sql(database, "select to_regclass('public.layer_styles'), to_regclass('半途.communities')") == \
        [(None, None)]


def test_a_user_who_may_not_write_the_styles_gets_the_tables_and_a_warning(database, county):
    p = urllib.parse.urlsplit(database)
    dbname = p.path.strip("/")
    _sql(database, "do $$ begin if not exists (select from pg_roles where rolname = 'mapper') then "
                   "create role mapper login password 'map-密码'; end if; end $$")
    _sql(database, f"grant create on database {dbname} to mapper")  # may make schemas, not in public
    _sql(database, "revoke create on schema public from public")
    mapper = urllib.parse.urlunsplit(p._replace(netloc=f"mapper:{urllib.parse.quote('map-密码')}@"
                                                       f"{p.hostname}:{p.port}"))
    said = _export(county, _with(mapper, schema="mapper_a"), "--layers", "communities,lc_gaps")
    assert "wrote table mapper_a.communities" in said and "wrote table mapper_a.lc_gaps" in said
    assert "without QGIS styles" in said and "user mapper may not create public.layer_styles" in said
    assert "GRANT CREATE ON SCHEMA public TO mapper" in said
    assert "Traceback" not in said and "map-密码" not in said
    assert _sql(database, "select count(*) from mapper_a.communities")[0][0] > 0
    assert _sql(database, "select to_regclass('public.layer_styles')") == [(None,)]

    # the administrator makes the table (here by exporting): now the user may not write it
    _export(county, _with(database, schema="admin"), "--layers", "communities")
    said = _export(county, _with(mapper, schema="mapper_b"), "--layers", "communities")
    assert "wrote table mapper_b.communities" in said
    assert "user mapper may not write into public.layer_styles" in said
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON public.layer_styles TO mapper" in said
    assert {r[1] for r in _styles(database)} == {"admin"}

    # granted as the warning says: the user's export is styled, the rows marked as gcgeo's
    _sql(database, "grant select, insert, update, delete on public.layer_styles to mapper")
    _sql(database, "grant usage on sequence public.layer_styles_id_seq to mapper")
    said = _export(county, _with(mapper, schema="mapper_c"), "--layers", "communities")
    assert "warning" not in said
    assert [(r[1], r[2], r[5], r[6]) for r in _styles(database, where="f_table_schema = 'mapper_c'")] == \
        [("mapper_c", "communities", True, OWNER)]


# --- styles a planner saved in the workspace -------------------------------------------------------

#: what a copy of a planner's style looks like in the database: catalog, schema, table, geometry
#: column, name, QML, SLD, default, description
_COPY = ("f_table_catalog, f_table_schema, f_table_name, f_geometry_column, stylename, styleqml::text, "
         "stylesld::text, useasdefault, description")


def _workspace(county: Path, folder: Path) -> Path:
    """A copy of the analysed county (the module's is shared by every test)."""
    path = folder / "ws" / county.name
    path.parent.mkdir()
    shutil.copy(county, path)
    return path


def _saves_in_workspace(path: Path, table: str, name: str, qml: str, *, default: bool = True,
                        owner: str = "", description: str = "", sld: str | None = None,
                        geometry: str | None = "geom") -> tuple:
    """Write a style row into the workspace as QGIS's "Save as Default → Datasource Database"
    does (the layer's other styles no longer default; QGIS leaves the owner empty in a
    GeoPackage); the row a copy in the database should have (from :data:`_COPY`, but the
    catalog and schema)."""
    sld = f"<StyledLayerDescriptor><Name>{name}</Name></StyledLayerDescriptor>" if sld is None else sld
    with sqlite3.connect(path) as con:
        if default:
            con.execute("UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?", (table,))
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
            "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
            "VALUES ('', '', ?, ?, ?, ?, ?, ?, ?, ?, NULL, '2026-11-30T08:15:00.000Z')",
            (table, geometry, name, qml, sld, int(default), description, owner))
    con.close()
    return (table, geometry, name, qml, sld or None, default, description)


def _copies(url: str, where: str = "true", params=()) -> list[tuple]:
    """The rows of layer_styles that neither gcgeo wrote nor QGIS's user ``gc`` saved."""
    return _sql(url, f"select {_COPY}, owner from public.layer_styles where owner not in (%s, 'gc') "
                     f"and {where} order by id", (OWNER, *params))


def test_styles_a_planner_saved_in_the_workspace_go_with_the_tables(database, county, tmp_path):
    ws_path = _workspace(county, tmp_path)
    # communities: the planner's default and a second style (each naming columns the table has);
    # fire findings: one not default; lc_gaps (no geometry): one; streets (not exported): one
    expected = [
        _saves_in_workspace(ws_path, "communities", "平面图", _qml("#010203", ("fid", "name")), default=False,
                            owner="planner"),
        _saves_in_workspace(ws_path, "communities", "规划院配色", _qml(PLANNER, ("name", "population")),
                            description="王工的配色"),
        _saves_in_workspace(ws_path, "fire_findings", "草稿", _qml("#0a0b0c"), default=False),
        _saves_in_workspace(ws_path, "lc_gaps", "缺口表", "<qgis><fieldConfiguration/></qgis>",
                            default=False, sld="", geometry=None),
    ]
    _saves_in_workspace(ws_path, "streets", "道路配色", _qml("#ab3f10"))
    before = hashlib.sha256(ws_path.read_bytes()).hexdigest()
    said = _export(ws_path, _with(database, schema="高唐"), "--layers", "communities,fire_findings,lc_gaps")
    catalog = urllib.parse.urlsplit(database).path.strip("/")

    # each as saved, under this database, schema, table and its geometry column (NULL: a table)
    copies = _copies(database)
    assert [r[:-1] for r in copies] == [(catalog, "高唐", *e) for e in expected]
    assert {r[-1] for r in copies} == {postgis.SAVED_OWNER}
    # the planner's default is the default of communities; gcgeo's style stays default elsewhere
    defaults = _sql(database, "select f_table_name, stylename, owner from public.layer_styles "
                              "where useasdefault order by 1")
    assert defaults == [("communities", "规划院配色", postgis.SAVED_OWNER),
                        ("fire_findings", "消防车道问题", OWNER), ("lc_gaps", "设施缺口", OWNER)]
    assert _styles(database, where="f_table_name = 'communities' and owner = %s", params=(OWNER,))
    # streets was not exported: none of its styles in the database
    assert _styles(database, where="f_table_name = 'streets'") == []
    assert "高唐.communities: the style(s) saved in QGIS carried over: 平面图, 规划院配色" in said
    assert "warning" not in said.lower()
    assert hashlib.sha256(ws_path.read_bytes()).hexdigest() == before  # the workspace is only read

    # QGIS opens communities in the planner's colour, fire findings in gcgeo's style
    if QGIS_MISSING is None:
        seen = qgis_tables(database, "高唐", {"communities": "geom", "fire_findings": "geom",
                                             "lc_gaps": None}, tmp_path / "db.json")
        assert seen["communities"]["renderer"]["type"] == "singleSymbol"
        assert seen["communities"]["renderer"]["color"]["hex"] == PLANNER
        assert seen["communities"]["styles"][0] == "规划院配色"
        assert {"规划院配色", "平面图", "社区"} <= set(seen["communities"]["styles"])
        assert seen["fire_findings"]["renderer"]["type"] == "categorizedSymbol"
        assert "草稿" in seen["fire_findings"]["styles"]
        assert seen["lc_gaps"]["styles"][0] == "设施缺口" and "缺口表" in seen["lc_gaps"]["styles"]


def test_exporting_again_replaces_the_copies_and_keeps_what_was_saved_in_the_database(database, county,
                                                                                    tmp_path):
    ws_path = _workspace(county, tmp_path)
    _saves_in_workspace(ws_path, "communities", "平面图", _qml("#010203"), default=False)
    _saves_in_workspace(ws_path, "communities", "规划院配色", _qml(PLANNER))
    _saves_in_workspace(ws_path, "fire_findings", "草稿", _qml("#0a0b0c"))
    url = _with(database, schema="高唐")
    layers = ("--layers", "communities,fire_findings")
    _export(ws_path, url, *layers)
    first = _copies(database)
    assert [(r[2], r[4], r[7]) for r in first] == [
        ("communities", "平面图", False), ("communities", "规划院配色", True), ("fire_findings", "草稿", True)]

    # in the database, as QGIS does: user gc saves over the copy 平面图 (QGIS updates the row of that
    # name, owner the user) and saves a default of fire findings (no longer the copy's)
    mine = _qml("#654321")
    _sql(database, "update layer_styles set styleqml = XMLPARSE(DOCUMENT %s), owner = current_user "
                   "where f_table_name = 'communities' and stylename = '平面图'", (mine,))
    _planner_saves(database, "高唐", "fire_findings", "#654321")
    theirs = _sql(database, "select * from layer_styles where owner = 'gc' order by id")
    assert len(theirs) == 2

    said = _export(ws_path, url, *layers, "--overwrite")
    # what gc saved is untouched; the copies once each, none of 平面图 (gc's of that name stays)
    assert _sql(database, "select * from layer_styles where owner = 'gc' order by id") == theirs
    again = _copies(database)
    assert [(r[2], r[4], r[7]) for r in again] == [("communities", "规划院配色", True),
                                                  ("fire_findings", "草稿", False)]
    assert [r[:7] for r in again] == [r[:7] for r in first[1:]]
    assert "table 高唐.communities: the style '平面图' saved in QGIS in the workspace is not copied: the " \
           "database has a style of that name for the table, saved there by gc" in said
    # fire findings: the default gc saved in the database stays the only one, and it is said
    defaults = _sql(database, "select f_table_name, stylename, owner from layer_styles where useasdefault "
                              "order by 1")
    assert defaults == [("communities", "规划院配色", postgis.SAVED_OWNER), ("fire_findings", "规划院配色", "gc")]
    assert "table 高唐.fire_findings: the style '草稿' saved in QGIS in the workspace is its default there; " \
           "the default style saved in the database, '规划院配色' (by gc), stays the default" in said
    # gcgeo's own rows: once each, as before
    gcgeo = _styles(database, where="owner = %s", params=(OWNER,))
    assert sorted((r[2], r[4]) for r in gcgeo) == [("communities", "社区"), ("fire_findings", "消防车道问题")]

    # the planner drops 规划院配色 from the workspace: its copy goes at the next export
    with sqlite3.connect(ws_path) as con:
        con.execute("DELETE FROM layer_styles WHERE styleName = '规划院配色'")
    con.close()
    _export(ws_path, url, *layers, "--overwrite")
    assert [(r[2], r[4]) for r in _copies(database)] == [("fire_findings", "草稿")]
    assert _sql(database, "select * from layer_styles where owner = 'gc' order by id") == theirs
    assert _sql(database, "select stylename, owner from layer_styles where f_table_name = 'communities' "
                          "and useasdefault") == [("社区", OWNER)]


def test_a_style_the_table_cannot_take_as_it_is_is_told(database, county, tmp_path):
    """A style naming a column the table lacks is copied with a warning, as to a .gpkg; one whose
    QML is not well-formed XML is not copied, one whose SLD is not is copied without it."""
    from gcgeo import workspace as ws

    ws_path = _workspace(county, tmp_path)
    named = _saves_in_workspace(ws_path, "communities", "人口配色", _qml(PLANNER, ("fid", "name", "population")))
    _saves_in_workspace(ws_path, "communities", "手改的", "<qgis><renderer-v2 type='singleSymbol'></qgis>",
                        default=False)
    broken_sld = _saves_in_workspace(ws_path, "communities", "旧配色", _qml("#010203"), default=False,
                                     sld="<StyledLayerDescriptor><NamedLayer>")
    frame = ws.read_layer(ws_path, "communities").drop(columns=["population"])
    warnings: list[str] = []
    notes: list[str] = []
    # renamed on the way: the styles of the layer go to the table it became
    postgis.export_layers({"communities": frame}, _with(database, schema="半途", table="小区"),
                          styles_from=ws_path, warn=warnings.append, inform=notes.append)
    catalog = urllib.parse.urlsplit(database).path.strip("/")
    assert [r[:-1] for r in _copies(database)] == [
        (catalog, "半途", "小区", *named[1:]), (catalog, "半途", "小区", *broken_sld[1:4], None, False, "")]
    assert notes == ["半途.小区: the style(s) saved in QGIS carried over: 人口配色, 旧配色"]
    assert warnings == [
        "layer '半途.小区': the style '人口配色' saved in QGIS names column(s) population, which the exported "
        "layer does not have; it is copied as it is, and QGIS may draw or label those features otherwise: "
        "check it in QGIS (Layer Properties → Symbology).",
        "table 半途.小区: the style '手改的' saved in QGIS in the workspace is not copied: its QML is empty or "
        "not well-formed XML, which neither the database nor QGIS can read; open the layer of the workspace "
        "in QGIS, load the style, save it again (Style → Save as Default) and export again.",
        "table 半途.小区: the style '旧配色' saved in QGIS in the workspace is copied without its SLD, which "
        "is not well-formed XML (QGIS draws the table from the style's QML, which is copied)."]


def test_a_styles_table_of_another_make_gets_the_tables_and_a_warning(database, county):
    """A ``layer_styles`` the database refuses gcgeo's rows in (here a ``description`` made
    a number by some other program): the tables are written, without styles, and the
    warning names the step and the database's reason, never a traceback."""
    _sql(database, "create table public.layer_styles (id serial primary key, f_table_catalog varchar, "
                   "f_table_schema varchar, f_table_name varchar, f_geometry_column varchar, stylename text, "
                   "styleqml xml, stylesld xml, useasdefault boolean, description integer, owner varchar(63))")
    said = _export(county, _with(database, schema="other_make"), "--layers", "communities")
    assert "wrote table other_make.communities" in said
    assert "without QGIS styles" in said and "write into public.layer_styles" in said
    assert "InvalidTextRepresentation" in said and "Traceback" not in said
    assert _sql(database, "select count(*) from other_make.communities")[0][0] > 0
    assert _sql(database, "select count(*) from public.layer_styles") == [(0,)]
