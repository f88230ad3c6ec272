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
        Column("kind", "str", "投放点类型", "Kind", allowed=KINDS, aliases=("类型", "投放点类型")),
    ),
)
