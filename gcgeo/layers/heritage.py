"""Heritage: historic buildings, monuments and old trees (古树名木)."""

from ._spec import Column, LayerSpec

KINDS = ("old_tree", "historic_building", "monument", "archaeological_site", "other")

SPEC = LayerSpec(
    kind="heritage",
    label_zh="历史文化遗产",
    label_en="Heritage",
    geometry=("Point", "Polygon"),
    columns=(
        Column("kind", "str", "类型", "Kind", required=True, allowed=KINDS, aliases=("类型",),
               value_aliases={"old_tree": ("古树", "古树名木", "名木"),
                              "historic_building": ("历史建筑", "传统建筑", "历史建筑物"),
                              "monument": ("文物", "纪念碑", "文物保护单位"),
                              "archaeological_site": ("遗址", "考古遗址"), "other": ("其他",)}),
        Column("grade", "str", "保护级别", "Protection grade", aliases=("级别", "保护级别")),
        Column("protection_radius_m", "float", "保护范围半径", "Protection radius", minimum=0,
               unit="m", aliases=("保护半径", "保护范围"),
               description="distance from the feature (a tree's trunk, a building's footprint) "
                           "to the edge of its protection zone, where the feature has its own"),
        Column("crown_diameter_m", "float", "冠幅", "Crown diameter", minimum=0, maximum=80,
               unit="m", aliases=("冠幅", "冠径", "树冠直径", "平均冠幅", "crown", "diameter_crown"),
               description="an old tree's crown spread: its zone is the crown's projection plus "
                           "a margin (rule heritage.old_tree.margin)"),
    ),
)
