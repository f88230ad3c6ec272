"""Manhole covers (窨井盖): who manages each and when it was inspected."""

from ._spec import Column, LayerSpec

KINDS = ("sewer", "drain", "water", "gas", "heating", "power", "telecom", "other", "unknown")
CONDITIONS = ("good", "damaged", "missing", "sunken", "unknown")

SPEC = LayerSpec(
    kind="manholes",
    label_zh="窨井盖",
    label_en="Manholes",
    geometry=("Point",),
    multipart=False,
    columns=(
        Column("kind", "str", "井盖类型", "Kind", allowed=KINDS,
               aliases=("类型", "井盖类型", "管线类型", "manhole"),
               value_aliases={"sewer": ("污水", "污水井"), "drain": ("雨水", "雨水井", "排水"),
                              "water": ("给水", "自来水", "供水"), "gas": ("燃气", "天然气"),
                              "heating": ("热力", "供热", "暖气"), "power": ("电力", "供电"),
                              "telecom": ("通信", "电信", "弱电"), "other": ("其他",),
                              "unknown": ("未知", "不明")}),
        Column("manager", "str", "管理人", "Manager",
               aliases=("管理人", "管理单位", "权属单位", "责任人", "operator")),
        Column("contact", "str", "联系方式", "Contact", aliases=("联系方式", "联系电话", "电话")),
        Column("condition", "str", "状况", "Condition", allowed=CONDITIONS,
               aliases=("状况", "状态", "完好情况"),
               value_aliases={"good": ("完好", "正常", "良好"), "damaged": ("破损", "损坏"),
                              "missing": ("缺失", "丢失"), "sunken": ("沉降", "下沉"),
                              "unknown": ("未知",)}),
        Column("last_inspection", "date", "最近巡检日期", "Last inspection",
               aliases=("巡检日期", "最近巡检", "检查日期")),
    ),
)
