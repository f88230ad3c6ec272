"""Streets and paths: the walking network."""

from ._spec import Column, LayerSpec

SPEC = LayerSpec(
    kind="streets",
    label_zh="道路",
    label_en="Streets",
    geometry=("LineString",),
    columns=(
        Column("kind", "str", "道路类型", "Kind", aliases=("类型", "道路类型", "highway")),
        Column("walkable", "bool", "可步行", "Walkable", aliases=("可步行", "步行")),
        Column("u", "int", "起点节点", "From node", description="node id at the start"),
        Column("v", "int", "终点节点", "To node", description="node id at the end"),
        Column("slope", "float", "坡度", "Slope", minimum=0,
               description="rise/run as a fraction: 8% = 0.08; the fire-lane check also reads 8%, "
                           "1:12, 1/12 and 8 (a bare number above 1 is per cent)",
               aliases=("坡度", "纵坡")),
    ),
)
