"""Names of gcgeo's things in Chinese and English: facility categories, living-circle
tiers and workspace layers (inventory kinds, analysis outputs, the scorecard's layers).

The lowest layer of the labels: :mod:`gcgeo.labels` (columns, values, pages) and
:mod:`gcgeo.reasons` (the analyses' sentences) both name things through it.
"""

from __future__ import annotations

import re
from functools import cache

from . import layers as _layers
from . import rules as _rules

__all__ = ["ALL_CATEGORIES", "SCORE_LAYERS", "category_label", "layer_label", "living_circle_rules", "tier_label"]

#: Layers the scorecard writes (``gcgeo score``): name → (zh, en).
SCORE_LAYERS: dict[str, tuple[str, str]] = {
    "scorecard": ("评分明细（社区 × 创建标准）", "Scorecard (community × criterion)"),
    "score_communities": ("各社区评分", "Score by community"),
    "score_county": ("县域目标完成情况", "County against its targets"),
    "score_attestations": ("认定记录", "Attestations"),
    "score_history": ("历次评估", "Assessments over time"),
}


@cache
def living_circle_rules() -> dict:
    """The built-in living-circle rules (empty when they cannot be read: names are cosmetic)."""
    try:
        return _rules.load("living_circle")
    except Exception:  # noqa: BLE001 - labels are cosmetic; fall back to names
        return {}


def tier_label(tier: str, lang: str = "en") -> str:
    """'10min' → '十分钟生活圈' / '10-minute living circle' (from the rules)."""
    t = living_circle_rules().get("tiers", {}).get(str(tier))
    if t:
        return t.get("label_zh" if lang == "zh" else "label_en", str(tier))
    m = re.fullmatch(r"(\d+)min", str(tier))
    if m:
        return f"{m.group(1)}分钟生活圈" if lang == "zh" else f"{m.group(1)}-minute living circle"
    return str(tier)


#: The category of a community isochrone that every category of its tier reaches.
ALL_CATEGORIES = ("各类设施均可达", "every category")


def category_label(category: str, lang: str = "en") -> str:
    """Facility category → its label from the living-circle rules (a key of an earlier
    version, such as ``culture``, by the category that took its place); ``all``, the
    part of a community every category reaches (:data:`ALL_CATEGORIES`)."""
    if category == "all":
        return ALL_CATEGORIES[0 if lang == "zh" else 1]
    key = _layers.facilities.OLD_CATEGORIES.get(str(category), str(category))
    c = living_circle_rules().get("categories", {}).get(key)
    if c:
        return c.get("label_zh" if lang == "zh" else "label_en", str(category))
    return str(category).replace("_", " ")


def layer_label(name: str, lang: str = "en") -> str:
    """The label of workspace layer ``name``: an inventory kind or an analysis output."""
    if name in _layers.SPECS:
        return _layers.get_spec(name).label(lang)
    from . import analysis

    for desc in analysis.descriptors().values():
        for o in desc.outputs:
            if o.name == name:
                return o.label(lang)
    if name in SCORE_LAYERS:
        return SCORE_LAYERS[name][0 if lang == "zh" else 1]
    return name
