"""Chargers (充电设施) for cars and e-bikes."""

from ._spec import Column, LayerSpec

KINDS = ("car", "e-bike")

SPEC = LayerSpec(
    kind="chargers",
    label_zh="充电设施",
    label_en="Chargers",
    geometry=("Point",),
    multipart=False,
    columns=(
        Column("kind", "str", "充电类型", "Kind", required=True, allowed=KINDS,
               aliases=("类型", "充电类型", "车型"),
               value_aliases={"car": ("汽车", "电动汽车", "新能源汽车", "小汽车", "机动车", "ev"),
                              "e-bike": ("电动自行车", "电动车", "电瓶车", "非机动车", "ebike",
                                         "e bike")}),
        Column("sockets", "int", "插口数", "Sockets", minimum=0,
               aliases=("插口数", "充电口", "枪数", "capacity")),
        Column("power_kw", "float", "功率", "Power", minimum=0, maximum=1000, unit="kW",
               aliases=("功率", "功率kw")),
        Column("operator", "str", "运营方", "Operator", aliases=("运营商", "运营方", "运营单位")),
    ),
)
