"""Buildings, with use, height and residents (given or estimated)."""

from ._spec import Column, LayerSpec

USES = ("residential", "commercial", "public", "industrial", "mixed", "other")

SPEC = LayerSpec(
    kind="buildings",
    label_zh="建筑",
    label_en="Buildings",
    geometry=("Polygon",),
    columns=(
        Column("use", "str", "用途", "Use", allowed=USES, aliases=("用途", "建筑用途", "性质"),
               value_aliases={"residential": ("住宅", "居住"), "commercial": ("商业", "商服"),
                              "public": ("公共", "公共建筑", "公建"), "industrial": ("工业", "厂房"),
                              "mixed": ("混合", "商住", "商住混合"), "other": ("其他",)}),
        Column("residential", "bool", "住宅", "Residential", aliases=("是否住宅", "住宅")),
        Column("floors", "int", "层数", "Floors", minimum=0, maximum=200,
               aliases=("层数", "楼层", "building:levels", "levels")),
        Column("height_m", "float", "高度", "Height", minimum=0, maximum=1000, unit="m",
               aliases=("高度", "建筑高度", "height")),
        Column("population", "float", "居住人口", "Residents", minimum=0, unit="persons",
               aliases=("人口", "居住人口", "pop")),
    ),
)
