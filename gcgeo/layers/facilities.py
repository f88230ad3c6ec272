"""Facilities of the living circle, by category (categories in rules/living_circle.toml)."""

from .. import rules
from ._spec import Column, LayerSpec

_RULES = rules.load("living_circle")["categories"]
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
_VALUE_ALIASES = {
    key: tuple(part.strip() for label in (spec.get("label_zh", ""), spec.get("label_en", ""))
               for part in label.split("/") if part.strip()) + _EXTRA.get(key, ())
    for key, spec in _RULES.items()
}

SPEC = LayerSpec(
    kind="facilities",
    label_zh="配套设施",
    label_en="Facilities",
    geometry=("Point",),
    multipart=False,
    columns=(
        Column("category", "str", "设施类别", "Category", required=True, allowed=CATEGORIES,
               aliases=("类别", "设施类别", "类型"), value_aliases=_VALUE_ALIASES),
        Column("subtype", "str", "细类", "Subtype", aliases=("细类", "小类"),
               description="the source's own class, e.g. the OSM tag"),
    ),
)
