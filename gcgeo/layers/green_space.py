"""Green space (绿地): parks, pocket parks, attached green."""

from ._spec import Column, LayerSpec

KINDS = ("park", "community_park", "pocket_park", "square", "garden", "playground",
         "attached", "grass", "wood", "scrub", "other")

SPEC = LayerSpec(
    kind="green_space",
    label_zh="绿地",
    label_en="Green space",
    geometry=("Polygon",),
    columns=(
        Column("kind", "str", "绿地类型", "Kind", required=True, allowed=KINDS,
               aliases=("类型", "绿地类型", "种类")),
        Column("public", "bool", "公共绿地", "Public", aliases=("是否公共", "公共")),
    ),
)
