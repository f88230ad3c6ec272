"""Facilities of the living circle, by category (categories in rules/living_circle.toml)."""

from .. import rules
from ._spec import Column, LayerSpec

CATEGORIES = tuple(rules.load("living_circle")["categories"])

SPEC = LayerSpec(
    kind="facilities",
    label_zh="配套设施",
    label_en="Facilities",
    geometry=("Point",),
    multipart=False,
    columns=(
        Column("category", "str", "设施类别", "Category", required=True, allowed=CATEGORIES,
               aliases=("类别", "设施类别", "类型")),
        Column("subtype", "str", "细类", "Subtype", aliases=("细类", "小类"),
               description="the source's own class, e.g. the OSM tag"),
    ),
)
