"""Labels (zh / en) for layers, columns and values on maps, figures and reports.

Inventory layers and columns take their labels from the layer specs
(``gcgeo.layers.get_spec(kind).labels(lang)``); analysis outputs and the
columns an analysis adds from its descriptor (``Output.columns``); columns
several analyses share are labelled here, in one table; families of columns (``dist_<category>_m``,
``all_within_<tier>``, ``share_all_within_<tier>``, ``choices_<category>``,
``access_<category>_per_1000``) are labelled from the living-circle
rules so a new category or tier needs no change here.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from . import layers as _layers
from . import rules as _rules
from .clauses import clause_text
from .names import category_label, layer_label, living_circle_rules, tier_label
from .reasons import reason_text, zone_bases
from .values import text_list

__all__ = ["COLUMN_LABELS", "GEOMETRY_LABELS", "UI", "category_label", "code_label", "column_format",
           "column_label", "every_label", "format_value", "format_values", "kind_label", "layer_label",
           "tier_label", "ui"]

#: Columns several analyses write: name → (zh, en, format). Formats: "pct" (share 0–1),
#: "m", "m2pp" (m²/person), "int", "float", "ratio" (0–1 shown as %), "text".
COLUMN_LABELS: dict[str, tuple[str, str, str]] = {
    "category": ("设施类别", "Category", "category"),
    "tier": ("生活圈层级", "Living-circle tier", "tier"),
    "population": ("人口", "Population", "int"),
    "community": ("所属社区", "Community", "text"),
    "community_id": ("社区编号", "Community id", "text"),
    "community_name": ("社区名称", "Community", "text"),
    "status": ("状态", "Status", "text"),
    "area_m2": ("面积", "Area (m²)", "int"),
    "kind": ("类型", "Kind", "text"),
    "feature_id": ("要素编号", "Feature id", "text"),
    "layer": ("图层", "Layer", "text"),
    "measured": ("实测值", "Measured", "float"),
    "required": ("规定值", "Required", "float"),
    "clause": ("依据条款", "Clause", "text"),
    "severity": ("严重程度", "Severity", "text"),
    "message": ("说明", "Finding", "text"),
    "length_m": ("长度", "Length (m)", "m"),
    "unit": ("单位", "Unit", "text"),
    "passes": ("达标", "Passes", "bool"),
    "ok": ("达标", "Passes", "bool"),
    "n_findings": ("问题数", "Findings", "int"),
    "findings": ("问题数", "Findings", "int"),
    "buffer_m": ("缓冲距离（米）", "Buffer (m)", "m"),
    "members": ("组成地块", "Parts", "text"),
    "building": ("建筑编号", "Building", "text"),
}

#: Interface words.
UI: dict[str, tuple[str, str]] = {
    "count": ("数量", "Count"),
    "inventory": ("基础设施清单", "Inventory"),
    "living_circle": ("十五分钟生活圈", "15-minute living circle"),
    "green": ("绿地", "Green space"),
    "fire_lanes": ("消防车道", "Fire lanes"),
    "served_tier": ("可达生活圈层级", "Tier served"),
    "not_served": ("均未达标", "Not served"),
    "gaps": ("服务缺口", "Service gaps"),
    "isochrones": ("步行等时圈", "Walking isochrones"),
    "isochrones_not_drawn": ("未绘制（按需绘制：gcgeo analyze 工作区 living-circle --isochrones community）",
                             "not drawn (drawn on request: gcgeo analyze WS living-circle "
                             "--isochrones community)"),
    "homes": ("居住点（按达标层级）", "Homes by tier served"),
    "share_served": ("覆盖人口比例", "Population share served"),
    "green_ratio_map": ("社区绿地率", "Green ratio by community"),
    "ndvi_map": ("植被覆盖（NDVI）", "Vegetation cover (NDVI)"),
    "per_person_map": ("人均公共绿地", "Public green per person"),
    "coverage300": ("300米见绿", "300 m to green"),
    "coverage500": ("500米见园", "500 m to a park"),
    "entrances": ("公园出入口", "Park entrances"),
    "lanes_by_width": ("消防车道（按净宽）", "Fire lanes by clear width"),
    "findings": ("消防车道问题", "Fire-lane findings"),
    "check_findings": ("问题数", "Findings"),
    "fire_communities": ("社区消防车道问题", "Fire-lane findings by community"),
    "north": ("北", "N"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "below": ("低于", "below"),
    "at_least": ("不低于", "at least"),
    "no_data": ("无数据", "no data"),
    "legend": ("图例", "Legend"),
    "other": ("其他", "other"),
    "other_values": ("其他值（未列出）", "other values (not listed)"),
    "community_table": ("各社区指标", "Per community"),
    "maps": ("交互地图", "Interactive maps"),
    "offline_map": ("交互地图（离线，单个文件）", "Interactive map (offline, one file)"),
    "online_map": ("交互地图（OpenStreetMap底图）", "Interactive map (OpenStreetMap base map)"),
    "figures": ("专题图", "Figures"),
    "metadata": ("工作区信息", "Workspace"),
    "report": ("评估报告", "Report"),
    "layers": ("图层", "Layers"),
    "features": ("要素数", "Features"),
    "generated": ("生成时间", "Generated"),
    "stale": ("以下分析结果早于其输入（图层、规则或栅格）的最近一次修改，仍反映修改前的数据，请重新运行分析：",
              "These results predate the latest change to their inputs (layers, rules or "
              "raster) and still describe the old data; run the analysis again:"),
    "changed": ("已修改", "changed"),
    "rules_file": ("规则文件", "rules file"),
    "builtin_rules": ("内置规则（gcgeo 新版本）", "built-in rules (new gcgeo version)"),
    "raster_file": ("栅格", "raster"),
    "category_table": ("各类设施", "Per category"),
    "no_facility_here": ("数据中没有此类设施（严格口径下所有居住点均计为缺少，请核实是否缺数据）",
                         "No facility of this kind in the data (every home counts as lacking one "
                         "in the strict reading; check whether the data are missing)"),
    "none_on_network_here": ("此类设施均未接入步行路网（请核实其位置或道路数据）",
                             "Every facility of this kind is off the walking network (check "
                             "their positions or the streets)"),
    "residents_unknown": ("未知：无人口数据，每个居住点按1人计，以下比例为居住点比例",
                          "not known: no population data, every home counts as one, so the "
                          "shares below are shares of homes"),
    "categories_reached": ("居民在各自步行距离内可达的设施类别（按人口平均，无人口数据时按居住点；"
                           "仅计数据中有的类别）",
                           "Facility categories within their own walking distance, per resident on "
                           "average (per home where residents are not known; only the categories "
                           "found in the data)"),
    "geometry": ("几何类型", "Geometry"),
    "layer_name": ("工作区中的图层名", "Layer name in the workspace"),
    "appendix": ("附录：技术信息", "Appendix: technical details"),
    "appendix_note": ("供技术人员核查：各分析的运行时间、所用规则的摘要值（规则或版本变化时改变）和工作区图层名。",
                      "For technicians: when each analysis ran, digests of the rules it used (they change "
                      "when the rules or gcgeo's version change) and the workspace's layer names."),
    "basis": ("评分依据：标准值与依据条款", "Basis of the score: thresholds and clauses"),
    "rule_values": ("本分析采用的标准值与依据条款", "Thresholds this analysis applies, with their clauses"),
    "threshold": ("标准值", "Threshold"),
    "clause": ("依据条款", "Clause"),
    "criterion": ("创建标准", "Criterion"),
    "communities_by_status": ("各社区结果", "Communities"),
    "ran_at": ("运行时间", "ran at"),
    "rule_digest": ("规则摘要值", "rules digest"),
}

#: Geometry types as shown in tables.
GEOMETRY_LABELS: dict[str, tuple[str, str]] = {
    "Point": ("点", "Point"), "MultiPoint": ("多点", "MultiPoint"),
    "LineString": ("线", "LineString"), "MultiLineString": ("多线", "MultiLineString"),
    "Polygon": ("面", "Polygon"), "MultiPolygon": ("多面", "MultiPolygon"),
    "GeometryCollection": ("几何集合", "GeometryCollection"),
}



def ui(key: str, lang: str = "en") -> str:
    """An interface word in ``lang``."""
    zh, en = UI[key]
    return zh if lang == "zh" else en


@cache
def _fire_rules() -> dict:
    try:
        return _rules.load("fire_lanes")
    except Exception:  # noqa: BLE001 - labels are cosmetic
        return {}


@cache
def _kind_labels() -> dict[str, dict[str, str]]:
    """Every ``[labels.<kind>]`` table of the built-in rule sets, by kind."""
    out: dict[str, dict[str, str]] = {}
    for name in _rules.available():
        try:
            table = _rules.load(name).get("labels", {})
        except Exception:  # noqa: BLE001 - labels are cosmetic
            continue
        for k, v in table.items():
            if isinstance(v, Mapping):
                out.setdefault(str(k), dict(v))
    return out


def kind_label(kind: str, lang: str = "en") -> str:
    """A finding's kind (``no_manager``, ``too_steep``…) as its rules file labels it."""
    lab = _kind_labels().get(str(kind), {})
    return lab.get("label_zh" if lang == "zh" else "label_en") or str(kind).replace("_", " ")


def fire_kind_label(kind: str, lang: str = "en") -> str:
    """Fire-lane finding kind → its label from the fire-lane rules."""
    lab = _fire_rules().get("labels", {}).get(str(kind), {})
    return lab.get("label_zh" if lang == "zh" else "label_en") or str(kind).replace("_", " ")


@cache
def analysis_columns() -> dict[str, tuple[str, str, str]]:
    """Every column label the analyses' descriptors declare: name → (zh, en, format)."""
    from . import analysis

    out: dict[str, tuple[str, str, str]] = {}
    for desc in analysis.descriptors().values():
        for o in desc.outputs:
            out.update(o.columns)
    return out


def _known_column(name: str) -> tuple[str, str, str] | None:
    return COLUMN_LABELS.get(name) or analysis_columns().get(name)


def _spec_column(kind: str | None, name: str):
    if kind is None:
        return None
    try:
        spec = _layers.get_spec(kind)
    except Exception:  # noqa: BLE001 - not an inventory kind
        return None
    return spec.column(name) if spec.has_column(name) else None


def column_label(name: str, lang: str = "en", *, kind: str | None = None) -> str:
    """The label of column ``name`` (of layer kind ``kind`` when it is an inventory layer)."""
    col = _spec_column(kind, name)
    if col is not None:
        label = col.label(lang)
        return f"{label} ({col.unit})" if col.unit and lang == "en" else label
    known = _known_column(name)
    if known is not None:
        zh, en, _ = known
        return zh if lang == "zh" else en
    m = re.fullmatch(r"dist_(.+)_m", name)
    if m:
        cat = category_label(m.group(1), lang)
        return f"到{cat}步行距离（米）" if lang == "zh" else f"Walk to {cat.lower()} (m)"
    m = re.fullmatch(r"choices_(.+)", name)
    if m:  # the supply analysis per home
        cat = category_label(m.group(1), lang)
        return f"步行可达{cat}数" if lang == "zh" else f"{cat} within reach (choices)"
    m = re.fullmatch(r"access_(.+)_per_1000", name)
    if m:
        cat = category_label(m.group(1), lang)
        return (f"{cat}千人可及服务能力（两步移动搜索法）" if lang == "zh"
                else f"Accessible {cat.lower()} capacity per 1000 residents (2SFCA)")
    m = re.fullmatch(r"(share_within|served)_(\d+(?:\.\d+)?)m_(green|park)", name)
    if m:
        what_zh = "见绿" if m.group(3) == "green" else "见园"
        if m.group(1) == "served":
            return f"{m.group(2)}米{what_zh}" if lang == "zh" else f"Within {m.group(2)} m of a {m.group(3)}"
        return (f"{m.group(2)}米{what_zh}覆盖比例" if lang == "zh"
                else f"Share within {m.group(2)} m of a {m.group(3)}")
    m = re.fullmatch(r"public_green_(req|pass)_(.+)", name)
    if m:
        t = tier_label(m.group(2), lang)
        if m.group(1) == "req":
            return f"{t}人均公共绿地要求" if lang == "zh" else f"Required green per person, {t} (m²)"
        return f"{t}人均公共绿地达标" if lang == "zh" else f"Green per person passes, {t}"
    m = re.fullmatch(r"missing_(\d+min)", name)
    if m:  # the living circle's gaps per home
        t = tier_label(m.group(1), lang)
        return f"{t}缺失设施" if lang == "zh" else f"Missing within the {t}"
    m = re.fullmatch(r"(share_)?(all|in_data|served)_within_(.+)|(share_)?(served)_(\d+min)", name)
    if m:
        return _every_label(m.group(2) or m.group(5), m.group(3) or m.group(6),
                            bool(m.group(1) or m.group(4)), lang)
    m = re.fullmatch(r"share_(?!served_)(.+)_(\d+min)", name)
    if m:
        cat, t = category_label(m.group(1), lang), tier_label(m.group(2), lang)
        return f"{t}{cat}覆盖比例" if lang == "zh" else f"Share served by {cat.lower()}, {t}"
    m = re.fullmatch(r"n_(too_narrow|obstructed|no_turnaround|low_clearance)", name)
    if m:
        kind = fire_kind_label(m.group(1), lang)
        return f"{kind}（处）" if lang == "zh" else f"{kind} (count)"
    for c in _layers.COMMON_COLUMNS:
        if c.name == name:
            return c.label(lang)
    col = _spec_column("communities", name) or _spec_column("buildings", name)
    if col is not None:
        return col.label(lang)
    return name.replace("_", " ")


def _every_label(reading: str, tier: str, share: bool, lang: str) -> str:
    return every_label(tier, reading=reading, share_of="residents" if share else None, lang=lang)


def every_label(tier: str, *, reading: str = "all", share_of: str | None = None,
                lang: str = "en") -> str:
    """Label of the living circle's ``all_within_<tier>`` (``served_<tier>`` before) and
    ``in_data_within_<tier>`` (``reading="in_data"``): every category the tier requires,
    its own and the nearer tiers', within the tier's walking distance; with ``share_of``
    ("residents" or "homes") the share of them for whom it holds."""
    t = tier_label(tier, lang)
    if lang == "zh":
        text = f"{t}（含以下层级）要求的各类设施均在{t}步行距离内"
        if reading == "in_data":
            text += "（仅计数据中有的设施类别）"
        return text + {"residents": "的居民比例", "homes": "的居住点比例"}.get(share_of or "", "")
    text = (f"every facility category required up to the {t} within that circle's walking distance"
            + (" (only the categories found in the data)" if reading == "in_data" else ""))
    return f"Share of {share_of} with {text}" if share_of else text[0].upper() + text[1:]


def column_format(name: str, kind: str | None = None) -> str:
    """How :func:`format_value` shows column ``name``: "int", "m", "float", "pct", "bool",
    "category", "tier", "text", "auto"… (a renderer formatting many values rounds by it first)."""
    return _fmt_kind(name, kind)


def _fmt_kind(name: str, kind: str | None) -> str:
    col = _spec_column(kind, name)
    if col is not None:
        return {"int": "int", "float": "float", "bool": "bool", "date": "text"}.get(col.dtype, "text")
    known = _known_column(name)
    if known is not None:
        return known[2]
    if re.fullmatch(r"dist_.+_m", name):
        return "m"
    if re.fullmatch(r"choices_.+", name):
        return "int"
    if re.fullmatch(r"access_.+_per_1000", name):
        return "float"
    if name.startswith("share_"):
        return "pct"
    if name.startswith(("served_", "all_within_", "in_data_within_", "public_green_pass_")):
        return "bool"
    if name.startswith("public_green_req_"):
        return "float"
    if re.fullmatch(r"missing_\d+min", name):
        return "text"
    if re.fullmatch(r"n_\w+", name):
        return "int"
    return "auto"


_SEVERITY = {"none": ("无", "none"), "low": ("低", "low"), "medium": ("中", "medium"),
             "high": ("高", "high")}
_POP_SOURCE = {"given": ("数据给定", "given"),
               "community by floor area": ("按社区人口与建筑面积分摊", "community by floor area"),
               "community, equal shares": ("按社区人口平均分摊", "community, equal shares"),
               "one per building": ("每栋按1人计（占位）", "one per building (placeholder)")}
#: The units of the rules (and so of the findings' ``unit``) in words; kept out of
#: :data:`VALUE_LABELS`, whose words :func:`code_label` gives any column (a unit
#: ``chargers`` is no layer ``chargers``).
UNIT_LABELS: dict[str, tuple[str, str]] = {
    "ratio": ("比例", "ratio"), "m2": ("m²", "m²"), "m2/person": ("m²/人", "m²/person"),
    "days": ("天", "days"), "min": ("分钟", "min"), "h": ("小时", "h"),
    "h (true solar time)": ("小时（真太阳时）", "h (true solar time)"),
    "covers": ("个井盖", "covers"), "spaces": ("个车位", "spaces"), "chargers": ("处", "chargers"),
    "criteria": ("项", "criteria"), "per 1000 residents": ("每千人", "per 1000 residents"),
    "fraction of community area": ("占社区面积比例", "fraction of community area"),
    "fraction of park area": ("占公园面积比例", "fraction of park area"),
    "fraction of the concentrated green": ("占集中绿地比例", "fraction of the concentrated green"),
    "fraction of the tier indicator": ("占该层级指标比例", "fraction of the tier indicator"),
}


def unit_text(unit: str, lang: str = "zh") -> str:
    """A rule's unit as shown in ``lang`` (:data:`UNIT_LABELS`; m, mm, % and the rest as written).

    >>> unit_text("h"), unit_text("chargers"), unit_text("m2", "en"), unit_text("mm")
    ('小时', '处', 'm²', 'mm')
    """
    own = UNIT_LABELS.get(unit)
    return unit if own is None else own[0 if lang == "zh" else 1]


#: Text values of analysis-result columns: column → value → (zh, en).
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "severity": _SEVERITY,
    "worst_severity": _SEVERITY,
    "criterion8": {"pass": ("达标", "pass"), "fail": ("未达标", "fail"),
                   "incomplete": ("资料不全", "incomplete"), "no_lanes": ("无消防车道", "no lanes")},
    "width_source": {"given": ("实测", "given"), "default": ("默认值", "default"),
                     "polygon": ("按车道面量取", "polygon"), "skipped": ("未量取", "skipped")},
    # where a lane's gradient comes from (gcgeo.analysis.fire_lanes.gradient)
    "gradient_source": {"slope": ("车道坡度记录", "slope"), "streets": ("道路坡度记录", "streets"),
                        "dem": ("数字高程模型", "dem")},
    # what a category's capacity is (gcgeo.analysis.supply; "column:<name>" names its column)
    "capacity_source": {"count": ("按设施数计（每处为1）", "count")},
    "weight_basis": {"households": ("户数", "households"), "residents": ("人口", "residents"),
                     "buildings": ("栋数", "buildings"), "community flag": ("社区整体", "community flag")},
    "pop_source": _POP_SOURCE,
    "service_weight_basis": _POP_SOURCE,
    # the park entrances of the green analysis
    "entrance": {"path": ("道路接入处", "path"), "virtual": ("虚拟出入口", "virtual")},
    # where a heritage feature's protection zone comes from (gcgeo.analysis.heritage.zones)
    "zone_basis": zone_bases(),
    # the fire-lane findings' notes on what was measured
    "note": {"width from the rule default": ("宽度取规则默认值", "width from the rule default"),
             "height_m of the obstruction": ("障碍物离地净高", "height_m of the obstruction"),
             "clear_height_m of the lane": ("车道净空高度", "clear_height_m of the lane"),
             "side of the largest square that fits in the turnaround":
                 ("回车场内可容纳的最大正方形边长", "side of the largest square that fits in the turnaround"),
             "side of the largest square that fits in the turnaround (high-rise)":
                 ("回车场内可容纳的最大正方形边长（高层建筑）",
                  "side of the largest square that fits in the turnaround (high-rise)")},
    "obstruction_kinds": {"building": ("建筑", "building")},
    # the fire-lane checks that could not be made on a lane (gcgeo.analysis.fire_lanes)
    "checks_skipped": {"turnaround": ("回车场", "turnaround"), "clear_height": ("净空高度", "clear_height")},
    # what an inventory check measured and required, where these are words
    "measured": {"no": ("否", "no")},
    "required": {"yes": ("是", "yes"), "car / e-bike": ("汽车或电动自行车", "car / e-bike"),
                 "outside residential buildings": ("住宅楼外", "outside residential buildings"),
                 "有 / 无 (yes / no)": ("有 / 无", "有 / 无 (yes / no)"),  # (gcgeo.analysis.manholes)
                 "a date such as 2021-03-05": ("日期，如2021-03-05", "a date such as 2021-03-05")},
    # an inventory check's status of a rule in a community (gcgeo.analysis.checks)
    "status": {"ok": ("正常", "ok"), "no facility": ("数据中无此类设施", "no facility"),
               "none on the network": ("均未接入步行路网", "none on the network"),
               "pass": ("达标", "pass"), "fail": ("未达标", "fail"), "unknown": ("未知", "unknown"),
               "met": ("符合", "met"), "not_met": ("不符合", "not met"),  # a scorecard's criteria
               "no norm": ("无千人指标", "no norm")},
}


#: Result columns holding codes of an inventory column, one or a list: column → (layer kind,
#: column).  Shown as that layer shows them: a green site's ``park`` is 公园 as in the green
#: space, where the facility category ``park`` is 公园/广场.
COPIED_CODES: dict[str, tuple[str, str]] = {
    "kinds": ("green_space", "kind"),
    "manhole_kind": ("manholes", "kind"),
    "kinds_without_manager": ("manholes", "kind"),
    "heritage_kind": ("heritage", "kind"),
    "obstruction_kinds": ("obstructions", "kind"),
}
#: Result columns naming columns of an inventory layer, one or a list: column → layer kind.
NAMED_COLUMNS: dict[str, str] = {"attribute": "ramps", "column": "manholes"}
#: Columns of names and ids: their values are the user's, never codes (``building`` and
#: ``community`` hold a home's building id and community id in the green analysis's homes).
_NAMES = re.compile(r"(?:^|_)(?:id|ids|name|names)$|^(?:building|community)$")


def _codes_shown(name: str, kind: str | None, lang: str) -> bool:
    """Whether a text of column ``name`` that is a code is shown in words: on a Chinese page,
    in a result layer (an inventory layer's columns are its spec's, or the user's), in no
    column of names or ids."""
    return lang == "zh" and kind not in _layers.SPECS and not _NAMES.search(name)


def _code_zh(code: str, name: str) -> str | None:
    """Code ``code`` of result column ``name`` in Chinese; None when no table knows it."""
    own = (UNIT_LABELS if name == "unit" else VALUE_LABELS.get(name, {})).get(code)
    if own is not None:
        return own[0]
    if name == "unit":
        return None  # (m, mm, %: as they are)
    if name == "layer":  # the layer a finding is of
        label = layer_label(code, "zh")
        return label if label != code else None
    if name in COPIED_CODES:
        kind, column = COPIED_CODES[name]
        spellings = _layers.get_spec(kind).column(column).value_aliases.get(code)
        if spellings:
            return spellings[0]
    if name == "capacity_source" and code.startswith("column:"):  # the facilities' column it was read from
        column = code.removeprefix("column:")
        return f"“{column_label(column, 'zh', kind='facilities')}”列"
    if name in NAMED_COLUMNS and _spec_column(NAMED_COLUMNS[name], code) is not None:
        return column_label(code, "zh", kind=NAMED_COLUMNS[name])
    return code_label(code, "zh")


@lru_cache(maxsize=8192)  # (a value map or a page asks for each distinct text, often twice)
def codes_text(text: str, name: str) -> str | None:
    """``text`` of result column ``name`` in Chinese when it is a code, or a list of codes (a
    JSON array, or joined by commas or semicolons) that are all known; else None, so that a
    text of the user's is shown as it is.

    A code is labelled by the column's own words (:data:`VALUE_LABELS`), by the inventory
    column it copies (:data:`COPIED_CODES`, :data:`NAMED_COLUMNS`), else as
    :func:`code_label` labels it.

    >>> codes_text("garden,park", "kinds"), codes_text("water, power", "kinds_without_manager")
    ('花园、公园', '给水、电力')
    >>> codes_text("10min", "park_tier"), codes_text("东关社区", "community"), codes_text("park, 东关", "kinds")
    ('十分钟生活圈', None, None)
    """
    items = text_list(text)
    if items is None:
        items = [text] if text in VALUE_LABELS.get(name, {}) else re.split(r"\s*[,;]\s*", text.strip())
    labels = [_code_zh(v, name) for v in items]
    if not labels or None in labels:
        return None
    return "、".join(lab for lab in labels if lab is not None)


def value_label(kind: str | None, column: str, value: Any, lang: str = "en") -> str:
    """A spec value as shown to planners: its first Chinese spelling in ``zh``; a value of
    a column open to any value that its spec does not name is shown as it is (the user's).

    >>> value_label("streets", "kind", "secondary", "zh"), value_label("streets", "kind", "林荫道", "zh")
    ('次干路', '林荫道')
    """
    text = str(value)
    col = _spec_column(kind, column) if kind in _layers.SPECS else None
    if col is None:
        return text.replace("_", " ")
    if lang == "zh" and text in col.value_aliases:
        return col.value_aliases[text][0]
    known = col.allowed is not None or text in col.value_aliases
    return text.replace("_", " ") if known else text


def format_value(value: Any, name: str, lang: str = "en", *, kind: str | None = None) -> str | None:
    """``value`` of column ``name`` as display text; None for missing values.

    Anything that is not plain JSON (dates, decimals, numpy scalars, lists)
    becomes a string here, so popups never fail to serialise.
    """
    if value is None:
        return None
    if isinstance(value, float | np.floating) and (math.isnan(value) or math.isinf(value)):
        return None
    try:
        if value is pd.NA or value is pd.NaT:
            return None
    except TypeError:  # pragma: no cover
        pass
    if name == "clause" and isinstance(value, str):  # a threshold's source, in the page's language
        return clause_text(value, lang) if value.strip() else None
    if _sentences(name) and isinstance(value, str):  # why a rule failed, what a finding found
        return reason_text(value, lang) if value.strip() else None
    fmt = _fmt_kind(name, kind)
    if isinstance(value, bool | np.bool_) or fmt == "bool" and isinstance(value, int | np.integer):
        return ui("yes" if bool(value) else "no", lang)
    if fmt == "category":
        return category_label(str(value), lang)
    if fmt == "tier":
        return tier_label(str(value), lang)
    values = VALUE_LABELS.get("status" if name.endswith("_status") else name, {})
    if isinstance(value, str) and value in values:
        return values[value][0 if lang == "zh" else 1]
    if fmt == "kind" and isinstance(value, str):
        return kind_label(value, lang)
    if isinstance(value, str) and _coded_column(kind, name):
        return value_label(kind, name, value, lang)
    if isinstance(value, str) and _codes_shown(name, kind, lang):
        words = codes_text(value, name)
        if words is not None:
            return words
    if isinstance(value, int | np.integer | float | np.floating | Decimal):
        return _number_text(float(value), fmt)
    if isinstance(value, _dt.datetime | _dt.date | pd.Timestamp):
        return value.isoformat()[:10] if not getattr(value, "hour", 0) else value.isoformat()
    if isinstance(value, list | tuple | set | np.ndarray):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    text = str(value)
    return text if text.strip() else None


def _sentences(name: str) -> bool:
    """Whether column ``name`` holds the analyses' sentences: a rule's reason (``reason``,
    ``<rule>_reason``) or a finding's ``message``, shown through :func:`gcgeo.reasons.reason_text`."""
    return name in ("reason", "message") or name.endswith("_reason")


def percent_against(value: float, need: float | None, *, digits: int = 1) -> str:
    """``value`` (a share) as a percentage beside the threshold ``need`` (a share): with
    ``digits`` decimals, more (up to four) where fewer would hide which side of ``need``
    it lies, as ``need`` itself is shown (``f"{need * 100:g}%"``).

    >>> percent_against(0.090278, 0.0901), percent_against(0.8996, 0.9), percent_against(0.95, 0.9)
    ('9.03%', '89.96%', '95.0%')
    >>> percent_against(0.851613, 0.8517), percent_against(0.9, 0.9)
    ('85.16%', '90.0%')
    """
    v = float(value) * 100
    if need is None or not math.isfinite(need):
        return f"{v:.{digits}f}%"
    t = need * 100
    shown_need = float(f"{t:g}")
    for d in range(digits, 5):
        shown = round(v, d)
        if (shown < shown_need) == (v < t - 1e-9) and (shown > shown_need) == (v > t + 1e-9):
            return f"{v:.{d}f}%"
    return f"{v:.4f}%"


def _number_text(v: float, fmt: str) -> str:
    """A number as :func:`format_value` shows it in a column of format ``fmt``."""
    if fmt == "pct":
        return f"{v * 100:.1f}%"
    if fmt in ("m", "int"):
        return f"{v:,.0f}"
    if fmt == "float":
        return f"{v:,.2f}"
    return f"{int(v)}" if v.is_integer() else f"{v:,.2f}"


#: Column formats whose numbers :func:`format_value` shows as words, not as numbers.
_WORD_FORMATS = ("bool", "category", "tier")


def format_values(values: Any, name: str, lang: str = "en", *, kind: str | None = None) -> list[str | None]:
    """:func:`format_value` of each of ``values`` (say the distinct values of a column a map draws).

    What decides how the column is shown is looked up once: a numpy array of numbers in a column
    shown as numbers is formatted with the column's format, and a text no label table translates
    is shown as it is (a city's homes have some 100k distinct walking distances and building ids).

    >>> format_values(np.array([1234.0, np.nan, 0.5]), "dist_school_m")
    ['1,234', None, '0']
    >>> format_values(np.array([0.25]), "share_all_within_5min"), format_values([True], "old_estate", "zh")
    (['25.0%'], ['是'])
    >>> format_values(["B-12", " ", "pass"], "building_id"), format_values(["pass"], "criterion8", "zh")
    (['B-12', None, 'pass'], ['达标'])
    """
    fmt = _fmt_kind(name, kind)
    if name == "clause" or _sentences(name):
        return [format_value(v, name, lang, kind=kind) for v in list(values)]
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf" and fmt not in _WORD_FORMATS:
        return [None if math.isnan(v) or math.isinf(v) else _number_text(v, fmt)
                for v in values.astype("float64").tolist()]
    if fmt in ("category", "tier", "kind") or _coded_column(kind, name):
        return [format_value(v, name, lang, kind=kind) for v in list(values)]
    labelled = VALUE_LABELS.get("status" if name.endswith("_status") else name, {})
    values = list(values)
    # a code (or list of codes) in words, each distinct text read once: a city's layers
    # repeat a few texts over 100k rows
    words = ({v: codes_text(v, name) for v in {v for v in values if type(v) is str and v not in labelled}}
             if _codes_shown(name, kind, lang) else {})
    # a text no table labels is shown as it is; anything else as format_value shows it
    return [((words.get(v) or v) if v.strip() else None)
            if type(v) is str and v not in labelled else format_value(v, name, lang, kind=kind)
            for v in values]


def _coded_column(kind: str | None, name: str) -> bool:
    """Whether column ``name`` of inventory layer ``kind`` has values of its own (allowed or
    labelled in its spec)."""
    col = _spec_column(kind, name) if kind in _layers.SPECS else None
    return col is not None and bool(col.allowed or col.value_aliases)


@cache
def _spec_codes() -> dict[str, str]:
    """Allowed values of the inventory specs → their first Chinese spelling, where every
    spec that allows the value spells it alike (``gas`` → 燃气)."""
    out: dict[str, str] = {}
    clash: set[str] = set()
    for spec in _layers.SPECS.values():
        for col in spec.all_columns:
            for value, spellings in col.value_aliases.items():
                zh = next((s for s in spellings if re.search(r"[\u4e00-\u9fff]", s)), None)
                if zh is None:
                    continue
                if out.setdefault(str(value), zh) != zh:
                    clash.add(str(value))
    return {k: v for k, v in out.items() if k not in clash}


def code_label(code: Any, lang: str = "zh") -> str | None:
    """A code the analyses write (a status, a finding kind, a category, an inventory value
    such as a manhole kind) as its label; None when ``code`` is no known code.

    >>> code_label("no_lanes"), code_label("gas"), code_label("kindergarten"), code_label("no_manager")
    ('无消防车道', '燃气', '幼儿园', '井盖无管理人')
    >>> code_label("东关社区") is None
    True
    """
    text = str(code).strip()
    return _code_label(text, lang) if text else None


@lru_cache(maxsize=4096)  # (the codes of a value map or a page's lists, asked for again and again)
def _code_label(text: str, lang: str) -> str | None:
    i = 0 if lang == "zh" else 1
    for values in VALUE_LABELS.values():
        if text in values:
            return values[text][i]
    # (the living circle's categories and tiers before the findings' kinds, which read every
    # rules file: no code is both, and a run of the living circle has its rules read already)
    if text in living_circle_rules().get("categories", {}):
        return category_label(text, lang)
    if text in living_circle_rules().get("tiers", {}):
        return tier_label(text, lang)
    if text in _kind_labels():
        return kind_label(text, lang)
    if text in GEOMETRY_LABELS:
        return GEOMETRY_LABELS[text][i]
    if lang == "zh" and text in _spec_codes():
        return _spec_codes()[text]
    return None
