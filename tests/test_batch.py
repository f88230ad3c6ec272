"""``gcgeo batch`` on a real dask LocalCluster: many areas, failures, reruns that skip.

Three synthetic counties (different seeds) are study areas; a fourth is a
file that is not a GeoPackage and a fifth names an input that does not
exist.  The batch runs on two worker processes on loopback; its results are
compared with :func:`gcgeo.pipeline.run_analysis` run directly on a copy.
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import distributed
import pytest
from _batch import areas_toml, county_workspace
from click.testing import CliRunner
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal

from gcgeo import analysis, pipeline
from gcgeo import workspace as ws
from gcgeo.batch import read_project
from gcgeo.cli import main

pytestmark = pytest.mark.slow

SEEDS = (11, 12, 13)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="2GiB", dashboard_address=None,
                                  host="127.0.0.1") as c:
        yield c


def _invoke(*args: object):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return res, res.output + getattr(res, "stderr", "")


def _stored(path: Path) -> dict[str, str]:
    """When each analysis last ran on the workspace (None when never)."""
    return {n: (pipeline.last_run(path, n) or {}).get("ran") for n in analysis.names()}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Three good areas (the third's chargers imported by the batch) and two broken ones."""
    root = tmp_path_factory.mktemp("batch")
    counties = {}
    for seed in SEEDS:
        leave = ("chargers",) if seed == SEEDS[2] else ()  # the batch adds the third's chargers
        counties[seed] = county_workspace(root / f"area{seed}.gpkg", seed, name=f"area {seed}", leave_out=leave)
    counties[SEEDS[2]].layers["chargers"].to_file(root / "chargers13.gpkg", layer="chargers")
    # the reference: the third area as the batch will leave it, built directly
    reference = root / "reference" / f"area{SEEDS[2]}.gpkg"
    reference.parent.mkdir()
    shutil.copy(root / f"area{SEEDS[2]}.gpkg", reference)
    (root / "broken.gpkg").write_text("this is not a GeoPackage\n", encoding="utf-8")
    good = areas_toml([(f"area {s}", f"area{s}.gpkg") for s in SEEDS])
    good += '[area.layers]\nchargers = "chargers13.gpkg"\n'
    (root / "good.toml").write_text(good, encoding="utf-8")
    (root / "project.toml").write_text(
        '[batch]\nreports = "reports"\nlang = "en"\n\n' + good
        + '\n[[area]]\nname = "坏的"\nworkspace = "broken.gpkg"\n'
        + '\n[[area]]\nname = "no input"\nworkspace = "new.gpkg"\n'
        + '[area.layers]\nfacilities = "nowhere/facilities.gpkg"\n', encoding="utf-8")
    return {"root": root, "counties": counties, "reference": reference}


@pytest.fixture(scope="module")
def first_run(project, cluster):
    res, text = _invoke("batch", project["root"] / "project.toml", "--scheduler", cluster.scheduler_address)
    return {"res": res, "text": text,
            "ran": {s: _stored(project["root"] / f"area{s}.gpkg") for s in SEEDS}}


def test_every_area_done_and_the_broken_ones_reported(project, first_run):
    res, text = first_run["res"], first_run["text"]
    assert res.exit_code == 1, text
    assert "broken.gpkg is not a readable GeoPackage" in text and "坏的" in text
    assert "nowhere/facilities.gpkg: no such file" in text
    assert "2 area(s) failed" in text and "3 done, 0 unchanged, 2 failed of 5" in text
    assert not (project["root"] / "new.gpkg").exists()  # a failed import leaves no workspace
    for seed in SEEDS:
        # the synthetic county has every layer: every analysis ran and is stored
        assert all(first_run["ran"][seed].values()), (seed, first_run["ran"][seed])
        assert pipeline.stale(project["root"] / f"area{seed}.gpkg") == {}
        report = project["root"] / "reports" / f"area{seed}.html"
        assert report.exists() and f"area {seed}" in report.read_text(encoding="utf-8")


def test_imported_layer_is_the_file(project, first_run):
    path = project["root"] / f"area{SEEDS[2]}.gpkg"
    got = ws.read_layer(path, "chargers")
    assert len(got) == len(project["counties"][SEEDS[2]].layers["chargers"]) > 0
    table = ws.list_layers(path).set_index("layer")
    assert table.loc["chargers", "source"].endswith("chargers13.gpkg")


def test_results_equal_a_direct_run(project, first_run):
    """Every output layer of the batch equals run_analysis run directly on the same inputs."""
    ref = project["reference"]
    county = project["counties"][SEEDS[2]]
    ws.add_layer(ref, "chargers", county.layers["chargers"])
    for name in analysis.names():
        pipeline.run_analysis(ref, name)
    batch = project["root"] / f"area{SEEDS[2]}.gpkg"
    table = ws.list_layers(ref)
    outputs = table.loc[table["analysis"].astype(str) != "", "layer"].tolist()
    assert len(outputs) >= len(analysis.names())
    for layer in outputs:
        want, got = ws.read_layer(ref, layer), ws.read_layer(batch, layer)
        if hasattr(want, "geometry"):
            assert_geodataframe_equal(got, want)
        else:
            assert_frame_equal(got, want, obj=layer)


@pytest.fixture(scope="module")
def rerun(project, first_run, cluster):
    before = {s: (project["root"] / f"area{s}.gpkg").stat().st_mtime_ns for s in SEEDS}
    res, text = _invoke("batch", project["root"] / "project.toml", "--scheduler", cluster.scheduler_address)
    after = {s: (project["root"] / f"area{s}.gpkg").stat().st_mtime_ns for s in SEEDS}
    return {"res": res, "text": text, "before": before, "after": after}


def test_rerun_skips_everything(project, first_run, rerun):
    assert rerun["res"].exit_code == 1, rerun["text"]
    assert "0 done, 3 unchanged, 2 failed of 5" in rerun["text"]
    assert rerun["before"] == rerun["after"]  # no workspace was written
    for seed in SEEDS:
        assert _stored(project["root"] / f"area{seed}.gpkg") == first_run["ran"][seed]


def test_all_areas_succeeding_exit_zero(project, rerun, cluster):
    res, text = _invoke("batch", project["root"] / "good.toml", "--scheduler", cluster.scheduler_address,
                        "--reports", project["root"] / "reports")
    assert res.exit_code == 0, text
    assert "0 done, 3 unchanged, 0 failed of 3" in text


def test_a_replaced_layer_reruns_only_what_reads_it(project, first_run, rerun, cluster, tmp_path):
    root = project["root"]
    seed = SEEDS[1]
    path = root / f"area{seed}.gpkg"
    chargers = project["counties"][seed].layers["chargers"].iloc[1:]
    chargers.to_file(tmp_path / "chargers.gpkg", layer="chargers")
    res, text = _invoke("add", path, "chargers", tmp_path / "chargers.gpkg", "--overwrite")
    assert res.exit_code == 0, text
    res, text = _invoke("batch", root / "project.toml", "--scheduler", cluster.scheduler_address)
    assert res.exit_code == 1, text
    assert "1 done, 2 unchanged, 2 failed of 5" in text
    readers = {n for n, d in analysis.descriptors().items() if "chargers" in d.inputs}
    assert readers and readers != set(analysis.names())
    first, now = first_run["ran"][seed], _stored(path)
    assert {n for n in now if now[n] != first[n]} == readers, text
    for other in (SEEDS[0], SEEDS[2]):
        assert _stored(root / f"area{other}.gpkg") == first_run["ran"][other]
    # the analyses that ran saw the new layer, and the report was written after them
    assert pipeline.stale(path) == {}
    assert len(ws.read_layer(path, "chargers")) == len(chargers)
    assert (root / "reports" / f"area{seed}.html").stat().st_mtime_ns >= path.stat().st_mtime_ns


def test_scheduler_that_does_not_answer_is_a_clear_error(project):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    start = time.monotonic()
    res, text = _invoke("batch", project["root"] / "good.toml", "--scheduler", f"tcp://127.0.0.1:{port}",
                        "--connect-timeout", "2")
    assert res.exit_code == 2, text
    assert f"no dask scheduler answered at tcp://127.0.0.1:{port} within 2 s" in text
    assert "Traceback" not in text
    assert time.monotonic() - start < 30


def test_bad_project_file_lists_every_problem(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text('[batch]\nworkers = 0\nscheduler = "here"\n\n[[area]]\nname = "a"\n\n'
                   '[[area]]\nname = "b"\nworkspace = "b.gpkg"\nanalyses = ["nope"]\ncolour = 1\n'
                   'isochrones = "hull"\n[area.layers]\nbicycles = "x.shp"\n', encoding="utf-8")
    res, text = _invoke("batch", bad)
    assert res.exit_code == 2, text
    for part in ("7 problem(s)", "workers must be a whole number", "scheduler must be an address",
                 "area 'b': isochrones must be one of community, facility, dissolved, split, none, "
                 "not 'hull'",
                 "area 'a' needs a workspace", "unknown analysis 'nope'", "unknown key 'colour'",
                 "unknown layer kind 'bicycles'"):
        assert part in text, (part, text)
    (tmp_path / "q.toml").write_text("[[area]\nname=", encoding="utf-8")
    res, text = _invoke("batch", tmp_path / "q.toml")
    assert res.exit_code == 2 and "is not valid TOML" in text, text


def test_isochrones_asked_for_rerun_the_living_circle_once(tmp_path):
    """An area asking for the living circle's isochrones (none by default) runs it again
    when its stored run drew other ones, and then not again; the polygons are drawn."""
    from gcgeo.batch.area import analyses_due, run_area

    path = tmp_path / "a.gpkg"
    county_workspace(path, SEEDS[0], name="a")
    pipeline.run_analysis(path, "living_circle")
    assert len(ws.read_layer(path, "lc_isochrones")) == 0  # none by default
    plain = read_project_text(tmp_path, 'analyses = ["living_circle"]\n')
    assert analyses_due(plain) == ([], ["living_circle"])
    asked = read_project_text(tmp_path, 'analyses = ["living_circle"]\nisochrones = "community"\n')
    assert asked.isochrones == "community"
    assert analyses_due(asked) == (["living_circle"], [])
    res = run_area(asked)
    assert res.status == "done" and res.ran == ["living_circle"], res
    iso = ws.read_layer(path, "lc_isochrones")
    assert len(iso) > 0 and iso["community_id"].notna().all()
    assert analyses_due(asked) == ([], ["living_circle"])
    assert pipeline.last_run(path, "living_circle")["options"] == {"isochrones": "community"}
    assert analyses_due(plain) == (["living_circle"], [])  # (the stored run drew some)
    # options a batch does not give, chosen by hand, are the planner's: not redone for them
    pipeline.run_analysis(path, "living_circle", isochrones="community", walking_speed=4.5)
    assert pipeline.last_run(path, "living_circle")["options"] == {"isochrones": "community",
                                                                  "walking_speed": 4.5}
    assert analyses_due(asked) == ([], ["living_circle"])


def read_project_text(folder: Path, area_lines: str):
    """The one area of a project file in ``folder`` on workspace a.gpkg, with ``area_lines``."""
    (folder / "p.toml").write_text('[batch]\nreports = false\nresults = false\n\n[[area]]\n'
                                   f'name = "a"\nworkspace = "a.gpkg"\n{area_lines}', encoding="utf-8")
    (area,) = read_project(folder / "p.toml").areas
    return area


def test_project_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.toml").write_text(
        '[batch]\nanalyses = ["living-circle"]\nrules = "r.toml"\n\n[[area]]\nname = "甲"\n'
        'workspace = "ws/a.gpkg"\nosm = "a.osm.pbf"\nbbox = [1, 2, 3, 4]\n'
        '[area.layers]\nbuildings = { file = "b.csv", x = "lon", y = "lat", src_crs = "gcj02" }\n',
        encoding="utf-8")
    proj = read_project(tmp_path / "sub" / "p.toml", workers=3)
    (area,) = proj.areas
    base = (tmp_path / "sub").resolve()
    assert area.workspace == base / "ws" / "a.gpkg" and area.osm == base / "a.osm.pbf"
    assert area.rules == base / "r.toml" and area.analyses == ("living_circle",)
    assert area.report == base / "reports" / "a.html" and area.bbox == (1.0, 2.0, 3.0, 4.0)
    assert area.layers[0].file == base / "b.csv" and area.layers[0].options["src_crs"] == "gcj02"
    assert proj.workers == 3 and proj.scheduler is None


def test_osm_input_imported_once_and_again_when_the_file_changes(tmp_path):
    """An area made from an OSM extract: imported, analysed, then left alone until the file changes."""
    import os

    from gcgeo import osm
    from gcgeo.batch import run_area

    pbf = tmp_path / "kotka.osm.pbf"
    shutil.copy(Path(__file__).parent / "data" / "osm" / "kotka_karhula.osm.pbf", pbf)
    (tmp_path / "p.toml").write_text(
        '[batch]\nreports = false\nanalyses = ["property"]\n\n'
        '[[area]]\nname = "Kotka"\nworkspace = "kotka.gpkg"\nosm = "kotka.osm.pbf"\n', encoding="utf-8")
    (area,) = read_project(tmp_path / "p.toml").areas
    first = run_area(area)
    assert first.status == "done" and first.error is None, first
    assert first.imported == ["osm kotka.osm.pbf"] and first.ran == ["property"]
    want = osm.read_osm(pbf)
    table = ws.list_layers(area.workspace).set_index("layer")
    for kind, frame in want.items():
        assert table.loc[kind, "features"] == len(frame), kind
    again = run_area(area)
    assert again.status == "unchanged" and again.imported == [] and again.current == ["property"]
    os.utime(pbf, ns=(pbf.stat().st_atime_ns, pbf.stat().st_mtime_ns + 10**9))
    changed = run_area(area)
    assert changed.imported == ["osm kotka.osm.pbf"] and changed.ran == ["property"], changed


def test_an_area_without_streets_runs_every_analysis_it_can(tmp_path, cluster):
    """An area without a walking network (no 'streets' layer) runs every other analysis and
    gets its report; the batch says which analyses it skipped and why, and the area is done."""
    county_workspace(tmp_path / "nostreets.gpkg", SEEDS[0], name="no streets", leave_out=("streets",))
    (tmp_path / "p.toml").write_text('[batch]\nreports = "reports"\nlang = "en"\n\n'
                                     + areas_toml([("no streets", "nostreets.gpkg")]), encoding="utf-8")
    res, text = _invoke("batch", tmp_path / "p.toml", "--scheduler", cluster.scheduler_address)
    assert res.exit_code == 0, text
    ran = {n for n, when in _stored(tmp_path / "nostreets.gpkg").items() if when}
    walks = {"living_circle", "supply"}  # the two that walk the streets from every home
    assert ran == set(analysis.names()) - walks, ran
    assert "green" in ran
    flat = " ".join(text.split())
    for name in walks:
        assert f"{name} (no streets layer)" in flat, text
    assert "graph=" not in text and "1 done, 0 unchanged, 0 failed of 1" in flat, text
    assert (tmp_path / "reports" / "nostreets.html").exists()


def test_the_readmes_example_project_file_is_read(tmp_path):
    """The README's example project file is valid TOML (a Chinese key quoted) and gcgeo
    reads it as it says: the renamed column, the areas, their settings."""
    import re
    import tomllib

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    doc = tomllib.loads(block)
    assert doc["area"][0]["layers"]["buildings"]["columns"] == {"名称": "name"}
    (tmp_path / "project.toml").write_text(block, encoding="utf-8")
    proj = read_project(tmp_path / "project.toml")
    assert [a.name for a in proj.areas] == ["高唐县", "临清市", "济南市区"]
    buildings = next(i for i in proj.areas[0].layers if i.kind == "buildings")
    assert buildings.options["columns"] == {"名称": "name"}
    assert buildings.file == tmp_path / "gaotang" / "楼栋.xlsx"
    assert proj.areas[1].isochrones == "community" and proj.areas[2].partitions == "grid:16"
    assert proj.workers == 4 and proj.memory_limit == "4GiB"
