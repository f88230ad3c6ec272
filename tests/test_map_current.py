"""``gcgeo map`` shows the scorecard as it stands and class breaks from the rules each run used.

The synthetic county's fire lanes fail criterion 8 in C01 and C02 by
construction (a lane obstructed, too narrow, a dead end without a
turnaround), and its green ratios (5–9 %) fail criterion 7 everywhere, so
the stored scorecard lists 8 among the criteria not met there.  Once the
fire lanes are replaced (``gcgeo add … --overwrite``) those results are
stale: a map must no more show 8 as not met, but as unknown, resting on
stale results — what the dossier and the report show — and say why.

The green ratio and fire-lane width maps draw a class break at the rule's
threshold: it must be the threshold the analysis ran with (a rules file of
the county's own), not the built-in one, and when that file is gone no
threshold at all, with a warning saying so.
"""

from __future__ import annotations

import html as _html
import json
import re
import shutil

import pytest
from _pages import inflated, layer_calls
from click.testing import CliRunner

from gcgeo import rules
from gcgeo import workspace as ws
from gcgeo.cli import main
from gcgeo.labels import column_label, ui
from gcgeo.score import labels as L
from gcgeo.score.criteria import load as load_standard
from gcgeo.testing import synthetic_county

pytestmark = pytest.mark.slow

AS_OF = "2022-06-30"
#: The county's own figures, none of them a built-in one (checked below).
GREEN_NEW, GREEN_OLD, CLEAR_WIDTH = 0.09, 0.08, 3.8
RULES_FILE = f"""# the county's figures (no clause cited)
[green.green_ratio.new]
value = {GREEN_NEW}
[green.green_ratio.old]
value = {GREEN_OLD}
[fire_lanes.clear_width]
value = {CLEAR_WIDTH}
"""


def _cli(*args):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, (args, res.output)
    return res.output


@pytest.fixture(scope="module")
def county():
    return synthetic_county(0)


@pytest.fixture(scope="module")
def inventory(county, tmp_path_factory):
    """The county's layers, nothing run."""
    path = tmp_path_factory.mktemp("map_current") / "county.gpkg"
    ws.init(path, name="高唐县", crs=county.crs)
    for kind, frame in county.layers.items():
        ws.add_layer(path, kind, frame)
    return path


def _layers(page: str) -> list[dict]:
    """Each drawn layer of a map page: its name and its features' popup values by field."""
    out = []
    dec = json.JSONDecoder()
    for written, end in layer_calls(page):
        opts, _ = dec.raw_decode(page, end + 2)
        pack = inflated(written)
        n = len(pack["g"]) // 2 if pack["k"] == "point" else len(pack["g"])
        columns = {}
        for field, col in zip(opts["fields"], pack["v"]):
            if isinstance(col, list):
                columns[field] = col
            elif "k" in col:
                columns[field] = [col["k"]] * n
            else:
                w = col["w"]
                columns[field] = [col["d"][_digits(col["x"][i * w:(i + 1) * w])] for i in range(n)]
        out.append({"name": opts["name"], "rows": [{f: c[i] for f, c in columns.items()} for i in range(n)]})
    return out


def _digits(text: str) -> int:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return sum(alphabet.index(ch) * 64 ** (len(text) - 1 - k) for k, ch in enumerate(text))


def _legends(page: str) -> dict[str, list[str]]:
    """The map's legend entries: title → the labels of its classes."""
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"html: (\"(?:[^\"\\]|\\.)*\")}", page):
        entry = json.loads(m.group(1))
        title = re.search(r'<div class="gcgeo-legend-title">(.*?)</div>', entry).group(1)
        labels = re.findall(r"</i>(.*?)</div>", entry)
        out[_html.unescape(title)] = [_html.unescape(lab) for lab in labels]
    return out


def _scorecard_popups(page: str, lang: str) -> dict[str, dict[str, str]]:
    """The scorecard layer's popup per community name."""
    layer = next(x for x in _layers(page) if x["name"] == ("绿色社区创建评分" if lang == "zh"
                                                            else "Green community scorecard"))
    name = L.column("community_name", lang)
    return {row[name]: row for row in layer["rows"]}


def _listed(numbers, lang: str) -> str:
    """Criteria as the popup lists them ("8 Fire lanes; …"), from the standard."""
    std = load_standard()
    sep = "；" if lang == "zh" else "; "
    return sep.join(f"{n} {std.criterion(n).short(lang)}" for n in sorted(numbers)) or "—"


def _numbers(text) -> set[int]:
    return {int(p) for p in str(text or "").replace("，", ",").split(",") if p.strip().isdigit()}


def test_the_map_shows_the_scorecard_as_it_stands_once_results_it_read_went_stale(inventory, county, tmp_path):
    path = tmp_path / "stale.gpkg"
    shutil.copy(inventory, path)
    _cli("analyze", path, "fire_lanes")
    _cli("score", path, "--as-of", AS_OF)
    stored = ws.read_layer(path, "score_communities").set_index("community_id")
    fail = {lane["community"] for lane in county.truth["fire_lanes"].values()
            if lane["clear_width_m"] < 4.0 or lane["clear_height_m"] < 4.0
            or (lane["dead_end"] and not lane["turnaround_passes_12x12"])}
    assert fail and fail < set(stored.index)
    # the premise: the stored scorecard has criterion 8 not met where the lanes fail, nothing stale
    for cid, row in stored.iterrows():
        assert (8 in _numbers(row["not_met"])) == (cid in fail)
        assert not _numbers(row["stale"])
    # while it holds, the map shows it as stored
    out = _cli("map", path, "-o", tmp_path / "before.html", "--lang", "en", "--offline")
    assert "no longer holds" not in out
    before = _scorecard_popups((tmp_path / "before.html").read_text(encoding="utf-8"), "en")
    for cid in fail:
        row = stored.loc[cid]
        assert before[row["community_name"]][L.column("not_met", "en")] == _listed(_numbers(row["not_met"]), "en")
    assert not [p for p in before.values() if L.column("stale", "en") in p]  # nothing stale to tell
    # the fire lanes replaced: their results are stale, and so is the scorecard that read them
    lanes = ws.read_layer(path, "fire_lanes")
    lanes.to_file(tmp_path / "lanes.gpkg", layer="fire_lanes")
    assert "stale: the 'fire_lanes' results" in _cli("add", path, "fire_lanes", tmp_path / "lanes.gpkg",
                                                       "--overwrite")
    for lang in ("en", "zh"):
        out = _cli("map", path, "-o", tmp_path / f"after-{lang}.html", "--lang", lang, "--offline")
        assert f"the scorecard stored in {path} (as of {AS_OF}) no longer holds" in " ".join(out.split())
        assert f"gcgeo score {path} --as-of {AS_OF}" in out
        after = _scorecard_popups((tmp_path / f"after-{lang}.html").read_text(encoding="utf-8"), lang)
        assert len(after) == len(stored)
        for _, row in stored.iterrows():
            # criterion 8 moves from not met to unknown, resting on stale results; nothing else changes
            was_not, was_unknown = _numbers(row["not_met"]), _numbers(row["unknown"])
            popup = after[row["community_name"]]
            assert popup[L.column("not_met", lang)] == _listed(was_not - {8}, lang)
            assert popup[L.column("unknown", lang)] == _listed(was_unknown | {8}, lang)
            assert popup[L.column("stale", lang)] == _listed({8}, lang)
            assert popup[L.column("criteria_met", lang)] == f"{int(row['criteria_met'])}/16"
    # the map stores nothing: the stored scorecard is as it was
    again = ws.read_layer(path, "score_communities").set_index("community_id")
    assert again["not_met"].equals(stored["not_met"])


def _green_ratio_legend(page: str, lang: str = "en") -> list[str]:
    return _legends(page)[column_label("green_ratio", lang)]


def _lane_legend(page: str, lang: str = "en") -> list[str]:
    title = f"{ui('lanes_by_width', lang)}: {column_label('clear_width_min_m', lang)}"
    return _legends(page)[title]


def _qml_bounds(gpkg, layer: str, column: str) -> set[float]:
    """The class bounds of ``layer``'s stored QGIS style graduated on ``column`` (read with sqlite3)."""
    import sqlite3
    import xml.etree.ElementTree as ET

    with sqlite3.connect(gpkg) as con:
        qmls = [r[0] for r in con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = ?", (layer,))]
    out: set[float] = set()
    for text in qmls:
        renderer = ET.fromstring(text).find("renderer-v2")
        if renderer is not None and renderer.get("type") == "graduatedSymbol" and renderer.get("attr") == column:
            out |= {float(r.get(k)) for r in renderer.iter("range") for k in ("lower", "upper")}
    assert out, f"no graduated style on {column} in {gpkg}"
    return out


def test_the_rules_file_figures_differ_from_the_built_in_ones():
    g, f = rules.load("green"), rules.load("fire_lanes")
    assert GREEN_NEW != g["green_ratio"]["new"]["value"] and GREEN_OLD != g["green_ratio"]["old"]["value"]
    assert CLEAR_WIDTH != f["clear_width"]["value"]


def _run_with_rules_file(inventory, path):
    """A copy of the inventory at ``path`` with green and fire lanes run with :data:`RULES_FILE`
    (written beside it); returns the workspace and the rules file."""
    shutil.copy(inventory, path)
    mine = path.parent / "county.toml"
    mine.write_text(RULES_FILE, encoding="utf-8")
    _cli("analyze", path, "green", "--rules", mine)
    _cli("analyze", path, "fire_lanes", "--rules", mine)
    return path, mine


def test_class_breaks_come_from_the_rules_the_run_used(inventory, tmp_path):
    path, mine = _run_with_rules_file(inventory, tmp_path / "ruled.gpkg")
    built_green = {f"{v * 100:.0f}%" for v in (rules.value(rules.load("green"), "green_ratio.new"),
                                               rules.value(rules.load("green"), "green_ratio.old"))}
    built_width = rules.value(rules.load("fire_lanes"), "clear_width")
    _cli("map", path, "-o", tmp_path / "map.html", "--lang", "en", "--offline")
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    green = " ".join(_green_ratio_legend(page))
    assert f"{GREEN_NEW * 100:.0f}%" in green and f"{GREEN_OLD * 100:.0f}%" in green
    assert not [p for p in built_green if p in green], green
    lanes = _lane_legend(page)
    assert f"{ui('at_least', 'en')} {CLEAR_WIDTH:g} m" in lanes
    assert not [lab for lab in lanes if f"{built_width:g} m" in lab], lanes
    # the report's map (and its figures, drawn from the same styled layers) alike
    _cli("report", path, "-o", tmp_path / "report" / "r.html", "--lang", "en")
    page = (tmp_path / "report" / "r-map.html").read_text(encoding="utf-8")
    green = " ".join(_green_ratio_legend(page))
    assert f"{GREEN_NEW * 100:.0f}%" in green and not [p for p in built_green if p in green], green
    assert f"{ui('at_least', 'en')} {CLEAR_WIDTH:g} m" in _lane_legend(page)
    # the QGIS styles the workspace holds, and a GeoPackage export's, break where the run did
    _cli("export", path, tmp_path / "out.gpkg", "--layers", "green_communities")
    for gpkg in (path, tmp_path / "out.gpkg"):
        bounds = _qml_bounds(gpkg, "green_communities", "green_ratio")
        assert {GREEN_NEW, GREEN_OLD} <= bounds, (gpkg, bounds)
        assert not bounds & {rules.value(rules.load("green"), f"green_ratio.{k}") for k in ("new", "old")}
    # a map of the same results without a workspace to tell the run draws the built-in figures
    from gcgeo import maps

    styled = maps.style_layer("fire_lanes_summary", ws.read_layer(path, "fire_lanes_summary"))
    assert f"{ui('at_least', 'en')} {built_width:g} m" in [i.label for i in styled.legend]


def test_a_rules_file_gone_draws_no_threshold_and_says_so(inventory, tmp_path):
    path, mine = _run_with_rules_file(inventory, tmp_path / "gone.gpkg")
    mine.unlink()
    out = " ".join(_cli("map", path, "-o", tmp_path / "map.html", "--lang", "en", "--offline").split())
    for name in ("green", "fire_lanes"):
        assert f"the rules file {mine.resolve()} that the {name} analysis ran with is gone" in out
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    green = " ".join(_green_ratio_legend(page))
    figures = {f"{v * 100:.0f}%" for v in (GREEN_NEW, GREEN_OLD, *(
        rules.value(rules.load("green"), f"green_ratio.{k}") for k in ("new", "old")))}
    assert not [p for p in figures if p in green], green  # neither the file's nor the built-in
    lanes = _lane_legend(page)
    assert not [lab for lab in lanes if ui("at_least", "en") in lab], lanes
    built_width = rules.value(rules.load("fire_lanes"), "clear_width")
    assert not [lab for lab in lanes if f"{built_width:g} m" in lab or f"{CLEAR_WIDTH:g} m" in lab], lanes
