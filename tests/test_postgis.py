"""PostGIS on a real server: a throwaway PostgreSQL + PostGIS cluster on loopback.

``.ci/run`` starts one (``.ci/pg-cluster``) and names it in ``GCGEO_TEST_POSTGRES``;
without that variable these tests start their own with the same script, and
skip, saying why, only where no server can be started.  Every table gcgeo
writes is read back by gcgeo and by GDAL's ``ogrinfo``/``ogr2ogr``.
"""

from __future__ import annotations

import urllib.parse

import pytest
from _handoff import analysed_county, assert_same_frame, feature_count, kinds, ogr_rows, ogrinfo
from _postgres import free_port, postgres_server
from click.testing import CliRunner

from gcgeo import DatabaseError, OutputExistsError, layers, postgis
from gcgeo import workspace as ws
from gcgeo.cli import main

psycopg = pytest.importorskip("psycopg", reason="psycopg is a dependency of gcgeo (pip install -e .)")



server = pytest.fixture(scope="module")(postgres_server)


def _admin(url: str, sql: str, *, db: str | None = None, params=()) -> list:
    parts = urllib.parse.urlsplit(url)
    if db:
        parts = parts._replace(path=f"/{db}")
    with psycopg.connect(urllib.parse.urlunsplit(parts._replace(query="")), autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def _fresh(url: str, schema: str) -> str:
    """``schema`` emptied (a server given by GCGEO_TEST_POSTGRES may hold an earlier run's)."""
    _admin(url, f'drop schema if exists "{schema}" cascade')
    return schema


def _with(url: str, **query) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _pg(url: str, schema: str) -> str:
    """The GDAL PG: datasource of ``url``'s database, one schema."""
    p = urllib.parse.urlsplit(url)
    return (f"PG:host={p.hostname} port={p.port} user={p.username} dbname={p.path.strip('/')} "
            f"schemas='{schema}'")


def _cli(*args, code=0):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == code, res.output
    return res


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    return analysed_county(tmp_path_factory.mktemp("county"))


def test_round_trip_of_every_layer_with_chinese_names(server, county, tmp_path):
    schema = _fresh(server, "高唐 县")
    url = _with(server, schema=schema)
    res = _cli("export", county, url)
    frames = ws.read_layers(county)
    for name in frames:
        assert f"wrote table {schema}.{name}" in res.output
    # the catalogue: a key, the geometry type and SRID, a spatial index, labelled comments
    geo = dict(_admin(server, "select f_table_name, srid from geometry_columns where f_table_schema = %s",
                      params=(schema,)))
    epsg = ws.info(county)["crs"].to_epsg()
    assert {n for n, f in frames.items() if hasattr(f, "geometry")} == set(geo)
    assert set(geo.values()) == {epsg}
    indexed = {r[0] for r in _admin(server, "select tablename from pg_indexes where schemaname = %s "
                                            "and indexdef ilike '%%using gist%%'", params=(schema,))}
    assert indexed == set(geo)
    keys = _admin(server, "select count(*) from information_schema.table_constraints where "
                          "table_schema = %s and constraint_type = 'PRIMARY KEY'", params=(schema,))
    assert keys[0][0] == len(frames)
    (comment,) = _admin(server, "select obj_description(%s::regclass)",
                        params=(f'"{schema}".fire_lanes',))[0]
    assert comment.startswith(layers.get_spec("fire_lanes").label("zh"))
    (col,) = _admin(server, "select col_description(%s::regclass, a.attnum) from pg_attribute a where "
                            "a.attrelid = %s::regclass and a.attname = 'clear_height_m'",
                    params=(f'"{schema}".fire_lanes', f'"{schema}".fire_lanes'))[0]
    assert "净空" in col and "Clear height" in col
    # every layer back, by gcgeo and by GDAL, Chinese text intact
    for name, frame in frames.items():
        if not hasattr(frame, "geometry"):
            continue
        back = postgis.read_table(_with(server, schema=schema, table=name))
        assert back.crs.to_epsg() == epsg
        assert_same_frame(back, frame, name)
        info = ogrinfo(_pg(server, schema), name)
        assert feature_count(info) == len(frame)
    gdal = ogr_rows(_pg(server, schema), "communities")
    assert sorted(gdal["name"]) == sorted(frames["communities"]["name"])


def test_add_a_table_back_with_the_cli(server, county, tmp_path):
    schema = _fresh(server, "add back")
    _cli("export", county, _with(server, schema=schema), "--layers", ",".join(layers.SPECS))
    new = tmp_path / "new.gpkg"
    _cli("init", new, "--name", "回读", "--crs", ws.info(county)["crs"].to_string())
    for kind in layers.SPECS:
        if kind not in kinds(county):
            continue
        _cli("add", new, kind, _with(server, schema=schema, table=kind))
        assert_same_frame(ws.read_layer(new, kind), ws.read_layer(county, kind), kind)
    listing = ws.list_layers(new)
    assert not listing["source"].str.contains("password").any()


def test_a_failure_mid_export_leaves_nothing(server, county, monkeypatch):
    schema = _fresh(server, "半途")
    real = postgis._write_table
    calls = []

    def fail_third(conn, db, name, frame, **kw):
        calls.append(name)
        if len(calls) == 3:
            raise RuntimeError("injected failure")
        return real(conn, db, name, frame, **kw)

    monkeypatch.setattr(postgis, "_write_table", fail_third)
    with pytest.raises(RuntimeError, match="injected"):
        postgis.export_layers(ws.read_layers(county), _with(server, schema=schema))
    assert len(calls) == 3
    assert _admin(server, "select count(*) from information_schema.schemata where schema_name = %s",
                  params=(schema,))[0][0] == 0  # not even the schema


def test_existing_tables_kept_without_overwrite(server, county):
    url = _with(server, schema=_fresh(server, "twice"))
    postgis.export_layers({"chargers": ws.read_layer(county, "chargers")}, url)
    streets = ws.read_layer(county, "streets")
    with pytest.raises(OutputExistsError, match="chargers.*--overwrite"):
        postgis.export_layers({"streets": streets, "chargers": streets}, url)
    assert _admin(server, "select count(*) from information_schema.tables where table_schema = 'twice'")[0][0] == 1
    postgis.export_layers({"chargers": streets}, url, overwrite=True)
    assert len(postgis.read_table(_with(server, schema="twice", table="chargers"))) == len(streets)


def test_a_table_named_with_spaces_and_chinese(server, county):
    _admin(server, 'drop table if exists public."消防 车道 2024"')
    url = _with(server, schema="public", table="消防 车道 2024")
    lanes = ws.read_layer(county, "fire_lanes")
    assert postgis.export_layers({"fire_lanes": lanes}, url, kinds={"fire_lanes": "fire_lanes"}) == \
        ["public.消防 车道 2024"]
    assert_same_frame(postgis.read_table(url), lanes, "消防 车道 2024")
    (comment,) = _admin(server, "select obj_description('public.\"消防 车道 2024\"'::regclass)")[0]
    assert "消防车道" in comment


def test_bad_databases_are_said_plainly(server, county, tmp_path):
    p = urllib.parse.urlsplit(server)
    closed = f"postgresql://gc@127.0.0.1:{free_port()}/gcgeo"
    res = _cli("export", county, closed, "--layers", "chargers", code=2)
    assert "no PostgreSQL server answers at 127.0.0.1" in res.output
    _admin(server, "do $$ begin if not exists (select from pg_roles where rolname = 'planner') then "
                   "create role planner login password 'right-密码'; end if; end $$")
    wrong = f"postgresql://planner:wrong@{p.hostname}:{p.port}{p.path}"
    res = _cli("export", county, wrong, "--layers", "chargers", code=2)
    assert "refused the password of user planner" in res.output and ":wrong@" not in res.output
    if not _admin(server, "select 1 from pg_database where datname = 'plain'"):
        _admin(server, "create database plain")
    plain = f"postgresql://gc@{p.hostname}:{p.port}/plain"
    res = _cli("export", county, plain, "--layers", "chargers", code=2)
    assert "has no PostGIS extension" in res.output and "CREATE EXTENSION postgis" in res.output
    _cli("init", tmp_path / "x.gpkg", "--name", "x")
    res = _cli("add", tmp_path / "x.gpkg", "chargers", _with(server, table="nope"), code=2)
    assert "has no table 'nope'" in res.output
    with pytest.raises(DatabaseError):
        postgis.read_table(_with(closed, table="x"))
