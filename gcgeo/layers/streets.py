"""Streets and paths: the walking network."""

from ._spec import Column, LayerSpec

#: Common street kinds (OpenStreetMap's highway values, as the OSM import writes them) in
#: Chinese; a kind not named here is shown as it is.
KIND_LABELS = {
    "motorway": ("高速公路",), "motorway_link": ("高速公路匝道",),
    "trunk": ("快速路",), "trunk_link": ("快速路匝道",),
    "primary": ("主干路",), "primary_link": ("主干路连接道",),
    "secondary": ("次干路",), "secondary_link": ("次干路连接道",),
    "tertiary": ("支路",), "tertiary_link": ("支路连接道",),
    "unclassified": ("未分级道路",), "residential": ("居住区道路", "小区道路"),
    "living_street": ("生活街道",), "service": ("服务性道路", "内部道路"),
    "road": ("道路（等级不明）",), "busway": ("公交专用道",),
    "pedestrian": ("步行街",), "footway": ("人行道", "步行道"), "path": ("小路", "小径"),
    "trail": ("步道", "游步道"), "track": ("机耕路", "土路"), "steps": ("台阶", "踏步"),
    "crossing": ("人行横道",), "corridor": ("室内通道",), "elevator": ("电梯",),
    "cycleway": ("自行车道",), "bridleway": ("马道",),
}

SPEC = LayerSpec(
    kind="streets",
    label_zh="道路",
    label_en="Streets",
    geometry=("LineString",),
    columns=(
        Column("kind", "str", "道路类型", "Kind", aliases=("类型", "道路类型", "highway"), value_aliases=KIND_LABELS),
        Column("walkable", "bool", "可步行", "Walkable", aliases=("可步行", "步行")),
        Column("u", "int", "起点节点", "From node", description="node id at the start"),
        Column("v", "int", "终点节点", "To node", description="node id at the end"),
        Column("slope", "float", "坡度", "Slope", minimum=0,
               description="rise/run as a fraction: 8% = 0.08; the fire-lane check also reads 8%, "
                           "1:12, 1/12 and 8 (a bare number above 1 is per cent)",
               aliases=("坡度", "纵坡")),
    ),
)
