"""Garbage sorting points (垃圾分类投放点)."""

from ._spec import Column, LayerSpec

KINDS = ("sorting", "recycling", "hazardous", "kitchen", "residual", "other")

SPEC = LayerSpec(
    kind="garbage_points",
    label_zh="垃圾分类投放点",
    label_en="Garbage points",
    geometry=("Point",),
    multipart=False,
    columns=(
        Column("kind", "str", "投放点类型", "Kind", allowed=KINDS, aliases=("类型", "投放点类型"),
               value_aliases={"sorting": ("分类投放点", "垃圾分类点", "投放点"),
                              "recycling": ("可回收物", "回收点"), "hazardous": ("有害垃圾",),
                              "kitchen": ("厨余垃圾", "湿垃圾"), "residual": ("其他垃圾", "干垃圾"),
                              "other": ("其他",)}),
    ),
)
