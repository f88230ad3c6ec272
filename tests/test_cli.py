"""The command line, driven by click's runner: results and one-paragraph errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer

from gcgeo import crs as C
from gcgeo import workspace as ws
from gcgeo.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _run(runner, *args, code=0):
    res = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == code, res.output + (res.stderr if hasattr(res, "stderr") else "")
    return res


def test_init_add_layers_validate_export(tmp_path, runner):
    w = tmp_path / "gaotang.gpkg"
    _run(runner, "init", w, "--name", "高唐县")
    true = np.array([[116.2301, 36.8612], [116.2455, 36.8701]])
    glon, glat = C.wgs84_to_gcj02(true[:, 0], true[:, 1])
    csv = tmp_path / "poi.csv"
    pd.DataFrame({"名称": ["幼儿园", "超市"], "类别": ["kindergarten", "supermarket"],
                  "lng": glon, "lat": glat}).to_csv(csv, index=False)
    res = _run(runner, "add", w, "facilities", csv, "--src-crs", "gcj02", "--columns", "类别=category")
    assert "2 features" in res.output and "EPSG:4548" in res.output
    fac = ws.read_layer(w, "facilities")
    assert fac["category"].tolist() == ["kindergarten", "supermarket"]
    assert fac["name"].tolist() == ["幼儿园", "超市"]
    d = fac.distance(gpd.GeoSeries(gpd.points_from_xy(true[:, 0], true[:, 1]), crs=4326).to_crs(4548))
    assert d.max() < 0.01
    res = _run(runner, "layers", w)
    assert "facilities" in res.output
    res = _run(runner, "validate", w)
    assert "0 error(s)" in res.output
    res = _run(runner, "export", w, tmp_path / "out.shp")
    assert (tmp_path / "out.shp").exists() and (tmp_path / "out.cpg").exists()
    _run(runner, "export", w, tmp_path / "out.shp", code=2)  # exists, no --overwrite
    _run(runner, "export", w, tmp_path / "out.shp", "--overwrite")


def test_init_refuses_a_planners_geopackage_even_with_overwrite(tmp_path, runner):
    data = tmp_path / "data.gpkg"
    gpd.GeoDataFrame({"编号": ["C1", "C2", "C3"]}, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)],
                     crs=4548).to_file(data, layer="comm")
    for extra in ((), ("--overwrite",)):
        res = _run(runner, "init", data, "--name", "x", *extra, code=2)
        assert "is not a gcgeo workspace: it holds layer comm (3 features)" in res.output
        assert "--overwrite" not in res.output
    assert gpd.read_file(data, layer="comm")["编号"].tolist() == ["C1", "C2", "C3"]


def test_add_keeps_an_arcgis_fid_or_geom_column_under_another_name(tmp_path, runner):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "高唐县")
    csv = tmp_path / "poi.csv"
    csv.write_text("FID,编号,类别,lon,lat\n0,F1,幼儿园,116.27,36.84\n1,F2,公园,116.28,36.845\n",
                   encoding="utf-8")
    xlsx = tmp_path / "poi.xlsx"  # FID repeated, and a geom column
    pd.DataFrame({"FID": [0, 0], "geom": ["点", "点"], "编号": ["F3", "F4"], "类别": ["幼儿园", "公园"],
                  "lon": [116.27, 116.28], "lat": [36.84, 36.845]}).to_excel(xlsx, index=False)
    res = _run(runner, "add", w, "facilities", csv, "--src-crs", "wgs84")
    assert "FID → fid_src" in res.output
    res = _run(runner, "add", w, "facilities", xlsx, "--src-crs", "wgs84", "--name", "more")
    assert "FID → fid_src" in res.output and "geom → geom_src" in res.output
    fac, more = ws.read_layer(w, "facilities"), ws.read_layer(w, "more")
    assert fac["fid_src"].tolist() == ["0", "1"] and fac["id"].tolist() == ["F1", "F2"]
    assert more["fid_src"].tolist() == [0, 0] and more["geom_src"].tolist() == ["点", "点"]
    assert more["category"].tolist() == ["kindergarten", "park"]


def test_add_names_the_columns_it_does_not_use(tmp_path, runner):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "高唐县")
    bld = tmp_path / "bld.gpkg"
    gpd.GeoDataFrame({"ID": ["B1", "B2"], "建筑性质": ["住宅", "商业"], "高度(米)": [18.0, 12.0],
                      "楼层数": [6, 3], "居住人数": [120, 0]},
                     geometry=[shapely.box(434600, 4078300, 434650, 4078350),
                               shapely.box(434700, 4078300, 434750, 4078350)], crs=4548).to_file(bld)
    res = _run(runner, "add", w, "buildings", bld)
    text = " ".join(res.output.split())
    assert "高度(米) → height_m" in text
    assert "not used by gcgeo: 建筑性质, 楼层数, 居住人数" in text
    assert "--columns 建筑性质=use,楼层数=floors" in text
    assert "not found: use (用途), residential (住宅), floors (层数), population (居住人口)" in text
    # mapped as advised, the values land
    res = _run(runner, "add", w, "buildings", bld, "--overwrite",
               "--columns", "建筑性质=use,楼层数=floors,居住人数=population")
    assert "not used by gcgeo" not in res.output
    b = ws.read_layer(w, "buildings")
    assert b["use"].tolist() == ["residential", "commercial"] and b["floors"].tolist() == [6, 3]
    assert b["height_m"].tolist() == [18.0, 12.0] and b["population"].tolist() == [120, 0]


def test_add_maps_each_files_columns_before_joining_them(tmp_path, runner):
    names = ["南湖社区", "固河社区", "鱼邱湖社区", "光明社区", "金城社区", "文化社区"]
    pop = [2808, 5910, 7056, 2862, 6444, 2325]
    comm = gpd.GeoDataFrame({"编号": [f"C{i}" for i in range(1, 7)], "名称": names, "人口": pop},
                            geometry=[shapely.box(434500 + 600 * (i % 3), 4078200 + 600 * (i // 3),
                                                  435100 + 600 * (i % 3), 4078800 + 600 * (i // 3))
                                      for i in range(6)], crs=4548)
    a, b = tmp_path / "comm_A.gpkg", tmp_path / "comm_B.gpkg"
    comm.iloc[:3].to_file(a)
    comm.iloc[3:].rename(columns={"编号": "id", "名称": "name", "人口": "常住"}).to_file(b)
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "高唐县")
    res = _run(runner, "add", w, "communities", a, b)  # 常住: no name gcgeo knows…
    assert "not used by gcgeo: 常住" in res.output
    assert ws.read_layer(w, "communities")["name"].tolist() == names
    # …mapped for the one file that has it
    _run(runner, "add", w, "communities", a, b, "--columns", "常住=population", "--overwrite")
    got = ws.read_layer(w, "communities")
    assert got["id"].tolist() == [f"C{i}" for i in range(1, 7)]
    assert got["name"].tolist() == names and got["population"].tolist() == pop
    assert not {"编号", "名称", "人口", "常住"} & set(got.columns)
    res = _run(runner, "add", w, "communities", a, b, "--columns", "人数=population", "--overwrite",
               code=2)
    assert "none of the files has such a column" in res.output and "comm_B.gpkg: id, name, 常住" in res.output


def test_a_workspace_locked_by_another_program_exits_2_saying_so(tmp_path, runner, monkeypatch):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "高唐县")
    gj = tmp_path / "comm.geojson"
    gpd.GeoDataFrame({"名称": ["南湖社区"]}, geometry=[shapely.box(116.2, 36.85, 116.21, 36.86)],
                     crs=4326).to_file(gj)
    monkeypatch.setenv("GCGEO_LOCK_TIMEOUT", "0.5")
    code = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(30)")
    other = subprocess.Popen([sys.executable, "-c", code, str(w)], stdout=subprocess.PIPE, text=True)
    try:  # another program (QGIS saving edits) holds the workspace locked
        assert other.stdout is not None and other.stdout.readline().strip() == "locked"
        res = _run(runner, "add", w, "communities", gj, code=2)
    finally:
        other.kill()
        other.wait()
    text = " ".join(res.output.split())
    assert "is locked by another program (e.g. QGIS or ArcGIS" in text and "Close it there" in text
    assert "gcgeo init" not in text and "not a readable GeoPackage" not in text


def test_validate_exits_1_on_problems_and_writes_a_report(tmp_path, runner):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "w")
    gj = tmp_path / "chargers.geojson"
    gpd.GeoDataFrame({"kind": ["car", "tram"]},
                     geometry=[shapely.Point(116.2, 36.85), shapely.Point(116.21, 36.85)],
                     crs=4326).to_file(gj)
    _run(runner, "add", w, "chargers", gj)
    res = _run(runner, "validate", w, "--report", tmp_path / "problems.csv", code=1)
    assert "tram" in res.output
    problems = pd.read_csv(tmp_path / "problems.csv")
    assert problems["column"].tolist() == ["kind"]


def test_validate_judges_streets_by_the_users_network_rules(tmp_path, runner):
    # two streets crossing without a shared vertex: a warning under the built-in
    # rules; none when the user's rules file joins crossings, as the analyses would
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "w")
    gj = tmp_path / "streets.geojson"
    gpd.GeoDataFrame({"id": ["a", "b"]},
                     geometry=[shapely.LineString([(116.200, 36.850), (116.204, 36.850)]),
                               shapely.LineString([(116.202, 36.848), (116.202, 36.852)])],
                     crs=4326).to_file(gj)
    _run(runner, "add", w, "streets", gj)
    assert "without a junction" in _run(runner, "validate", w).output
    rules = tmp_path / "rules.toml"
    rules.write_text("[network]\nsplit_crossings = true\n", encoding="utf-8")
    assert "without a junction" not in _run(runner, "validate", w, "--rules", rules).output
    rules.write_text("[network]\nsplit_crosings = true\n", encoding="utf-8")
    res = _run(runner, "validate", w, "--rules", rules, code=2)
    assert "split_crosings" in res.output and "split_crossings" in res.output


@pytest.mark.parametrize(
    "args,needle",
    [
        (["add", "{w}", "chargers", "{tmp}/missing.csv"], "no such file"),
        (["add", "{w}", "rockets", "{tmp}/x.csv"], "unknown layer kind"),
        (["add", "{w}", "facilities", "{tmp}/nocrs.csv"], "--src-crs"),
        (["add", "{w}", "facilities", "{tmp}/nocrs.csv", "--src-crs", "wgs84", "--columns", "类别"],
         "SOURCE=TARGET"),
        (["add", "{w}", "facilities", "{tmp}/nocrs.csv", "--src-crs", "wgs84", "--columns",
          "kind=category"], "no such column"),
        (["add", "{w}", "facilities", "{tmp}/nocrs.csv", "--src-crs", "moon"], "EPSG"),
        (["layers", "{tmp}/absent.gpkg"], "gcgeo init"),
        (["add", "{w}", "facilities", "{tmp}/junk.gpkg"], "could not be read"),
        # a page a browser would not open: named with its extension, nothing written
        (["report", "{w}", "-o", "{tmp}/报告"], "ending in .html"),
        (["map", "{w}", "-o", "{tmp}/map.txt"], "ending in .html"),
    ],
)
def test_bad_input_gives_a_message_not_a_traceback(tmp_path, runner, args, needle):
    w = tmp_path / "w.gpkg"
    ws.init(w, name="w")
    (tmp_path / "nocrs.csv").write_text("lon,lat,类别\n116.2,36.85,park\n", encoding="utf-8")
    (tmp_path / "junk.gpkg").write_bytes(b"\x00garbage")
    res = runner.invoke(main, [a.format(w=w, tmp=tmp_path) for a in args])
    assert res.exit_code == 2
    text = res.output + getattr(res, "stderr", "")
    assert needle in text.replace("\n", " ")
    assert "Traceback" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.gpkg", "nocrs.csv", "w.gpkg"]


def test_rules_lists_clauses(runner):
    res = _run(runner, "rules", "living_circle")
    assert "GB 50180-2018" in res.output and "10min" in res.output


def test_columns_mapping_file(tmp_path, runner):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "w")
    xlsx = tmp_path / "井盖.xlsx"
    pd.DataFrame({"编号": ["J1"], "责任单位": ["城管局"], "电话号码": ["0635-1"],
                  "X": [428650.0], "Y": [4080163.0]}).to_excel(xlsx, index=False)
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\n"责任单位" = "manager"\n"电话号码" = "contact"\n', encoding="utf-8")
    res = _run(runner, "add", w, "manholes", xlsx, "--src-crs", "EPSG:4548", "--columns", mapping)
    assert "责任单位 → manager" in res.output
    got = ws.read_layer(w, "manholes")
    assert got[["id", "manager", "contact"]].iloc[0].tolist() == ["J1", "城管局", "0635-1"]
    assert got.geometry.x.iloc[0] == 428650.0


def test_import_osm_creates_workspace_and_bad_input_leaves_it_untouched(tmp_path, runner):
    import hashlib

    pbf = Path(__file__).parent / "data" / "osm" / "kotka_karhula.osm.pbf"
    w = tmp_path / "kotka.gpkg"
    res = _run(runner, "import-osm", w, pbf, "--name", "Karhula")
    assert "streets" in res.output
    assert ws.info(w)["name"] == "Karhula"
    assert ws.info(w)["crs"].to_epsg() == 32635  # UTM 35N for south-east Finland
    streets = ws.read_layer(w, "streets")
    assert len(streets) > 400 and {"u", "v", "osm_id"} <= set(streets.columns)
    before = hashlib.sha256(w.read_bytes()).hexdigest()
    res = runner.invoke(main, ["import-osm", str(w), str(pbf), "--bbox", "0,0,0.01,0.01"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    truncated = tmp_path / "cut.osm.pbf"
    truncated.write_bytes(pbf.read_bytes()[:5000])
    res = runner.invoke(main, ["import-osm", str(w), str(truncated)])
    assert res.exit_code == 2 and "cut.osm.pbf" in res.output
    assert hashlib.sha256(w.read_bytes()).hexdigest() == before


def test_a_failed_import_into_a_new_path_leaves_no_workspace(tmp_path, runner, monkeypatch):
    from gcgeo import WorkspaceError

    def full_disk(*args, **kwargs):
        raise WorkspaceError("cannot write the workspace: no space left on device.")

    monkeypatch.setattr(ws, "write_layers", full_disk)
    pbf = Path(__file__).parent / "data" / "osm" / "kotka_karhula.osm.pbf"
    w = tmp_path / "kotka.gpkg"
    res = runner.invoke(main, ["import-osm", str(w), str(pbf)])
    assert res.exit_code == 2 and "no space left" in res.output and "Traceback" not in res.output
    assert not w.exists() and list(tmp_path.iterdir()) == []


def test_existing_files_and_layers_are_kept_unless_overwrite(tmp_path, runner):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "w")
    gj = tmp_path / "c.geojson"
    gpd.GeoDataFrame({"kind": ["car"]}, geometry=[shapely.Point(116.2, 36.85)], crs=4326).to_file(gj)
    _run(runner, "add", w, "chargers", gj)
    res = _run(runner, "add", w, "chargers", gj, code=2)
    assert "--overwrite" in res.output
    _run(runner, "add", w, "chargers", gj, "--overwrite")
    precious = tmp_path / "mine.gpkg"
    precious.write_bytes(b"planner's data")
    res = _run(runner, "validate", w, "--report", precious, code=2)
    assert precious.read_bytes() == b"planner's data"


def test_system_errors_are_messages(tmp_path, runner):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "w")
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    gj = tmp_path / "c.geojson"
    gpd.GeoDataFrame({"kind": ["car"]}, geometry=[shapely.Point(116.2, 36.85)], crs=4326).to_file(gj)
    _run(runner, "add", w, "chargers", gj)
    res = runner.invoke(main, ["export", str(w), str(blocker / "out.gpkg")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "afile" in res.output


def test_analyze_join_tolerance_joins_a_street_drawn_short(tmp_path, runner):
    from shapely.geometry import LineString, Point, box

    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "w", "--crs", "EPSG:4548")
    x0, y0 = 500000.0, 4080000.0
    files = {
        # the second street stops 2 m short of the first: one home walks through the gap
        "streets": gpd.GeoDataFrame(geometry=[LineString([(x0, y0), (x0 + 400, y0)]),
                                              LineString([(x0 + 200, y0 + 2), (x0 + 200, y0 + 300)])],
                                    crs=4548),
        "facilities": gpd.GeoDataFrame({"category": ["supermarket"]},
                                       geometry=[Point(x0 + 200, y0 + 300)], crs=4548),
        "buildings": gpd.GeoDataFrame({"use": ["residential"], "population": [10.0]},
                                      geometry=[box(x0 + 95, y0 - 15, x0 + 105, y0 - 5)], crs=4548),
    }
    for kind, gdf in files.items():
        path = tmp_path / f"{kind}.gpkg"
        gdf.to_file(path)
        _run(runner, "add", w, kind, path)
    res = _run(runner, "validate", w)
    assert "stops 2.0 m from street" in res.output
    _run(runner, "analyze", w, "living-circle", "--isochrones", "none")
    d = ws.read_layer(w, "lc_origins")["dist_supermarket_m"]
    assert d.isna().all()  # the default 1 m does not join a 2 m gap
    _run(runner, "analyze", w, "living_circle", "--isochrones", "none", "--join-tolerance", "3")
    d = ws.read_layer(w, "lc_origins")["dist_supermarket_m"].iloc[0]
    # 10 m to the street at x = 100, 100 m along it, 300 m up the joined street
    assert d == pytest.approx(10 + 100 + 300)
    _run(runner, "analyze", w, "fire_lanes", "--join-tolerance", "3", code=2)


# ---- the console command's quick exit (gcgeo.cli.run) ------------------------------


def _console(*args: str, code: str = "from gcgeo.cli import run; run()"):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # (output buffered)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, timeout=300, env=env)


def test_the_console_command_ends_as_the_interpreter_would(tmp_path):
    """``gcgeo`` as the console runs it (a quick exit once the command has ended) gives
    the same output, every byte of it, and the same exit status as the command left to
    the interpreter's own exit: a table, a version, a user's error, an unknown option."""
    normal = "import sys; from gcgeo.cli import main; sys.argv[0] = 'gcgeo'; sys.exit(main())"
    path = tmp_path / "w.gpkg"
    ws.init(path, name="t", crs=4547)
    for args in (["rules", "living_circle"], ["--version"], ["layers", str(path)],
                 ["layers", str(tmp_path / "none.gpkg")], ["rules", "--bogus"]):
        quick, usual = _console(*args), _console(*args, code=normal)
        assert quick.returncode == usual.returncode, args
        assert quick.stdout == usual.stdout, args
        assert quick.stderr == usual.stderr, args
    assert _console("rules", "living_circle").returncode == 0
    assert len(_console("rules", "living_circle").stdout) > 4000
    assert _console("layers", str(tmp_path / "none.gpkg")).returncode == 2


def test_the_console_command_flushes_what_was_printed():
    """Text printed and left in Python's buffer (standard output to a pipe) reaches the pipe."""
    code = ("import sys; from gcgeo.cli import common; "
            "common.main.command('speak')(lambda: print('x' * 100_001, end='|')); "
            "sys.argv[1:] = ['speak']; common.run()")
    res = _console(code=code)
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"x" * 100_001 + b"|"


def test_the_console_command_waits_for_a_running_thread():
    """A thread still running when the command ends is waited for, as the interpreter does."""
    code = ("import sys, threading, time; from gcgeo.cli import common; "
            "common.main.command('late')(lambda: threading.Thread("
            "target=lambda: (time.sleep(0.5), print('late thread done', flush=True))).start()); "
            "sys.argv[1:] = ['late']; common.run()")
    res = _console(code=code)
    assert res.returncode == 0, res.stderr
    assert b"late thread done" in res.stdout


# ---- coordinates that cannot be right are refused at intake -----------------------------

# two manholes in Gaotang, their survey coordinates derived from lon/lat by PROJ
_MH_LONLAT = np.array([[116.2301, 36.8612], [116.2455, 36.8701]])
_MH_E, _MH_N = Transformer.from_crs(4326, 4548, always_xy=True).transform(_MH_LONLAT[:, 0],
                                                                           _MH_LONLAT[:, 1])


def _words(res) -> str:
    return " ".join(res.output.split())


def _survey_xlsx(path: Path) -> Path:
    """A surveyor's table: X坐标 the northing, Y坐标 the easting (测量坐标系)."""
    pd.DataFrame({"编号": ["M1", "M2"], "类型": ["污水", "雨水"],
                  "X坐标": _MH_N, "Y坐标": _MH_E}).to_excel(path, index=False)
    return path


@pytest.mark.parametrize("given", [("--x", "X坐标", "--y", "Y坐标"), ()])
def test_survey_northings_in_x_are_refused_with_the_fix(tmp_path, runner, given):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "高唐县")
    xlsx = _survey_xlsx(tmp_path / "mh.xlsx")
    before_ws, before_in = w.read_bytes(), xlsx.read_bytes()
    res = _run(runner, "add", w, "manholes", xlsx, "--src-crs", "EPSG:4548", *given, code=2)
    text = _words(res)
    assert f"'X坐标' holds values like {int(_MH_N[0]):,} (northings)" in text
    assert f"'Y坐标' like {int(_MH_E[0]):,} (eastings)" in text
    assert "mh.xlsx" in text and "Give --x Y坐标 --y X坐标" in text
    assert w.read_bytes() == before_ws and xlsx.read_bytes() == before_in
    # the fix the message gives puts the manholes where they were surveyed
    _run(runner, "add", w, "manholes", xlsx, "--src-crs", "EPSG:4548", "--x", "Y坐标", "--y", "X坐标")
    assert ws.info(w)["crs"].to_epsg() == 4548
    got = ws.read_layer(w, "manholes").to_crs(4326).get_coordinates().to_numpy()
    assert np.abs(got - _MH_LONLAT).max() < 1e-8


def _poi_csv(path: Path, rows: list[tuple[float, float]]) -> Path:
    lines = ["编号,类别,lon,lat"] + [f"F{i},幼儿园,{x:g},{y:g}" for i, (x, y) in enumerate(rows, 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


_GAOTANG_POI = [(116.27, 36.84), (116.28, 36.845), (116.281, 36.846), (116.275, 36.85)]


@pytest.mark.parametrize("workspace_crs", [None, "EPSG:4548"])
def test_an_ungeocoded_row_is_refused_by_its_file_line(tmp_path, runner, workspace_crs):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "x", *(["--crs", workspace_crs] if workspace_crs else []))
    csv = _poi_csv(tmp_path / "poi.csv", _GAOTANG_POI[:2] + [(0, 0)] + _GAOTANG_POI[2:3])
    before_ws, before_in = w.read_bytes(), csv.read_bytes()
    res = _run(runner, "add", w, "facilities", csv, "--src-crs", "gcj02", code=2)
    text = _words(res)
    # header on line 1: the third data row is line 4
    assert "poi.csv: 1 of 4 rows lies apart" in text
    assert "line 4: (0, 0) — an address that was not geocoded?" in text
    assert "Correct or remove that row" in text
    assert w.read_bytes() == before_ws and csv.read_bytes() == before_in


def test_a_stray_row_is_named_by_its_sheet_row_and_distance(tmp_path, runner):
    from pyproj import Geod

    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "x")
    rows = _GAOTANG_POI + [(16.28, 36.846)]  # a dropped digit: 16.28 for 116.28
    xlsx = tmp_path / "poi.xlsx"
    pd.DataFrame({"编号": ["F1", "F2", "F3", "F4", "F5"], "lon": [r[0] for r in rows],
                  "lat": [r[1] for r in rows]}).to_excel(xlsx, index=False)
    before = w.read_bytes()
    res = _run(runner, "add", w, "facilities", xlsx, "--src-crs", "wgs84", code=2)
    lon, lat = np.median([r[0] for r in rows]), np.median([r[1] for r in rows])
    km = Geod(ellps="WGS84").inv(lon, lat, 16.28, 36.846)[2] / 1000
    assert f"row 6: (16.28, 36.846), {km:,.0f} km away" in _words(res)
    assert w.read_bytes() == before


def test_a_province_is_one_layer_but_two_regions_are_not(tmp_path, runner):
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "山东")
    # Shandong's cities, Heze to Weihai (~600 km): kept, measured in the zone of their middle
    cities = [(117.0, 36.65), (120.38, 36.07), (121.4, 37.5), (122.12, 37.51), (115.48, 35.23),
              (118.35, 35.1), (116.36, 37.44), (119.5, 35.4)]
    _run(runner, "add", w, "facilities", _poi_csv(tmp_path / "sd.csv", cities), "--src-crs", "wgs84")
    middle = (min(c[0] for c in cities) + max(c[0] for c in cities)) / 2
    assert ws.info(w)["crs"].to_epsg() == C.cgcs2000_zone_epsg(middle)
    # Gaotang and Urumqi, two points each: no row is the stray, and no zone measures both
    w2 = tmp_path / "w2.gpkg"
    _run(runner, "init", w2, "--name", "x")
    before = w2.read_bytes()
    two = _GAOTANG_POI[:2] + [(87.6, 43.8), (87.61, 43.81)]
    res = _run(runner, "add", w2, "facilities", _poi_csv(tmp_path / "two.csv", two),
               "--src-crs", "wgs84", code=2)
    text = _words(res)
    assert "spans 87.6°E–116.3°E" in text and "no one working CRS measures all of it truly" in text
    assert w2.read_bytes() == before


def test_a_first_layer_without_features_names_the_file_and_the_crs_fix(tmp_path, runner):
    """A header-only CSV cannot set a new workspace's working CRS: the file is named, with the
    fix, and following the fix adds it (no features)."""
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "x")
    csv = tmp_path / "header.csv"
    csv.write_text("编号,名称,类别,lon,lat\n", encoding="utf-8")
    before = w.read_bytes()
    text = _words(_run(runner, "add", w, "facilities", csv, "--src-crs", "wgs84", code=2))
    assert "header.csv has no feature with a position (0 row(s))" in text and "--crs EPSG:45xx" in text
    assert w.read_bytes() == before
    _run(runner, "init", w, "--name", "x", "--overwrite", "--crs", "EPSG:4548")
    assert "added facilities (0 features) in EPSG:4548" in _words(
        _run(runner, "add", w, "facilities", csv, "--src-crs", "wgs84"))


def test_a_layer_the_workspace_has_is_refused_with_the_fix_the_command_has(tmp_path, runner):
    """`add` may store under another --name; the analyses' and import's layers have fixed names."""
    w = tmp_path / "w.gpkg"
    _run(runner, "init", w, "--name", "x", "--crs", "EPSG:4548")
    csv = _poi_csv(tmp_path / "poi.csv", _GAOTANG_POI[:2])
    _run(runner, "add", w, "facilities", csv, "--src-crs", "gcj02")
    text = _words(_run(runner, "add", w, "facilities", csv, "--src-crs", "gcj02", code=2))
    assert "give --overwrite to replace them (or --name to add under another name)." in text
    from gcgeo._errors import OutputExistsError

    pts = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(434800, 4078801)], crs=4548)
    with pytest.raises(OutputExistsError, match=r"give --overwrite to replace them\.$"):
        ws.write_layers(w, {"facilities": pts}, overwrite=False)
