"""Facilities of the living circle, by category (categories in rules/living_circle.toml).

POI exports of Amap (高德) and Baidu get their categories from rules/poi_types.toml
(:func:`poi_categories`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd

from .. import rules as rules_module
from .._errors import InputError
from ..values import feature_ids, row_list
from ._spec import Column, LayerSpec

log = logging.getLogger(__name__)

_RULES = rules_module.load("living_circle")["categories"]
CATEGORIES = tuple(_RULES)

# the labels in the rules, split at "/", plus other common names
_EXTRA = {
    "kindergarten": ("托儿所", "托幼", "幼儿园（托育）"),
    "primary_school": ("小学校",),
    "middle_school": ("初中", "高中", "初级中学", "高级中学"),
    "health": ("社区卫生服务中心", "卫生室", "社区医院", "卫生院", "诊所"),
    "pharmacy": ("药房", "大药房"),
    "supermarket": ("超市", "便利店", "小超市"),
    "market": ("菜市场", "农贸市场", "生鲜超市", "菜场"),
    "elderly_care": ("日间照料中心", "托老所", "养老服务中心", "老年人日间照料中心（托老所）"),
    "nursing_home": ("敬老院", "老年养护院", "福利院", "养老机构"),
    "community_service": ("社区服务中心", "党群服务中心", "便民服务站"),
    "small_sports_ground": ("小型多功能运动（球类）场地", "球场", "篮球场", "小型运动场地"),
    "outdoor_fitness": ("健身场地", "健身广场", "室外健身场地", "健身路径", "老年户外活动场地"),
    "sports": ("体育场", "运动场", "体育馆", "中型多功能运动场地", "全民健身中心"),
    "park": ("公园", "广场", "游园"),
    "culture_station": ("文化站", "活动室", "文化活动室", "老年活动站", "青少年活动站"),
    "culture_centre": ("文化中心", "老年活动中心", "青少年活动中心", "文化馆"),
    "bus_stop": ("公交车站", "公交站点", "公交"),
}
#: Category keys of earlier versions → the key that took their place: ``culture``
#: (文化活动室, 10-minute) became the 5-minute 文化活动站 when the standard's two
#: cultural facilities were told apart.  Read wherever a stored category is read.
OLD_CATEGORIES = {"culture": "culture_station"}
_VALUE_ALIASES = {
    key: tuple(part.strip() for label in (spec.get("label_zh", ""), spec.get("label_en", ""))
               for part in label.split("/") if part.strip()) + _EXTRA.get(key, ())
    + tuple(old for old, new in OLD_CATEGORIES.items() if new == key)
    for key, spec in _RULES.items()
}

SPEC = LayerSpec(
    kind="facilities",
    label_zh="配套设施",
    label_en="Facilities",
    # an area (park, square, school ground) may be its polygon: it is reached at its
    # entrances (gcgeo.analysis.living_circle.access_points)
    geometry=("Point", "Polygon"),
    columns=(
        Column("category", "str", "设施类别", "Category", required=True, allowed=CATEGORIES,
               aliases=("类别", "设施类别", "类型"), value_aliases=_VALUE_ALIASES),
        Column("subtype", "str", "细类", "Subtype", aliases=("细类", "小类"),
               description="the source's own class, e.g. the OSM tag"),
    ),
)


# ---------------------------------------------------------------- POI exports (Amap, Baidu)
# Columns of POI exports, lower case: Amap's Web API fields and their usual
# Chinese headers; Baidu's tag.
_POI_COLUMNS = {
    "amap_typecode": ("typecode", "type_code", "类型编码", "分类编码", "poi类型编码"),
    "amap_type": ("type", "poi_type", "poi类型", "高德类型", "类型"),
    "baidu_tag": ("tag", "detail_info.tag", "标签", "百度标签"),
}


def current_categories(frame: pd.DataFrame, what: str = "facilities") -> pd.DataFrame:
    """``frame`` with the categories of earlier versions (:data:`OLD_CATEGORIES`) read as the
    keys that took their place, and a warning saying how many (the frame itself when none)."""
    if "category" not in frame.columns:
        return frame
    cat = frame["category"].astype("string")
    old = cat.isin(list(OLD_CATEGORIES)).fillna(False).to_numpy(bool)
    if not old.any():
        return frame
    log.warning("%s: %d of category %s read as %s (the category was renamed)", what,
                int(old.sum()), sorted(set(cat[old])), sorted({OLD_CATEGORIES[c] for c in cat[old]}))
    return frame.assign(category=cat.replace(OLD_CATEGORIES))


def refuse_unknown(frame: pd.DataFrame, known: Collection[str], what: str = "layer 'facilities'") -> None:
    """Refuse the facilities whose category is none of gcgeo's (:data:`CATEGORIES`) nor of
    ``known`` (the categories of the rules in use: a rules file may add some), naming the
    rows, their values and the fix.

    Such a category is a misspelling, or one a rules file added that was not given this
    time; left out with a warning, those facilities would lower the shares served.
    """
    if "category" not in frame.columns:
        return
    known = list(dict.fromkeys([*CATEGORIES, *known]))
    cat = frame["category"]
    bad = cat.notna().to_numpy() & ~cat.astype(str).isin(known).to_numpy()
    if not bad.any():
        return
    rows = row_list(feature_ids(frame).to_numpy(object)[bad], cat.to_numpy(object)[bad])
    raise InputError(
        f"{what}, column 'category': {rows} "
        f"{'is' if bad.sum() == 1 else 'are'} no living-circle category (known: {', '.join(known)}); "
        "correct the value, or add the category to your rules file as "
        "[living_circle.categories.<name>] with label_zh, label_en and tiers (and give the file "
        "with --rules).")


def _poi_column(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in df.columns}
    return next((lower[n] for n in names if n in lower), None)


def poi_type_columns(df: pd.DataFrame) -> list[str]:
    """The columns of a POI export :func:`poi_categories` reads categories from (Amap
    ``type``/``typecode``, Baidu ``tag``), as they are named in ``df``.

    >>> poi_type_columns(pd.DataFrame({"名称": ["a"], "typecode": ["141204"], "type": ["学校"]}))
    ['typecode', 'type']
    """
    found = (_poi_column(df, names) for names in _POI_COLUMNS.values())
    return [str(c) for c in found if c is not None]


def _amap_code(value: str, table: Mapping[str, str]) -> str | None:
    for code in value.split("|"):
        code = code.strip()
        if len(code) == 6 and code.isdigit():
            for key in (code, code[:4] + "00", code[:2] + "0000"):
                if key in table:
                    return table[key]
    return None


def _by_path(value: str, table: Mapping[str, str], sep: str = "|") -> str | None:
    for one in value.split(sep):
        parts = [p.strip() for p in one.split(";") if p.strip()]
        for n in range(len(parts), 0, -1):
            key = ";".join(parts[:n])
            if key in table:
                return table[key]
    return None


def poi_categories(
    df: pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    rules: Any = None,
    source: str = "the input",
) -> pd.DataFrame:
    """Give a POI export (Amap ``type``/``typecode``, Baidu ``tag``) living-circle categories.

    When ``df`` has no category column (by name, label or alias, or in
    ``columns``) but has an Amap type, typecode or Baidu tag column, returns a
    copy with ``category`` read through the ``poi_types`` rule set
    (``rules``: a rules file or mapping extending it) and ``subtype`` keeping
    the platform's type.  POIs whose type maps to no category are kept as
    ``"other"``; a warning names those types with their counts and how to
    extend the table.  Any other frame is returned unchanged.

    >>> import pandas as pd
    >>> poi_categories(pd.DataFrame({"type": ["科教文化服务;学校;幼儿园"]}))["category"].tolist()
    ['kindergarten']
    """
    if columns and "category" in dict(columns).values():
        return df
    found = {k: _poi_column(df, names) for k, names in _POI_COLUMNS.items()}
    cat_names = {n.lower() for n in ("category", SPEC.column("category").label_zh,
                                     SPEC.column("category").label_en,
                                     *SPEC.column("category").aliases)}
    clash = {c for c in found.values() if c is not None and str(c).strip().lower() in cat_names}
    cat_names -= {str(c).strip().lower() for c in clash}  # 类型 holding Amap types
    if any(str(c).strip().lower() in cat_names for c in df.columns) or not any(found.values()):
        return df
    table = rules_module.load("poi_types", rules)
    text = {k: df[c].astype("string").fillna("").str.strip() if c is not None
            else pd.Series("", index=df.index, dtype="string") for k, c in found.items()}
    cats, types = [], []
    for code, amap, baidu in zip(text["amap_typecode"], text["amap_type"], text["baidu_tag"]):
        cat = (_amap_code(code, table["amap_typecode"]) or _by_path(amap, table["amap_type"])
               or _by_path(baidu, table["baidu_tag"], sep=","))
        cats.append(cat)
        types.append(amap or baidu or code or None)
    out = df.rename(columns={c: f"poi_{c}" for c in clash})
    out["category"] = [c or "other" for c in cats]
    if "subtype" not in out.columns:
        out["subtype"] = types
    unmapped = Counter(t or "(no type)" for c, t in zip(cats, types) if c is None)
    if unmapped:
        listed = "; ".join(f"{t} ({n})" for t, n in unmapped.most_common())
        key = "amap_type" if found["amap_type"] else ("baidu_tag" if found["baidu_tag"] else "amap_typecode")
        example = next(iter(unmapped)).split("|")[0]
        log.warning(
            "%s: %d POI(s) of %d type(s) map to no living-circle category and are kept as "
            "'other': %s. To map a type, add it to a rules file under [poi_types.%s] "
            "(e.g. \"%s\" = \"kindergarten\"; categories: %s) and give it with --rules.",
            source, sum(unmapped.values()), len(unmapped), listed, key, example,
            ", ".join(CATEGORIES))
    return out
