"""Parking: car parks, single spaces and entrances."""

from ._spec import Column, LayerSpec

KINDS = ("surface", "underground", "multi-storey", "street_side", "space", "entrance",
         "bicycle", "other")

SPEC = LayerSpec(
    kind="parking",
    label_zh="停车场",
    label_en="Parking",
    geometry=("Point", "Polygon"),
    columns=(
        Column("kind", "str", "停车类型", "Kind", allowed=KINDS, aliases=("类型", "停车类型"),
               value_aliases={"surface": ("地面", "地面停车场"), "underground": ("地下", "地下车库"),
                              "multi-storey": ("立体", "停车楼", "立体车库"),
                              "street_side": ("路侧", "路边", "路内"), "space": ("车位",),
                              "entrance": ("出入口",), "bicycle": ("非机动车", "自行车"),
                              "other": ("其他",)}),
        Column("capacity", "int", "车位数", "Spaces", minimum=0,
               aliases=("车位数", "泊位数", "车位", "capacity")),
        Column("ev_ready", "int", "充电车位数", "EV-ready spaces", minimum=0,
               aliases=("充电车位", "充电车位数", "新能源车位")),
    ),
)
