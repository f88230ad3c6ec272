"""Manhole covers (窨井盖): who owns and manages each, its code, state and inspection."""

from ._spec import Column, LayerSpec

KINDS = ("sewer", "drain", "water", "gas", "heating", "power", "telecom", "other", "unknown")
#: A cover's state; every value but ``good`` and ``unknown`` is a fault.
CONDITIONS = ("good", "damaged", "missing", "sunken", "raised", "loose", "noisy", "displaced",
              "unknown")

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
        Column("code", "str", "井盖编号", "Cover code",
               aliases=("井盖编号", "井盖编码", "井号", "设施编码", "ref"),
               description="the code the cover carries in the register (一盖一编号); "
                           "where the layer has no such column, its id"),
        Column("owner", "str", "权属单位", "Owner",
               aliases=("权属单位", "产权单位", "所有权人", "权属"),
               description="who owns the cover (一井一权属)"),
        Column("manager", "str", "管理人", "Manager",
               aliases=("管理人", "管理单位", "养护单位", "维护单位", "管护单位", "责任单位",
                        "责任人", "operator"),
               description="the unit answering for the cover day to day"),
        Column("contact", "str", "联系方式", "Contact", aliases=("联系方式", "联系电话", "电话")),
        Column("condition", "str", "状况", "Condition", allowed=CONDITIONS,
               aliases=("状况", "状态", "完好情况"),
               value_aliases={"good": ("完好", "正常", "良好"),
                              "damaged": ("破损", "损坏", "破裂", "震裂", "裂缝"),
                              "missing": ("缺失", "丢失", "被盗"),
                              "sunken": ("沉陷", "沉降", "下沉", "凹陷"),
                              "raised": ("凸起", "高出路面"),
                              "loose": ("松动", "晃动"),
                              "noisy": ("异响", "响动", "有异响"),
                              "displaced": ("移位", "错位", "翻转"),
                              "unknown": ("未知",)}),
        Column("fall_net", "bool", "防坠网", "Fall-prevention net",
               aliases=("防坠网", "防坠落网", "防坠装置", "防坠落装置")),
        Column("last_inspection", "date", "最近巡检日期", "Last inspection",
               aliases=("巡检日期", "最近巡检", "检查日期")),
    ),
)
