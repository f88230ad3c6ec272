"""End to end through the command line: planner-style files → workspace → analyses.

The synthetic county's answers are known by construction (gcgeo.testing), so
every stage is checked against them, not against what gcgeo computed earlier.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from gcgeo import rules
from gcgeo import workspace as ws
from gcgeo.cli import main
from gcgeo.testing import synthetic_county


@pytest.fixture(scope="module")
def county():
    return synthetic_county(0)


@pytest.fixture(scope="module")
def workspace(county, tmp_path_factory):
    """A workspace built with the CLI from GeoPackages of the county's layers."""
    folder = tmp_path_factory.mktemp("county")
    path = folder / "gaotang.gpkg"
    runner = CliRunner()

    def run(*args):
        res = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res

    run("init", path, "--name", "高唐县", "--crs", county.crs.to_string())
    for kind, frame in county.layers.items():
        gpkg = folder / f"{kind}.gpkg"
        frame.to_file(gpkg, layer=kind)
        run("add", path, kind, gpkg)
    for analysis in ("living_circle", "green", "fire_lanes"):
        run("analyze", path, analysis)
    return path


def test_inventory_round_trips(workspace, county):
    table = ws.list_layers(workspace).set_index("layer")
    for kind, frame in county.layers.items():
        assert table.loc[kind, "features"] == len(frame)
    report, _ = ws.validate(workspace)
    assert report.ok, str(report)


def test_living_circle_distances_equal_the_grid(workspace, county):
    origins = ws.read_layer(workspace, "lc_origins").set_index("building_id")
    required = {k for k, v in rules.load("living_circle")["categories"].items() if v["tiers"]}
    for home, truth in county.truth["homes"].items():
        for category, dist in truth["dist_m"].items():
            if category not in required:  # no tier asks for it: no column
                continue
            got = origins.loc[home, f"dist_{category}_m"]
            if dist <= 1000:
                assert got == pytest.approx(dist, abs=0.01), (home, category)
            else:
                assert np.isnan(got)


def test_green_areas_equal_construction(workspace, county):
    green = ws.read_layer(workspace, "green_communities")
    key = "id" if "id" in green.columns else "community_id"
    green = green.set_index(key)
    for cid, truth in county.truth["communities"].items():
        assert green.loc[cid, "green_area_m2"] == pytest.approx(truth["green_area_m2"], abs=0.01)
        assert green.loc[cid, "green_ratio"] == pytest.approx(truth["green_ratio"], abs=1e-6)


def test_fire_lane_findings_match_construction(workspace, county):
    findings = ws.read_layer(workspace, "fire_findings")
    obstructed = findings[(findings["lane_id"] == county.truth["obstructed_lane"])
                          & (findings["kind"] == "obstructed")]
    assert len(obstructed) == 1
    assert obstructed["measured"].iloc[0] == pytest.approx(3.0, abs=0.01)
    narrow = findings[(findings["lane_id"] == county.truth["narrow_lane"])
                      & (findings["kind"] == "too_narrow")]
    assert narrow["measured"].iloc[0] == pytest.approx(3.5, abs=0.01)
    no_turn = set(findings.loc[findings["kind"] == "no_turnaround", "lane_id"])
    expect = {lane for lane, t in county.truth["fire_lanes"].items()
              if t["dead_end"] and not t["turnaround_passes_12x12"]}
    assert no_turn == expect


def test_export_of_results_for_qgis(workspace, tmp_path):
    res = CliRunner().invoke(main, ["export", str(workspace), str(tmp_path / "results.gpkg"),
                                    "--layers", "lc_communities,green_communities,fire_findings"])
    assert res.exit_code == 0, res.output
    import pyogrio

    assert sorted(n for n, _ in pyogrio.list_layers(tmp_path / "results.gpkg")) == [
        "fire_findings", "green_communities", "layer_styles", "lc_communities"]


@pytest.mark.parametrize(
    "kind,key,args,values",
    [
        ("communities", "communities_shp", [], "zh"),
        ("communities", "communities_nocpg_shp", [], "zh"),  # GBK found without a .cpg
        ("facilities", "facilities_csv", ["--src-crs", "gcj02"], "key"),
        ("facilities", "facilities_csv", ["--src-crs", "gcj02"], "zh"),  # 类别 = 幼儿园…
        ("chargers", "chargers_csv", ["--src-crs", "bd09"], "key"),
        ("chargers", "chargers_csv", ["--src-crs", "bd09"], "zh"),  # 类型 = 电动自行车…
        ("manholes", "manholes_xlsx", ["--src-crs", "cgcs2000"], "key"),
        ("green_space", "green_geojson", [], "key"),
        ("buildings", "buildings_gpkg", [], "key"),
    ],
)
def test_planners_files_land_where_they_belong(county, tmp_path, kind, key, args, values):
    """Chinese columns and values, GBK, GCJ-02, BD-09, CGCS2000 zone coordinates → the true layer."""
    files = county.write_inputs(tmp_path / "in", category_values=values)
    path = tmp_path / "w.gpkg"
    ws.init(path, name="高唐县", crs=county.crs)
    if key == "manholes_xlsx":
        args = ["--src-crs", county.crs.to_string()]
    res = CliRunner().invoke(main, ["add", str(path), kind, str(files[key]), *args])
    assert res.exit_code == 0, res.output
    got = ws.read_layer(path, kind).set_index("id")
    truth = county.layers[kind].set_index("id")
    assert sorted(got.index) == sorted(truth.index)
    got = got.loc[truth.index]
    moved = got.geometry.representative_point().distance(truth.geometry.representative_point())
    assert moved.max() < 0.01  # ≤ 1 cm after the GCJ-02 / BD-09 inverse
    for col in ("name", "category", "kind", "manager", "population", "old_estate"):
        if col in truth.columns and col in got.columns:
            a = got[col].astype(object).where(got[col].notna(), None).tolist()
            b = truth[col].astype(object).where(truth[col].notna(), None).tolist()
            assert a == b, col


def test_results_older_than_a_replaced_input_are_flagged_until_rerun(workspace, county, tmp_path):
    """Replacing an input layer marks the analyses that read it stale — in
    ``gcgeo layers``, after ``add``, and at the top of the report — and only those."""
    import shutil

    from gcgeo.pipeline import run_analysis, stale

    path = tmp_path / "copy.gpkg"
    shutil.copy(workspace, path)  # the module's workspace stays as the other tests expect
    runner = CliRunner()

    def run(*args):
        res = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.output

    assert stale(path) == {}
    fac = tmp_path / "facilities.gpkg"
    county.layers["facilities"].iloc[:-1].to_file(fac, layer="facilities")  # one facility closed
    said = run("add", path, "facilities", fac, "--overwrite")
    assert "stale" in said and "living_circle" in said
    # only the living circle reads the facilities
    assert stale(path) == {"living_circle": ["facilities"]}
    listing = run("layers", path)
    assert "living_circle (stale)" in listing and "green (stale)" not in listing
    report = tmp_path / "report.html"
    run("report", path, "-o", report, "--lang", "en")
    html = report.read_text(encoding="utf-8")
    assert "class='stale'" in html and "living_circle" in html.split("class='stale'")[1][:600]
    # streets feed all three
    streets = tmp_path / "streets.gpkg"
    county.layers["streets"].to_file(streets, layer="streets")
    run("add", path, "streets", streets, "--overwrite")
    assert stale(path) == {"living_circle": ["streets", "facilities"], "green": ["streets"],
                           "fire_lanes": ["streets"]}
    run_analysis(path, "living_circle")
    assert set(stale(path)) == {"green", "fire_lanes"}


def test_an_analysis_reads_only_the_layers_it_uses(workspace, tmp_path, monkeypatch):
    import shutil

    from gcgeo import layers as _layers
    from gcgeo import workspace as ws
    from gcgeo.analysis import living_circle
    from gcgeo.pipeline import run_analysis

    path = tmp_path / "copy.gpkg"
    shutil.copy(workspace, path)
    present = set(ws.list_layers(path)["layer"]) & set(_layers.KINDS)
    assert present - set(living_circle.ANALYSIS.inputs)  # layers the living circle has no use for
    asked: list[str] = []
    read = ws.read_layers

    def recording(where, names=None, **kw):
        asked.extend(names or [])
        return read(where, names, **kw)

    monkeypatch.setattr(ws, "read_layers", recording)
    run_analysis(path, "living_circle", isochrones="none")
    assert set(asked) == present & set(living_circle.ANALYSIS.inputs)


def test_results_are_stale_when_the_rules_they_ran_with_change(workspace, tmp_path, monkeypatch):
    """Editing the tables an analysis read in its rules file, deleting that file,
    or a new version of the built-in rules marks its results stale; edits that
    it does not read do not."""
    import shutil

    from gcgeo.pipeline import run_analysis, stale, stale_message
    from gcgeo.report import write_report

    path = tmp_path / "copy.gpkg"
    shutil.copy(workspace, path)
    local = tmp_path / "local.toml"
    local.write_text("[living_circle.tiers.15min]\nvalue = 800\n", encoding="utf-8")
    run_analysis(path, "living_circle", rules=local, isochrones="none")
    assert stale(path) == {}
    # a comment, and a table only another analysis reads
    local.write_text("# checked with the county office\n[living_circle.tiers.15min]\nvalue = 800\n"
                     "\n[fire_lanes.clear_width]\nvalue = 4.5\n", encoding="utf-8")
    assert stale(path) == {}
    local.write_text("[living_circle.tiers.15min]\nvalue = 900\n", encoding="utf-8")
    assert stale(path) == {"living_circle": ["rules file local.toml"]}
    said = stale_message(path, "living_circle", stale(path)["living_circle"])
    assert f"--rules {local.resolve()}" in said
    # the network rules feed the living circle too
    run_analysis(path, "living_circle", rules=local, isochrones="none")
    local.write_text("[living_circle.tiers.15min]\nvalue = 900\n[network.join_tolerance]\nvalue = 2\n",
                     encoding="utf-8")
    assert stale(path) == {"living_circle": ["rules file local.toml"]}
    html = tmp_path / "r.html"
    write_report({}, html, title="高唐县", lang="zh", stale=stale(path))
    assert "规则文件 local.toml" in html.read_text(encoding="utf-8")
    local.unlink()
    assert stale(path) == {"living_circle": ["rules file local.toml"]}
    # a new gcgeo whose built-in green rules differ: green was run with them
    resolve = rules.resolve

    def newer(sets, user=None):
        r = resolve(sets, user)
        if "green" in r and user is None:
            trees = {n: r[n] for n in r}
            trees["green"]["ndvi"]["threshold"]["value"] = 0.35
            return rules.Rules(trees, r.source)
        return r

    monkeypatch.setattr(rules, "resolve", newer)
    assert stale(path) == {"living_circle": ["rules file local.toml"], "green": ["built-in rules"]}


def test_a_rules_file_in_the_built_in_form_is_applied_and_watched(workspace, tmp_path):
    """`[tiers.15min] value = 800`, as in gcgeo's own living-circle rules file, sets the
    15-minute distance (it was once ignored and the run used 1000 m); editing it marks
    the results stale; a misspelt key stops the run, naming the file, key and line."""
    import shutil

    from gcgeo import RulesError
    from gcgeo import workspace as ws
    from gcgeo.pipeline import run_analysis, stale

    path = tmp_path / "copy.gpkg"
    shutil.copy(workspace, path)
    local = tmp_path / "local.toml"
    local.write_text("[tiers.15min]\nvalue = 800\n", encoding="utf-8")
    run_analysis(path, "living_circle", rules=local, isochrones="none")
    origins = ws.read_layer(path, "lc_origins")
    gaps = ws.read_layer(path, "lc_gaps")
    # the search stops at the largest tier: no distance beyond 800 m is found, where the
    # built-in 1000 m finds some (in the module's workspace, run with the built-in rules)
    dists = origins[[c for c in origins.columns if c.startswith("dist_")]].to_numpy(float)
    assert len(origins) and np.nanmax(dists) <= 800
    builtin = ws.read_layer(workspace, "lc_origins")
    far = builtin[[c for c in builtin.columns if c.startswith("dist_")]].to_numpy(float)
    assert np.nanmax(far) > 800
    # homes 800-1000 m from a category the 15-minute circle requires lack it there now
    lacking = {(int(h), c) for h, listed in zip(gaps["origin_id"], gaps["missing_15min"])
               if isinstance(listed, str) for c in json.loads(listed)}
    between = {(int(h), c) for c in {c for _, c in lacking}
               for h, d in zip(builtin["origin_id"], builtin[f"dist_{c}_m"]) if 800 < d <= 1000}
    assert between and between <= lacking
    assert stale(path) == {}
    local.write_text("[tiers.15min]\nvalue = 900\n", encoding="utf-8")
    assert stale(path) == {"living_circle": ["rules file local.toml"]}
    local.write_text("# county office\n[tiers.15mn]\nvalue = 800\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"local\.toml.*line 2|line 2.*local\.toml") as err:
        run_analysis(path, "living_circle", rules=local, isochrones="none")
    assert "15min" in str(err.value)


def test_green_results_are_stale_when_its_raster_changes(workspace, county, tmp_path):
    import shutil

    import rasterio
    from rasterio.transform import from_origin

    from gcgeo.pipeline import run_analysis, stale

    path = tmp_path / "copy.gpkg"
    shutil.copy(workspace, path)
    x0, y0, x1, y1 = county.layers["communities"].total_bounds
    tif = tmp_path / "ndvi.tif"

    def write_raster(seed):
        bands = np.random.default_rng(seed).integers(1, 200, size=(2, 40, 40)).astype("uint8")
        with rasterio.open(tif, "w", driver="GTiff", width=40, height=40, count=2, dtype="uint8",
                           crs=county.crs, transform=from_origin(x0, y1, (x1 - x0) / 40,
                                                                 (y1 - y0) / 40)) as ds:
            ds.write(bands)

    write_raster(1)
    assert stale(path) == {}
    ws.add_raster(path, tif, bands={"red": 1, "nir": 2})  # attached after green ran
    assert stale(path) == {"green": ["raster ndvi.tif"]}
    run_analysis(path, "green")
    assert "ndvi_mean" in ws.read_layer(path, "green_communities").columns
    assert stale(path) == {}
    write_raster(2)  # new imagery in the same file
    assert stale(path) == {"green": ["raster ndvi.tif"]}
    run_analysis(path, "green")
    assert stale(path) == {}
