"""Kerb ramps (缘石坡道) and crossings, for barrier-free checks (GB 50763-2012 §3.1)."""

from ._spec import Column, LayerSpec

KINDS = ("full_width", "three_sided", "other", "flush", "crossing")

SPEC = LayerSpec(
    kind="ramps",
    label_zh="缘石坡道",
    label_en="Kerb ramps",
    geometry=("Point",),
    multipart=False,
    columns=(
        Column("kind", "str", "坡道类型", "Kind", allowed=KINDS,
               value_aliases={"full_width": ("全宽式", "全宽式单面坡"), "three_sided": ("三面坡",),
                              "flush": ("平缘石", "无高差"), "crossing": ("人行横道",),
                              "other": ("其他",)},
               description="'crossing' marks a crossing kept to find missing ramps.",
               aliases=("类型", "坡道类型")),
        Column("slope", "float", "坡度", "Slope", minimum=0, maximum=1, unit="rise/run",
               description="rise/run as a fraction: 1:20 = 0.05; read as planners write it: 1:20, "
                           "1/20, 5% and 5 (a bare number above 1 is per cent)", aliases=("坡度",)),
        Column("width_m", "float", "宽度", "Width", minimum=0, maximum=50, unit="m",
               aliases=("宽度", "坡道宽度", "width")),
        Column("lip_mm", "float", "高差", "Lip height", minimum=0, maximum=500, unit="mm",
               aliases=("高差", "坡口高差")),
        Column("wheelchair", "str", "轮椅通行", "Wheelchair", allowed=("yes", "limited", "no"),
               aliases=("轮椅", "无障碍"),
               value_aliases={"yes": ("可通行", "是"), "limited": ("部分可通行", "受限"),
                              "no": ("不可通行", "否")}),
    ),
)
