"""Communities (社区): the units every criterion is scored on."""

from ._spec import Column, LayerSpec

SPEC = LayerSpec(
    kind="communities",
    label_zh="社区",
    label_en="Communities",
    geometry=("Polygon",),
    description="Community or residential-compound boundaries with residents.",
    columns=(
        Column("name", "str", "社区名称", "Community name", required=True,
               aliases=("名称", "社区名称", "社区", "小区名称", "小区")),
        Column("street_office", "str", "街道办事处", "Street office",
               aliases=("街道", "街道办", "街道办事处", "所属街道")),
        Column("population", "int", "常住人口", "Population", minimum=0, unit="persons",
               aliases=("人口", "常住人口", "人口数", "pop")),
        Column("households", "int", "户数", "Households", minimum=0,
               aliases=("户数", "住户数", "hh")),
        Column("old_estate", "bool", "老旧小区", "Old estate",
               aliases=("老旧小区", "是否老旧小区", "old")),
        Column("property_managed", "bool", "物业管理", "Property-managed",
               aliases=("物业管理", "是否有物业", "物业")),
        Column("source", "str", "来源", "Source",
               description="How the boundary was made (e.g. 'osm', 'street blocks', a file name)."),
    ),
)
