"""Obstructions found on inspection: parked vehicles, stalls, barriers."""

from ._spec import Column, LayerSpec

KINDS = ("car", "e-bike", "stall", "bollard", "barrier", "tree", "structure", "gate",
         "overhead", "other")

SPEC = LayerSpec(
    kind="obstructions",
    label_zh="占用障碍物",
    label_en="Obstructions",
    geometry=("Point", "Polygon"),
    columns=(
        Column("kind", "str", "类型", "Kind", required=True, allowed=KINDS,
               aliases=("类型", "障碍物类型"),
               value_aliases={"car": ("汽车", "机动车", "私家车"), "e-bike": ("电动车", "电动自行车"),
                              "stall": ("摊位", "摊点", "商贩"), "bollard": ("隔离桩", "桩", "石墩"),
                              "barrier": ("路障", "围挡", "栏杆"), "tree": ("树", "树木"),
                              "structure": ("构筑物", "违建", "违章建筑"), "gate": ("门", "道闸", "大门"),
                              "overhead": ("架空", "架空线", "雨棚"), "other": ("其他",)}),
        Column("width_m", "float", "宽度", "Width", minimum=0, maximum=100, unit="m"),
        Column("length_m", "float", "长度", "Length", minimum=0, maximum=100, unit="m"),
        Column("height_m", "float", "离地净高", "Clearance above ground", minimum=0,
               maximum=100, unit="m",
               description="for overhead structures and gates: the free height below them"),
        Column("observed", "date", "发现日期", "Observed on", aliases=("日期", "发现日期")),
    ),
)
