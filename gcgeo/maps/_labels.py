"""Labels (zh / en) for columns and values on maps, figures and reports.

Inventory columns take their labels from the layer specs
(``gcgeo.layers.get_spec(kind).labels(lang)``). Columns that analyses add are
labelled here, in one table; families of columns (``dist_<category>_m``,
``served_<tier>``, ``share_served_<tier>``) are labelled from the living-circle
rules so a new category or tier needs no change here.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from .. import layers as _layers
from .. import rules as _rules

__all__ = ["COLUMN_LABELS", "UI", "column_label", "format_value", "tier_label", "category_label", "ui"]

#: Analysis-result columns: name → (zh, en, format). Formats: "pct" (share 0–1),
#: "m", "m2pp" (m²/person), "int", "float", "ratio" (0–1 shown as %), "text".
COLUMN_LABELS: dict[str, tuple[str, str, str]] = {
    # living circle
    "category": ("设施类别", "Category", "category"),
    "tier": ("生活圈层级", "Living-circle tier", "tier"),
    "population": ("人口", "Population", "int"),
    "n_origins": ("居住点数", "Residential origins", "int"),
    "origin_count": ("居住点数", "Residential origins", "int"),
    "snap_dist_m": ("吸附距离", "Snapping distance (m)", "m"),
    "distance_m": ("步行距离", "Walking distance (m)", "m"),
    "missing_categories": ("缺失设施", "Missing facilities", "text"),
    "n_missing": ("缺失设施类数", "Facility types missing", "int"),
    "community": ("所属社区", "Community", "text"),
    "community_id": ("社区编号", "Community id", "text"),
    "community_name": ("社区名称", "Community", "text"),
    "origin_id": ("居住点编号", "Origin id", "text"),
    "building_id": ("建筑编号", "Building id", "text"),
    "homes": ("居住点数", "Homes", "int"),
    "residents": ("居民数", "Residents", "int"),
    "residents_off_network": ("未接入路网居民", "Residents off the network", "int"),
    "off_network": ("未接入路网", "Off the network", "bool"),
    "connector_m": ("接入距离", "Connector to network (m)", "m"),
    "required_m": ("要求距离", "Required distance (m)", "m"),
    "facilities": ("设施数", "Facilities", "int"),
    "share_served": ("覆盖人口比例", "Share of residents served", "pct"),
    "facilities_on_network": ("接入路网设施数", "Facilities on the network", "int"),
    "status": ("状态", "Status", "text"),
    "pop_source": ("人口来源", "Population source", "text"),
    # green
    "green_ratio_req": ("绿地率要求", "Required green ratio", "pct"),
    "green_ratio_pass": ("绿地率达标", "Green ratio passes", "bool"),
    "concentrated_green_m2": ("集中绿地面积", "Concentrated green (m²)", "int"),
    "concentrated_green_per_person_m2": ("人均集中绿地", "Concentrated green per person (m²)", "float"),
    "concentrated_req_m2pp": ("人均集中绿地要求", "Required concentrated green per person (m²)", "float"),
    "concentrated_pass": ("集中绿地达标", "Concentrated green passes", "bool"),
    "population_reason": ("人口说明", "Population note", "text"),
    "service_weight_basis": ("权重依据", "Weighting", "text"),
    "service_reason": ("服务半径说明", "Service-radius note", "text"),
    "n_origins_off_network": ("未接入路网居住点", "Origins off the network", "int"),
    "is_green": ("计入见绿", "Counts as green", "bool"),
    "is_park": ("计入见园", "Counts as park", "bool"),
    "kinds": ("绿地类型", "Kinds", "text"),
    "n_polygons": ("图斑数", "Polygons", "int"),
    "site": ("绿地编号", "Site", "text"),
    "entrance": ("出入口", "Entrance", "text"),
    "site_area_m2": ("绿地面积", "Site area (m²)", "int"),
    "weight": ("权重", "Weight", "float"),
    "dist_green_m": ("到绿地步行距离", "Walk to green (m)", "m"),
    "dist_park_m": ("到公园步行距离", "Walk to a park (m)", "m"),
    "ndvi_threshold": ("NDVI阈值", "NDVI threshold", "float"),
    "ndvi_valid_frac": ("有效像元比例", "Valid pixel share", "pct"),
    "ndvi_reason": ("NDVI说明", "NDVI note", "text"),
    "green_ratio": ("绿地率", "Green ratio", "pct"),
    "green_area_m2": ("绿地面积", "Green area (m²)", "int"),
    "public_green_m2": ("公共绿地面积", "Public green area (m²)", "int"),
    "public_green_per_person_m2": ("人均公共绿地", "Public green per person (m²)", "float"),
    "share_within_300m_green": ("300米见绿覆盖比例", "Share within 300 m of green", "pct"),
    "share_within_500m_park": ("500米见园覆盖比例", "Share within 500 m of a park", "pct"),
    "ndvi_mean": ("平均NDVI", "Mean NDVI", "float"),
    "veg_fraction": ("植被覆盖率", "Vegetation cover", "pct"),
    "area_m2": ("面积", "Area (m²)", "int"),
    "park_id": ("公园编号", "Park id", "text"),
    "meets_per_person": ("人均绿地达标", "Meets green per person", "bool"),
    # fire lanes
    "kind": ("类型", "Kind", "text"),
    "measured": ("实测值", "Measured", "float"),
    "required": ("规定值", "Required", "float"),
    "clause": ("依据条款", "Clause", "text"),
    "severity": ("严重程度", "Severity", "text"),
    "message": ("说明", "Finding", "text"),
    "lane_id": ("消防车道编号", "Fire lane id", "text"),
    "min_clear_width_m": ("最小净宽", "Minimum clear width (m)", "float"),
    "clear_width_m": ("净宽", "Clear width (m)", "float"),
    "min_clear_height_m": ("最小净高", "Minimum clear height (m)", "float"),
    "length_m": ("长度", "Length (m)", "m"),
    "blocked_length_m": ("不达标长度", "Length below the required width (m)", "m"),
    "clear_width_min_m": ("最小净宽", "Minimum clear width (m)", "float"),
    "share_below_req": ("净宽不足长度比例", "Share of length below the required width", "pct"),
    "lanes_km": ("消防车道长度（公里）", "Fire lanes (km)", "float"),
    "worst_severity": ("最严重程度", "Worst severity", "text"),
    "severity_rank": ("严重程度等级", "Severity rank", "int"),
    "criterion8": ("第8项（消防通道）", "Criterion 8 (fire lanes)", "text"),
    "n_lanes_default_width": ("按默认宽度计的车道数", "Lanes measured at the default width", "int"),
    "checks_skipped": ("未能进行的检查", "Checks not made", "text"),
    "dead_ends": ("尽头数", "Dead ends", "int"),
    "width_source": ("宽度来源", "Width source", "text"),
    "width_m": ("设计宽度", "Design width (m)", "float"),
    "clear_height_m": ("净空高度", "Clear height (m)", "float"),
    "wall_dist_m": ("距外墙距离", "Distance to wall (m)", "float"),
    "near_wall": ("距外墙过近", "Too near the wall", "bool"),
    "obstruction_ids": ("占用物编号", "Obstructions", "text"),
    "obstruction_kinds": ("占用物类型", "Obstruction kinds", "text"),
    "from_m": ("起点里程", "From (m)", "m"),
    "to_m": ("终点里程", "To (m)", "m"),
    "unit": ("单位", "Unit", "text"),
    "passes": ("达标", "Passes", "bool"),
    "ok": ("达标", "Passes", "bool"),
    "n_findings": ("问题数", "Findings", "int"),
    "findings": ("问题数", "Findings", "int"),
    "n_lanes": ("消防车道数", "Fire lanes", "int"),
    "lane_length_m": ("消防车道长度", "Fire lane length (m)", "m"),
    "share_lane_ok": ("达标车道比例", "Share of lane length passing", "pct"),
}

#: Interface words.
UI: dict[str, tuple[str, str]] = {
    "inventory": ("基础设施清单", "Inventory"),
    "living_circle": ("十五分钟生活圈", "15-minute living circle"),
    "green": ("绿地", "Green space"),
    "fire_lanes": ("消防车道", "Fire lanes"),
    "served_tier": ("可达生活圈层级", "Tier served"),
    "not_served": ("均未达标", "Not served"),
    "gaps": ("服务缺口", "Service gaps"),
    "isochrones": ("步行等时圈", "Walking isochrones"),
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
    "fire_communities": ("社区消防车道问题", "Fire-lane findings by community"),
    "north": ("北", "N"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "below": ("低于", "below"),
    "at_least": ("不低于", "at least"),
    "no_data": ("无数据", "no data"),
    "legend": ("图例", "Legend"),
    "other": ("其他", "other"),
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
    "no_facility": ("数据中无此类设施（按未覆盖计，请核实是否缺数据）",
                    "No facility of these categories in the data (counted as unserved; "
                    "check whether data is missing)"),
    "none_on_network": ("此类设施均未接入步行路网", "Facilities of these categories all off the network"),
}


def ui(key: str, lang: str = "en") -> str:
    """An interface word in ``lang``."""
    zh, en = UI[key]
    return zh if lang == "zh" else en


@cache
def _living_circle() -> dict:
    try:
        return _rules.load("living_circle")
    except Exception:  # noqa: BLE001 - labels are cosmetic; fall back to names
        return {}


def tier_label(tier: str, lang: str = "en") -> str:
    """'10min' → '十分钟生活圈' / '10-minute living circle' (from the rules)."""
    t = _living_circle().get("tiers", {}).get(str(tier))
    if t:
        return t.get("label_zh" if lang == "zh" else "label_en", str(tier))
    m = re.fullmatch(r"(\d+)min", str(tier))
    if m:
        return f"{m.group(1)}分钟生活圈" if lang == "zh" else f"{m.group(1)}-minute living circle"
    return str(tier)


def category_label(category: str, lang: str = "en") -> str:
    """Facility category → its label from the living-circle rules."""
    c = _living_circle().get("categories", {}).get(str(category))
    if c:
        return c.get("label_zh" if lang == "zh" else "label_en", str(category))
    return str(category).replace("_", " ")


@cache
def _fire_rules() -> dict:
    try:
        return _rules.load("fire_lanes")
    except Exception:  # noqa: BLE001 - labels are cosmetic
        return {}


def fire_kind_label(kind: str, lang: str = "en") -> str:
    """Fire-lane finding kind → its label from the fire-lane rules."""
    lab = _fire_rules().get("labels", {}).get(str(kind), {})
    return lab.get("label_zh" if lang == "zh" else "label_en") or str(kind).replace("_", " ")


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
    if name in COLUMN_LABELS:
        zh, en, _ = COLUMN_LABELS[name]
        return zh if lang == "zh" else en
    m = re.fullmatch(r"dist_(.+)_m", name)
    if m:
        cat = category_label(m.group(1), lang)
        return f"到{cat}步行距离（米）" if lang == "zh" else f"Walk to {cat.lower()} (m)"
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
    m = re.fullmatch(r"share_(?!served_)(.+)_(\d+min)", name)
    if m:
        cat, t = category_label(m.group(1), lang), tier_label(m.group(2), lang)
        return f"{t}{cat}覆盖比例" if lang == "zh" else f"Share served by {cat.lower()}, {t}"
    m = re.fullmatch(r"n_(too_narrow|obstructed|no_turnaround|low_clearance)", name)
    if m:
        return f"{fire_kind_label(m.group(1), lang)}（处）" if lang == "zh" else f"{fire_kind_label(m.group(1), lang)} (count)"
    m = re.fullmatch(r"share_served_(.+)", name)
    if m:
        t = tier_label(m.group(1), lang)
        return f"{t}覆盖人口比例" if lang == "zh" else f"Share served, {t}"
    m = re.fullmatch(r"served_(.+)", name)
    if m:
        t = tier_label(m.group(1), lang)
        return f"{t}达标" if lang == "zh" else f"Served, {t}"
    for c in _layers.COMMON_COLUMNS:
        if c.name == name:
            return c.label(lang)
    col = _spec_column("communities", name) or _spec_column("buildings", name)
    if col is not None:
        return col.label(lang)
    return name.replace("_", " ")


def _fmt_kind(name: str, kind: str | None) -> str:
    col = _spec_column(kind, name)
    if col is not None:
        return {"int": "int", "float": "float", "bool": "bool", "date": "text"}.get(col.dtype, "text")
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name][2]
    if re.fullmatch(r"dist_.+_m", name):
        return "m"
    if name.startswith("share_"):
        return "pct"
    if name.startswith(("served_", "public_green_pass_")):
        return "bool"
    if name.startswith("public_green_req_"):
        return "float"
    if re.fullmatch(r"n_\w+", name):
        return "int"
    return "auto"


_SEVERITY = {"none": ("无", "none"), "low": ("低", "low"), "medium": ("中", "medium"),
             "high": ("高", "high")}
#: Text values of analysis-result columns: column → value → (zh, en).
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "status": {"ok": ("正常", "ok"), "no facility": ("数据中无此类设施", "no facility"),
               "none on the network": ("均未接入步行路网", "none on the network")},
    "severity": _SEVERITY,
    "worst_severity": _SEVERITY,
    "criterion8": {"pass": ("达标", "pass"), "fail": ("未达标", "fail"),
                   "incomplete": ("资料不全", "incomplete"), "no_lanes": ("无消防车道", "no lanes")},
    "width_source": {"given": ("实测", "given"), "default": ("默认值", "default")},
}


def value_label(kind: str | None, column: str, value: Any, lang: str = "en") -> str:
    """A spec value as shown to planners: its first Chinese spelling in ``zh``."""
    text = str(value)
    if lang == "zh" and kind in _layers.SPECS:
        spec = _layers.get_spec(kind)
        if spec.has_column(column):
            spellings = spec.column(column).value_aliases.get(text)
            if spellings:
                return spellings[0]
    return text.replace("_", " ")


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
    fmt = _fmt_kind(name, kind)
    if isinstance(value, bool | np.bool_) or fmt == "bool" and isinstance(value, int | np.integer):
        return ui("yes" if bool(value) else "no", lang)
    if fmt == "category":
        return category_label(str(value), lang)
    if fmt == "tier":
        return tier_label(str(value), lang)
    if isinstance(value, str) and value in VALUE_LABELS.get(name, {}):
        return VALUE_LABELS[name][value][0 if lang == "zh" else 1]
    if isinstance(value, str) and kind in _layers.SPECS and _layers.get_spec(kind).has_column(name) \
            and _layers.get_spec(kind).column(name).allowed:
        return value_label(kind, name, value, lang)
    if isinstance(value, int | np.integer | float | np.floating | Decimal):
        v = float(value)
        if fmt == "pct":
            return f"{v * 100:.1f}%"
        if fmt in ("m", "int"):
            return f"{v:,.0f}"
        if fmt == "float":
            return f"{v:,.2f}"
        return f"{int(v)}" if v.is_integer() else f"{v:,.2f}"
    if isinstance(value, _dt.datetime | _dt.date | pd.Timestamp):
        return value.isoformat()[:10] if not getattr(value, "hour", 0) else value.isoformat()
    if isinstance(value, list | tuple | set | np.ndarray):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    text = str(value)
    return text if text.strip() else None
