"""Green space (绿地): parks, pocket parks, attached green."""

from ._spec import Column, LayerSpec

KINDS = ("park", "community_park", "pocket_park", "square", "garden", "playground",
         "attached", "grass", "wood", "scrub", "sports", "other")

SPEC = LayerSpec(
    kind="green_space",
    label_zh="绿地",
    label_en="Green space",
    geometry=("Polygon",),
    columns=(
        Column("kind", "str", "绿地类型", "Kind", required=True, allowed=KINDS,
               aliases=("类型", "绿地类型", "种类"),
               value_aliases={"park": ("公园", "综合公园"), "community_park": ("社区公园",),
                              "pocket_park": ("口袋公园", "游园", "街头游园", "小游园"),
                              "square": ("广场",), "garden": ("花园", "庭院"),
                              "playground": ("儿童游乐场", "游乐场"),
                              "attached": ("附属绿地", "宅旁绿地", "配套绿地"), "grass": ("草地", "草坪"),
                              "wood": ("林地", "树林"), "scrub": ("灌木", "灌丛"),
                              "sports": ("体育活动场地", "运动场", "体育场地", "球场"),
                              "other": ("其他",)}),
        Column("public", "bool", "公共绿地", "Public", aliases=("是否公共", "公共")),
    ),
)
