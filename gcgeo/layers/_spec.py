"""Layer specs: what a layer kind holds and what it may hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Column", "LayerSpec", "COMMON_COLUMNS"]

#: dtypes a column may declare.
DTYPES = ("str", "int", "float", "bool", "date")


@dataclass(frozen=True)
class Column:
    """One attribute column of a layer kind.

    ``aliases`` are other names planners' files use for the column (Chinese
    ones included); they are matched case-insensitively when mapping columns.
    """

    name: str
    dtype: str
    label_zh: str
    label_en: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""
    #: allowed value → other spellings planners use for it (Chinese first),
    #: e.g. ``{"e-bike": ("电动自行车", "电动车")}``; read as that value.  Maps, reports
    #: and QGIS show a value by its first spelling.  A column open to any value (no
    #: ``allowed``) may name its common values so (``secondary`` streets: 次干路): they
    #: are shown by their first spelling, and values are read as they are.
    value_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name}: dtype must be one of {DTYPES}")
        unknown = set(self.value_aliases) - set(self.allowed) if self.allowed is not None else ()
        if unknown:
            raise ValueError(f"column {self.name}: aliases for values not allowed: {unknown}")

    def value_lookup(self) -> dict[str, str]:
        """Normalised spelling → allowed value (the values themselves included)."""
        out = {str(v).strip().lower(): v for v in self.allowed or ()}
        for value, spellings in self.value_aliases.items():
            out.update({str(a).strip().lower(): value for a in spellings})
        return out

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en


#: Columns every layer may carry: an id planners know the feature by, and
#: where it came from (OSM element or source file) so it can be traced back.
COMMON_COLUMNS: tuple[Column, ...] = (
    Column("id", "str", "编号", "ID", aliases=("编号", "序号", "代码", "code", "fid", "objectid", "gid")),
    Column("name", "str", "名称", "Name", aliases=("名称", "名字", "name_zh", "mc")),
    Column("osm_type", "str", "OSM要素类型", "OSM element type", allowed=("node", "way", "relation"),
           value_aliases={"node": ("节点",), "way": ("路径",), "relation": ("关系",)}),
    Column("osm_id", "int", "OSM编号", "OSM id"),
    Column("note", "str", "备注", "Note", aliases=("备注", "说明", "remark", "remarks")),
)


@dataclass(frozen=True)
class LayerSpec:
    """The spec of one layer kind.

    ``geometry`` lists the allowed base geometry types ("Point", "LineString",
    "Polygon"); multi-part geometries of an allowed type are accepted when
    ``multipart`` is true and exploded by ``--fix`` otherwise.
    """

    kind: str
    label_zh: str
    label_en: str
    geometry: tuple[str, ...]
    columns: tuple[Column, ...]
    multipart: bool = True
    description: str = ""
    all_columns: tuple[Column, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        own = {c.name for c in self.columns}
        merged = tuple(c for c in COMMON_COLUMNS if c.name not in own) + self.columns
        object.__setattr__(self, "all_columns", merged)

    @property
    def geometry_type(self) -> str | None:
        """The geometry type a layer of this kind without rows is stored as: its one base
        type ("Point", "LineString", "Polygon"), as a layer of single parts is stored (one
        holding multi-part features is stored as Multi*, by its rows); None where the kind
        takes several (facilities: points and polygons), which one layer type cannot say.

        >>> from gcgeo.layers import get_spec
        >>> get_spec("ramps").geometry_type, get_spec("facilities").geometry_type
        ('Point', None)
        """
        return self.geometry[0] if len(self.geometry) == 1 else None

    def declared_type(self, declared: object = None) -> str | None:
        """The geometry type a layer of this kind without rows is written with: ``declared``
        (the type a frame carries in ``attrs["geometry_type"]``, e.g. the MultiPolygon of a
        layer read back from the workspace) where it is one of this kind's types, else
        :attr:`geometry_type`.

        >>> from gcgeo.layers import get_spec
        >>> get_spec("buildings").declared_type("MultiPolygon"), get_spec("buildings").declared_type("Unknown")
        ('MultiPolygon', 'Polygon')
        """
        if declared and str(declared).removeprefix("Multi") in self.geometry:
            return str(declared)
        return self.geometry_type

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.all_columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.all_columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.all_columns)

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def labels(self, lang: str = "en") -> dict[str, str]:
        """Column name → label in ``lang`` ("zh" or "en")."""
        return {c.name: c.label(lang) for c in self.all_columns}
