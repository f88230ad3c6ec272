"""Findings' messages and rules' reasons on Chinese pages: every sentence an analysis writes in
the ``message`` column of its ``*_findings`` layer, in a ``reason`` / ``<rule>_reason`` column,
a ``clause`` or a note reads in Chinese (map popups, report tables, QGIS value maps, KML
placemarks), with the codes inside it (a manhole's kind, a ramp's form) by the layer specs'
Chinese spellings; the workspace keeps the English the analysis wrote.

Every registered analysis is run on the synthetic county (and on the county without its streets
and buildings, for the reasons a missing layer gives); the sentences the county cannot produce
are listed by hand from the analyses' f-strings.  The expected Chinese of
:func:`test_hand_checked_translations` and :func:`test_hand_checked_reasons` is written here by
hand; the other tests check that no English word is left (ids, the user's own values, units,
commands and rule keys aside).
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from _batch import analysed_county
from _pages import inflated, layer_calls
from click.testing import CliRunner
from shapely.geometry import Point

from gcgeo import analysis, kml, rules
from gcgeo.cli import main
from gcgeo.labels import format_value, format_values
from gcgeo.maps.qgis_styles import field_labels
from gcgeo.reasons import reason_text
from gcgeo.report import cell_text

#: The analyses writing findings with messages, run on the synthetic county.
_ANALYSES = ("garbage", "chargers", "heritage", "manholes", "ramps", "property")
#: Units a Chinese page writes in Latin letters, as Chinese standards do.
_UNITS = re.compile(r"(?<![A-Za-z])(mm|m²|m)(?![A-Za-z])")
#: Ids of the samples below (``MH001``, ``B-7``, ``GT-JG-0007``): the user's, never translated.
_IDS = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}(?:-[A-Z]{1,2})*-?\d+(?![A-Za-z0-9])")
#: The user's own values the samples quote (shown as written, in quotation marks).
_QUOTED = re.compile(r"“[^”]*”")

#: Every message template the analyses write (the f-strings of gcgeo.analysis.garbage,
#: chargers, heritage, manholes, ramps and property), filled with sample values.
MESSAGES = (
    # garbage and chargers: homes and points off the network, homes too far
    "no walkable street within 25 m of the building: map the paths to it (or raise the snapping tolerance)",
    "no walkable street within 25 m: it serves no home in this check",
    "nearest sorting point 139 m walk away",
    "no sorting point within 280 m walk",
    "nearest e-bike charger 212 m walk away",
    "no e-bike charger within 600 m walk",
    # chargers: kinds, parking, chargers indoors
    "kind 'solar' is neither car (汽车) nor e-bike (电动自行车); the charger is counted in no rule",
    "kind blank is neither car (汽车) nor e-bike (电动自行车); the charger is counted in no rule",
    "capacity missing",
    "ev_ready missing",
    "capacity 'lots' could not be read as a number",
    "ev_ready 'some' could not be read as a number",
    "12 EV-ready spaces recorded for 10 spaces; counted as the capacity",
    "3 of 40 spaces EV-ready (8% < 10%)",
    "e-bike charger inside residential building B-7 (stair hall or home): fire risk; move it to a separate "
    "charging shed, or check that it stands in a fire-separated room",
    # heritage: radii unreadable, zones not drawn, intrusions by area, length and distance
    "protection_radius_m 'ten paces'; crown_diameter_m 'wide' is not a length in metres; the zone was drawn "
    "from rule radius.old_tree. Write it as a number (e.g. 15 or 15米).",
    "protection_radius_m 'x' is not a length in metres; the zone was drawn from nothing. Write it as a "
    "number (e.g. 15 or 15米).",
    "crown_diameter_m 'wide' is not a length in metres; the zone was drawn from own radius. Write it as a "
    "number (e.g. 15 or 15米).",
    "protection zone cannot be drawn: no protection_radius_m and no kind; give its protection_radius_m or "
    "its kind.",
    "protection zone cannot be drawn: no protection_radius_m and kind 'temple' is none of old_tree, "
    "historic_building, monument, archaeological_site, other; give its protection_radius_m or its kind.",
    "protection zone cannot be drawn: no geometry; give its protection_radius_m or its kind.",
    "building B-3: 12.5 m² of it lies inside the 15 m protection zone of old_tree T1 银杏王 (crown + margin), "
    "reaching 3.2 m into it",
    "fire lane FL-2: 8.0 m of it runs inside the 20 m protection zone of historic_building H1 (own radius), "
    "reaching 4.0 m into it",
    "parking P9: it stands 3.0 m from the feature, inside the 10 m protection zone of heritage feature H2 "
    "(rule radius.monument), reaching 7.0 m into it",
    "obstruction OB-1: it stands 1.5 m from the feature, inside the 12.5 m protection zone of monument M1 "
    "(rule radius.monument), reaching 11.0 m into it",
    # manholes: values unreadable, then each rule a cover fails
    "cover MH001: fall_net (防坠网) 'maybe' cannot be read; write 有 / 无 (yes / no)",
    "cover MH001: last_inspection (最近巡检日期) 'last spring' cannot be read; write a date such as 2021-03-05",
    "cover MH001: kind (井盖类型) 'oil' cannot be read; write sewer, drain, water, gas, heating, power, "
    "telecom, other, unknown",
    "cover MH001: condition (状况) 'cracked' cannot be read; write good, damaged, missing, sunken, raised, "
    "loose, noisy, displaced, unknown",
    "cover MH001 (gas): no manager named",
    "cover MH001 (gas): manager 张三 has no contact",
    "cover MH001 (water): no owner (权属单位) on record",
    "cover MH001 (sewer): no code in its code column",
    "cover MH001 (sewer): no code in its id column",
    "cover MH001 (sewer): code GT-JG-0007 is also the code of MH002, MH003",
    "cover MH001 (sewer): code GT-JG-0007 is also the code of another cover",
    *(f"cover MH001 (drain): the cover is {fault}" for fault in
      ("missing", "damaged", "displaced", "sunken", "raised", "loose", "noisy")),
    "cover MH001 (power): no fall-prevention net (防坠网)",
    "cover MH001 (unknown): last inspected 400 days before 2026-12-01 (at most 365)",
    "cover MH001 (heating): inspected on 2027-01-01, after the as-of date 2026-12-01; not counted",
    # ramps: rules failed, values unreadable or missing, crossings
    "slope 1:8 (12.5%) steeper than 1:10, the most any form allows",
    "slope 1:10 (10%) steeper than 1:12 (three-sided)",
    "slope 1:15 (6.67%) steeper than 1:20 (full-width)",
    "slope 1:10 (10%) steeper than 1:12 (other)",
    "width 1 m narrower than 1.2 m (three-sided)",
    "width 0.8 m narrower than 1 m (other)",
    "lip 20 mm above 10 mm",
    "slope '陡' cannot be read; write it as 1:12, 1/12, 8% or 0.083 (a bare number above 1 is read as per cent).",
    "width_m 'wide' cannot be read; write it in metres (1.5 or 1.5米).",
    "lip_mm 'flat' cannot be read; write it in millimetres (10 or 10mm).",
    "kind 'ramp' cannot be read; use one of: full_width, three_sided, other, flush, crossing.",
    "slope not recorded; width not recorded; lip not recorded",
    "slope 1:15 (6.67%): form not recorded (1:20 full-width, 1:12 other forms); width 1.1 m: form not "
    "recorded (a full-width ramp needs its footway's width, a three-sided 1.2 m, others 1 m)",
    "no kerb ramp within 15 m of one end",
    "no kerb ramp within 15 m of either end",
    "no kerb ramp within 15 m",
    "no street within 15 m to tell its two sides apart; 2 kerb ramp(s) nearby",
    "kerb ramp(s) within 15 m on one side of the street only",
    "no kerb ramp within 15 m on either side of the street",
    # property
    "property management not recorded for the community or its buildings",
    "20% < 30%",
)

#: Reasons the analyses write that had no Chinese (ramps, manholes), filled with sample values.
REASONS = (
    "no kerb ramps recorded in the community",
    "no manholes recorded in the community",
    "no kerb ramps recorded in the ramps layer: crossings cannot be judged",
    "3 of 7 not known (R1, R2, R3): slope not recorded",
    "6 of 9 not known (R1, R2, R3, R4, R5 and 1 more): slope 1:15 (6.67%): form not recorded "
    "(1:20 full-width, 1:12 other forms)",
    "1 of 2 not known (X1): no street within 15 m to tell its two sides apart; 2 kerb ramp(s) nearby",
    "8 of 9 ramps too steep: R1, R2, R3, R4, R5 and 3 more",
    "1 of 4 not checked: flush kerbs have no slope",
    "1 of 1 covers of the kinds sewer, drain have no fall-prevention net",
)

#: The county without these layers, for the reasons a missing layer gives.
BARE = ("streets", "buildings")


def _sentence_column(column: str) -> bool:
    """Whether ``column`` holds the analyses' sentences, notes or clauses (read as words)."""
    return column in ("reason", "message", "clause", "note", "checks_skipped") or column.endswith("_reason")


#: The reasons, notes and clauses the analyses write beside the findings' messages, as (column,
#: text): each template of their f-strings filled with sample values, module by module.
SENTENCES: tuple[tuple[str, str], ...] = (
    # gcgeo.analysis.green: service_shares, _ratio_reason, per_person
    ("service_reason", "no streets layer (add the walking network: gcgeo add WS streets FILE)"),
    ("service_reason", "no buildings layer (add residential buildings: gcgeo add WS buildings FILE)"),
    ("service_reason", "no residential buildings in the community"),
    ("service_reason", "no public green space in the green_space layer"),
    ("service_reason", "no green site counts as a park (see rules park.*)"),
    ("green_ratio_reason", "green ratio 24.99% < 25% required"),
    ("green_ratio_reason", "green ratio 5.4% ≥ 5% required (old estate)"),
    ("green_ratio_reason", "the community has no area"),
    *(("population_reason", t) for t in ("no population column", "population missing", "population is 0",
                                         "population negative")),
    # gcgeo.analysis.sunlight: sunlit_share
    ("sunlight_reason", "no concentrated green"),
    ("sunlight_reason", "no buildings layer: shadows cannot be drawn (add the buildings with height_m or floors)"),
    ("sunlight_reason", "no building heights: give the buildings height_m or floors to draw their shadows"),
    ("sunlight_reason", "at most: heights unknown for 3 buildings that may shade it (B1, B2, B3); give them "
     "height_m or floors"),
    ("sunlight_reason", "at most: heights unknown for 12 buildings that may shade it (B1, B2, B3, B4, B5, B6, "
     "B7, B8, B9, B10 and 2 more); give them height_m or floors"),
    # gcgeo.analysis.parks: sports
    ("sports_reason", "no sports grounds in the green_space layer (kind sports): the share is unknown"),
    ("sports_reason", "no sports grounds in the green_space layer (kind playground / sports): the share is "
     "unknown"),
    # gcgeo.analysis.ndvi: vegetation_cover (the green analysis with a raster)
    *(("ndvi_reason", t) for t in ("empty geometry", "outside the raster", "no valid NDVI cells")),
    # gcgeo.analysis.lc_criterion: judge_complete (the living circle's criterion 10)
    ("min_share_complete_reason", "no homes in the community"),
    ("min_share_complete_reason", "62.5% of residents have every required category within its tier distance "
     "(100% required); fewest reached: kindergarten 41.2%, elderly_care 45.3%, pharmacy 50%"),
    ("min_share_complete_reason", "no kindergarten, pharmacy facility in the data; add them to the facilities "
     "layer or attest the criterion"),
    ("min_share_complete_reason", "at most 50% of residents can have every required category within its tier "
     "distance (80% required): 50% have those the data hold within the 10min tier; no kindergarten "
     "facility in the data"),
    # gcgeo.analysis.supply: _norm_status, _communities
    ("supply_norm_reason", "capacity not given (each facility counted as 1)"),
    ("supply_norm_reason", "no residents"),
    ("supply_norm_reason", "0.4 < 1 per 1000 residents"),
    ("supply_norm_reason", "kindergarten 0.4 < 1 per 1000 residents; pharmacy 0.2 < 0.5 per 1000 residents"),
    ("supply_norm_reason", "kindergarten: capacity not given (each facility counted as 1); pharmacy: no "
     "residents"),
    ("supply_norm_reason", "no category has a norm in the rules (supply norms.<category>)"),
    # gcgeo.analysis.fire_lanes: _checks_skipped; the findings' notes (findings, turnarounds)
    *(("checks_skipped", t) for t in ("turnaround", "clear_height", "turnaround;clear_height")),
    *(("note", t) for t in ("width from the rule default", "height_m of the obstruction",
                            "clear_height_m of the lane", "side of the largest square that fits in the turnaround",
                            "side of the largest square that fits in the turnaround (high-rise)")),
    # the clauses the analyses write themselves, not read from a rules file:
    # gcgeo.analysis.heritage.zones
    ("clause", "保护范围半径 as recorded for the feature"),
    ("clause", "heritage.radius.old_tree: no national figure for a tree whose crown is not recorded"),
    ("clause", "heritage.radius.other: no national figure"),
    # gcgeo.analysis.chargers (kinds, car parks, snapping) and gcgeo.analysis.garbage (snapping)
    ("clause", "gcgeo: layer 'chargers' column 'kind'"),
    ("clause", "gcgeo: layer 'parking' column 'capacity'"),
    ("clause", "gcgeo: layer 'parking' column 'ev_ready'"),
    ("clause", "gcgeo: rule chargers.snapping.tolerance"),
    ("clause", "gcgeo: rule garbage.snapping.tolerance"),
    # gcgeo.analysis.garbage: _status
    ("sorting_coverage_reason", "no streets layer, so walks cannot be measured; add the walking network with "
     "`gcgeo add WS streets FILE` or `gcgeo import-osm`"),
    ("sorting_coverage_reason", "layer 'garbage_points' holds no sorting point (3 point(s) of other kinds); if "
     "there is none, no home is served — add the points, or count more kinds (rule garbage.point_kinds)"),
    # gcgeo.analysis.chargers: _ev_ready, _no_ebike_reason, _indoors_status, _reach_status
    ("ev_ready_reason", "no parking layer: add it with `gcgeo add WS parking FILE` (capacity, ev_ready)"),
    ("ev_ready_reason", "no car parking recorded in the community (layer 'parking')"),
    ("ev_ready_reason", "capacity missing or unreadable for parking P1, P2"),
    ("ev_ready_reason", "the community's car parking has 0 spaces"),
    ("ev_ready_reason", "EV-ready spaces not recorded for parking P1; the chargers standing in them give at "
     "least 5% (10% required)"),
    ("ebike_reach_reason", "no buildings layer: add it with `gcgeo add WS buildings FILE` (use / residential)"),
    ("ebike_reach_reason", "layer 'chargers' has no 'kind' column, so e-bike chargers cannot be told from car "
     "chargers; map your column onto 'kind' (car / e-bike) and add the layer again"),
    ("ebike_reach_reason", "layer 'chargers' records no e-bike charger (if there is none, no home is served); "
     "add the e-bike chargers (kind e-bike / 电动自行车)"),
    ("ebike_indoors_reason", "layer 'chargers' records no e-bike charger (none can be checked); add the e-bike "
     "chargers (kind e-bike / 电动自行车)"),
    ("ebike_indoors_reason", "2 e-bike charger(s) inside residential buildings"),
    # gcgeo.analysis.heritage: community statuses
    ("protection_reason", "3 intrusion(s) into 2 of 4 protection zone(s): buildings 2, parking 1"),
    ("protection_reason", "protection zone of H1, H2 cannot be drawn"),
    ("protection_reason", "no buildings layer: intrusions by buildings not checked"),
    ("protection_reason", "not checked (no layer): parking, obstructions, fire_lanes"),
    # gcgeo.analysis.manholes: _evidence, _no_column, _judge
    ("manager_reason", "3 of 10 covers have no manager or no contact"),
    ("manager_reason", "the manholes layer has no 'manager' (管理人) and no 'contact' (联系方式) column; add it "
     "to decide this rule"),
    ("code_reason", "the manholes layer has no 'code' (井盖编号) or 'id' (编号) column; add it to decide this "
     "rule"),
    ("fall_net_reason", "the manholes layer has no 'fall_net' (防坠网) column; add it to decide this rule"),
    *(("manager_reason", f"2 of 10 covers have no record of {what}") for what in (
        "their manager", "their manager and contact", "their owner", "their code", "their condition",
        "a fall-prevention net", "an inspection on or before 2026-12-01")),
    ("inspection_reason", "4 of 10 covers were last inspected more than 365 days before 2026-12-01"),
)


def _english_left(text: str) -> list[str]:
    """The words in Latin letters of ``text``, ids, quoted values and units aside."""
    return re.findall(r"[A-Za-z]+", _UNITS.sub("", _IDS.sub("", _QUOTED.sub("", text))))


@pytest.mark.parametrize("text", MESSAGES + REASONS)
def test_every_message_and_reason_reads_in_chinese(text):
    zh = reason_text(text, "zh")
    assert not _english_left(zh), (text, zh)
    assert reason_text(text, "en") == text  # English pages show what the analysis wrote


@pytest.mark.parametrize(("text", "zh"), [
    ("nearest sorting point 139 m walk away", "最近的垃圾分类投放点步行139米"),
    ("cover MH001 (gas): no manager named", "井盖MH001（燃气）：未指定管理人"),
    ("cover MH004 (drain): the cover is sunken", "井盖MH004（雨水）：井盖沉陷"),
    ("slope 1:10 (10%) steeper than 1:12 (three-sided)", "坡度1:10 (10%)，陡于三面坡类坡道限值1:12"),
    ("building B-3: 12.5 m² of it lies inside the 15 m protection zone of old_tree T1 银杏王 (crown + margin), "
     "reaching 3.2 m into it",
     "建筑B-3有12.5平方米位于古树T1 银杏王的15米保护范围（树冠投影外加保护距离）内，深入3.2米"),
    ("cover MH001: fall_net (防坠网) 'maybe' cannot be read; write 有 / 无 (yes / no)",
     "井盖MH001：防坠网“maybe”无法识别；请填写有 / 无"),
    ("no kerb ramps recorded in the community", "社区内未登记缘石坡道"),
    ("3 of 7 not known (R1, R2, R3): slope not recorded", "7处中有3处无法判断（R1, R2, R3）：未记录坡度"),
    ("1 of 1 covers of the kinds sewer, drain have no fall-prevention net",
     "1个井盖中有1个（污水、雨水类）未安装防坠网"),
])
def test_hand_checked_translations(text, zh):
    assert reason_text(text, "zh") == zh


def test_messages_in_tables_popups_value_maps_and_placemarks_read_in_chinese():
    text, zh = "cover MH001 (gas): no manager named", "井盖MH001（燃气）：未指定管理人"
    assert format_value(text, "message", "zh") == zh and format_value(text, "message", "en") == text
    assert format_value(" ", "message", "zh") is None
    assert format_values([text, "nearest sorting point 139 m walk away"], "message", "zh") == [
        zh, "最近的垃圾分类投放点步行139米"]
    assert cell_text(text, "message", "zh") == zh  # the report's tables
    assert field_labels(pd.DataFrame({"message": [text]}), lang="zh").values["message"] == {text: zh}
    findings = gpd.GeoDataFrame({"kind": ["no_manager"], "clause": [""], "message": [text]},
                                geometry=[Point(0, 0)], crs=4547)
    for lang, want in (("zh", zh), ("en", text)):
        out, _, desc = kml.placemark_fields(findings, lang=lang)
        assert want in out[desc].iloc[0]


# --- the synthetic county, analysed: what the analyses really wrote --------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """The county with every registered analysis run on it."""
    path = tmp_path_factory.mktemp("messages") / "county.gpkg"
    analysed_county(path, 0, name="高唐县（合成）")
    return path


@pytest.fixture(scope="module")
def bare_workspace(tmp_path_factory) -> Path:
    """The county without streets and buildings, analysed by every analysis that can run so."""
    path = tmp_path_factory.mktemp("messages") / "bare.gpkg"
    assert len(analysed_county(path, 0, name="无道路和建筑", leave_out=BARE)) >= 5
    return path


def _stored(workspace: Path, layer: str, column: str) -> list[str]:
    with sqlite3.connect(workspace) as con:
        return [v for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM "{layer}"') if v]


def test_every_message_the_county_holds_reads_in_chinese(workspace):
    seen = 0
    for name in _ANALYSES:
        for text in _stored(workspace, f"{name}_findings", "message"):
            seen += 1
            zh = reason_text(text, "zh")
            assert not _english_left(zh), (name, text, zh)
    assert seen >= 20


def _popup(page: str, layer: str, field: str) -> set[str]:
    """The texts ``field`` shows in the popups of the map layer named ``layer``."""
    dec = json.JSONDecoder()
    out: set[str] = set()
    for written, end in layer_calls(page):
        opts, _ = dec.raw_decode(page, end + 2)
        if opts["name"] != layer or field not in opts["fields"]:
            continue
        col = inflated(written)["v"][opts["fields"].index(field)]
        out |= set(col) if isinstance(col, list) else ({col["k"]} if "k" in col else set(col["d"]))
    return {v for v in out if v is not None}


def test_the_chinese_map_shows_findings_messages_in_chinese(workspace):
    stored = _stored(workspace, "manholes_findings", "message")
    assert "cover MH001 (drain): no manager named" in stored  # the workspace keeps the English
    out = workspace.with_name("map-zh.html")
    res = CliRunner().invoke(main, ["map", str(workspace), "-o", str(out), "--lang", "zh", "--offline",
                                    "--overwrite"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    label = next(o.label_zh for d in analysis.descriptors().values() for o in d.outputs
                 if o.name == "manholes_findings")
    shown = _popup(page, label, "message")
    assert "井盖MH001（雨水）：未指定管理人" in shown
    assert not [t for t in shown if _english_left(t)], shown


# --- every registered analysis: reasons, notes and clauses ------------------------------------------

#: Commands (in backquotes, or gcgeo's own), rule keys (``park.*``, ``supply norms.<类别>``) and
#: acronyms (NDVI, GB): typed or cited as they are, never translated.
_CODES = re.compile(r"`[^`]*`|(?<![A-Za-z])gcgeo(?: [\w.*<>-]+)*"
                    rf"|(?<![\w.])(?:(?:{'|'.join(rules.available())}) )?[a-z_]+(?:\.(?:[a-z_]+|\*|<[^>]*>))+"
                    r"|(?<![A-Za-z])[A-Z]{2,}(?:/T)?(?![A-Za-z])")


def _words_left(text: str) -> list[str]:
    """:func:`_english_left`, commands, rule keys and acronyms aside too."""
    return _english_left(_CODES.sub("", text))


@pytest.mark.parametrize(("column", "text"), SENTENCES)
def test_every_reason_note_and_clause_reads_in_chinese(column, text):
    zh = format_value(text, column, "zh")
    assert zh and not _words_left(zh), (column, text, zh)
    # English pages show what the analysis wrote (with the categories' labels for their codes)
    assert format_value(text, column, "en") in (text, reason_text(text, "en"))


@pytest.mark.parametrize(("column", "text", "zh"), [
    ("sunlight_reason", "at most: heights unknown for 12 buildings that may shade it (B1, B2, B3, B4, B5, B6, "
     "B7, B8, B9, B10 and 2 more); give them height_m or floors",
     "比例为上限值：可能遮挡该绿地的12栋建筑高度未知（B1, B2, B3, B4, B5, B6, B7, B8, B9, B10等，另有2栋）；"
     "请为其填写高度或层数"),
    ("sunlight_reason", "no concentrated green", "无集中绿地"),
    ("service_reason", "no streets layer (add the walking network: gcgeo add WS streets FILE)",
     "缺少道路图层（请补充步行路网：gcgeo add 工作区 streets 文件）"),
    ("service_reason", "no green site counts as a park (see rules park.*)", "没有可计为公园的绿地（见规则 park.*）"),
    ("sports_reason", "no sports grounds in the green_space layer (kind playground / sports): the share is unknown",
     "绿地图层中没有体育活动场地（儿童游乐场、体育活动场地类），其占比未知"),
    ("ndvi_reason", "outside the raster", "在栅格范围外"),
    ("checks_skipped", "turnaround;clear_height", "回车场、净空高度"),
    ("clause", "保护范围半径 as recorded for the feature", "该要素登记的保护范围半径"),
    ("clause", "gcgeo: layer 'parking' column 'ev_ready'", "gcgeo：停车场图层“充电车位数”列"),
    ("clause", "heritage.radius.other: no national figure", "heritage.radius.other：无国家标准数值"),
    ("sorting_coverage_reason", "no streets layer, so walks cannot be measured; add the walking network with "
     "`gcgeo add WS streets FILE` or `gcgeo import-osm`",
     "缺少道路图层，无法计算步行距离；请补充步行路网（`gcgeo add WS streets FILE`或`gcgeo import-osm`）"),
    ("code_reason", "the manholes layer has no 'code' (井盖编号) or 'id' (编号) column; add it to decide this "
     "rule", "窨井盖图层缺少“井盖编号”或“编号”列，补充后才能判定此项"),
    ("manager_reason", "2 of 10 covers have no record of their manager and contact",
     "10个井盖中有2个未记录管理人和联系方式"),
])
def test_hand_checked_reasons(column, text, zh):
    assert format_value(text, column, "zh") == zh


def _sentences_stored(workspace: Path) -> dict[str, set[tuple[str, str]]]:
    """Per registered analysis, the distinct (column, text) of its outputs' sentence columns."""
    out: dict[str, set[tuple[str, str]]] = {}
    with sqlite3.connect(workspace) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM gpkg_contents")}
        for name, desc in analysis.descriptors().items():
            for layer in (o.name for o in desc.outputs if o.name in tables):
                columns = [c for (_, c, *_) in con.execute(f'PRAGMA table_info("{layer}")') if _sentence_column(c)]
                for c in columns:
                    out.setdefault(name, set()).update(
                        (c, v) for (v,) in con.execute(f'SELECT DISTINCT "{c}" FROM "{layer}"')
                        if isinstance(v, str) and v.strip())
    return out


def test_every_reason_and_finding_the_county_holds_reads_in_chinese(workspace, bare_workspace):
    held = _sentences_stored(workspace)
    for name, texts in _sentences_stored(bare_workspace).items():
        held.setdefault(name, set()).update(texts)
    assert set(held) == set(analysis.names())  # every registered analysis wrote some
    english = [(name, column, text, zh) for name, texts in held.items() for column, text in sorted(texts)
               if _words_left(zh := format_value(text, column, "zh") or "")]
    assert not english, english
    assert sum(map(len, held.values())) >= 60


@pytest.mark.parametrize("column, value, zh", [
    ("width_source", "polygon", "按车道面量取"), ("width_source", "skipped", "未量取"),
    ("gradient_source", "slope", "车道坡度记录"), ("gradient_source", "streets", "道路坡度记录"),
    ("gradient_source", "dem", "数字高程模型"),
    ("capacity_source", "count", "按设施数计（每处为1）"), ("capacity_source", "column:beds", "“beds”列"),
    ("required", "有 / 无 (yes / no)", "有 / 无"), ("required", "a date such as 2021-03-05", "日期，如2021-03-05"),
])
def test_the_sources_and_requirements_an_analysis_records_read_in_chinese(column, value, zh):
    """The codes of the fire lanes' width and gradient sources, the supply's capacity source
    and the manholes' required values (written by hand); English pages keep them as written."""
    assert format_value(value, column, "zh") == zh
    assert format_values([value], column, "zh") == [zh]
    assert format_value(value, column, "en") == value
