"""The Chinese map and the QGIS styles show a planner words, not codes (issue 19).

The two-community synthetic county, stored as a workspace and analysed, is
drawn by ``gcgeo map --lang zh``; the page's layer control, legends and
popup values are read back from the HTML. The Chinese words expected are read
from the label tables themselves (the layer specs' value spellings, the
analyses' output labels), so these tests do not go through the functions
that format the map; where a table is new, the words are also written here
by hand.
"""

from __future__ import annotations

import html as _html
import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from _batch import county_workspace
from _pages import inflated, layer_calls
from click.testing import CliRunner

from gcgeo import analysis
from gcgeo.cli import main
from gcgeo.layers import get_spec
from gcgeo.pipeline import run_analysis

CJK = re.compile(r"[\u4e00-\u9fff]")
#: Units a Chinese page writes in Latin letters, as Chinese standards do.
_UNITS = re.compile(r"(?<![A-Za-z])(mm|m²|m)(?![A-Za-z])")
_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ANALYSES = ("green", "fire_lanes", "heritage", "manholes", "ramps", "chargers")


def _english(text: str) -> bool:
    """Whether ``text`` holds a word in Latin letters (units aside)."""
    return re.search(r"[A-Za-z]", _UNITS.sub("", text)) is not None


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("zh") / "county.gpkg"
    county_workspace(path, 0, name="高唐县（合成）")
    for name in _ANALYSES:
        run_analysis(path, name)
    return path


def _page(workspace: Path, lang: str) -> str:
    out = workspace.with_name(f"map-{lang}.html")
    res = CliRunner().invoke(main, ["map", str(workspace), "-o", str(out), "--lang", lang, "--offline",
                                    "--overwrite"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page_zh(workspace) -> str:
    return _page(workspace, "zh")


@pytest.fixture(scope="module")
def page_en(workspace) -> str:
    return _page(workspace, "en")


def _column_values(col) -> set[str]:
    if isinstance(col, list):
        return {v for v in col if v is not None}
    if "k" in col:
        return {col["k"]} if col["k"] is not None else set()
    return {v for v in col["d"] if v is not None}


def _popups(page: str) -> list[tuple[str, dict[str, set[str]]]]:
    """Each drawn layer's name and, per field of its popup, the texts it shows."""
    dec = json.JSONDecoder()
    out = []
    for written, end in layer_calls(page):
        opts, _ = dec.raw_decode(page, end + 2)
        pack = inflated(written)
        out.append((opts["name"], {f: _column_values(col) for f, col in zip(opts["fields"], pack["v"])}))
    return out


def _shown(page: str, name: str, field: str) -> set[str]:
    """The texts of ``field`` in the popups of the layers named ``name`` that show it."""
    found = [fields[field] for n, fields in _popups(page) if n == name and field in fields]
    assert found, (name, field)
    return set().union(*found)


def _legends(page: str) -> list[str]:
    """Every legend title and entry of the page."""
    out = []
    for m in re.finditer(r'html: ("(?:[^"\\]|\\.)*")\}', page):
        entry = json.loads(m.group(1))
        out += [_html.unescape(t) for t in re.findall(r'legend-title">(.*?)</div>', entry)]
        out += [_html.unescape(t) for t in re.findall(r"</i>(.*?)</div>", entry)]
    assert out
    return out


def _control(page: str) -> list[str]:
    """The group and layer names of the layer control."""
    start = page.index("L.control.groupedLayers(null, {")
    body = page[start:page.index("}, {groupCheckboxes", start)]
    return [json.loads(s) for s in re.findall(r'^\s*("(?:[^"\\]|\\.)*"): ', body, re.M)]


def _stored(workspace: Path, layer: str, column: str) -> set[str]:
    s = pyogrio.read_dataframe(workspace, layer=layer, columns=[column], read_geometry=False)[column]
    return {str(v) for v in s.dropna()}


def _spelled(kind: str, column: str, value: str) -> str:
    """A value's label as its layer spec spells it (its first spelling)."""
    return get_spec(kind).column(column).value_aliases[value][0]


def _output_label(name: str) -> str:
    """An analysis output's Chinese label, from its descriptor."""
    return next(o.label_zh for d in analysis.descriptors().values() for o in d.outputs if o.name == name)


# --- inventory layers: the values of their coded columns -----------------------------------------


def test_street_kinds_are_named_in_chinese(workspace, page_zh):
    kinds = _stored(workspace, "streets", "kind")
    assert {"secondary", "residential", "footway", "motorway"} <= kinds  # the county's streets
    shown = _shown(page_zh, get_spec("streets").label_zh, "kind")
    assert shown == {_spelled("streets", "kind", k) for k in kinds}
    # the words of the table, written by hand
    assert {"次干路", "居住区道路", "人行道", "高速公路"} <= shown


def test_fire_lane_kinds_and_ramp_wheelchair_access_are_named_in_chinese(workspace, page_zh):
    kinds = _stored(workspace, "fire_lanes", "kind")
    assert kinds == {"lane", "turnaround"}
    assert _shown(page_zh, get_spec("fire_lanes").label_zh, "kind") == \
        {_spelled("fire_lanes", "kind", k) for k in kinds} == {"消防车道", "回车场"}
    access = _stored(workspace, "ramps", "wheelchair")
    assert _shown(page_zh, get_spec("ramps").label_zh, "wheelchair") == \
        {_spelled("ramps", "wheelchair", k) for k in access}
    assert all(CJK.search(_spelled("ramps", "wheelchair", k)) for k in get_spec("ramps").column("wheelchair").allowed)


# --- result layers: the inventory's labels for the codes they copy ------------------------------


def test_result_layers_label_inventory_codes_as_the_inventory_layers_do(workspace, page_zh):
    def listed(kind: str, text: str) -> str:
        return "、".join(_spelled(kind, "kind", k.strip()) for k in re.split(r"[,;]", text))

    green = get_spec("green_space").label_zh  # the green sites are drawn under the green-space label
    kinds = _stored(workspace, "green_sites", "kinds")
    assert {"park", "square"} <= kinds
    assert _shown(page_zh, green, "kinds") == {listed("green_space", k) for k in kinds}
    assert {"公园", "广场"} <= _shown(page_zh, green, "kinds")

    covers = _stored(workspace, "manholes_communities", "kinds_without_manager") - {""}
    assert covers
    assert _shown(page_zh, _output_label("manholes_communities"), "kinds_without_manager") == \
        {listed("manholes", k) for k in covers}
    kinds = _stored(workspace, "manholes_findings", "manhole_kind")
    shown = _shown(page_zh, _output_label("manholes_findings"), "manhole_kind")
    assert shown == {_spelled("manholes", "kind", k) for k in kinds}
    assert "drain" in kinds and "雨水" in shown

    zones = _output_label("heritage_zones")
    assert _shown(page_zh, zones, "kind") == {_spelled("heritage", "kind", "old_tree")} == {"古树"}
    assert _shown(page_zh, _output_label("heritage_findings"), "heritage_kind") == {"古树"}
    blamed = _stored(workspace, "fire_findings", "obstruction_kinds") - {""}
    assert _shown(page_zh, _output_label("fire_findings"), "obstruction_kinds") == \
        {listed("obstructions", k) for k in blamed}
    # a cover's state, measured and required, as the manholes layer labels it
    faults = _stored(workspace, "manholes_findings", "measured") & set(get_spec("manholes").column("condition").allowed)
    assert faults
    assert {_spelled("manholes", "condition", k) for k in faults | {"good"}} <= \
        _shown(page_zh, _output_label("manholes_findings"), "measured") | \
        _shown(page_zh, _output_label("manholes_findings"), "required")


def test_coded_popup_values_of_the_chinese_map_are_all_chinese(page_zh):
    """Every popup value of a column holding codes or fixed words of the analyses."""
    coded = {"kind", "kinds", "wheelchair", "entrance", "zone_basis", "unit", "note", "attribute", "use",
             "manhole_kind", "heritage_kind", "kinds_without_manager", "obstruction_kinds", "park_tier",
             "condition", "category", "severity", "worst_severity", "criterion8", "status", "osm_type"}
    english = {(name, field, v) for name, fields in _popups(page_zh) for field, values in fields.items()
               if field in coded or field.endswith("_status") for v in values if _english(v)}
    assert not english, sorted(english)


def test_every_layer_and_legend_entry_is_named_in_chinese(page_zh):
    names = [n for n, _ in _popups(page_zh)]
    assert _output_label("heritage_zones") in names
    english = [t for t in [*names, *_control(page_zh), *_legends(page_zh)] if _english(t)]
    assert not english, english


def test_the_english_map_has_no_chinese_labels(page_en):
    labels = [n for n, _ in _popups(page_en)] + _control(page_en) + _legends(page_en)
    assert not [t for t in labels if CJK.search(t)]
    assert _output_label("heritage_zones") not in page_en
    heritage = next(o.label_en for d in analysis.descriptors().values() for o in d.outputs
                    if o.name == "heritage_zones")
    assert heritage in labels


# --- QGIS styles ----------------------------------------------------------------------------------


def test_qgis_value_maps_of_result_layers_use_the_inventory_labels():
    from gcgeo.maps.qgis_styles import field_labels

    frame = pd.DataFrame({"kinds_without_manager": ["gas", "water, power", "gas"],
                          "kinds": ["park", "park,square", "square"],
                          "entrance": ["path", "virtual", "path"], "community_name": ["park", "东关", "西关"]})
    values = field_labels(frame, lang="zh").values
    assert values["kinds_without_manager"] == {
        "gas": _spelled("manholes", "kind", "gas"),
        "water, power": f"{_spelled('manholes', 'kind', 'water')}、{_spelled('manholes', 'kind', 'power')}"}
    assert values["kinds_without_manager"]["gas"] == "燃气"
    # the green space's 公园, not the facility category's 公园/广场
    assert values["kinds"]["park"] == _spelled("green_space", "kind", "park") == "公园"
    assert set(values["entrance"]) == {"path", "virtual"} and all(CJK.search(v) for v in values["entrance"].values())
    assert "community_name" not in values  # names are the user's, even one that reads as a code


def test_qgis_style_names_of_the_workspace_are_chinese(workspace):
    con = sqlite3.connect(workspace)
    try:
        styles = con.execute("SELECT f_table_name, styleName FROM layer_styles").fetchall()
    finally:
        con.close()
    names = {t: {s for tt, s in styles if tt == t} for t, _ in styles}
    # layers the map has no style function for, and tables, by their descriptors' labels
    for table in ("heritage_zones", "green_concentrated", "manholes_kinds"):
        assert names[table] == {_output_label(table)}, (table, names[table])
    assert names["heritage_zones"] == {"历史文化遗产保护范围"} and names["green_concentrated"] == {"集中绿地"}
    assert not [(t, s) for t, s in styles if not CJK.search(s)]


def test_qgis_value_maps_of_a_scorecard_speak_chinese():
    """A scorecard's criteria statuses as a Chinese QGIS value map shows them (written by hand)."""
    from gcgeo.maps.qgis_styles import field_labels

    card = pd.DataFrame({"status": ["met", "not_met", "unknown"], "measured_status": ["not_met", "met", "unknown"]})
    values = field_labels(card, lang="zh").values
    assert values["status"] == {"met": "符合", "not_met": "不符合", "unknown": "未知"}
    assert values["measured_status"] == values["status"]
