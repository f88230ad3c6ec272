"""What a map layer is before it is drawn: its features' colours and its legend.

Kept apart from the drawing (:mod:`gcgeo.maps._render`, folium), so that what
only styles a layer — the QGIS styles written with every workspace change
(:mod:`gcgeo.maps.qgis_styles`), the static figures — imports no web-map
library.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import LayerError

__all__ = ["LegendItem", "Styled", "colors_by_category", "colors_by_class", "subset"]


@dataclass(frozen=True)
class LegendItem:
    """One entry of a layer's legend, and which rows it stands for.

    The rows are told for renderers other than folium (the QGIS styles of
    :mod:`gcgeo.maps.qgis_styles`), so they draw the same classes: ``when``,
    rows whose columns hold these values (``(column, value)`` pairs, all
    holding; a tuple value means any of its values; the first entry whose
    pairs hold wins); ``within``, rows whose ``column`` value v has
    lower ≤ v < upper; ``rest``, every row no other entry stands for (other
    values, no data). An entry with none of them stands for nothing in
    particular (a layer drawn in one colour).
    """

    color: str
    label: str
    when: tuple[tuple[str, Any], ...] = ()
    within: tuple[str, float, float] | None = None
    rest: bool = False


#: shapely type ids: a missing geometry, and the kinds a layer is drawn as
_MISSING = -1
_POINTS = {shapely.GeometryType.POINT.value, shapely.GeometryType.MULTIPOINT.value}
_LINES = {shapely.GeometryType.LINESTRING.value, shapely.GeometryType.MULTILINESTRING.value}
_POLYGONS = {shapely.GeometryType.POLYGON.value, shapely.GeometryType.MULTIPOLYGON.value}


@dataclass
class Styled:
    """A layer ready to draw: its frame, one colour per feature and its legend."""

    key: str  # layer name in the workspace, e.g. "buildings", "lc_origins"
    name: str  # display name
    gdf: gpd.GeoDataFrame  # only the geometry and ``fields``
    colors: np.ndarray  # one CSS colour per row
    fields: list[str] = field(default_factory=list)
    kind: str | None = None  # inventory layer kind for labels
    legend: list[LegendItem] = field(default_factory=list)
    legend_title: str | None = None
    stroke: str | None = None  # outline colour of polygons (default: the fill colour)
    weight: float = 1.5
    fill_opacity: float = 0.5
    opacity: float = 0.9
    radius: float = 5.0
    dash: str | None = None
    show: bool = True
    cluster: bool | None = None  # None: cluster points above CLUSTER_ABOVE
    simplify_m: float | None = None
    zorder: int = 2

    @property
    def geom_kind(self) -> str:
        """What the layer is drawn as: "point", "line" or "polygon" when every geometry (missing
        ones aside) is of that kind, single or multi-part; else "mixed"."""
        # shapely's type ids, not GeoSeries.geom_type: naming 100k homes' types took 0.5 s
        types = set(np.unique(shapely.get_type_id(self.gdf.geometry.to_numpy())).tolist()) - {_MISSING}
        if types <= _POINTS:
            return "point"
        if types <= _LINES:
            return "line"
        if types <= _POLYGONS:
            return "polygon"
        return "mixed"


def subset(gdf: pd.DataFrame, fields: Sequence[str]) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` with only the geometry and the present ``fields`` (dropping what is not shown)."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise LayerError("expected a GeoDataFrame with geometries to draw, got a table without geometry")
    cols = [c for c in dict.fromkeys(fields) if c in gdf.columns and c != gdf.geometry.name]
    return gdf[[*cols, gdf.geometry.name]].copy()


def colors_by_category(values: pd.Series, palette: Mapping[Any, tuple[str, str]], *,
                       other: tuple[str, str] | None = None,
                       when: Callable[[Any], tuple[tuple[str, Any], ...]] | None = None,
                       ) -> tuple[np.ndarray, list[LegendItem]]:
    """Colour per value from ``palette`` (value → (colour, label)); legend lists values present.

    Each entry stands for the rows whose column ``values.name`` holds its
    value, or for the rows ``when(value)`` names when the values are not a
    column's (e.g. derived from several columns).
    """
    other = other or ("#9e9e9e", "other")
    codes, uniques = pd.factorize(values)  # (each distinct value looked up once; missing: -1)
    known = [u in palette for u in uniques]
    lookup = np.array([palette[u][0] if k else other[0] for u, k in zip(uniques, known)] + [other[0]],
                      dtype=object)
    colors = lookup[codes]  # (code -1 takes the last entry: other)
    present = set(uniques.tolist())
    if when is None:
        name = values.name if isinstance(values.name, str) else None
        when = (lambda v: ((name, v),)) if name else (lambda v: ())
    legend = [LegendItem(c, lab, when=when(v)) for v, (c, lab) in palette.items() if v in present]
    if not all(known) or (codes < 0).any():
        legend.append(LegendItem(*other, rest=True))
    return colors, legend


def colors_by_class(values: pd.Series, breaks: Sequence[float], colors: Sequence[str], *,
                    fmt, no_data: str = "no data") -> tuple[np.ndarray, list[LegendItem]]:
    """Stepped colours: class i holds breaks[i-1] ≤ v < breaks[i]; NaN is grey.

    Without breaks (every value the same, say) there is one class, labelled
    with its value.
    """
    if len(colors) != len(breaks) + 1:
        raise ValueError("need one more colour than breaks")
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    if not len(breaks):
        nan = np.isnan(v)
        out = np.where(nan, "#bdbdbd", colors[0]).astype(object)
        present = np.unique(v[~nan])
        lab = fmt(present[0]) if len(present) == 1 else "–"
        name = values.name if isinstance(values.name, str) else None
        legend = ([LegendItem(colors[0], lab, within=(name, -math.inf, math.inf) if name else None)]
                  if (~nan).any() else [])
        if nan.any():
            legend.append(LegendItem("#bdbdbd", no_data, rest=True))
        return out, legend
    idx = np.searchsorted(np.asarray(breaks, dtype="float64"), v, side="right")
    out = np.array([colors[i] for i in np.clip(idx, 0, len(colors) - 1)], dtype=object)
    nan = np.isnan(v)
    out[nan] = "#bdbdbd"
    legend = []
    name = values.name if isinstance(values.name, str) else None
    edges = [-math.inf, *(float(b) for b in breaks), math.inf]
    for i, c in enumerate(colors):
        if i == 0:
            lab = f"< {fmt(breaks[0])}"
        elif i == len(breaks):
            lab = f"≥ {fmt(breaks[-1])}"
        else:
            lab = f"{fmt(breaks[i - 1])} – {fmt(breaks[i])}"
        legend.append(LegendItem(c, lab, within=(name, edges[i], edges[i + 1]) if name else None))
    if nan.any():
        legend.append(LegendItem("#bdbdbd", no_data, rest=True))
    return out, legend
