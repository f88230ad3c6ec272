"""A county planner's mistakes, command by command: a clear error (exit 2) that names the file
or option at fault, and nothing lost — the workspace and every input keep their bytes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from _batch import county_workspace
from click.testing import CliRunner

from gcgeo import workspace as ws
from gcgeo.cli import main


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    """The two-community synthetic county as a workspace (no analyses run), built once."""
    path = tmp_path_factory.mktemp("county") / "county.gpkg"
    county_workspace(path, 1, name="高唐县")
    return path


@pytest.fixture
def w(county, tmp_path, monkeypatch) -> Path:
    """A copy of the county to work on, in the current folder."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(county, tmp_path / "ws.gpkg")
    return tmp_path / "ws.gpkg"


def _sha(*paths: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _cli(*args, code: int = 2) -> str:
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output and "fault in gcgeo" not in res.output
    return res.output


def _points(path: Path, category: str = "kindergarten") -> Path:
    """Two facilities as a GeoJSON in WGS-84, beside the county's (Gaotang, 116.2°E 36.8°N)."""
    fac = ws.read_layer(Path("ws.gpkg"), "facilities").head(2).to_crs(4326)
    gpd.GeoDataFrame({"category": [category] * 2}, geometry=fac.geometry.to_numpy(), crs=4326).to_file(path)
    return path


def _facilities_csv(path: Path) -> Path:
    fac = ws.read_layer(Path("ws.gpkg"), "facilities").to_crs(4326)
    pd.DataFrame({"名称": fac["name"], "category": fac["category"], "lon": fac.geometry.x,
                  "lat": fac.geometry.y}).to_csv(path, index=False)
    return path


# ---- each a bug found by the sweep --------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["site", "ws.gpkg", "--category", "kindergarten", "--k", "1", "-o", "sites.docx"],
    ["whatif", "ws.gpkg", "--remove-facility", "F003", "-o", "change.docx"],
    ["score", "ws.gpkg", "-o", "scorecard.csv"],
])
def test_an_output_of_unknown_type_is_refused_before_the_workspace_changes(w, command):
    before = _sha(w)
    out = _cli(*command)
    assert command[-1] in out and "error:" in out
    assert _sha(w) == before  # no sites, what-if or scorecard stored before the refusal
    assert not Path(command[-1]).exists()


def test_site_never_writes_over_its_candidates_file(w):
    cand = _points(Path("candidates.geojson"))
    before = _sha(w, cand)
    out = _cli("site", w, "--category", "kindergarten", "--k", "1", "--candidates", cand,
               "-o", cand, "--overwrite")
    assert "candidates.geojson" in out and "destroy that input" in out
    assert _sha(w, cand) == before


def test_whatif_never_writes_over_the_file_of_new_facilities(w):
    new = _points(Path("new.geojson"))
    before = _sha(w, new)
    out = _cli("whatif", w, "--add-facility", new, "-o", new, "--overwrite")
    assert "new.geojson" in out and "destroy that input" in out
    assert _sha(w, new) == before


@pytest.mark.parametrize("option", ["-o", "--template"])
def test_score_never_writes_over_the_filled_attestations(w, option):
    _cli("score", w, "--template", "attest.xlsx", code=0)
    filled = Path("attest.xlsx")
    before = _sha(w, filled)
    out = _cli("score", w, "--attest", filled, option, filled, "--overwrite")
    assert "attest.xlsx" in out and "destroy that input" in out
    assert _sha(w, filled) == before


def test_validate_writes_its_report_only_as_csv(w):
    shp = Path("mine.shp")
    ws.read_layer(w, "communities")[["id", "name", "geometry"]].to_file(shp)
    before = _sha(w, *Path(".").glob("mine.*"))
    out = _cli("validate", w, "--report", "problems.xlsx")
    assert "--report problems.xlsx" in out and "problems.csv" in out
    assert not Path("problems.xlsx").exists()
    _cli("validate", w, "--report", shp, "--overwrite")  # a planner's Shapefile, --overwrite or not
    assert _sha(w, *Path(".").glob("mine.*")) == before


@pytest.mark.parametrize("missing", [".dbf", ".shx"])
def test_a_shapefile_missing_a_part_is_refused_naming_it(w, missing):
    ws.read_layer(w, "communities")[["id", "name", "geometry"]].to_file("comm.shp")
    Path("comm" + missing).unlink()
    before = _sha(w)
    out = _cli("add", w, "communities", "comm.shp", "--name", "more")
    assert f"comm{missing} is missing" in out and "SHAPE_RESTORE_SHX" not in out
    assert _sha(w) == before


@pytest.mark.parametrize("command", [["layers"], ["add", "facilities", "poi.csv", "--src-crs", "wgs84"],
                                     ["map", "-o", "m.html"]])
def test_a_workspace_cut_short_is_named_so(w, command):
    data = w.read_bytes()
    cut = Path("cut.gpkg")
    cut.write_bytes(data[:100_000])  # the first 100 kB of a 2 MB copy
    _facilities_csv(Path("poi.csv"))
    before = _sha(cut)
    out = _cli(command[0], cut, *command[1:])
    assert "cut.gpkg is cut short" in out and "last good copy" in out and "gcgeo init" not in out
    assert _sha(cut) == before and not Path("m.html").exists()


def test_a_sheet_with_a_merged_title_row_is_refused_saying_so(w):
    fac = ws.read_layer(w, "facilities").to_crs(4326)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["设施信息", None, "坐标", None])
    sheet.merge_cells("A1:B1")
    sheet.merge_cells("C1:D1")
    sheet.append(["名称", "category", "lon", "lat"])
    for r in zip(fac["name"], fac["category"], fac.geometry.x, fac.geometry.y, strict=True):
        sheet.append(list(r))
    book.save("poi.xlsx")
    before = _sha(w, Path("poi.xlsx"))
    out = _cli("add", w, "facilities", "poi.xlsx", "--src-crs", "wgs84", "--name", "more")
    assert "row 1 has merged cells" in out and "A1:B1 '设施信息'" in out and "Delete the title row" in out
    assert _sha(w, Path("poi.xlsx")) == before


@pytest.mark.parametrize("rules", ["[poi_typs]\n", "this is = = not toml\n"])
def test_add_refuses_a_bad_rules_file_even_when_no_poi_type_needs_it(w, rules):
    Path("r.toml").write_text(rules, encoding="utf-8")
    csv = _facilities_csv(Path("poi.csv"))
    before = _sha(w, csv)
    out = _cli("add", w, "facilities", csv, "--src-crs", "wgs84", "--rules", "r.toml", "--name", "more")
    assert "rules file r.toml" in out
    assert _sha(w, csv) == before


def test_batch_refuses_a_memory_limit_dask_cannot_read(w):
    Path("p.toml").write_text('[[area]]\nname = "a"\nworkspace = "ws.gpkg"\n', encoding="utf-8")
    before = _sha(w)
    out = _cli("batch", "p.toml", "--memory-limit", "lots", "--workers", "1")
    assert "--memory-limit" in out and "'lots'" in out
    assert _sha(w) == before


def test_batch_refuses_a_missing_rules_file_before_any_area_runs(w):
    Path("p.toml").write_text('[[area]]\nname = "a"\nworkspace = "ws.gpkg"\n', encoding="utf-8")
    before = _sha(w)
    out = _cli("batch", "p.toml", "--rules", "nope.toml", "--workers", "1", "--no-reports", "--no-results")
    assert "--rules" in out and "nope.toml" in out
    assert _sha(w) == before


def test_demo_never_replaces_a_planners_files(tmp_path):
    work = tmp_path / "county work"
    work.mkdir()
    (work / "report.html").write_text("the county's own report", encoding="utf-8")
    out = _cli("demo", "-o", work)
    assert "county work" in out and "report.html" in out and "empty folder" in out
    assert (work / "report.html").read_text(encoding="utf-8") == "the county's own report"
    assert sorted(p.name for p in work.iterdir()) == ["report.html"]


# ---- what already behaves well, kept so --------------------------------------------------------


def _foreign(d: Path) -> Path:
    gpd.GeoDataFrame({"编号": ["C1"]}, geometry=gpd.points_from_xy([0], [0]), crs=4548).to_file(
        d / "planner.gpkg", layer="comm")
    return d / "planner.gpkg"


def _shp(d: Path) -> Path:
    ws.read_layer(d / "ws.gpkg", "communities")[["id", "name", "geometry"]].to_file(d / "comm.shp")
    return d / "comm.shp"


def _shp_without_prj(d: Path) -> Path:
    _shp(d).with_suffix(".prj").unlink()
    return d / "comm.shp"


def _html(d: Path) -> Path:
    (d / "r.html").write_text("last week's report", encoding="utf-8")
    return d / "r.html"


def _zero(d: Path) -> Path:
    (d / "zero.gpkg").write_bytes(b"")
    return d / "zero.gpkg"


def _rules(text: str):
    def make(d: Path) -> Path:
        (d / "r.toml").write_text(text, encoding="utf-8")
        return d / "r.toml"
    return make


def _folder(d: Path) -> Path:
    (d / "folder.gpkg").mkdir()
    return d / "folder.gpkg"


def _read_only(d: Path) -> Path:
    (d / "ws.gpkg").chmod(0o444)
    return d / "ws.gpkg"


def _read_only_folder(d: Path) -> Path:
    (d / "ro").mkdir()
    shutil.copy(d / "ws.gpkg", d / "ro" / "ws.gpkg")
    (d / "ro").chmod(0o555)
    return d / "ro" / "ws.gpkg"


#: case → (make the file it needs (or None), the command with F for that file, words of the message)
GOOD = {
    "layers: workspace is a folder": (_folder, ["layers", "F"], "is a directory"),
    "layers: workspace missing": (None, ["layers", "nope.gpkg"], "does not exist"),
    "analyze: workspace is a Shapefile": (_shp, ["analyze", "F", "green"], "not a gcgeo workspace"),
    "export: workspace is a planner's GeoPackage": (_foreign, ["export", "F", "o.gpkg"], "not a gcgeo workspace"),
    "score: workspace of 0 bytes": (_zero, ["score", "F"], "empty file (0 bytes)"),
    "init: over a planner's GeoPackage": (_foreign, ["init", "F", "--name", "x", "--overwrite"],
                                          "holds layer comm"),
    "add: workspace read-only": (_read_only, ["add", "F", "facilities", "x.csv"], "read-only"),
    "analyze: workspace in a read-only folder": (_read_only_folder, ["analyze", "F", "green"],
                                                 "is read-only"),
    "export: onto the workspace": (None, ["export", "ws.gpkg", "ws.gpkg", "--overwrite"], "destroy that input"),
    "export: unknown suffix": (None, ["export", "ws.gpkg", "o.docx"], "unknown suffix '.docx'"),
    "export: unknown layer": (None, ["export", "ws.gpkg", "o.gpkg", "--layers", "facilitys"],
                              "no layer 'facilitys'"),
    "export: bad --crs": (None, ["export", "ws.gpkg", "o.gpkg", "--crs", "EPSG:99999"], "--crs EPSG:99999"),
    "report: output exists": (_html, ["report", "ws.gpkg", "-o", "F"], "give --overwrite"),
    "add: Shapefile without .prj": (_shp_without_prj, ["add", "ws.gpkg", "communities", "F", "--name", "m"],
                                    "declare it with --src-crs"),
    "add: no such file": (None, ["add", "ws.gpkg", "facilities", "nope.csv"], "nope.csv: no such file"),
    "map: output not .html": (None, ["map", "ws.gpkg", "-o", "ws.gpkg", "--overwrite"], "ending in .html"),
    "analyze: unknown analysis": (None, ["analyze", "ws.gpkg", "living_cirle"], "No such command"),
    "analyze: rules not TOML": (_rules("a = = b\n"), ["analyze", "ws.gpkg", "green", "--rules", "F"],
                                "is not valid TOML"),
    "analyze: rules typo'd key": (_rules("[living_circle.tiers.10min]\nvalu = 450\n"),
                                  ["analyze", "ws.gpkg", "living_circle", "--rules", "F"], "did you mean"),
    "analyze: rules text for a number": (_rules('[living_circle.tiers.10min]\nvalue = "500米"\n'),
                                         ["analyze", "ws.gpkg", "living_circle", "--rules", "F"],
                                         "must be a number"),
    "analyze: negative distance": (_rules("[living_circle.tiers.10min]\nvalue = -500\n"),
                                   ["analyze", "ws.gpkg", "living_circle", "--rules", "F"], "out of range"),
    "rules: rules file missing": (None, ["rules", "--rules", "nope.toml"], "does not exist"),
    "score: bad --as-of": (None, ["score", "ws.gpkg", "--as-of", "2024/13/01"], "is not a date"),
    "init: geographic --crs": (None, ["init", "new.gpkg", "--name", "x", "--crs", "EPSG:4326"], "not projected"),
    "site: unknown category": (None, ["site", "ws.gpkg", "--category", "kindergarden", "--k", "1"],
                               "--category 'kindergarden'"),
    "whatif: unknown facility id": (None, ["whatif", "ws.gpkg", "--remove-facility", "F999"], "F999"),
    "import-osm: not an OSM file": (_shp, ["import-osm", "new.gpkg", "F"], "not an OpenStreetMap file"),
}


@pytest.mark.parametrize("case", sorted(GOOD))
def test_a_planners_mistake_gets_a_clear_error_and_changes_nothing(w, case):
    make, args, words = GOOD[case]
    d = w.parent
    made = make(d) if make is not None else None
    files = [p for p in d.rglob("*") if p.is_file()]
    before = _sha(*files)
    out = _cli(*[str(made) if a == "F" else a for a in args])
    assert words in out
    assert _sha(*files) == before
    assert not [p for p in d.rglob("*") if p.is_file() and p not in files and not p.name.startswith(".")]


@pytest.mark.parametrize("given", ["", " , "])
def test_export_layers_naming_no_layer_is_refused_not_read_as_every_layer(w, given):
    out = _cli("export", "ws.gpkg", "o.gpkg", "--layers", given)
    assert "--layers" in out and "names no layer" in out
    assert not Path("o.gpkg").exists()
