"""Fire and rescue lanes (消防车道/生命通道), GB 50016-2014 §7.1."""

from ._spec import Column, LayerSpec

SPEC = LayerSpec(
    kind="fire_lanes",
    label_zh="消防车道",
    label_en="Fire lanes",
    geometry=("LineString", "Polygon"),
    columns=(
        Column("width_m", "float", "设计宽度", "Design width", minimum=0, maximum=100, unit="m",
               aliases=("宽度", "设计宽度", "车道宽度", "width")),
        Column("clear_height_m", "float", "净空高度", "Clear height", minimum=0, maximum=100,
               unit="m", aliases=("净空", "净高", "净空高度", "maxheight")),
        Column("dead_end", "bool", "尽头式", "Dead end", aliases=("尽端", "尽头式")),
        Column("kind", "str", "类型", "Kind", aliases=("类型",),
               description="a lane, or a turnaround area (kinds listed in rule "
                           "lane.turnaround_kinds); from OpenStreetMap, the tag that made it a lane",
               value_aliases={"lane": ("消防车道", "车道"), "turnaround": ("回车场", "回车道"),
                              "fire_lane": ("标示消防车道",), "emergency_access": ("应急通道",),
                              "emergency_designated": ("应急车辆通行道路",),
                              "emergency_bay": ("应急停车港湾",)}),
        Column("slope", "float", "坡度", "Slope", minimum=0,
               description="rise/run as a fraction: 8% = 0.08; the fire-lane check also reads 8%, "
                           "1:12, 1/12 and 8 (a bare number above 1 is per cent)",
               aliases=("坡度", "纵坡")),
    ),
)
